"""Stress harnesses (run in full by ``make stress``)."""
