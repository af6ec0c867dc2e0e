"""guidang (归档): ingest pipeline for electronic archives under GB/T 18894-2016."""

__version__ = "0.1.0"
