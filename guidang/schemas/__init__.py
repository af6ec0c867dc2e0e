"""XSDs and JSON schemas shipped as package data."""
