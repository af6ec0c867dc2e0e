"""The antivirus guidang scans with (DA/T 70 4-1, 4-2): a small clamd client, or a command-line scanner.

Both are a :class:`Scanner`: ``ping``, ``info`` (which product and which signatures) and
``scan_file``. The clamd client speaks clamd's socket protocol;

only the null-terminated ``z`` commands are used: ``zPING``, ``zVERSION`` and ``zINSTREAM``
(the file is streamed in chunks, so clamd needs no access to our paths). A file larger than
``max_stream_bytes`` is never sent: it is reported as ``limits`` — unscanned is not clean.
clamd's own replies about limits (``size limit exceeded``, ``Heuristics.Limits.Exceeded.*``
when it runs with ``AlertExceedsMax yes``) are reported the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, Protocol

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


@dataclass(frozen=True)
class ScannerInfo:
    """Which antivirus and which signatures a scan used (reported under 4-1 and in 4-2's evidence)."""

    product: str  # e.g. "ClamAV 1.4.6"
    signature_version: str | None
    signature_date: dt.datetime | None
    # True: the signatures are not a vendor's full database (guidang's EICAR-only one, a test DB)
    test_only: bool
    reply: str


class Scanner(Protocol):
    """An antivirus guidang can use: clamd (:class:`ClamdClient`) or a command (:class:`CommandScanner`)."""

    @property
    def address(self) -> str:
        """Where it is reached (socket, host:port, or the command), for messages."""
        ...

    def ping(self) -> bool:
        """True when the scanner answers."""
        ...

    def info(self) -> ScannerInfo:
        """Product and signature database; raises ClamdError when it does not answer."""
        ...

    def scan_file(self, path: Path) -> ScanResult:
        """Scan one file; raises ClamdError when the scanner is gone."""
        ...


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

    def reload(self) -> None:
        if self._command("RELOAD") != "RELOADING":
            raise ClamdError("clamd did not accept RELOAD")

    def version(self) -> ClamdVersion:
        return parse_version(self._command("VERSION"))

    def info(self) -> ScannerInfo:
        """ClamAV reports a database version and date only for the official databases (main/daily
        .cvd/.cld); with custom signatures alone (guidang's EICAR-only fallback) it reports none."""
        v = self.version()
        return ScannerInfo(
            product=f"ClamAV {v.engine}",
            signature_version=str(v.db_version) if v.db_version is not None else None,
            signature_date=v.db_date,
            test_only=v.db_version is None,
            reply=v.reply,
        )

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


_DATE = re.compile(r"(?<!\d)(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})(?!\d)")


def first_date(text: str) -> dt.datetime | None:
    """The first plausible date (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD) in a scanner's version text."""
    for m in _DATE.finditer(text):
        try:
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


class CommandScanner:
    """A command-line antivirus (e.g. a 国内通用 product's scanner), run once per file.

    The contract, as configured (``[antivirus]``, docs/antivirus.md): ``command`` is run with
    ``{file}`` replaced by the file's path; an exit code in ``clean_exit_codes`` means clean, one in
    ``infected_exit_codes`` infected (the first line of its output names the finding); any other
    code, or a timeout, is an error, never clean. ``version_command`` prints the product and the
    signature version; the first date in it is taken as the signature date.
    """

    def __init__(self, command: list[str], *, clean_exit_codes: tuple[int, ...] = (0,),
                 infected_exit_codes: tuple[int, ...] = (1,), version_command: list[str] | None = None,
                 product: str = "", test_only: bool = False, timeout: float = 600.0) -> None:
        if not command or not any("{file}" in arg for arg in command):
            raise ValueError("the scanner command must hold a {file} argument")
        self.command = list(command)
        self.clean_exit_codes = tuple(clean_exit_codes)
        self.infected_exit_codes = tuple(infected_exit_codes)
        self.version_command = list(version_command or [])
        self.product = product
        self.test_only = test_only
        self.timeout = timeout

    @property
    def address(self) -> str:
        return self.command[0]

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=self.timeout,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ClamdError(f"scanner {argv[0]} failed: {exc}") from exc

    def ping(self) -> bool:
        if self.version_command:
            return self._run(self.version_command).returncode == 0
        return shutil.which(self.command[0]) is not None

    def info(self) -> ScannerInfo:
        text = ""
        if self.version_command:
            done = self._run(self.version_command)
            if done.returncode != 0:
                raise ClamdError(f"{self.version_command[0]} exited with {done.returncode}: {done.stderr.strip()}")
            text = done.stdout.strip()
        first = text.splitlines()[0].strip() if text else ""
        return ScannerInfo(product=self.product or first or self.command[0], signature_version=first or None,
                           signature_date=first_date(text), test_only=self.test_only, reply=text)

    def scan_file(self, path: Path) -> ScanResult:
        argv = [arg.replace("{file}", str(path)) for arg in self.command]
        done = self._run(argv)
        said = (done.stdout.strip() or done.stderr.strip()).splitlines()
        first = said[0].strip()[:300] if said else ""
        if done.returncode in self.infected_exit_codes:
            return ScanResult(ScanStatus.INFECTED, first or f"exit code {done.returncode}", first)
        if done.returncode in self.clean_exit_codes:
            return ScanResult(ScanStatus.CLEAN, reply=first)
        return ScanResult(ScanStatus.ERROR, reply=f"exit code {done.returncode}: {first}")
