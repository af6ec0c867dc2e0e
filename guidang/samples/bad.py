"""Break a generated batch in one specific way, for the tests of intake and scan QA.

Each helper takes the batch folder written by :func:`guidang.samples.batch.make_batch`,
makes exactly one defect, and returns the path it changed. With ``refresh_manifest`` (the
default) a manifest present in the batch is rewritten afterwards, so the defect is the only
thing wrong; pass False to leave the manifest stale (then it disagrees as well).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Literal

from guidang.samples.batch import CATALOGUE_NAMES, MANIFEST_NAME, write_catalogue, write_manifest

BadEncoding = Literal["invalid", "utf-16", "big5"]


def find_catalogue(batch: Path) -> Path:
    for name in CATALOGUE_NAMES.values():
        if (batch / name).is_file():
            return batch / name
    raise FileNotFoundError(f"no catalogue ({', '.join(CATALOGUE_NAMES.values())}) in {batch}")


def read_catalogue(batch: Path) -> tuple[list[str], list[dict[str, str]], str]:
    """Columns, rows and encoding ("xlsx" for a workbook) of a batch written by make_batch."""
    path = find_catalogue(batch)
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)  # read-only keeps the file open until closed
        try:
            cells = wb.worksheets[0].iter_rows(values_only=True)
            values = [["" if v is None else str(v) for v in row] for row in cells]
        finally:
            wb.close()
        return values[0], [dict(zip(values[0], r, strict=True)) for r in values[1:]], "xlsx"
    data = path.read_bytes()
    for encoding in ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        rows = list(csv.reader(io.StringIO(text, newline="")))
        return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]], encoding
    raise ValueError(f"{path} is neither UTF-8 nor GB18030")


def _rewrite(batch: Path, columns: list[str], rows: list[dict[str, str]], encoding: str) -> Path:
    path = find_catalogue(batch)
    write_catalogue(path, columns, rows, "utf-8" if encoding == "xlsx" else encoding)
    return path


def _refresh(batch: Path, refresh_manifest: bool) -> None:
    if refresh_manifest and (batch / MANIFEST_NAME).is_file():
        write_manifest(batch)


def drop_catalogue_column(batch: Path, column: str = "题名", *, refresh_manifest: bool = True) -> Path:
    """Remove one column (header and values) from the catalogue."""
    columns, rows, encoding = read_catalogue(batch)
    if column not in columns:
        raise ValueError(f"catalogue has no column {column!r}")
    path = _rewrite(batch, [c for c in columns if c != column], rows, encoding)
    _refresh(batch, refresh_manifest)
    return path


def set_catalogue_value(batch: Path, row: int, column: str, value: str, *, refresh_manifest: bool = True) -> Path:
    """Overwrite one cell (``row`` from 0 in file order), e.g. a wrong 页数 or a malformed 档号."""
    columns, rows, encoding = read_catalogue(batch)
    if column not in columns:
        raise ValueError(f"catalogue has no column {column!r}")
    rows[row] = {**rows[row], column: value}
    path = _rewrite(batch, columns, rows, encoding)
    _refresh(batch, refresh_manifest)
    return path


def corrupt_catalogue_encoding(batch: Path, kind: BadEncoding = "invalid", *, refresh_manifest: bool = True) -> Path:
    """Re-encode a CSV catalogue so that it is not UTF-8 or GB18030.

    "invalid": GB18030 with a stray 0x80 byte after the header (valid in neither encoding:
    strict decoding fails). "utf-16": UTF-16 with BOM (what Excel's "Unicode text" gives).
    "big5": traditional-Chinese Big5, which GB18030 decodes without error into mojibake, so
    the headers are not recognised (a reader must not take it for a valid catalogue).
    """
    path = find_catalogue(batch)
    if path.suffix != ".csv":
        raise ValueError("only a CSV catalogue has an encoding to corrupt")
    columns, rows, _ = read_catalogue(batch)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    text = out.getvalue()
    if kind == "invalid":
        head, _, rest = text.partition("\r\n")
        data = head.encode("gb18030") + b"\r\n\x80" + rest.encode("gb18030")
    elif kind == "utf-16":
        data = text.encode("utf-16")
    else:
        data = text.encode("big5", errors="replace")
    path.write_bytes(data)
    _refresh(batch, refresh_manifest)
    return path


def remove_item_folder(batch: Path, archival_code: str, *, refresh_manifest: bool = True) -> Path:
    """Delete the folder of one item (the catalogue still lists it)."""
    folder = batch / archival_code
    if not folder.is_dir():
        raise FileNotFoundError(f"no item folder {folder}")
    shutil.rmtree(folder)
    _refresh(batch, refresh_manifest)
    return folder


def remove_page(batch: Path, relpath: str, *, refresh_manifest: bool = True) -> Path:
    """Delete one page image (漏扫: the catalogue 页数 no longer matches)."""
    path = batch / relpath
    path.unlink()
    _refresh(batch, refresh_manifest)
    return path


def add_stray_file(
    batch: Path,
    archival_code: str,
    name: str = "说明.docx",
    content: bytes = b"PK\x03\x04 not really a document",
    *,
    refresh_manifest: bool = True,
) -> Path:
    """Put a non-image file into an item folder."""
    path = batch / archival_code / name
    path.write_bytes(content)
    _refresh(batch, refresh_manifest)
    return path


def truncate_file(batch: Path, relpath: str, keep: float = 0.5, *, refresh_manifest: bool = True) -> Path:
    """Cut a page image (TIFF/JPEG) to ``keep`` of its length, as an interrupted copy does."""
    path = batch / relpath
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep))])
    _refresh(batch, refresh_manifest)
    return path
