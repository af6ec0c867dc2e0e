"""Per-batch limits (profile key ``limits``): each refuses with its own message before the work it bounds."""

from __future__ import annotations

from pathlib import Path

from guidang.pipeline.catalogue_file import read_catalogue
from guidang.pipeline.intake import IntakePolicy, read_batch
from guidang.pipeline.limits import BatchLimits
from guidang.samples.batch import write_catalogue

COLUMNS = ["序号", "档号", "题名"]
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 60


def rows(n: int) -> list[dict[str, str]]:
    return [{"序号": str(i), "档号": f"A-{i:05d}", "题名": f"题名{i}"} for i in range(1, n + 1)]


def keys(problems: object) -> list[tuple[str, str]]:
    """The INTAKE- findings (a row's own metadata, DA/T 70 1-x, is tested in test_verdicts)."""
    found = [(p.check_id, p.finding.key) for p in problems]  # type: ignore[attr-defined]
    return [k for k in found if k[0].startswith("INTAKE-")]


def test_rows_limit_csv_and_xlsx(tmp_path: Path) -> None:
    for name in ("catalogue.csv", "catalogue.xlsx"):
        folder = tmp_path / name
        folder.mkdir()
        write_catalogue(folder / name, COLUMNS, rows(11))
        over = read_catalogue(folder, BatchLimits(max_rows=10))
        assert not over.usable and keys(over.problems) == [("INTAKE-CATALOGUE", "too_many_rows")]
        assert len(read_catalogue(folder, BatchLimits(max_rows=11)).rows) == 11


def test_catalogue_bytes_limit(tmp_path: Path) -> None:
    write_catalogue(tmp_path / "catalogue.csv", COLUMNS, rows(5))
    size = (tmp_path / "catalogue.csv").stat().st_size
    parse = read_catalogue(tmp_path, BatchLimits(max_catalogue_bytes=size - 1))
    assert keys(parse.problems) == [("INTAKE-CATALOGUE", "too_large")]
    assert read_catalogue(tmp_path, BatchLimits(max_catalogue_bytes=size)).usable


def batch(tmp_path: Path, items: int, pages: int) -> Path:
    root = tmp_path / "B"
    root.mkdir()
    write_catalogue(root / "catalogue.csv", COLUMNS, rows(items))
    for r in rows(items):
        (root / r["档号"]).mkdir()
        for p in range(pages):
            (root / r["档号"] / f"{r['档号']}-{p:04d}.jpg").write_bytes(JPEG)
    return root


def test_pages_per_item_limit_rejects_that_item_only(tmp_path: Path) -> None:
    root = batch(tmp_path, 2, 3)
    (root / "A-00002" / "A-00002-0002.jpg").unlink()
    intake = read_batch(root, IntakePolicy(limits=BatchLimits(max_pages_per_item=2)))
    assert keys(intake.problems_of("A-00001")) == [("INTAKE-LIMITS", "too_many_pages")]
    assert keys(intake.problems_of("A-00002")) == []
    intake = read_batch(root, IntakePolicy(limits=BatchLimits(max_pages_per_item=3)))
    assert keys(intake.problems_of("A-00001")) == [] and keys(intake.problems_of("A-00002")) == []
    assert len(intake.items[0].pages) == 3


def test_files_and_bytes_limits_refuse_the_batch_before_reading_it(tmp_path: Path) -> None:
    root = batch(tmp_path, 3, 2)  # 6 pages + the catalogue
    intake = read_batch(root, IntakePolicy(limits=BatchLimits(max_files=6)))
    assert not intake.catalogue.usable and intake.items == ()
    assert keys(intake.batch_problems) == [("INTAKE-LIMITS", "too_many_files")]
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    intake = read_batch(root, IntakePolicy(limits=BatchLimits(max_batch_bytes=total - 1)))
    assert keys(intake.batch_problems) == [("INTAKE-LIMITS", "too_many_bytes")]
    assert read_batch(root, IntakePolicy(limits=BatchLimits(max_files=7, max_batch_bytes=total))).catalogue.usable


def test_manifest_lines_limit(tmp_path: Path) -> None:
    root = batch(tmp_path, 1, 1)
    (root / "manifest-sha256.txt").write_text("".join(f"{'0' * 64}  f{n}\n" for n in range(5)), "utf-8")
    intake = read_batch(root, IntakePolicy(limits=BatchLimits(max_manifest_lines=3)))
    assert ("INTAKE-MANIFEST", "malformed") in keys(intake.batch_problems)


def test_profile_carries_the_limits() -> None:
    from guidang.config import Profile

    assert Profile(vendor="v").limits == BatchLimits()
    assert Profile.model_validate({"vendor": "v", "limits": {"max_rows": 5}}).limits.max_rows == 5
