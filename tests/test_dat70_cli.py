"""`guidang check`: files, packages, a folder of packages, a vendor batch, a store; formats; exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from guidang.cli.check import check_command
from guidang.reports.check import render_html
from guidang.validators.result import CheckedSubject, Status

sys.path.insert(0, str(Path(__file__).parent / "data" / "dat70"))
import make_fixtures as mf
from clamd_support import Clamd, running_clamd

CODE2 = "Z109-WS·2011-Y-BGS-0002"
HORRORS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "malformed-pdf" / "pdfCabinetOfHorrors"


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    with running_clamd(tmp_path_factory.mktemp("clamd-cli")) as daemon:
        yield daemon


@pytest.fixture
def env(tmp_path: Path, clamd: Clamd, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    # the tests' clamd holds test signatures only: this profile lets 4-2 warn about it instead of failing
    (home / "guidang.toml").write_text('[profiles.t]\nvendor = "t"\naccept_test_signatures = true\n', "utf-8")
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    monkeypatch.setenv("GUIDANG_CLAMAV__SOCKET", str(clamd.socket))
    monkeypatch.delenv("GUIDANG_LANGUAGE", raising=False)
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(check_command, list(args), catch_exceptions=False)


def test_good_package_exits_0(env: Path) -> None:
    root = mf.build(env / "pkgs" / mf.CODE)
    result = run(str(root))
    assert result.exit_code == 0, result.output
    assert "信息包" in result.output and "不合格 0 项" in result.output


def test_bad_package_exits_1_with_json(env: Path) -> None:
    fx = next(f for f in mf.FIXTURES if f.name == "GD-1-7")
    root = fx.make(env / "bad" / mf.CODE)
    result = run(str(root), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    (subject,) = data["subjects"]
    failed = {r["check"] for r in subject["results"] if r["status"] == "fail"}
    assert failed == {"GD-1-7"}
    assert data["exit_code"] == 1


def test_stage_option(env: Path) -> None:
    root = mf.build(env / "pkgs" / mf.CODE)
    data = json.loads(run(str(root), "--stage", "YJ", "--format", "json").output)
    checks = {r["check"] for r in data["subjects"][0]["results"]}
    assert "YJ-1-9" in checks and not any(c.startswith("GD-") for c in checks)


def test_missing_path_exits_2(env: Path) -> None:
    result = CliRunner().invoke(check_command, [str(env / "nothing")])
    assert result.exit_code == 2


def test_single_pdf_files(env: Path) -> None:
    good = env / "a.pdf"
    good.write_bytes(mf.pdfa_bytes())
    assert run(str(good)).exit_code == 0
    plain = env / "plain.pdf"
    plain.write_bytes(mf.plain_pdf_bytes())
    result = run(str(plain), "--format", "json")
    assert result.exit_code == 1
    statuses = {r["check"]: r["status"] for r in json.loads(result.output)["subjects"][0]["results"]}
    assert statuses["PDF-STRUCT"] == "pass" and statuses["PDF-PDFA"] == "fail"


@pytest.mark.skipif(not HORRORS.is_dir(), reason="../shared/corpora absent")
def test_javascript_pdf_reported_by_id(env: Path) -> None:
    result = run(str(HORRORS / "javascript.pdf"))
    assert result.exit_code == 1
    assert "PDF-JS" in result.output


def test_image_and_ofd_files(env: Path) -> None:
    tif = env / "page.tif"
    tif.write_bytes(mf.tiff(1))
    assert run(str(tif)).exit_code == 0
    broken = env / "broken.tif"
    broken.write_bytes(mf.tiff(1)[:200])
    result = run(str(broken), "--format", "json")
    assert result.exit_code == 1
    ofd = env / "doc.ofd"
    ofd.write_bytes(mf.ofd(encrypted_member=True))
    assert run(str(ofd)).exit_code == 1


def test_folder_of_packages_and_csv(env: Path) -> None:
    folder = env / "many"
    mf.build(folder / mf.CODE)
    mf.build(folder / CODE2, mf.Spec(code=CODE2, masters=mf.default_masters(CODE2), edit_xml=mf._title_with("★")))
    result = run(str(folder), "--format", "csv")
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.output)))
    classes = f"{folder} [Z109-WS·2011-Y-BGS]"
    assert {r["path"] for r in rows} == {str(folder / mf.CODE), str(folder / CODE2), classes}
    assert {(r["path"], r["check"]) for r in rows if r["status"] == "fail"} == {(str(folder / CODE2), "GD-1-6")}


def test_numbering_across_packages(env: Path) -> None:
    """2-6 across a folder of packages: 件号 0002 is missing between 0001 and 0003."""
    folder = env / "gap"
    code3 = "Z109-WS·2011-Y-BGS-0003"
    mf.build(folder / mf.CODE)
    mf.build(folder / code3, mf.Spec(code=code3, masters=mf.default_masters(code3)))
    result = run(str(folder), "--format", "json")
    assert result.exit_code == 1
    (cls,) = [s for s in json.loads(result.output)["subjects"] if s["kind"] == "类目"]
    (finding,) = [r for r in cls["results"] if r["status"] == "fail"]
    assert finding["check"] == "GD-2-6" and "缺少 2" in finding["message_zh"]


def test_a_vendor_batch_is_checked_by_preflight(env: Path) -> None:
    """``check BATCH`` (a folder with a catalogue) is ``guidang preflight BATCH`` now (issue 17): the checks of
    intake, per catalogue row and per delivered folder, with the same IDs as ingest."""
    batch = env / "batch"
    (batch / mf.CODE).mkdir(parents=True)
    for name, data in mf.default_masters():
        (batch / mf.CODE / name).write_bytes(data)
    (batch / mf.CODE / "extra.bmp").write_bytes(mf.bmp(1))
    (batch / "catalogue.csv").write_text("档号,题名\n", encoding="utf-8")
    (batch / "READY").write_text("", encoding="utf-8")
    result = run(str(batch), "--format", "json", "--profile", "t")
    assert "guidang preflight" in result.stderr
    data = json.loads(result.stdout)
    failed = {(s["path"], r["check"], r["evidence"][0].get("file") if r["evidence"] else None)
              for s in data["subjects"] for r in s["results"] if r["status"] == "fail"}
    assert (str(batch), "INTAKE-CATALOGUE", None) in failed  # a catalogue without rows: the whole batch
    assert (mf.CODE, "INTAKE-FILE-TYPE", f"{mf.CODE}/extra.bmp") in failed  # BMP is not a scan format
    assert result.exit_code == 1


def test_store_audit_at_bc(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from guidang.packaging.ocfl_package import store_package
    from guidang.storage.ocfl_store import OcflStore

    package = mf._stored(env / "stage" / mf.CODE)
    store = OcflStore(env / "store")
    store_package(store, package)
    backups = env / "backups"
    backups.mkdir()
    with zipfile.ZipFile(backups / f"{mf.CODE}.zip", "w") as z:
        for p in sorted(package.rglob("*")):
            if p.is_file():
                z.write(p, f"{mf.CODE}/{p.relative_to(package).as_posix()}")
    monkeypatch.setenv("GUIDANG_DAT70__BACKUP_ROOTS", json.dumps([str(backups)]))
    result = run(str(env / "store"), "--format", "json")
    data = json.loads(result.output)
    (subject,) = [s for s in data["subjects"] if s["kind"] == "保存对象"]
    assert subject["path"].endswith(f"#{mf.CODE}") and subject["stage"] == "BC"
    statuses = {r["check"]: r["status"] for r in subject["results"]}
    assert statuses["BC-1-14"] == "pass"  # the inventory's digest of the manifest is the reference
    assert statuses["BC-3-9"] == "pass"
    assert result.exit_code == 0, [r for r in subject["results"] if r["status"] == "fail"]
    # a changed file in the store is found
    stored = store.logical_files(mf.CODE)[f"content/{mf.CODE}.txt"]
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes() + b"x")
    result = run(str(env / "store"), "--format", "json")
    assert result.exit_code == 1
    subjects = json.loads(result.output)["subjects"]
    failed = {r["check"] for s in subjects for r in s["results"] if r["status"] == "fail"}
    assert "BC-1-1" in failed


def test_html_report_chinese_first_failures_first(env: Path) -> None:
    folder = env / "many"
    mf.build(folder / mf.CODE)
    mf.build(folder / CODE2, mf.Spec(code=CODE2, masters=mf.default_masters(CODE2), edit_xml=mf._remove("密级")))
    out = env / "report.html"
    result = run(str(folder), "--format", "html", "-o", str(out))
    assert result.exit_code == 1
    html = out.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html
    # the failing package comes first, and in it the integrity group (with the failure) leads
    assert html.index("Z109-WS·2011-Y-BGS-0002") < html.index("Z109-WS·2011-Y-BGS-0001")
    first_section = html[html.index("<section") : html.index("</section>")]
    headings = re.findall(r"<h3>(\S+)", first_section)
    assert headings[0] == "完整性" and set(headings) == {"真实性", "完整性", "可用性", "安全性"}
    first_row = re.search(r'<tr class="(\w+)">', first_section)
    assert first_row is not None and first_row.group(1) == "fail"
    assert '<td class="status">不合格<div class="en">fail</div>' in first_section  # Chinese first, English beneath


def test_render_html_escapes_and_marks_unreadable_subjects() -> None:
    from guidang.validators.result import Report

    html = render_html([CheckedSubject("<script>x</script>", "信息包", Report(), error="无法读取")])
    assert "<script>x" not in html and "&lt;script&gt;" in html
    assert "无法检测：无法读取" in html


def test_english_output(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDANG_LANGUAGE", "en")
    root = next(f for f in mf.FIXTURES if f.name == "GD-1-2").make(env / "p" / mf.CODE)
    result = run(str(root))
    assert result.exit_code == 1
    assert "characters long, over the limit of 500" in result.output


def test_store_status_values_are_known(env: Path) -> None:
    root = mf.build(env / "pkgs" / mf.CODE)
    data = json.loads(run(str(root), "--format", "json").output)
    assert {r["status"] for r in data["subjects"][0]["results"]} <= {s.value for s in Status}
    shutil.rmtree(root)


def test_a_fifo_named_as_the_path_is_a_finding_not_a_traceback(env: Path) -> None:
    import os

    fifo = env / "pipe.tif"
    os.mkfifo(fifo)
    result = run(str(fifo), "--format", "json")
    assert result.exit_code == 1, result.output
    [subject] = json.loads(result.output)["subjects"]
    [r] = subject["results"]
    assert (r["check"], r["status"]) == ("FILE-KIND", "fail") and "FIFO" in r["message_en"]


def test_links_and_fifos_in_a_checked_folder_are_flagged_never_followed(env: Path) -> None:
    import os

    batch = env / "batch"
    (batch / "A").mkdir(parents=True)
    name, data = mf.default_masters()[0]
    (batch / "A" / name).write_bytes(data)
    outside = env / "outside.pdf"
    outside.write_bytes(b"%PDF-1.4 canary outside the batch")
    os.symlink(outside, batch / "A" / "linked.pdf")
    os.symlink(env, batch / "A" / "up")  # a link to a folder above: never walked into
    os.mkfifo(batch / "A" / "pipe.tif")
    result = run(str(batch), "--format", "json")
    data = json.loads(result.output)
    by_path = {s["path"]: s for s in data["subjects"]}
    assert sorted(by_path) == sorted(["A/linked.pdf", f"A/{name}", "A/pipe.tif", "A/up"])
    for name, found in (("A/linked.pdf", f"symlink -> {outside}"), ("A/up", f"symlink -> {env}"),
                        ("A/pipe.tif", "FIFO")):
        [r] = by_path[name]["results"]
        assert (r["check"], r["status"], r["evidence"][0]["found"]) == ("FILE-KIND", "fail", found)
    assert "canary" not in result.output and result.exit_code == 1


@pytest.mark.parametrize("content", ["empty", "link loop", "control files only"])
def test_a_folder_with_nothing_to_check_says_so_and_exits_2(env: Path, content: str) -> None:
    import os

    folder = env / "nothing"
    folder.mkdir()
    if content == "link loop":
        os.symlink(folder / "b", folder / "a")
        os.symlink(folder / "a", folder / "b")
    elif content == "control files only":
        (folder / "READY").write_text("")
    result = run(str(folder))
    assert result.exit_code == 2, result.output
    assert "未检测任何文件" in result.output and "nothing checked" in result.output
    assert ("FILE-KIND" in result.output) is (content == "link loop")
