"""The one policy for XML that guidang reads: no entities expanded, no DTD loaded, no network, no
huge trees unless asked for, and (for what outsiders deliver) no DOCTYPE at all.

Every XML document type guidang reads (its own metadata and EEP packages, DA/T 70's views of them,
OOXML parts of a vendor's XLSX catalogue, OFD, Tesseract's hOCR) goes through :func:`parser`;
documents from outside also go through :func:`refuse_doctype` (OOXML, OFD and the metadata never
need one; an external entity or a billion-laughs payload always does). An XLSX catalogue is
checked part by part by :func:`check_ooxml` before openpyxl sees it: openpyxl parses workbook parts
with lxml (entities not resolved) but worksheets with the standard library's expat, whose errors
were not caught (issue #12). See docs/security.md.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lxml import etree


def parser(*, huge: bool = False) -> etree.XMLParser:
    """An lxml parser that resolves no entity, loads no DTD, never touches the network.

    ``huge`` lifts libxml2's size limits on text nodes; only for EEP packages, whose Base64
    content can be large. With no entity expanded, the tree is never larger than the file."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=huge)


_DOCTYPE_MARKS = tuple("<!DOCTYPE".encode(e) for e in ("utf-8", "utf-16-le", "utf-16-be"))


class UnsafeXmlError(ValueError):
    """An XML document refused by the policy: ``reason`` is ``doctype``, ``syntax`` or ``too_large``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def refuse_doctype(stream: IO[bytes], limit: int | None = None) -> None:
    """Read ``stream`` to its end with the policy's parser; :class:`UnsafeXmlError` when the document
    has a DOCTYPE (so entity declarations), is not well-formed, or is longer than ``limit`` bytes."""
    pull = etree.XMLPullParser(events=("start", "end"), resolve_entities=False, no_network=True,
                               load_dtd=False, huge_tree=False)
    seen = 0
    checked = False
    head = b""
    while chunk := stream.read(1 << 16):
        seen += len(chunk)
        if not checked and len(head) < (1 << 20):
            head += chunk
        if limit is not None and seen > limit:
            raise UnsafeXmlError("too_large", f"> {limit} bytes")
        try:
            pull.feed(chunk)
            for event, element in pull.read_events():
                if not isinstance(element, etree._Element):  # only start/end events were asked for
                    continue
                if not checked:
                    checked = True
                    doctype: str = element.getroottree().docinfo.doctype  # type: ignore[attr-defined]
                    if doctype:
                        raise UnsafeXmlError("doctype", doctype[:80])
                if event == "end":  # memory stays flat: what was read is dropped
                    element.clear()
                    parent = element.getparent()
                    while parent is not None and element.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            if not checked and any(mark in head for mark in _DOCTYPE_MARKS):  # e.g. libxml2's amplification limit
                raise UnsafeXmlError("doctype", str(exc)[:200]) from None
            raise UnsafeXmlError("syntax", str(exc)[:200]) from None
    try:
        pull.close()
    except etree.XMLSyntaxError as exc:
        raise UnsafeXmlError("syntax", str(exc)[:200]) from None


@dataclass(frozen=True)
class OoxmlLimits:
    max_members: int
    max_part_bytes: int  # uncompressed, per XML part
    max_total_bytes: int  # uncompressed, all parts
    max_ratio: float  # uncompressed / compressed, per part


@dataclass(frozen=True)
class OoxmlRefusal:
    reason: str  # doctype | syntax | too_large | members | ratio | not_zip
    part: str
    detail: str


def check_ooxml(path: Path, limits: OoxmlLimits) -> OoxmlRefusal | None:
    """Refuse an OOXML file (XLSX) whose parts break the limits or the XML policy; None when fine.

    Sizes are taken from the zip directory and then enforced while reading, since a directory
    can lie."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > limits.max_members:
                return OoxmlRefusal("members", "", f"{len(infos)} > {limits.max_members}")
            total = sum(i.file_size for i in infos)
            if total > limits.max_total_bytes:
                return OoxmlRefusal("too_large", "", f"{total} > {limits.max_total_bytes}")
            for info in infos:
                if info.file_size > limits.max_part_bytes:
                    return OoxmlRefusal("too_large", info.filename, f"{info.file_size} > {limits.max_part_bytes}")
                if info.file_size > (1 << 20) and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                    return OoxmlRefusal("ratio", info.filename, f"{info.file_size} / {info.compress_size}")
                if not info.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                try:
                    with z.open(info) as fh:
                        refuse_doctype(fh, limits.max_part_bytes)
                except UnsafeXmlError as exc:
                    return OoxmlRefusal(exc.reason, info.filename, exc.detail)
    # a damaged zip: a broken deflate stream (zlib.error), an unknown compression method, an encrypted part
    # (RuntimeError), a truncated file (found by fuzzing: tests/data/fuzz/catalogue_xlsx)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError,
            OSError) as exc:
        return OoxmlRefusal("not_zip", "", f"{type(exc).__name__}: {exc}")
    return None
