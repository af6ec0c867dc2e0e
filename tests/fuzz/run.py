#!/usr/bin/env python3
"""Run one fuzz target under atheris (libFuzzer): ``python tests/fuzz/run.py TARGET [libFuzzer
options] [corpus dirs]``, e.g. ``-max_total_time=300``. Without corpus dirs, new inputs go to
.fuzz/TARGET/ (scratch) and the kept corpus tests/data/fuzz/TARGET/ is read; ``make fuzz`` then
merges what is new and interesting into the kept corpus (``-merge=1``). A crash is written to
tests/data/fuzz/TARGET/crash-<sha1>, to be renamed after what it found and kept as a regression
input, replayed by tests/test_fuzz_replay.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import atheris  # noqa: E402  (dev extra; only this driver needs it)

with atheris.instrument_imports(include=["guidang"]):
    from fuzz.targets import TARGETS


def main() -> None:
    given = sys.argv[1:2]
    if given and given[0] in TARGETS:  # run by hand or by make
        name, rest = given[0], sys.argv[2:]
    elif os.environ.get("GUIDANG_FUZZ_TARGET") in TARGETS:  # run again by libFuzzer itself (-merge)
        name, rest = os.environ["GUIDANG_FUZZ_TARGET"], sys.argv[1:]
    else:
        sys.exit(f"usage: run.py TARGET [libFuzzer options]; targets: {', '.join(TARGETS)}")
    os.environ["GUIDANG_FUZZ_TARGET"] = name
    corpus = TESTS / "data" / "fuzz" / name
    corpus.mkdir(parents=True, exist_ok=True)
    options = [a for a in rest if a.startswith("-")]
    dirs = [a for a in rest if not a.startswith("-")]
    if not dirs:
        scratch = TESTS.parent / ".fuzz" / name
        scratch.mkdir(parents=True, exist_ok=True)
        dirs = [str(scratch), str(corpus)]
    # libFuzzer's -merge runs this script again as argv[0]: its "python3" must be this interpreter
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    prefix = [] if any(o.startswith("-artifact_prefix=") for o in options) else [f"-artifact_prefix={corpus}/"]
    args = [sys.argv[0], *options, *prefix, *dirs]
    atheris.Setup(args, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
