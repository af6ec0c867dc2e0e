"""Write the seed inputs of each fuzz target (valid examples to mutate from) into
tests/data/fuzz/<target>/seed-*; run once, kept in git: ``python tests/fuzz/seeds.py``."""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from PIL import Image  # noqa: E402

from guidang.samples.batch import write_catalogue  # noqa: E402

CSV = """序号,档号,文号,责任者,题名,日期,密级,页数,保管期限,备注
1,Z109-WS·2023-Y-BGS-0001,示政发〔2023〕1号,示例市人民政府,关于做好政务服务工作的通知,20230105,公开,2,永久,
2,Z109-WS·2023-Y-BGS-0002,,示例市政务服务中心,2023年第一次主任办公会议纪要,20230210,公开,1,永久,
"""
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _image(fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    frames = [Image.new("L", (24, 16), 200), Image.new("L", (16, 24), 90)]
    if fmt == "TIFF":
        frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], dpi=(300, 300), **kw)  # type: ignore[arg-type]
    else:
        frames[0].convert("RGB").save(buf, fmt, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _xlsx() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "目录.xlsx"
        lines = CSV.splitlines()
        columns = lines[0].split(",")
        write_catalogue(path, columns, [dict(zip(columns, line.split(","), strict=True)) for line in lines[1:]])
        return path.read_bytes()


def _eep() -> bytes:
    from test_aip_support import CODE, make_package

    from guidang.packaging import aip
    from guidang.packaging.eep.export import build_eep
    from guidang.packaging.metadata_xml import from_xml

    with tempfile.TemporaryDirectory() as tmp:
        pkg = make_package(Path(tmp))
        meta = from_xml(pkg.path(aip.METADATA_XML).read_bytes())
        files = {rel: pkg.path(rel).read_bytes()[:64] for rel in pkg.files}
        return build_eep(code=CODE, metadata=meta, files=files, creator_unit="某市档案馆")


SEEDS = {
    "catalogue_csv": {
        "utf8.csv": CSV.encode(),
        "gb18030.csv": CSV.encode("gb18030"),
        "utf16.csv": CSV.encode("utf-16"),
    },
    "catalogue_xlsx": {"two-rows.xlsx": _xlsx()},
    "zip_batch": {
        "batch.zip": _zip({"目录.csv": CSV.encode(), "A/A-0001.tif": b"II*\x00" + bytes(64)}),
        "folder.zip": _zip({"B/": b"", "B/目录.csv": b"x", "B/A/1.tif": b"y" * 300}),
    },
    "image_header": {
        "two-pages.tif": _image("TIFF", compression="tiff_lzw"),
        "raw.tif": _image("TIFF"),
        "page.jpg": _image("JPEG", quality=80, dpi=(300, 300)),
        "page.png": _image("PNG"),
    },
    "manifest_intake": {"manifest.txt": f"{DIGEST}  A/A-0001.tif\n{DIGEST} *目录.csv\n".encode()},
    "manifest_package": {"manifest.txt": f"{DIGEST}  content/a%0Ab.pdf\n{DIGEST}  metadata/x.xml\n".encode()},
}


def main() -> None:
    seeds = {**SEEDS, "eep": {"unsigned.xml": _eep()}}
    for target, files in seeds.items():
        folder = TESTS / "data" / "fuzz" / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / f"seed-{name}").write_bytes(data)


if __name__ == "__main__":
    main()
