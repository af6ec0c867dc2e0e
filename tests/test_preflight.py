"""`guidang preflight` and `guidang profile export`: a vendor checks a batch before delivery, as ingest would,
with the archive's thresholds, and nothing is written but the report."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from guidang.cli import main
from guidang.samples import bad
from guidang.samples.batch import make_batch

sys.path.insert(0, str(Path(__file__).parent / "data" / "dat70"))
from clamd_support import EICAR

CODES = [f"Z109-WS·2023-Y-BGS-000{n}" for n in (1, 2, 3, 4)]


def _tree(root: Path) -> dict[str, tuple[int, str]]:
    """Every entry under root with its mode and content digest: what "wrote nothing" is checked against."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
            out[p.relative_to(root).as_posix()] = (st.st_mode, digest)
    return out


@pytest.fixture
def vendor_profile(home: object, tmp_path: Path) -> Path:
    """The archive exports its demo profile; the vendor's machine then has no working home."""
    path = tmp_path / "vendor-profile.json"
    result = CliRunner().invoke(main, ["profile", "export", "--profile", "demo", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _vendor_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> Result:
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path / "vendor-has-no-home"))
    return CliRunner().invoke(main, ["preflight", *args])


def _batch(tmp_path: Path) -> Path:
    truth = make_batch(tmp_path / "drop", page_counts=[1, 1, 1, 1], seed=3)
    return Path(truth.path)


def test_the_exported_profile_carries_the_archives_thresholds_and_no_path(vendor_profile: Path) -> None:
    data = json.loads(vendor_profile.read_text("utf-8"))
    assert data["format"] == "guidang-preflight-profile" and data["version"] == 1
    assert data["profile"] == "demo" and data["archival_code_rule"]["name"] == "dat22"
    assert data["scan_qa"]["min_dpi"] == 200 and data["limits"]["max_rows"] == 5000
    assert "home" not in json.dumps(data) and "socket" not in json.dumps(data)


def test_a_clean_batch_passes_with_exit_0(vendor_profile: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    batch = _batch(tmp_path)
    result = _vendor_run(monkeypatch, tmp_path, str(batch), "--profile-file", str(vendor_profile), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    checks = {r["check"] for s in data["subjects"] for r in s["results"]}
    assert {"SCAN-DPI", "SCAN-NAME", "SCAN-COUNT", "SCAN-ROTATION"} <= checks
    assert not (tmp_path / "vendor-has-no-home").exists()


def test_a_defective_batch_lists_each_defect_and_writes_nothing(vendor_profile: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    batch = _batch(tmp_path)
    bad.remove_item_folder(batch, CODES[1])  # INTAKE-FOLDER missing
    bad.add_stray_file(batch, CODES[0])  # INTAKE-FILE-TYPE: not an image
    bad.set_catalogue_value(batch, 2, "页数", "5")  # SCAN-COUNT: 页数 5, 1 image
    (batch / CODES[3] / f"{CODES[3]}-0001.tif").write_bytes(EICAR)  # 4-2: a virus (manifest now stale too)
    before = _tree(tmp_path)
    result = _vendor_run(monkeypatch, tmp_path, str(batch), "--profile-file", str(vendor_profile), "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    failed = {(s["path"].split("（")[0], r["check"]) for s in data["subjects"] for r in s["results"]
              if r["status"] == "fail"}
    assert (CODES[1], "INTAKE-FOLDER") in failed
    assert (CODES[0], "INTAKE-FILE-TYPE") in failed
    assert (CODES[2], "SCAN-COUNT") in failed
    assert (CODES[3], "GD-4-2") in failed or (CODES[3], "4-2") in failed
    assert (CODES[3], "INTAKE-MANIFEST") in failed
    assert _tree(tmp_path) == before  # nothing written, nothing changed: not in the batch, not beside it

    # the same report for a person, Chinese first, written only where asked
    report = tmp_path / "out" / "preflight.html"
    report.parent.mkdir()
    result = _vendor_run(monkeypatch, tmp_path, str(batch), "--profile-file", str(vendor_profile),
                         "--format", "html", "-o", str(report))
    assert result.exit_code == 1
    html = report.read_text("utf-8")
    assert "预检报告" in html and "INTAKE-FOLDER" in html and "SCAN-COUNT" in html
    assert _tree(tmp_path).keys() - before.keys() == {"out", "out/preflight.html"}


def test_the_archives_own_thresholds_decide(vendor_profile: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile that asks for 600 dpi fails the 300 dpi scans the default passes."""
    data = json.loads(vendor_profile.read_text("utf-8"))
    data["scan_qa"]["min_dpi"] = 600
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    batch = _batch(tmp_path)
    result = _vendor_run(monkeypatch, tmp_path, str(batch), "--profile-file", str(strict), "--json")
    assert result.exit_code == 1
    failed = {r["check"] for s in json.loads(result.output)["subjects"] for r in s["results"] if r["status"] == "fail"}
    assert failed == {"SCAN-DPI"}


@pytest.mark.parametrize(("content", "says"), [(b"{not json", "not JSON"), (b'{"format": "x"}', "not a preflight"),
                                               (b'{"format": "guidang-preflight-profile", "version": 9}', "version")])
def test_a_bad_profile_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes,
                                             says: str) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(content)
    monkeypatch.setenv("GUIDANG_LANGUAGE", "en")
    result = _vendor_run(monkeypatch, tmp_path, str(tmp_path), "--profile-file", str(path))
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output


def test_check_of_a_batch_is_now_preflight(home: object, tmp_path: Path) -> None:
    batch = _batch(tmp_path)
    bad.remove_item_folder(batch, CODES[1])
    result = CliRunner().invoke(main, ["check", str(batch), "--profile", "demo", "--format", "json"])
    assert result.exit_code == 1
    assert "guidang preflight" in result.stderr
    failed = {r["check"] for s in json.loads(result.stdout)["subjects"] for r in s["results"] if r["status"] == "fail"}
    assert "INTAKE-FOLDER" in failed


def test_no_progress_lines_off_a_terminal(vendor_profile: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    batch = _batch(tmp_path)
    result = _vendor_run(monkeypatch, tmp_path, str(batch), "--profile-file", str(vendor_profile))
    assert result.exit_code == 0
    assert "剩余" not in result.output and "━" not in result.output
