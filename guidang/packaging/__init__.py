"""Metadata (DA/T 46), 档号 (DA/T 13/22), fixity, AIP layout, EEP (DA/T 48) and signatures."""
