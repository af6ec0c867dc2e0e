"""Crash test: the watcher and its workers are SIGKILLed at random moments while batches
stream in; at the end every delivered page is in the store (same digest) or in the rejected
area with a reason, nothing is archived twice, no object is partial, the DB agrees with
the disk, and no process of the run is left alive. The default suite runs a short version;
``make stress`` (GUIDANG_STRESS=full) runs at least 200 kills (numbers in docs/crash-test.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from stress.crash import run

FULL = os.environ.get("GUIDANG_STRESS") == "full"


@pytest.mark.stress
@pytest.mark.timeout(7200 if FULL else 900)
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path, clamd_socket: Path) -> None:
    sizes = {"deliveries": 40, "kills": 200} if FULL else {"deliveries": 2, "kills": 5}
    report = run(
        tmp_path / "home", seed=int(os.environ.get("GUIDANG_STRESS_SEED", "11")), workers=2, clamd=clamd_socket, **sizes
    )
    summary = json.dumps(report.as_dict(), ensure_ascii=False, indent=1)
    print(summary)
    assert sum(report.kills.values()) == sizes["kills"], summary
    assert report.files > 0 and report.in_store > 0, summary
    assert report.lost == [] and report.duplicated == [] and report.partial == [], summary
    assert report.disagreements == [], summary
    assert report.survivors == [], summary  # no process of the run outlives it (forkservers of killed workers)
    assert report.in_store + report.in_rejected == report.files, summary
