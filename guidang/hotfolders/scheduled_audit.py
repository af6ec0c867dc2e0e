"""The watcher's preservation housekeeping, looked at hourly: leftovers of interrupted store writes are
removed, and the audit the schedule says is due (``[preservation]``, :func:`guidang.pipeline.audit.due`) is
started as its own process (``guidang audit --scheduled``), one at a time, its report written to
``<home>/audits/``. The watcher never waits for it; a stop ends it, and an audit cut short is due again.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys

from guidang.config import Settings
from guidang.pipeline.audit import due
from guidang.storage.ocfl_store import OcflStore

log = logging.getLogger(__name__)
COMMAND = "import sys; from guidang.cli import main; sys.exit(main())"


class ScheduledAudits:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None

    def tick(self) -> None:
        """Clean staging; reap a finished audit; start the one due, if any. Never raises (housekeeping)."""
        try:
            self._clean_staging()
            if self.proc is not None and self.proc.poll() is not None:
                log.info("scheduled audit ended with exit code %s", self.proc.returncode)
                self.proc = None
            if self.proc is None and self.settings.store_root.is_dir() and (kind := due(self.settings)):
                self._start(kind)
        except Exception:
            log.exception("preservation housekeeping failed; tried again at the next hourly look")

    def _clean_staging(self) -> None:
        store = OcflStore(self.settings.store_root)
        removed = store.clean_staging(self.settings.preservation.staging_max_age_hours * 3600)
        if removed:
            log.warning("removed %d leftover(s) of interrupted store writes from %s", len(removed), store.staging)

    def _start(self, kind: str) -> None:
        folder = self.settings.path("audits")
        folder.mkdir(exist_ok=True)
        report = folder / f"audit-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{kind}.json"
        argv = [sys.executable, "-c", COMMAND, "--home", str(self.settings.home), "audit", "--scheduled",
                "--format", "json", "-o", str(report)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        log.info("scheduled %s audit started (pid %d), report: %s", kind, self.proc.pid, report)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
