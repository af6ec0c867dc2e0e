"""The long-term store (OCFL) and the catalogue database."""
