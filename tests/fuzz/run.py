"""Run one fuzz target under atheris (libFuzzer): ``python tests/fuzz/run.py TARGET [libFuzzer
options] [corpus dirs]``, e.g. ``-max_total_time=300``. Without corpus dirs, new inputs go to
.fuzz/TARGET/ (scratch) and the kept corpus tests/data/fuzz/TARGET/ is read; ``make fuzz`` then
merges what is new and interesting into the kept corpus (``-merge=1``). A crash is written to
tests/data/fuzz/TARGET/crash-<sha1>, to be renamed after what it found and kept as a regression
input, replayed by tests/test_fuzz_replay.py."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import atheris  # noqa: E402  (dev extra; only this driver needs it)

with atheris.instrument_imports(include=["guidang"]):
    from fuzz.targets import TARGETS


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: run.py TARGET [libFuzzer options]; targets: {', '.join(TARGETS)}")
    name = sys.argv[1]
    corpus = TESTS / "data" / "fuzz" / name
    corpus.mkdir(parents=True, exist_ok=True)
    options = [a for a in sys.argv[2:] if a.startswith("-")]
    dirs = [a for a in sys.argv[2:] if not a.startswith("-")]
    if not dirs:
        scratch = TESTS.parent / ".fuzz" / name
        scratch.mkdir(parents=True, exist_ok=True)
        dirs = [str(scratch), str(corpus)]
    args = [sys.argv[0], *options, f"-artifact_prefix={corpus}/", *dirs]
    atheris.Setup(args, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
