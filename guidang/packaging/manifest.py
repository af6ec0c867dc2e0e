"""The one parser of manifest files: a vendor's ``manifest-sha256.txt``, a package's manifests.

Grammar: BagIt (RFC 8493 §2.1.3): one line per file, ``<hex checksum><one or more spaces or
tabs><path>``, lines ended by LF, CR LF or CR, UTF-8; in the path, ``%0A``, ``%0D`` and ``%25`` stand
for LF, CR and ``%`` (nothing else is decoded). A path is relative to the bag and must stay inside
it: absolute paths, ``~`` shortcuts, empty, ``.`` and ``..`` components and NUL are refused in both
modes (the conformance suite's "out-of-scope" cases). A leading ``./`` is dropped (its "valid" cases).

``strict`` (packages guidang wrote or checks): any malformed line, a byte-order mark or a path listed
twice is an error. ``tolerant`` (what vendors' tools make): a BOM is skipped, the ``*`` that
``sha256sum -b`` writes before a path is dropped, ``\\`` is taken as ``/``, and a path listed twice
with the same digest is one entry. Nothing here raises on bad input: errors are returned per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# hex digits of each algorithm guidang may meet in a manifest's name
DIGEST_HEX = {"md5": 32, "sha1": 40, "sha256": 64, "sm3": 64, "sha512": 128}
_LINE = re.compile(r"^([0-9A-Fa-f]+)[ \t]+(.+)$")
_LINE_END = re.compile(r"\r\n|\r|\n")  # not str.splitlines: U+2028, FF, VT… are name characters
_ESCAPES = re.compile(r"%(0[AaDd]|25)")
_DECODED = {"0a": "\n", "0d": "\r", "25": "%"}

# reason -> (中文, English)
REASONS: dict[str, tuple[str, str]] = {
    "encoding": ("清单不是 UTF-8 编码", "the manifest is not UTF-8"),
    "bom": ("清单以字节顺序标记（BOM）开头", "the manifest starts with a byte-order mark"),
    "malformed": ("格式应为“摘要  相对路径”", "expected 'digest  relative/path'"),
    "digest": ("摘要长度与算法不符", "the digest's length does not fit the algorithm"),
    "path": ("路径不是批次内的相对路径（绝对路径、~、.. 或空路径段）",
             "the path is not relative to the batch (absolute, ~, .. or an empty part)"),
    "duplicate": ("同一路径列出多次", "the same path is listed more than once"),
    "too_many": ("清单行数超过上限", "the manifest has more lines than the limit"),
}


@dataclass(frozen=True)
class ManifestLine:
    digest: str  # lower-case hex
    relpath: str  # decoded, POSIX, relative
    line: int


@dataclass(frozen=True)
class ManifestError:
    line: int  # 0: the file as a whole
    reason: str  # a key of REASONS
    text: str  # the offending line, cut short

    def describe(self, language: str = "zh") -> str:
        zh, en = REASONS[self.reason]
        return f"第 {self.line} 行：{zh}" if language == "zh" else f"line {self.line}: {en}"


@dataclass(frozen=True)
class ManifestParse:
    algorithm: str | None
    entries: tuple[ManifestLine, ...]
    errors: tuple[ManifestError, ...]

    def as_dict(self) -> dict[str, str]:
        """Path -> digest (the first line wins where a path is listed twice)."""
        out: dict[str, str] = {}
        for e in self.entries:
            out.setdefault(e.relpath, e.digest)
        return out


def algorithm_of(name: str) -> str | None:
    """``sha256`` for ``manifest-sha256.txt`` (or ``tagmanifest-sha256.txt``), else None."""
    m = re.fullmatch(r"(?:tag)?manifest-([a-z0-9]+)\.txt", name)
    return m.group(1) if m else None


def decode_path(text: str) -> str:
    """A path as written in a manifest, with ``%0A``, ``%0D`` and ``%25`` decoded (RFC 8493 §2.1.3)."""
    return _ESCAPES.sub(lambda m: _DECODED[m.group(1).lower()], text)


def encode_path(relpath: str) -> str:
    """The inverse of :func:`decode_path`: how a path is written in a manifest."""
    return relpath.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def _normal_path(raw: str, tolerant: bool) -> str | None:
    """The decoded relative path, or None when it leaves the bag."""
    path = decode_path(raw)
    if tolerant:
        path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    parts = path.split("/")
    if not path or path.startswith("/") or parts[0].startswith("~") or "\x00" in path:
        return None
    if any(p in ("", ".", "..") for p in parts):
        return None
    return path


def parse_manifest(data: bytes, algorithm: str | None = None, *, strict: bool = True,
                   max_lines: int | None = None) -> ManifestParse:
    """Parse a manifest's bytes; ``algorithm`` (when known) fixes the digest length."""
    errors: list[ManifestError] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        if strict:
            errors.append(ManifestError(1, "bom", ""))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ManifestParse(algorithm, (), (ManifestError(text_line(data, exc.start), "encoding", ""),))
    width = DIGEST_HEX.get(algorithm or "")
    entries: list[ManifestLine] = []
    seen: dict[str, str] = {}
    for n, raw in enumerate(_LINE_END.split(text), 1):
        if max_lines is not None and n > max_lines:
            errors.append(ManifestError(n, "too_many", ""))
            break
        if not raw.strip():
            continue
        m = _LINE.match(raw)
        if m is None:
            errors.append(ManifestError(n, "malformed", raw[:120]))
            continue
        digest, rest = m.group(1).lower(), m.group(2)
        if width is not None and len(digest) != width:
            errors.append(ManifestError(n, "digest", raw[:120]))
            continue
        if not strict and rest.startswith("*"):
            rest = rest[1:]
        path = _normal_path(rest, tolerant=not strict)
        if path is None:
            errors.append(ManifestError(n, "path", rest[:120]))  # the path as written
            continue
        if path in seen and (strict or seen[path] != digest):
            errors.append(ManifestError(n, "duplicate", raw[:120]))
            continue
        if path not in seen:
            entries.append(ManifestLine(digest, path, n))
        seen[path] = digest
    return ManifestParse(algorithm, tuple(entries), tuple(errors))


def text_line(data: bytes, offset: int) -> int:
    """The 1-based line number of byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1
