"""PDF checks on PDFs nobody on this project wrote: the veraPDF corpus, malformed PDFs, the cabinet of horrors.

The bar for PDF/A: no veraPDF "fail" file is approved (pikepdf.pdfa alone approves 23 of them, all on
file-syntax clauses it delegates to its writer); how many "pass" files are approved is reported.
PDFBox Preflight (Java, Debian libpdfbox2-java) is an independent second opinion for PDF/A-1b.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pikepdf
import pikepdf.pdfa as pdfa
import pytest
from conftest import corpus
from PIL import Image

from guidang.validators.pdf_checks import PdfSubject, check_pdf, pdfa_approved
from guidang.validators.pdf_structure import check_bytes, check_structure
from guidang.validators.result import Status

DATA = Path(__file__).parent / "data" / "dat70"
JARS = ("preflight", "pdfbox2", "fontbox2", "xmpbox", "commons-logging", "javax.activation", "jaxb-api")


def _corpus_files(flavour: str) -> list[Path]:
    return sorted(corpus("verapdf", f"PDF_A-{flavour}").rglob("*.pdf"))


def _verdict(args: tuple[Path, str]) -> tuple[bool, bool, list[str]]:
    """(approved by guidang, approved by pikepdf.pdfa alone, severe structure rules found)."""
    f, flavour = args
    ok = pdfa_approved(f, flavour)[0]
    if "-pass-" in f.name or not pdfa.validate_written(f, flavour).passed:
        return ok, False, []
    return ok, True, [i.rule for i in check_structure(f) if i.severe]


@pytest.mark.parametrize("flavour", ["1b", "2b"])
def test_verapdf_corpus_no_fail_file_approved(flavour: str) -> None:
    files = _corpus_files(flavour)
    approved_fail, approved_pass, passes, fails = [], [], 0, 0
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        verdicts = list(pool.map(_verdict, [(f, flavour) for f in files], chunksize=16))
    # the fail files pikepdf.pdfa alone approves (it leaves file syntax to its writer) are refused,
    # each for a file-syntax rule of ISO 19005 6.1
    delegated = [(f, rules) for f, (_, alone, rules) in zip(files, verdicts, strict=True) if alone]
    assert delegated, "pikepdf.pdfa alone approved some fail files when this was written"
    assert all(any(r.startswith("6.1") for r in rules) for _, rules in delegated), delegated
    for f, (ok, _, _) in zip(files, verdicts, strict=True):
        if "-pass-" in f.name:
            passes += 1
            if ok:
                approved_pass.append(f)
        else:
            fails += 1
            if ok:
                approved_fail.append(f)
    print(
        f"\nveraPDF PDF_A-{flavour}: fail-files approved {len(approved_fail)} of {fails}; "
        f"pass-files approved {len(approved_pass)} of {passes}; fail-files pikepdf.pdfa alone "
        f"approves, refused by the structure checks: {len(delegated)}"
    )
    assert approved_fail == []
    # issue #16's goal: >= 85% of the pass-files approved (84/263 and 101/377 with pikepdf.pdfa's XMP
    # allowlist alone; 231/263 and 331/377 once XMP properties are checked against the XMP 2004/2005 schema
    # tables and the packet's own extension schemas, guidang.validators.pdfa_xmp)
    assert len(approved_pass) / passes >= 0.85, (len(approved_pass), passes)


def _approved_1b(f: Path) -> bool:
    return pdfa_approved(f, "1b")[0]


def _preflight(files: list[Path]) -> dict[str, str]:
    java = shutil.which("java")
    jars = [Path("/usr/share/java") / f"{j}.jar" for j in JARS]
    if java is None or not all(j.is_file() for j in jars):
        pytest.skip("Java or PDFBox Preflight (libpdfbox2-java, libactivation-java, libjaxb-api-java) absent")
    proc = subprocess.run(
        [java, "-cp", ":".join(map(str, jars)), str(DATA / "PreflightBatch.java")],
        input="\n".join(map(str, files)) + "\n",
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return dict(line.split("\t", 1) for line in proc.stdout.splitlines() if "\t" in line)


def _own_pdfa(part: str) -> bytes:
    raw = io.BytesIO()
    Image.new("L", (60, 80), 255).save(raw, "PDF", resolution=72)
    raw.seek(0)
    out = io.BytesIO()
    with pikepdf.open(raw) as pdf:
        assert pdfa.save(pdf, out, part).passed
    return out.getvalue()


def test_preflight_second_opinion(tmp_path: Path) -> None:
    """Preflight confirms a PDF/A-1b we write and refuses a plain PDF; on the corpus files we approve it
    is asked too, and its disagreements are reported (PDFBox 2.0.27 misreads some stream lengths that
    end in a lone CR, which veraPDF and ISO 19005-1 6.1.7 accept)."""
    ours = tmp_path / "ours.pdf"
    ours.write_bytes(_own_pdfa("1b"))
    plain = tmp_path / "plain.pdf"
    Image.new("L", (60, 80), 255).save(plain, "PDF", resolution=72)
    assert pdfa_approved(ours, "1b")[0]
    assert not pdfa_approved(plain, "1b")[0]
    passes = [f for f in _corpus_files("1b") if "-pass-" in f.name]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        approved = [f for f, ok in zip(passes, pool.map(_approved_1b, passes, chunksize=16), strict=True) if ok]
    verdicts = _preflight([ours, plain, *approved])
    assert verdicts[str(ours)] == "VALID"
    assert verdicts[str(plain)].startswith("INVALID")
    agree = sum(1 for f in approved if verdicts.get(str(f)) == "VALID")
    # PDFBox 2.0.27's refusals of the rest: 1.2.5 (a stream /Length ending in a lone CR, which ISO 19005-1
    # 6.1.7 allows), metadata it cannot parse (UTF-32 packets), NullPointerExceptions, types it lacks
    stream_length = sum(1 for f in approved if verdicts.get(str(f), "").startswith("INVALID 1.2.5"))
    print(
        f"\nPDFBox Preflight agrees on {agree} of the {len(approved)} PDF/A-1b pass-files guidang approves; "
        f"{stream_length} more it refuses only for a stream length ending in CR"
    )
    assert len(verdicts) == len(approved) + 2
    assert agree + stream_length >= 0.9 * len(approved), (agree, stream_length, len(approved))


# ---------------------------------------------------------------------------------------------------------------
def _horrors() -> Path:
    return corpus("malformed-pdf", "pdfCabinetOfHorrors")


def _status(report_results: object, check_id: str) -> set[Status]:
    return {r.status for r in report_results if r.check_id == check_id}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "check_id"),
    [
        ("encryption_openpassword.pdf", "PDF-ENCRYPT"),
        ("encryption_nocopy.pdf", "PDF-ENCRYPT"),
        ("encryption_noprinting.pdf", "PDF-ENCRYPT"),
        ("encryption_notextaccess.pdf", "PDF-ENCRYPT"),
        ("javascript.pdf", "PDF-JS"),
        ("fileAttachment.pdf", "PDF-JS"),
        ("corruptionOneByteMissing.pdf", "PDF-STRUCT"),
    ],
)
def test_cabinet_of_horrors_reported_with_ids(name: str, check_id: str) -> None:
    report = check_pdf(_horrors() / name)
    assert Status.FAIL in _status(report.results, check_id), [r.as_dict() for r in report.results]


def test_embedded_files_reported() -> None:
    for name in ("fileAttachment.pdf", "fileAttachment_fileAttachmentAnnotation.pdf", "embedded_video_avi.pdf"):
        report = check_pdf(_horrors() / name)
        assert _status(report.results, "PDF-EMBED") & {Status.WARN, Status.FAIL}, name


def test_embedded_executable_fails(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    spec = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00" + b"\0" * 60, filename="setup.exe")
    pdf.attachments["setup.exe"] = spec
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("setup.exe"))
    out = tmp_path / "exe.pdf"
    pdf.save(out)
    report = check_pdf(out)
    assert _status(report.results, "PDF-EMBED") == {Status.FAIL}
    assert _status(report.results, "PDF-ACTION") == {Status.FAIL}


def test_handbuilt_malformed_pdfs_fail_structure_without_crashing() -> None:
    folder = corpus("malformed-pdf", "pdf-handbuilt-test-corpus")
    for f in sorted(folder.glob("T*.pdf")):
        report = check_pdf(f)
        assert not any("检测程序出错" in r.message_zh for r in report.results), f
        assert Status.FAIL in _status(report.results, "PDF-PDFA"), f
        if f.name.startswith(("T03", "T04")):  # cross-reference table, trailer, EOF: file structure
            assert Status.FAIL in _status(report.results, "PDF-STRUCT"), f


def test_sound_plain_pdfs_pass_structure(tmp_path: Path) -> None:
    """A plain (non-PDF/A) PDF written by Pillow or qpdf is sound: PDF-STRUCT passes, PDF-PDFA does not.
    (The handbuilt corpus's own hello_world.pdf has a wrong /Length: qpdf --check reports it too.)"""
    plain = tmp_path / "plain.pdf"
    Image.new("RGB", (50, 50), "white").save(plain, "PDF")
    rewritten = tmp_path / "qpdf.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(rewritten)
    for f in (plain, rewritten):
        report = check_pdf(f)
        assert _status(report.results, "PDF-STRUCT") == {Status.PASS}, [r.as_dict() for r in report.results]
        assert Status.FAIL in _status(report.results, "PDF-PDFA")


def test_govdocs_error_pdfs_give_results_never_crashes() -> None:
    folder = corpus("malformed-pdf", "govdocs1-error-pdfs")
    files = sorted(folder.rglob("*.pdf"))
    assert files
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        reports = list(pool.map(check_pdf, files))
    for f, report in zip(files, reports, strict=True):
        assert {r.check_id for r in report.results} == {
            "PDF-STRUCT",
            "PDF-ENCRYPT",
            "PDF-JS",
            "PDF-ACTION",
            "PDF-EMBED",
            "PDF-PDFA",
        }
        assert not any("检测程序出错" in r.message_zh for r in report.results), (f, report.as_dicts())


# ---------------------------------------------------------------------------------------------------------------
def test_lexical_rules_on_crafted_bytes() -> None:
    """Each file-syntax rule pikepdf leaves to its writer, broken on purpose in otherwise good bytes."""
    good = _own_pdfa("1b")  # PDF/A-1 has a classic xref table (no xref streams)
    with pikepdf.open(io.BytesIO(good)) as pdf:
        offsets = {k: e.offset for k, e in pdf.get_xref_table().items() if e.type == 1 and e.offset is not None}
    assert [i for i in check_bytes(good, offsets) if i.severe] == []
    assert {i.rule for i in check_bytes(good + b"junk", offsets)} == {"6.1.3-3"}
    no_comment = good.replace(good[9:14], b"%abcd", 1)
    assert "6.1.2-2" in {i.rule for i in check_bytes(no_comment, offsets)}
    spaced = good.replace(b"\nxref\n", b"\nxref \n", 1)
    assert "6.1.4-2" in {i.rule for i in check_bytes(spaced, offsets)}
    stream = good.index(b"stream\n")
    cr_only = good[:stream] + b"stream\r" + good[stream + 7 :]
    assert "6.1.7-2" in {i.rule for i in check_bytes(cr_only, offsets)}


def test_pdf_subject_reads_the_claimed_part(tmp_path: Path) -> None:
    f = tmp_path / "a1.pdf"
    f.write_bytes(_own_pdfa("1b"))
    assert PdfSubject(f).claimed_part == "1b"
    report = check_pdf(f, part="2b")
    assert Status.FAIL in _status(report.results, "PDF-PDFA")  # declares 1b, 2b required
    assert all(r.status is Status.PASS for r in check_pdf(f).results)
