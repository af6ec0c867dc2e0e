"""Build the DA/T 70 test packages: one good package, and one bad package per automatable item.

Each bad package is named after the check it must trip (``GD-1-10``, ``BC-3-9`` …) and differs
from the good one in exactly that respect; everything else (manifests, the sender's digest,
counts) is made consistent again, so no other check has a reason to fail. Some defects live in
the context rather than the folder (a duplicate in the catalogue DB, a wrong sender digest); the
fixture then carries that context change.

Run ``python tests/data/dat70/make_fixtures.py OUT`` to write every fixture to ``OUT`` (one folder
each, plus ``context.json`` describing the context it needs); the tests build them in tmp dirs.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import stat
import struct
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pikepdf
import pikepdf.pdfa as pdfa
from lxml import etree
from PIL import Image

from guidang.models import CatalogueRow
from guidang.packaging import aip
from guidang.packaging.archival_code import get_rule
from guidang.packaging.fixity import digest_file
from guidang.packaging.metadata import (
    ComputerFile,
    DigitisationAttributes,
    ElectronicAttributes,
    ProcessEvent,
    RecordMetadata,
)
from guidang.packaging.metadata_xml import to_xml
from guidang.validators.dat70 import Carrier, Dat70Context, Dat70Options, Event, Registered, SenderDeclaration

CODE = "Z109-WS·2011-Y-BGS-0001"
TITLE = "关于做好2011年度档案工作的通知"
CST = dt.timezone(dt.timedelta(hours=8))
SCANNED_AT = dt.datetime(2024, 3, 1, 9, 30, 0, tzinfo=CST)
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
NS = "urn:guidang:metadata:1"


# ---------------------------------------------------------------------------------------- file makers
def tiff(seed: int, when: dt.datetime = SCANNED_AT) -> bytes:
    """A small grey page image with a scanner-style EXIF DateTime (distinct content per seed)."""
    im = Image.new("L", (48, 64), 255)
    for i in range(seed * 7 % 40 + 4):
        im.putpixel((i % 48, (i * seed) % 64), 0)
    exif = Image.Exif()
    exif[306] = when.strftime("%Y:%m:%d %H:%M:%S")
    exif[305] = "PaperStream Capture 2.0"
    out = io.BytesIO()
    im.save(out, "TIFF", exif=exif, dpi=(300, 300))
    return out.getvalue()


def pdfa_bytes(pages: int = 1, part: str = "2b") -> bytes:
    images = [Image.new("L", (60, 80), 255) for _ in range(pages)]
    raw = io.BytesIO()
    images[0].save(raw, "PDF", resolution=72, save_all=True, append_images=images[1:])
    raw.seek(0)
    out = io.BytesIO()
    with pikepdf.open(raw) as pdf:
        report = pdfa.save(pdf, out, part)
    assert report.passed, report.summary()
    return out.getvalue()


def plain_pdf_bytes() -> bytes:
    """A PDF that is not PDF/A (no output intent, no XMP)."""
    out = io.BytesIO()
    Image.new("L", (60, 80), 255).save(out, "PDF", resolution=72)
    return out.getvalue()


def bmp(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (16, 16), seed % 256).save(out, "BMP")
    return out.getvalue()


def ofd(encrypted_member: bool = False) -> bytes:
    """A minimal OFD container (zip with OFD.xml); optionally Document.xml flagged as encrypted."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr(
            "OFD.xml",
            '<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0">'
            "<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
        z.writestr(
            "Doc_0/Document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>',
        )
    data = bytearray(out.getvalue())
    if encrypted_member:
        # set bit 0 (encrypted) of the general-purpose flags in Document.xml's local and central headers
        for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            pos = data.find(sig)
            while pos >= 0:
                name_at = pos + (30 if sig == b"PK\x03\x04" else 46)
                if data[name_at : name_at + 18] == b"Doc_0/Document.xml":
                    flags = struct.unpack_from("<H", data, pos + offset)[0] | 1
                    struct.pack_into("<H", data, pos + offset, flags)
                pos = data.find(sig, pos + 4)
    return bytes(data)


# ---------------------------------------------------------------------------------------- the package
@dataclass
class Spec:
    """What a package is built from; fixtures change one thing."""

    code: str = CODE
    title: str = TITLE
    pdf: bytes | None = None  # None: a fresh PDF/A-2b
    text: bytes = (TITLE + "\n各单位：请按要求做好档案工作。\n").encode("utf-8")
    masters: list[tuple[str, bytes]] = field(default_factory=list)
    extra_content: list[tuple[str, bytes, str]] = field(default_factory=list)  # (name, bytes, 格式信息)
    edit_xml: Callable[[etree._Element], None] | None = None
    edit_xml_bytes: Callable[[bytes], bytes] | None = None
    events: Sequence[tuple[str, dt.datetime]] = (
        ("数字化", SCANNED_AT),
        ("接收", SCANNED_AT + dt.timedelta(days=1)),
        ("文字识别", SCANNED_AT + dt.timedelta(days=1, minutes=5)),
        ("格式转换", SCANNED_AT + dt.timedelta(days=1, minutes=6)),
        ("著录", SCANNED_AT + dt.timedelta(days=1, minutes=7)),
        ("封装", SCANNED_AT + dt.timedelta(days=1, minutes=8)),
    )


def default_masters(code: str = CODE) -> list[tuple[str, bytes]]:
    return [(f"{code}-{n:04d}.tif", tiff(n)) for n in (1, 2, 3)]


FORMATS = {
    ".pdf": "格式名称：PDF/A-2b，MIME媒体类型：application/pdf",
    ".txt": "格式名称：纯文本，MIME媒体类型：text/plain",
    ".tif": "格式名称：TIFF，MIME媒体类型：image/tiff",
    ".bmp": "格式名称：BMP，MIME媒体类型：image/bmp",
    ".ofd": "格式名称：OFD，MIME媒体类型：application/ofd",
}


def _computer_file(name: str, data: bytes, master: bool, fmt: str | None = None) -> ComputerFile:
    suffix = Path(name).suffix.lower()
    return ComputerFile(
        role="附属文档" if master else "主文档",
        electronic=ElectronicAttributes(
            format_info=fmt or FORMATS[suffix],
            file_name=name,
            file_size=len(data),
            creating_application="PaperStream Capture 2.0" if master else "guidang 0.1.0",
            system_description="guidang 归档系统",
        ),
        digitisation=DigitisationAttributes(
            object_form="纸质文件",
            resolution="300dpi",
            colour_mode="灰度",
            compression="无压缩",
            digitised_at=SCANNED_AT.isoformat(),
        )
        if master
        else None,
    )


def metadata_xml(spec: Spec, pdf: bytes, masters: list[tuple[str, bytes]]) -> bytes:
    row = CatalogueRow(
        row=1,
        archival_code=spec.code,
        title=spec.title,
        creator="档案局办公室",
        date="20110503",
        classification="公开",
        page_count=len(masters),
        retention="永久",
        doc_number="档发〔2011〕1号",
    )
    files = [
        _computer_file(f"{spec.code}.pdf", pdf, master=False),
        _computer_file(f"{spec.code}.txt", spec.text, master=False),
        *(_computer_file(name, data, master=False, fmt=fmt) for name, data, fmt in spec.extra_content),
        *(_computer_file(name, data, master=True) for name, data in masters),
    ]
    events = [ProcessEvent(action=a, time=t, agent="guidang", agent_type="单位") for a, t in spec.events]
    meta = RecordMetadata.from_catalogue(
        row, get_rule("dat22"), unit_name="某市档案局", fonds_name="某市档案局", files=files, events=events
    )
    data = to_xml(meta)
    if spec.edit_xml is not None:
        root = etree.fromstring(data)
        spec.edit_xml(root)
        data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")
    if spec.edit_xml_bytes is not None:
        data = spec.edit_xml_bytes(data)
    return data


def build(dest: Path, spec: Spec | None = None) -> Path:
    """Build the package of ``spec`` at ``dest`` with aip.build_package (manifests and all)."""
    spec = spec or Spec()
    masters = spec.masters or default_masters(spec.code)
    pdf = spec.pdf if spec.pdf is not None else PDFA
    src = dest.parent / f".{dest.name}.src"
    src.mkdir(parents=True)
    (src / "doc.pdf").write_bytes(pdf)
    paths = []
    for name, data in masters:
        (src / name).write_bytes(data)
        paths.append(src / name)
    aip.build_package(
        dest,
        code=spec.code,
        pdf=src / "doc.pdf",
        text=spec.text,
        masters=paths,
        metadata_xml=metadata_xml(spec, pdf, masters),
    )
    shutil.rmtree(src)
    if spec.extra_content:
        add_files(dest, {f"content/{name}": data for name, data, _ in spec.extra_content})
    return dest


PDFA = pdfa_bytes()


def refresh_manifests(root: Path) -> None:
    """Recompute every payload digest and rewrite the manifests (after a deliberate change)."""
    files = {}
    for top in aip.PAYLOAD_DIRS:
        for p in sorted((root / top).rglob("*")) if (root / top).is_dir() else []:
            if p.is_file():
                files[p.relative_to(root).as_posix()] = digest_file(p)
    for name, data in aip.tag_files_bytes(files).items():
        (root / name).write_bytes(data)


def add_files(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    refresh_manifests(root)


# ---------------------------------------------------------------------------------------- the context
@dataclass
class FakeCatalogue:
    """The catalogue DB as DA/T 70 sees it, in memory (the real one is tested by the lead's e2e tests)."""

    registered_files: Registered | None = None
    archived: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    log: list[Event] = field(default_factory=list)
    down: str | None = None

    def ping(self) -> None:
        if self.down:
            raise ConnectionError(self.down)

    def archived_with(self, element: str, value: str) -> list[str]:
        return list(self.archived.get((element, value), []))

    def registered(self, archival_code: str) -> Registered | None:
        return self.registered_files

    def events(self, archival_code: str) -> list[Event]:
        return list(self.log)


def record_files(root: Path) -> list[Path]:
    return sorted(p for top in ("content", "masters") for p in (root / top).glob("*") if p.is_file())


def sender_of(root: Path) -> SenderDeclaration:
    """What an honest sender declares for the package as it is now."""
    pkg = aip.read_package(root)
    files = record_files(root)
    return SenderDeclaration(
        package_digest=pkg.package_digest["sha256"],
        algorithm="sha256",
        file_count=len(files),
        total_bytes=sum(p.stat().st_size for p in files),
    )


def good_context(root: Path, clamd: object | None) -> Dat70Context:
    sender = sender_of(root)
    assert sender.file_count is not None and sender.total_bytes is not None
    db = FakeCatalogue(
        registered_files=Registered(sender.file_count, sender.total_bytes),
        log=[Event("vendor-a", "接收", SCANNED_AT), Event("guidang", "检测", SCANNED_AT)],
    )
    return Dat70Context(
        options=Dat70Options(retention_schedule={"通知": ["Y"]}),
        db=db,
        sender=sender,
        clamd=clamd,  # type: ignore[arg-type]
        test_signatures_block=False,  # the tests' clamd has test signatures only: 4-2 warns
        backups=(),
        fonds_code="Z109",
    )


# ---------------------------------------------------------------------------------------- fixtures
def _el(root: etree._Element, name: str) -> etree._Element:
    found = root.find(f".//{{{NS}}}{name}")
    assert found is not None, name
    return found


def _set(name: str, value: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        _el(root, name).text = value

    return edit


def _remove(name: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        e = _el(root, name)
        parent = e.getparent()
        assert parent is not None
        parent.remove(e)

    return edit


@dataclass(frozen=True)
class Fixture:
    """A bad package: built by ``make`` into a folder, checked at ``stage`` with ``context(root, good)``."""

    check: str  # the DA/T 70 item it must trip
    stage: str
    make: Callable[[Path], Path]
    context: Callable[[Path, Dat70Context], Dat70Context] = lambda root, ctx: replace(ctx, sender=sender_of(root))
    expect: str = "fail"  # "warn" for checks whose finding is a warning by nature (3-7)
    also: frozenset[str] = frozenset()  # other checks that must trip with it, and why (see the test)

    @property
    def name(self) -> str:
        return f"{self.stage}-{self.check}"


def _spec(**kw: object) -> Callable[[Path], Path]:
    return lambda dest: build(dest, Spec(**kw))  # type: ignore[arg-type]


def _flip_master_byte(dest: Path) -> Path:
    build(dest)
    p = sorted((dest / "masters").iterdir())[0]
    data = bytearray(p.read_bytes())
    data[-1] ^= 0xFF  # a pixel byte: same size, same format, different digest
    p.write_bytes(bytes(data))
    return dest


def _with_stray_root_file(dest: Path) -> Path:
    build(dest)
    (dest / "Thumbs.db").write_bytes(b"\0" * 16)
    return dest


def _gap_in_pages(dest: Path) -> Path:
    masters = default_masters()
    name, data = masters[1]
    masters[1] = (name.replace("-0002", "-0005"), data)
    return build(dest, Spec(masters=masters))


def _extra_master(dest: Path) -> Path:
    build(dest)
    add_files(dest, {f"masters/{CODE}-0004.tif": tiff(4)})
    return dest


def _bmp_master(dest: Path) -> Path:
    masters = default_masters()
    masters[2] = (f"{CODE}-0003.bmp", bmp(3))
    return build(dest, Spec(masters=masters))


def _world_writable(dest: Path) -> Path:
    build(dest)
    p = dest / "content" / f"{CODE}.txt"
    p.chmod(p.stat().st_mode | stat.S_IWOTH)
    return dest


def _with_report(dest: Path, environment_change: bool = False) -> Path:
    """A stored package: GD report (with the environment and package digest of GD) added."""
    from guidang.validators.dat70 import run_dat70
    from guidang.validators.dat70.usability import environment

    build(dest)
    report = run_dat70(dest, "GD", Dat70Context(sender=sender_of(dest)))
    results = report.as_dicts()
    if environment_change:
        for r in results:
            if r["check"] == "GD-3-6":
                env = dict(environment(), pikepdf="1.0.0")
                for e in r["evidence"]:  # type: ignore[attr-defined]
                    if e.get("field") == "environment":
                        e["found"] = json.dumps(env, ensure_ascii=False, sort_keys=True)
    aip.add_checks_report(dest, {"results": results})
    return dest


def _stored(dest: Path) -> Path:
    return _with_report(dest)


def _bc_context(root: Path, ctx: Dat70Context) -> Dat70Context:
    backup = root.parent / f"{root.name}.backup.zip"
    if not backup.exists():
        with zipfile.ZipFile(backup, "w") as z:
            for p in sorted(root.rglob("*")):
                if p.is_file():
                    z.write(p, f"{root.name}/{p.relative_to(root).as_posix()}")
    return replace(ctx, sender=sender_of(root), backups=(backup,))


def _corrupt_backup(root: Path, ctx: Dat70Context) -> Dat70Context:
    ctx = _bc_context(root, ctx)
    broken = root.parent / f"{root.name}.broken.zip"
    with zipfile.ZipFile(ctx.backups[0]) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".txt") and "/content/" in info.filename:
                data = data + b"x"
            dst.writestr(info, data)
    return replace(ctx, backups=(broken,))


def _sender(**kw: object) -> Callable[[Path, Dat70Context], Dat70Context]:
    def ctx(root: Path, good: Dat70Context) -> Dat70Context:
        return replace(good, sender=replace(sender_of(root), **kw))  # type: ignore[arg-type]

    return ctx


def _db(**kw: object) -> Callable[[Path, Dat70Context], Dat70Context]:
    def ctx(root: Path, good: Dat70Context) -> Dat70Context:
        assert isinstance(good.db, FakeCatalogue)
        return replace(good, sender=sender_of(root), db=replace(good.db, **kw))  # type: ignore[arg-type]

    return ctx


def _carrier(extra: bool, min_speed: float) -> Callable[[Path, Dat70Context], Dat70Context]:
    def ctx(root: Path, good: Dat70Context) -> Dat70Context:
        carrier = root.parent / "carrier"
        if not carrier.exists():
            shutil.copytree(root, carrier / root.name)
            if extra:
                (carrier / "autorun.inf").write_text("[autorun]\n", encoding="ascii")
        moved = carrier / root.name
        return replace(good, sender=sender_of(moved), carrier=Carrier(carrier, min_read_mib_s=min_speed))

    return ctx


def _title_with(ch: str) -> Callable[[etree._Element], None]:
    return _set("题名", TITLE + ch)


def _strip_declaration(data: bytes) -> bytes:
    return data.split(b"?>", 1)[1].lstrip()


FIXTURES: tuple[Fixture, ...] = (
    Fixture("1-1", "GD", _flip_master_byte),
    Fixture("1-2", "GD", _spec(edit_xml=_set("题名", "长" * 600))),
    Fixture("1-3", "GD", _spec(edit_xml=_set("扫描分辨率", "300"))),
    Fixture("1-4", "GD", _spec(edit_xml=_set("扫描色彩模式", "真彩"))),
    Fixture("1-5", "GD", _spec(edit_xml=_set("日期", "2099-05-03"))),
    Fixture("1-6", "GD", _spec(edit_xml=_title_with("★"))),
    Fixture("1-7", "GD", _spec(edit_xml=lambda r: _el(r, "档号").set("值", "Z109-WS·2011-Y-BGS-0002"))),
    Fixture("1-8", "GD", build, _db(archived={("档号", CODE): ["Z109-WS·2011-Y-BGS-0001"]})),
    Fixture("1-9", "YJ", build, lambda root, ctx: replace(ctx, sender=sender_of(root), fonds_code="Z110")),
    Fixture("1-10", "GD", _spec(edit_xml=_set("计算机文件大小", "1"))),
    Fixture("1-11", "GD", _spec(edit_xml=_set("计算机文件名", f"{CODE}.PDF"))),
    Fixture("1-12", "GD", _spec(edit_xml_bytes=_strip_declaration)),
    Fixture("1-13", "GD", _with_stray_root_file),
    Fixture("1-14", "GD", build, _sender(package_digest="0" * 64)),
    Fixture("2-1", "GD", build, _sender(file_count=99)),
    Fixture("2-2", "GD", build, _sender(total_bytes=1)),
    Fixture("2-3", "GD", _spec(edit_xml=_remove("密级"))),
    Fixture("2-4", "GD", _spec(edit_xml=_set("责任者", ""))),
    Fixture("2-5", "GD", _spec(events=(("数字化", SCANNED_AT), ("文字识别", SCANNED_AT)))),
    Fixture("2-6", "GD", _gap_in_pages),
    Fixture(
        "2-9",
        "GD",
        build,
        lambda root, ctx: replace(
            ctx,
            sender=sender_of(root),
            options=ctx.options.model_copy(update={"retention_schedule": {"通知": ["D10"]}}),
        ),
    ),
    Fixture("2-10", "BC", build, _bc_context),
    Fixture("2-11", "GD", _extra_master),
    Fixture("3-1", "GD", _spec(edit_xml_bytes=lambda d: d[: len(d) // 2])),
    Fixture("3-2", "GD", build, _db(down="connection refused")),
    Fixture("3-3", "GD", _bmp_master),
    Fixture("3-5", "BC", lambda d: _bmp_master_stored(d), _bc_context),
    Fixture("3-6", "GD", _spec(edit_xml=_set("文档创建程序", "未知"))),
    Fixture("3-7", "BC", lambda d: _with_report(d, environment_change=True), _bc_context, expect="warn"),
    Fixture("3-8", "GD", _spec(extra_content=[(f"{CODE}.ofd", ofd(encrypted_member=True), FORMATS[".ofd"])])),
    Fixture("3-9", "BC", _stored, _corrupt_backup),
    Fixture(
        "4-1",
        "GD",
        build,
        lambda root, ctx: replace(ctx, sender=sender_of(root), clamd=_dead_clamd(root)),
        also=frozenset({"4-2"}),
    ),
    Fixture("4-2", "GD", _spec(text=EICAR)),
    Fixture("4-3", "GD", build, _carrier(extra=True, min_speed=0.0)),
    Fixture("4-4", "GD", build, _carrier(extra=False, min_speed=1e12)),
    Fixture("4-7", "GD", _world_writable),
    Fixture("4-8", "BC", lambda d: _setuid_stored(d), _bc_context),
)


def _bmp_master_stored(dest: Path) -> Path:
    _bmp_master(dest)
    from guidang.validators.dat70 import run_dat70

    aip.add_checks_report(dest, {"results": run_dat70(dest, "GD", Dat70Context(sender=sender_of(dest))).as_dicts()})
    return dest


def _setuid_stored(dest: Path) -> Path:
    _stored(dest)
    p = dest / "content" / f"{CODE}.txt"
    p.chmod(p.stat().st_mode | stat.S_ISUID)
    return dest


def _dead_clamd(root: Path) -> object:
    from guidang.validators.clamav import ClamdClient

    return ClamdClient(root.parent / "no-clamd.sock", timeout=2)


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "dat70-fixtures")
    out.mkdir(parents=True, exist_ok=True)
    build(out / "good")
    for fx in FIXTURES:
        root = fx.make(out / fx.name / "package")
        ctx = fx.context(root, good_context(root, None))
        summary = {
            "check": fx.name,
            "stage": fx.stage,
            "sender": ctx.sender.__dict__ if ctx.sender else None,
            "carrier": str(ctx.carrier.root) if ctx.carrier else None,
            "backups": [str(b) for b in ctx.backups],
        }
        (out / fx.name / "context.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    print(f"wrote {len(FIXTURES) + 1} packages to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
