"""Replay every input the fuzzers kept (tests/data/fuzz/<target>/: seeds, the corpus they grew, and
each crash they found, named after it) through the same target functions, without atheris: a
regression of a fixed crash fails here, deterministically (``make fuzz`` runs the fuzzers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz.targets import TARGETS

CORPUS = Path(__file__).parent / "data" / "fuzz"
INPUTS = sorted(p for p in CORPUS.glob("*/*") if p.is_file())


def test_every_target_has_inputs_and_every_input_a_target() -> None:
    assert {p.parent.name for p in INPUTS} == set(TARGETS)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_replay(target: str) -> None:
    inputs = [p for p in INPUTS if p.parent.name == target]
    failures = []
    for path in inputs:
        try:
            TARGETS[target](path.read_bytes())
        except Exception as exc:  # every failure is listed, not only the first
            failures.append(f"{path.name}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)
