"""The ingest pipeline: step functions over an explicit context, from batch to store."""
