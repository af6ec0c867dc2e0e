"""Born-digital cases (办件) through `guidang ingest` and the hot folder, with real LibreOffice, pikepdf.pdfa,
pygfried and clamd, on files nobody on this project wrote (office-examples, OCRmyPDF's PDFs, veraPDF
pass-files) and on OFDs and office files the tests make."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from conftest import corpus
from PIL import Image
from zips import zip_folder

from guidang.config import Settings
from guidang.ingest import normalise
from guidang.ingest.office import LibreOffice
from guidang.packaging.ocfl_package import package_digests
from guidang.pipeline.case_file import read_case
from guidang.storage.ocfl_store import OcflStore
from guidang.validators.pdf_checks import pdfa_approved

GUIDANG = str(Path(sys.executable).parent / "guidang")
OFD_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


def office(*parts: str) -> Path:
    return corpus("office", "office-examples", *parts)


def ofd(text: str = "准予许可", extra: dict[str, bytes] | None = None) -> bytes:
    """A small OFD: one page whose Content.xml holds ``text``."""
    files: dict[str, bytes | str] = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {OFD_NS} Version="1.0"><ofd:DocBody>'
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {OFD_NS}><ofd:Pages>'
        '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>',
        "Doc_0/Pages/Page_0/Content.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {OFD_NS}><ofd:Content>'
        f'<ofd:Layer ID="2"><ofd:TextObject ID="3" Boundary="0 0 100 10" Font="4" Size="5">'
        f'<ofd:TextCode X="0" Y="5">{text}</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>',
    }
    files.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def write_case(folder: Path, files: dict[str, Path | bytes], **fields: object) -> Path:
    folder.mkdir(parents=True)
    materials = []
    for name, src in files.items():
        (folder / name).write_bytes(src if isinstance(src, bytes) else src.read_bytes())
        materials.append({"文件": name, "类别": "结果材料" if name.endswith(".pdf") else "申请材料", "题名": name})
    description = {
        "办件编号": "BJ-2023-000123", "事项名称": "食品经营许可", "事项编码": "11440300MB2C92340Q",
        "申请人": "示例公司", "受理时间": "2023-03-01 09:30:00", "办结时间": "2023-03-05 16:00:00",
        "办理结果": "准予许可", "题名": "示例公司食品经营许可", "责任者": "示例市市场监督管理局", "日期": "20230305",
        "密级": "公开", "保管期限": "30年", "材料": materials, **fields,
    }  # fmt: skip
    (folder / "case.json").write_text(json.dumps(description, ensure_ascii=False), "utf-8")
    (folder / "READY").write_text("")
    return folder


def ingest(case: Path) -> dict[str, Any]:
    run = subprocess.run([GUIDANG, "ingest", str(case), "--profile", "demo", "--json"], capture_output=True,
                         timeout=900)  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def routes(item: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f["file"]: (f["route"], f["disposition"]) for f in item["files"]}


def verapdf_pass_file() -> Path:
    return next(corpus("verapdf", "PDF_A-2b").rglob("*6-6-2-3-1-t01-pass-a.pdf"))


def good_case() -> dict[str, Path | bytes]:
    """A sound case of every kind of file: an ODF document, a PDF to convert, a valid PDF/A, an OFD, a JPEG."""
    return {
        "申请表.odt": office("LibreOffice7-ODF-1.3", "LibreOfficeWriter_odt_1.3.odt"),
        "决定书.pdf": corpus("ocrmypdf-resources", "link.pdf"),
        "许可证.pdf": verapdf_pass_file(),
        "证照.ofd": ofd(),
        "照片.jpg": corpus("ocrmypdf-resources", "baiona_color.jpg"),
    }


def test_a_case_is_archived_once_and_each_pdfa_verifies(home: Settings, tmp_path: Path) -> None:
    files = good_case()
    data = ingest(write_case(tmp_path / "BJ-2023-000123", files))
    [item] = data["items"]
    assert item["status"] == "accepted", item["problems"]
    assert item["case_number"] == "BJ-2023-000123"
    assert item["id"] == item["object"] and item["id"].startswith("Z109-WS·2023-D30-")  # allocated at acceptance
    assert routes(item) == {
        "申请表.odt": ("office-to-pdfa", "converted"),
        "决定书.pdf": ("pdf-to-pdfa", "converted"),
        "许可证.pdf": ("pdfa-kept", "kept"),
        "证照.ofd": ("ofd-kept", "kept"),
        "照片.jpg": ("image-kept", "kept"),
    }
    formats = {f["file"]: f["puid"] for f in item["files"]}
    assert formats["证照.ofd"] == "guidang:ofd" or formats["证照.ofd"].endswith("ofd"), formats
    assert formats["照片.jpg"] == "fmt/43"
    # the stored object: every original byte for byte, the joined PDF/A verifies, 格式信息 names each format
    store = OcflStore(home.store_root)
    stored = package_digests(store, item["object"])
    for name, src in files.items():
        want = src if isinstance(src, bytes) else src.read_bytes()
        assert stored[f"masters/{name}"].sha256 == hashlib.sha256(want).hexdigest()
    logical = store.logical_files(item["object"])
    assert pdfa_approved(logical[f"content/{item['object']}.pdf"], "2b")[0]
    metadata = next(p for rel, p in logical.items() if rel.startswith("metadata/") and rel.endswith(".xml"))
    text = metadata.read_text("utf-8")
    assert "fmt/43" in text and "格式信息" in text
    # posted again: the first result stands, nothing archived twice
    again = ingest(write_case(tmp_path / "again" / "BJ-2023-000123", files))
    [second] = again["items"]
    assert second["status"] == "duplicate" and second["object"] == item["object"]
    # the same 办件编号 with other content: refused with the reason, never a second record
    other = dict(files, **{"证照.ofd": ofd("不予许可")})
    changed = ingest(write_case(tmp_path / "changed" / "BJ-2023-000123", other))
    [third] = changed["items"]
    assert third["status"] == "rejected" and "CASE-REPEAT" in third["failed_checks"]
    assert third["object"] is None


def test_bad_files_are_refused_or_reviewed_and_nothing_is_lost(home: Settings, tmp_path: Path) -> None:
    horrors = corpus("malformed-pdf", "pdfCabinetOfHorrors")
    zip_bomb = ofd(extra={"Doc_0/Pages/Page_0/Content.xml": b"<a>" + b" " * (80 * 1024 * 1024) + b"</a>"})
    traversal = ofd(extra={"../../evil.xml": b"<x/>"})
    files: dict[str, Path | bytes] = {
        "加密.pdf": horrors / "encryption_openpassword.pdf",
        "损坏.pdf": corpus("ocrmypdf-resources", "invalid.pdf"),
        "未嵌字体.pdf": corpus("ocrmypdf-resources", "formxobject.pdf"),
        "篡改.ofd": ofd()[:-40],
        "炸弹.ofd": zip_bomb,
        "穿越.ofd": traversal,
        "名不副实.pdf": ofd(),
    }
    case = write_case(tmp_path / "BJ-2023-000999", files, 办件编号="BJ-2023-000999")
    data = ingest(case)
    [item] = data["items"]
    assert item["status"] == "rejected" and item["object"] is None
    got = routes(item)
    assert got["加密.pdf"][1] == "rejected" and got["损坏.pdf"][1] == "rejected"
    assert got["未嵌字体.pdf"] == ("pdf-to-pdfa", "review")  # a font would be substituted
    assert got["篡改.ofd"][1] == "rejected" and got["炸弹.ofd"][1] == "rejected"
    assert got["穿越.ofd"][1] == "rejected"
    assert "CASE-FORMAT" in item["failed_checks"]  # an OFD named .pdf
    messages = " ".join(p["message_en"] for p in item["problems"])
    assert "password" in messages and "Helvetica" in messages  # a scanned PDF is no bad file: test_case_scans.py
    assert "zip bomb" in messages and "path traversal" in messages
    kept = Path(item["rejected_path"])
    for name, src in files.items():  # nothing of the case is lost
        want = src if isinstance(src, bytes) else src.read_bytes()
        assert (kept / "delivered" / name).read_bytes() == want
    assert not list(tmp_path.rglob("evil.xml")) and not (home.home / "evil.xml").exists()


def test_office_examples_and_made_docx_xlsx(tmp_path: Path) -> None:
    """Each office file's path with its measured outcome: converted and verified, or to review with the font."""
    lo = LibreOffice.find(tmp_path / "lo")
    made = tmp_path / "made"
    docx = lo.convert(office("LibreOffice7-ODF-1.3", "LibreOfficeWriter_odt_1.3.odt"), made, "docx")
    xlsx = lo.convert(office("LibreOffice7-ODF-1.3", "LibreOfficeCalc_ods_1.3.ods"), made, "xlsx")
    outcomes: dict[str, str] = {}
    for src in (office("Old Word file", "NEWSSLID.DOC"), office("Old Access", "Reviews.xls"),
                office("powerpoint4-mac", "ecdl paris.ppt"), docx, xlsx):  # fmt: skip
        try:
            done = normalise.office_to_pdfa(src, tmp_path / f"{src.stem}.pdf", lo, tmp_path / src.stem)
        except normalise.NeedsReview as exc:
            outcomes[src.suffix] = f"review:{exc.key}:{exc.detail}"
            continue
        assert pdfa_approved(done.path, "2b")[0], src
        assert done.text.strip()
        outcomes[src.suffix] = "converted"
    print("\noffice outcomes:", outcomes)
    assert outcomes[".DOC"] == outcomes[".docx"] == outcomes[".xlsx"] == "converted"
    assert outcomes[".xls"] == "review:font_missing:MS Sans Serif"
    assert outcomes[".ppt"].startswith("review:font_missing:") and "Book Antiqua" in outcomes[".ppt"]


def test_an_archive_font_folder_turns_a_review_into_a_conversion(tmp_path: Path) -> None:
    """A document set in a font Debian lacks goes to review; with that font in the archive's folder it converts."""
    odt = tmp_path / "gw.fodt"
    odt.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
        'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
        'office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">'
        '<office:font-face-decls><style:font-face style:name="GuidangTestFangSong" '
        'svg:font-family="GuidangTestFangSong"/></office:font-face-decls>'
        '<office:automatic-styles><style:style style:name="P1" style:family="paragraph">'
        '<style:text-properties style:font-name="GuidangTestFangSong" style:font-name-asian="GuidangTestFangSong"/>'
        "</style:style></office:automatic-styles>"
        '<office:body><office:text><text:p text:style-name="P1">关于做好政务服务工作的通知</text:p></office:text>'
        "</office:body></office:document>",
        "utf-8",
    )
    with pytest.raises(normalise.NeedsReview) as exc:
        normalise.office_to_pdfa(odt, tmp_path / "a.pdf", LibreOffice.find(tmp_path / "lo1"), tmp_path / "s1")
    assert exc.value.key == "font_missing" and "GuidangTestFangSong" in exc.value.detail
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    noto = next(Path("/usr/share/fonts").rglob("NotoSansCJK-Regular.ttc"), None)
    if noto is None:
        pytest.skip("fonts-noto-cjk absent")
    _renamed_font(noto, fonts / "GuidangTestFangSong.ttf", "GuidangTestFangSong")
    lo = LibreOffice.find(tmp_path / "lo2", (fonts,))
    done = normalise.office_to_pdfa(odt, tmp_path / "b.pdf", lo, tmp_path / "s2")
    assert pdfa_approved(done.path, "2b")[0] and "政务服务" in done.text.replace("\n", "")
    # LibreOffice's fontconfig finds the family in the archive's folder (not a fallback)
    match = subprocess.run(["fc-match", "-f", "%{file}", "GuidangTestFangSong"], env=lo.env(), capture_output=True,
                           text=True, check=True)  # fmt: skip
    assert match.stdout == str(fonts / "GuidangTestFangSong.ttf")


def _renamed_font(src: Path, out: Path, family: str) -> None:
    """One face of a CJK collection saved as a TrueType-flavoured file under another family name."""
    from fontTools.ttLib import TTCollection

    font = TTCollection(str(src)).fonts[2]  # Noto Sans CJK SC
    for rec in font["name"].names:
        if rec.nameID in (1, 4, 16):
            rec.string = family
        if rec.nameID == 6:
            rec.string = family
    font.save(str(out))


def test_case_json_keys_in_english_and_unsafe_material_names(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "case.json").write_text(json.dumps({
        "case_number": "X-1", "title": "t", "matter_name": "m", "materials": [
            {"file": "a.pdf", "kind": "申请材料"}, {"file": "../../etc/passwd", "kind": "申请材料"},
            {"file": "b.pdf", "kind": "不明"}]}), "utf-8")  # fmt: skip
    d = read_case(folder)
    assert d.row is not None and d.row.case_number == "X-1" and d.row.matter_name == "m"
    assert [m.file for m in d.materials] == ["a.pdf"]
    assert {p.finding.key for p in d.problems} == {"bad_material"}
    (folder / "case.json").write_text("[1, 2]", "utf-8")
    assert [p.finding.key for p in read_case(folder).problems] == ["not_object"]


def test_a_case_through_the_hot_folder(home: Settings, tmp_path: Path) -> None:
    inbox = home.inbox_of("demo")
    image = tmp_path / "p.png"
    Image.new("RGB", (120, 80), "white").save(image, dpi=(150, 150))
    write_case(inbox / "BJ-2023-000777", {"照片.png": image, "证照.ofd": ofd()}, 办件编号="BJ-2023-000777")
    # the same drop as one zip file (names in GBK as Windows writes them)
    folder = write_case(tmp_path / "BJ-2023-000778", {"证照.ofd": ofd("另一件"), "照片.png": image},
                        办件编号="BJ-2023-000778")  # fmt: skip
    (folder / "READY").unlink()
    zip_folder(folder, inbox / "BJ-2023-000778.zip")
    run = subprocess.run([GUIDANG, "watch", "--once", "--workers", "1"], capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr.decode()
    receipts = [json.loads(r.read_text("utf-8")) for r in home.outbox_root.rglob("receipt.json")]
    items = {d["items"][0]["case_number"]: d["items"][0] for d in receipts}
    assert set(items) == {"BJ-2023-000777", "BJ-2023-000778"}
    for item in items.values():
        assert item["status"] == "accepted", item["problems"]
        assert routes(item) == {"照片.png": ("image-kept", "kept"), "证照.ofd": ("ofd-kept", "kept")}


def sign(source: Path, out: Path) -> Path:
    """``source`` with a signature field whose appearance (the seal) is a red square at (100, 100)-(150, 150)."""
    with pikepdf.open(source) as pdf:
        value = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Sig, Filter=pikepdf.Name("/Adobe.PPKLite"),
                                                     ByteRange=pikepdf.Array([0, 10, 20, 30]),
                                                     Contents=pikepdf.String(b"\0" * 16)))  # fmt: skip
        seal = pdf.make_stream(b"1 0 0 rg 0 0 50 50 re f", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                               BBox=pikepdf.Array([0, 0, 50, 50]))  # fmt: skip
        field = pdf.make_indirect(pikepdf.Dictionary(
            FT=pikepdf.Name.Sig, T=pikepdf.String("sig"), V=value, Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget, Rect=pikepdf.Array([100, 100, 150, 150]), F=4,
            P=pdf.pages[0].obj, AP=pikepdf.Dictionary(N=seal)))  # fmt: skip
        pdf.pages[0].obj.Annots = pikepdf.Array([field])
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]), SigFlags=3)
        pdf.save(out)
    return out


def test_a_signed_pdf_is_never_rewritten(tmp_path: Path) -> None:
    """The preservation copy of a signed PDF is a separate file, and the finding says it bears no valid signature."""
    from guidang.pipeline.cases import FileOutcome, normalise_file
    from guidang.validators.formats import identify

    signed = sign(corpus("ocrmypdf-resources", "link.pdf"), tmp_path / "signed.pdf")
    before = signed.read_bytes()
    f = FileOutcome("signed.pdf", len(before), "", "", "结果材料", "", identify(signed))
    normalise_file(f, signed, tmp_path / "copies", None, tmp_path / "scratch")
    assert f.signed and f.disposition == "converted" and f.preservation is not None
    assert f.preservation != signed and signed.read_bytes() == before
    [finding] = [p for p in f.problems if p.check_id == "CASE-NORMALISE"]
    assert finding.finding.key == "signed" and "without a valid signature" in finding.result().message_en
    with pikepdf.open(f.preservation) as copy:  # the seal's appearance is drawn on the page; no form, no widget
        assert "/AcroForm" not in copy.Root and not len(copy.pages[0].obj.get("/Annots", pikepdf.Array()))
        forms = [x for x in copy.pages[0].Resources.XObject.values() if x.get("/Subtype") == pikepdf.Name.Form]
        assert any(x.read_bytes() == b"1 0 0 rg 0 0 50 50 re f" for x in forms)
    assert pdfa_approved(f.preservation, "2b")[0]
