"""Fuzzing harness: targets (plain functions of bytes) run under atheris by ``make fuzz``, and
replayed without atheris by tests/test_fuzz_replay.py over the inputs kept in tests/data/fuzz/."""
