"""Sample corpus: realistic scanned-batch fixtures with ground truth (demo, tests, benchmarks)."""
