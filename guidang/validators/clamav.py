"""A small client for the ClamAV daemon (clamd) over its socket protocol (DA/T 70 4-1, 4-2).

Only the null-terminated ``z`` commands are used: ``zPING``, ``zVERSION`` and ``zINSTREAM``
(the file is streamed in chunks, so clamd needs no access to our paths). A file larger than
``max_stream_bytes`` is never sent: it is reported as ``limits`` — unscanned is not clean.
clamd's own replies about limits (``size limit exceeded``, ``Heuristics.Limits.Exceeded.*``
when it runs with ``AlertExceedsMax yes``) are reported the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 16
DEFAULT_MAX_STREAM = 1000 << 20  # the StreamMaxLength guidang configures (clamd_service.LIMITS)


class ClamdError(OSError):
    """clamd could not be reached or answered something unexpected."""


class ScanStatus(StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"
    LIMITS = "limits"  # not fully scanned because of a size or recursion limit
    ERROR = "error"


@dataclass(frozen=True)
class ScanResult:
    status: ScanStatus
    signature: str = ""
    reply: str = ""


@dataclass(frozen=True)
class ClamdVersion:
    engine: str
    db_version: int | None
    db_date: dt.datetime | None
    reply: str


_VERSION = re.compile(r"^ClamAV (?P<engine>[^/]+)(?:/(?P<db>\d+)(?:/(?P<date>.+))?)?$")


def parse_version(reply: str) -> ClamdVersion:
    m = _VERSION.match(reply.strip())
    if not m:
        raise ClamdError(f"unexpected VERSION reply: {reply!r}")
    date = None
    if m["date"]:
        try:
            date = parsedate_to_datetime(m["date"])
        except (TypeError, ValueError):
            date = None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    return ClamdVersion(m["engine"], int(m["db"]) if m["db"] else None, date, reply.strip())


def parse_scan_reply(reply: str) -> ScanResult:
    """Turn ``stream: OK`` / ``stream: X FOUND`` / ``… ERROR`` into a result."""
    text = reply.strip()
    body = text.split(": ", 1)[1] if text.startswith("stream:") else text
    if body == "OK":
        return ScanResult(ScanStatus.CLEAN, reply=text)
    if body.endswith(" FOUND"):
        name = body.removesuffix(" FOUND")
        status = ScanStatus.LIMITS if "Limits.Exceeded" in name else ScanStatus.INFECTED
        return ScanResult(status, name, text)
    if "limit exceeded" in body.lower():
        return ScanResult(ScanStatus.LIMITS, reply=text)
    return ScanResult(ScanStatus.ERROR, reply=text)


class ClamdClient:
    """Talks to one clamd; ``address`` is a UNIX socket path or ``host:port``."""

    def __init__(self, address: str | Path, timeout: float = 60.0, max_stream_bytes: int = DEFAULT_MAX_STREAM):
        self.address = str(address)
        self.timeout = timeout
        self.max_stream_bytes = max_stream_bytes

    def _connect(self) -> socket.socket:
        try:
            if ":" in self.address and not self.address.startswith("/"):
                host, port = self.address.rsplit(":", 1)
                sock = socket.create_connection((host, int(port)), timeout=self.timeout)
            else:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(self.address)
        except OSError as exc:
            raise ClamdError(f"cannot connect to clamd at {self.address}: {exc}") from exc
        return sock

    @staticmethod
    def _read_reply(sock: socket.socket) -> str:
        data = bytearray()
        while not data.endswith(b"\0"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return bytes(data).rstrip(b"\0").decode("utf-8", "replace")

    def _command(self, name: str) -> str:
        with self._connect() as sock:
            try:
                sock.sendall(b"z" + name.encode() + b"\0")
                return self._read_reply(sock)
            except OSError as exc:
                raise ClamdError(f"clamd {name} failed: {exc}") from exc

    def ping(self) -> bool:
        return self._command("PING") == "PONG"

    def version(self) -> ClamdVersion:
        return parse_version(self._command("VERSION"))

    def scan_stream(self, stream: BinaryIO, size: int | None = None) -> ScanResult:
        if size is not None and size > self.max_stream_bytes:
            return ScanResult(ScanStatus.LIMITS, reply=f"{size} bytes > max_stream_bytes {self.max_stream_bytes}")
        with self._connect() as sock:
            try:
                sock.sendall(b"zINSTREAM\0")
                sent = 0
                for chunk in _chunks(stream):
                    sent += len(chunk)
                    if sent > self.max_stream_bytes:
                        return ScanResult(ScanStatus.LIMITS, reply=f"stream longer than {self.max_stream_bytes}")
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
                return parse_scan_reply(self._read_reply(sock))
            except OSError as exc:
                # clamd closes the socket when its StreamMaxLength is exceeded: read what it said
                try:
                    reply = self._read_reply(sock)
                except OSError:
                    reply = ""
                if reply:
                    return parse_scan_reply(reply)
                raise ClamdError(f"clamd INSTREAM failed: {exc}") from exc

    def scan_file(self, path: Path) -> ScanResult:
        with path.open("rb") as f:
            return self.scan_stream(f, path.stat().st_size)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk
