"""Per-item work: scan QA and image preparation, OCR, PDF/A, born-digital normalisation."""
