"""The HTTP intake's queue: a posted case is written to a spool on disk, answered at once (202), and run through
the case pipeline by one worker thread of the web app, in the order received.

Why a queue: converting a case's office files through LibreOffice, or OCRing a scanned PDF, takes from seconds
to minutes; a business system's HTTP client would time out, and requests served in parallel would start as
many converters as there are requests. The spool is the durable record of what was accepted for processing:
a case is answered 202 only once its folder is complete in the spool (written under ``*.part`` and renamed), and
it leaves the spool only after :func:`guidang.pipeline.cases.ingest_case` has recorded its outcome. A web app
stopped or killed in between finds the spool at its next start and runs what is there again; the case
pipeline is idempotent by 办件编号 and content, so a case run twice is archived once.

Each entry holds the case folder and ``submission.json`` (profile, 办件编号, content digest, who posted it,
when). An entry being run is locked (``flock``), so two web apps on one home never run the same entry. A case
whose run fails unexpectedly (not a rejection: those are outcomes) stays in the spool with ``error.json``; its
status says so, and it is not retried on its own (an operator re-posts it or removes the entry).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import shutil
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guidang import fsutil, names
from guidang.config import Settings
from guidang.errors import GuidangError
from guidang.filelock import try_lock
from guidang.packaging.fixity import digest_file_with
from guidang.pipeline.antivirus import open_scanner
from guidang.pipeline.case_file import CASE_FILES
from guidang.pipeline.cases import content_digest, ingest_case
from guidang.storage.catalogue import Catalogue

log = logging.getLogger(__name__)
SUBMISSION = "submission.json"
ERROR = "error.json"
PART = ".part"
DONE = ".done"
IDLE_SECONDS = 60.0  # a run of cases keeps its antivirus this long after the last one


@dataclass(frozen=True)
class Submission:
    """One posted case waiting in the spool (or failed there)."""

    id: str
    profile: str
    case_number: str
    digest: str
    posted_by: str
    received_at: str
    error: str | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else "queued"


def case_digest(case_dir: Path) -> str:
    """:func:`~guidang.pipeline.cases.content_digest` of a staged case folder (flat: names are checked)."""
    files = [(p.name, digest_file_with(p, "sha256")) for p in case_dir.iterdir()
             if p.is_file() and p.name not in (CASE_FILES[0], "READY")]
    return content_digest(files, (case_dir / CASE_FILES[0]).read_bytes())


class CaseQueue:
    """The spool of posted cases and the one thread that runs them."""

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.root = settings.work_root / "api" / "spool"
        self._queue: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._running: str | None = None

    # -- the posting side -------------------------------------------------------------------------------------
    def staging(self) -> Path:
        """A fresh folder to write an upload into; :meth:`submit` or :meth:`discard` ends it."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = self.root / f"{uuid.uuid4().hex}{PART}"
        folder.mkdir()
        return folder

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def submit(self, staging: Path, profile: str, case_number: str, digest: str, posted_by: str) -> Submission:
        """Make a complete staged upload an entry of the spool (atomically) and queue it."""
        entry_id = staging.name.removesuffix(PART)
        sub = Submission(id=entry_id, profile=profile, case_number=case_number, digest=digest, posted_by=posted_by,
                         received_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        data = {k: v for k, v in sub.__dict__.items() if k != "error"}
        (staging / SUBMISSION).write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        fsutil.publish_dir(staging, self.root / entry_id)  # answered 202 only once it would survive a power cut
        self._queue.put(entry_id)
        self.start()
        return sub

    def pending(self, profile: str | None, case_number: str) -> Submission | None:
        """The earliest entry for this 办件编号 still in the spool (queued, running or failed)."""
        found = [s for s in self.entries()
                 if s.case_number == case_number and (profile is None or s.profile == profile)]
        return min(found, key=lambda s: s.received_at) if found else None

    def entries(self) -> list[Submission]:
        if not self.root.is_dir():
            return []
        out = []
        for entry in self.root.iterdir():
            if entry.name.endswith((PART, DONE)) or not (entry / SUBMISSION).is_file():
                continue
            try:
                data = json.loads((entry / SUBMISSION).read_text("utf-8"))
                error = json.loads((entry / ERROR).read_text("utf-8"))["error"] if (entry / ERROR).is_file() else None
                out.append(Submission(**data, error=error))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.warning("spool entry %s unreadable: %s", entry.name, exc)
        return out

    def running(self, sub: Submission) -> bool:
        return self._running == sub.id

    # -- the running side -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread if it is not running; entries left by an earlier run are queued first."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            queued = set(self._queue.queue)
            for sub in sorted(self.entries(), key=lambda s: s.received_at):
                if sub.error is None and sub.id not in queued:
                    self._queue.put(sub.id)
            self._thread = threading.Thread(target=self._work, name="guidang-case-queue", daemon=True)
            self._thread.start()

    def drain(self, timeout: float) -> bool:
        """Wait until every queued entry has been run (for a clean shutdown and for tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.1)
        return False

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            with ExitStack() as held:
                try:  # one clamd for a run of cases (each case's own session then finds it running), not one each
                    held.enter_context(open_scanner(self.settings))
                except GuidangError as exc:
                    log.warning("antivirus not held for the case queue: %s", exc.message("en"))
                self._run_one(first)
                while True:
                    try:
                        entry_id = self._queue.get(timeout=IDLE_SECONDS)
                    except queue.Empty:
                        break
                    self._run_one(entry_id)

    def _run_one(self, entry_id: str) -> None:
        try:
            self._run(entry_id)
        except Exception:  # the queue never dies of one case: the entry keeps its error for an operator
            log.exception("spool entry %s failed", entry_id)
        finally:
            self._running = None
            self._queue.task_done()

    def _run(self, entry_id: str) -> None:
        entry = names.child(self.root, entry_id)
        with try_lock(entry / SUBMISSION, create=False) as held:
            if not held or not (entry / SUBMISSION).is_file() or (entry / ERROR).is_file():
                return  # another web app runs it, it is done, or it failed before
            data: dict[str, Any] = json.loads((entry / SUBMISSION).read_text("utf-8"))
            case_dir = next(p for p in entry.iterdir() if p.is_dir())
            self._running = entry_id
            try:
                outcome = ingest_case(self.settings, data["profile"], case_dir)
            except (GuidangError, OSError, ValueError) as exc:
                detail = exc.message("zh") if isinstance(exc, GuidangError) else str(exc)
                (entry / ERROR).write_text(json.dumps({"error": detail}, ensure_ascii=False), "utf-8")
                log.error("办件 %s could not be run: %s", data.get("case_number"), detail)
                return
            log.info("办件 %s: %s", data.get("case_number"), outcome.items[0].status)
            done = self.root / f"{entry_id}{DONE}"
            entry.rename(done)  # under the lock: no other web app can take the entry up again
        shutil.rmtree(done, ignore_errors=True)
