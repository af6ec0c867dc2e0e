"""A process killed under a page costs that page only, and only when it dies every time."""

from __future__ import annotations

from pathlib import Path

from pool_tasks import die_or_echo

from guidang.pipeline.page_pool import run_tasks


def test_a_transient_kill_is_retried_and_its_pool_mates_are_not_lost(tmp_path: Path) -> None:
    jobs = [(name, tmp_path / f"{n}.marker") for n, name in enumerate(["a", "once", "b", "c", "d"])]
    assert run_tasks(die_or_echo, jobs, workers=2, attempts=2) == ["a", "once", "b", "c", "d"]


def test_a_page_that_always_kills_its_process_is_the_only_one_given_up(tmp_path: Path) -> None:
    jobs = [(name, tmp_path / f"{n}.marker") for n, name in enumerate(["a", "die", "b", "c", "d", "e"])]
    assert run_tasks(die_or_echo, jobs, workers=2, attempts=3) == ["a", None, "b", "c", "d", "e"]


def test_one_attempt_gives_up_what_the_first_pool_lost(tmp_path: Path) -> None:
    jobs = [("once", tmp_path / "m"), ("a", tmp_path / "n")]
    results = run_tasks(die_or_echo, jobs, workers=1, attempts=1)
    assert results[0] is None


def test_progress_is_told_of_each_page_done_once_even_across_retries(tmp_path: Path) -> None:
    jobs = [(name, tmp_path / f"{n}.marker") for n, name in enumerate(["a", "once", "b", "die"])]
    done: list[int] = []
    run_tasks(die_or_echo, jobs, workers=2, attempts=3, on_done=lambda: done.append(1))
    assert len(done) == 3  # a, once (on its retry), b; the page that always dies never counts
