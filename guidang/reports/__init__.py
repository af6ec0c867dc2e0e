"""Receipts, validation reports and registration forms."""
