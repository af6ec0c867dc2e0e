"""The watcher loop: observe inboxes, judge readiness, claim, dispatch, reap. No heavy work.

Events from watchdog (native inotify, or a polling observer per inbox on network mounts or
when configured) only wake the loop; the truth is a scan of the inbox, done on start-up,
after events, on every tick while a batch is pending, and on a timer, so an event missed
while the watcher was down is never a batch missed.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_sentinels
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserverVFS

from guidang.config import Settings
from guidang.errors import ConfigError, MissingDependencyError
from guidang.hotfolders import claim as claims_mod
from guidang.hotfolders.mounts import mount_of
from guidang.hotfolders.options import WatchOptions
from guidang.hotfolders.pool import WorkerPool, end_leftovers
from guidang.hotfolders.readiness import QuietTracker, Verdict, marker_verdict
from guidang.hotfolders.retention import PRUNE_EVERY_SECONDS, prune_processed
from guidang.hotfolders.safety import InboxEntry, check_layout, judge_entries
from guidang.hotfolders.scheduled_audit import ScheduledAudits
from guidang.hotfolders.state import ClaimRow, Stage, claims, is_due, open_catalogue
from guidang.hotfolders.zipbatch import ZipRefused, check_complete, is_zip_name
from guidang.storage.catalogue import utcnow
from guidang.storage.ocfl_store import OcflStore
from guidang.validators import clamd_service

if TYPE_CHECKING:
    from guidang.distributed.claims import RemoteClaims

log = logging.getLogger(__name__)
PERSISTENT_WAITS = ("manifest_missing", "manifest_mismatch")


@dataclass(frozen=True)
class InboxInfo:
    profile: str
    path: Path
    polling: bool
    fs_type: str
    mode: str  # marker | quiet


def inboxes(settings: Settings) -> list[InboxInfo]:
    out = []
    for name, profile in settings.profiles.items():
        path = settings.inbox_of(name)
        mount = mount_of(path)
        polled = "*" in settings.watch.polling or name in settings.watch.polling or bool(mount and mount.is_network)
        out.append(
            InboxInfo(
                name,
                path,
                polled,
                mount.fs_type if mount else "?",
                "marker" if profile.require_ready_marker else "quiet",
            )
        )
    return out


class _Wake(FileSystemEventHandler):
    def __init__(self, watcher: Watcher, profile: str) -> None:
        self.watcher, self.profile = watcher, profile

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.watcher.poke(self.profile)


@contextmanager
def single_instance(settings: Settings) -> Iterator[None]:
    """One watcher per working home: a second one would hand out the same claims."""
    settings.home.mkdir(parents=True, exist_ok=True)
    fd = os.open(settings.path("watch.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                "另一个 guidang watch 正在使用此工作目录",
                "another guidang watch is running on this working home",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


@contextmanager
def home_clamd(settings: Settings) -> Iterator[None]:
    """The home's own clamd held while the watcher runs the pipeline, so batches share one daemon
    (each batch's ingest joins it); stopped when the watcher and its workers are gone."""
    with ExitStack() as stack:
        own = settings.clamav.socket is None and not settings.antivirus.command
        if own and settings.watch.processor == WatchOptions().processor:
            try:
                stack.enter_context(clamd_service.session(settings.path("clamav")))
            except MissingDependencyError as exc:  # each batch then decides (clamav.required)
                log.error("clamd: %s", exc.message("en"))
        yield


def _pool(settings: Settings) -> WorkerPool | RemoteClaims:
    """Where claims run: a local worker process each, or, with a broker (and the built-in processor), a batch
    task each on the Celery batch workers (``guidang.distributed.claims``): the watcher then only enqueues."""
    if settings.distributed.broker_url and settings.watch.processor == WatchOptions().processor:
        from guidang.distributed.claims import RemoteClaims

        return RemoteClaims(settings, settings.watch.workers)
    return WorkerPool(settings, settings.watch.workers)


class Watcher:
    def __init__(self, settings: Settings, *, once: bool = False) -> None:
        self.settings = settings
        self.once = once
        self.opts = settings.watch
        self.cat = open_catalogue(settings.db_url)
        self.pool = _pool(settings)
        self.audits = ScheduledAudits(settings)  # staging clean-up and the audit schedule (hourly)
        self.infos = inboxes(settings)
        self._quiet = {i.profile: QuietTracker() for i in self.infos}
        self._waiting: dict[Path, tuple[str, float]] = {}  # persistent waits (manifest) since when
        self._pending: set[str] = set()  # profiles with a batch not yet ready: looked at every tick
        self._settling: set[str] = set()  # ... with one that is decided within its quiet period
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = 0  # 1: stop requested, 2: stop now
        self._observers: list[BaseObserver] = []
        self.metrics_server: Any = None  # the /metrics HTTP server while it runs ([watch] metrics_port)

    # events -------------------------------------------------------------------
    def poke(self, profile: str) -> None:
        with self._lock:
            self._dirty.add(profile)
        self._wake.set()

    def _signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping += 1
        log.warning(
            "signal %s: %s",
            signal.Signals(signum).name,
            "stopping after the running batches" if self._stopping == 1 else "stopping now",
        )
        self._wake.set()

    def _start_observers(self) -> None:
        for info in self.infos:
            try:
                obs = self._observer(info, polling=info.polling)
            except OSError as exc:  # e.g. the inotify watch limit (fs.inotify.max_user_watches)
                log.warning("native events unavailable for %s (%s); polling it instead", info.path, exc)
                obs = self._observer(info, polling=True)
                info = dataclasses.replace(info, polling=True)
            self._observers.append(obs)
            log.info(
                "watching %s (%s, %s, %s)",
                info.path,
                info.fs_type,
                "polling" if info.polling else "native events",
                info.mode,
            )

    def _observer(self, info: InboxInfo, *, polling: bool) -> BaseObserver:
        obs: BaseObserver
        if polling:  # lstat: a link in a batch is never walked
            obs = PollingObserverVFS(os.lstat, os.scandir, polling_interval=max(1, round(self.opts.poll_seconds)))
        else:
            obs = Observer()
        obs.schedule(_Wake(self, info.profile), str(info.path), recursive=True)
        obs.daemon = True
        obs.start()
        return obs

    def _stop_observers(self) -> None:
        for obs in self._observers:
            obs.stop()
        for obs in self._observers:
            obs.join(timeout=5)
        self._observers.clear()

    # scanning -----------------------------------------------------------------
    def _entries(self, inbox: Path) -> list[InboxEntry]:
        try:
            raws = os.listdir(os.fsencode(inbox))
        except FileNotFoundError:
            return []
        return judge_entries(inbox, raws)

    def _verdict(self, info: InboxInfo, entry: InboxEntry, now: float) -> Verdict:
        profile = self.settings.profile(info.profile)
        if info.mode == "quiet":
            return self._quiet[info.profile].verdict(entry.path, profile.quiet_seconds, now)
        verdict = marker_verdict(entry.path)
        if verdict.state == "wait" and verdict.reason in PERSISTENT_WAITS:
            reason, since = self._waiting.setdefault(entry.path, (verdict.reason, now))
            if reason != verdict.reason:
                self._waiting[entry.path] = (verdict.reason, now)
            elif now - since >= profile.quiet_seconds:
                return Verdict("refuse", verdict.reason, verdict.detail)
        else:
            self._waiting.pop(entry.path, None)
        return verdict

    def _zip_verdict(self, info: InboxInfo, entry: InboxEntry, now: float) -> Verdict:
        """A zip carries no READY marker: it is taken when unchanged over the quiet period and its
        central directory (written last) reads; one that stays unreadable is refused."""
        verdict = self._quiet[info.profile].verdict(entry.path, self.settings.profile(info.profile).quiet_seconds, now)
        if verdict.state != "ready":
            return verdict
        try:
            check_complete(entry.path)
        except ZipRefused as refused:
            return Verdict("refuse", refused.reason, refused.detail)
        return verdict

    def scan(self, profile: str, now: float) -> int:
        """Claim every ready entry of one inbox; returns the number claimed."""
        info = next(i for i in self.infos if i.profile == profile)
        entries = self._entries(info.path)
        self._quiet[profile].prune({e.path for e in entries})
        taken = 0
        pending = settling = False
        for entry in entries:
            if self._stopping:
                break
            try:
                pending, settling, claimed = self._consider(info, entry, now, pending, settling)
            except OSError as exc:  # vanished or unreadable mid-scan: looked at again next time
                log.warning("%s/%s: %s", profile, entry.name, exc)
                pending = True
                continue
            taken += claimed
        for flag, group in ((pending, self._pending), (settling, self._settling)):
            if flag:
                group.add(profile)
            else:
                group.discard(profile)
        return taken

    def _consider(
        self, info: InboxInfo, entry: InboxEntry, now: float, pending: bool, settling: bool
    ) -> tuple[bool, bool, int]:
        """One inbox entry: claim it, reject it, or note that it is pending.
        Returns the updated (pending, settling) flags and the number claimed (0 or 1)."""
        if entry.problem is not None:
            self._take(info.profile, entry, (entry.problem, entry.detail))
            return pending, settling, 0
        if entry.kind != "dir" and not is_zip_name(entry.name):
            return pending, settling, 0  # a loose file is not a batch: left where it is
        verdict = self._verdict(info, entry, now) if entry.kind == "dir" else self._zip_verdict(info, entry, now)
        if verdict.state == "wait":
            log.debug("%s/%s waiting: %s %s", info.profile, entry.name, verdict.reason, verdict.detail)
            return True, settling or verdict.reason != "no_marker", 0
        refusal = (verdict.reason, verdict.detail) if verdict.state == "refuse" else None
        return pending, settling, int(self._take(info.profile, entry, refusal))

    def _take(self, profile: str, entry: InboxEntry, refusal: tuple[str, str] | None) -> bool:
        self._quiet[profile].forget(entry.path)
        self._waiting.pop(entry.path, None)
        claim_id = claims_mod.claim(self.cat, self.settings, profile, entry, refusal)
        if claim_id is None:
            return False
        if refusal is not None:
            claims_mod.reject(self.cat, self.settings, claim_id, *refusal)
        return True

    # dispatch -----------------------------------------------------------------
    def _dispatch(self) -> None:
        if self.pool.free <= 0:
            return
        busy = self.pool.claim_ids
        with self.cat.session() as s:
            stmt = (
                select(ClaimRow.id, ClaimRow.not_before)
                .where(ClaimRow.stage == str(Stage.CLAIMED))
                .order_by(ClaimRow.id)
            )
            rows = list(s.execute(stmt))
        now = utcnow()
        for claim_id, not_before in rows:
            if self.pool.free <= 0:
                break
            if claim_id in busy or not is_due(not_before, now):
                continue
            self.pool.start(claim_id)

    def _reap(self) -> None:
        for claim_id, code in self.pool.reap():
            if code == 0:
                # a clean exit leaves the claim decided or released; if not, it died in an odd way
                claims_mod.record_failure(
                    self.cat,
                    self.settings,
                    claim_id,
                    "worker exited without deciding the claim",
                    crashed=True,
                )
                continue
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            interrupted = bool(self._stopping)  # we stopped it: not the batch's fault
            log.log(logging.INFO if interrupted else logging.ERROR, "claim %d: worker %s", claim_id, how)
            claims_mod.record_failure(
                self.cat, self.settings, claim_id, f"worker {how}", crashed=True, counts=not interrupted
            )

    def _sweep(self) -> None:
        """Claims left ``running`` by a worker of an earlier watcher that was still dying when
        this one reconciled: once their lock is free they are crashes like any other."""
        with self.cat.session() as s:
            running = [(c.id, c.profile, c.worker) for c in claims(s, Stage.RUNNING)]
        for claim_id, profile, worker in running:
            if claim_id not in self.pool.claim_ids and claims_mod.lock_is_free(self.settings, profile, claim_id):
                claims_mod.reap_session(worker)
                claims_mod.record_failure(
                    self.cat, self.settings, claim_id, "interrupted: the worker or the watcher died", crashed=True
                )

    def _prune(self) -> None:
        try:
            prune_processed(self.cat, self.settings)
        except Exception:  # housekeeping: a failure is logged and tried again at the next rescan
            log.exception("pruning the processed area failed")

    def _idle(self) -> bool:
        if self.pool.claim_ids or self._settling:
            return False
        now = utcnow()
        with self.cat.session() as s:
            rows = list(s.execute(select(ClaimRow.not_before).where(ClaimRow.stage == str(Stage.CLAIMED))))
        return not any(is_due(nb, now) for (nb,) in rows)

    # the loop -----------------------------------------------------------------
    def run(self) -> int:
        check_layout(self.settings)
        with single_instance(self.settings), home_clamd(self.settings), self._metrics():
            return self._run()

    @contextmanager
    def _metrics(self) -> Iterator[None]:
        """The /metrics endpoint while the watcher runs (``[watch] metrics_port``)."""
        if self.opts.metrics_port is None:
            yield
            return
        from guidang.hotfolders import metrics

        server = metrics.serve(self.cat, self.opts.metrics_address, self.opts.metrics_port)
        self.metrics_server = server
        try:
            yield
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()

    def _run(self) -> int:
        if ended := end_leftovers(self.settings):  # before reconcile: their locks are then free
            log.warning("killed %d process(es) left running by the workers of an earlier watcher", ended)
        # --once finishes what a stop interrupted before it exits: no back-off for those claims
        done = claims_mod.reconcile(self.cat, self.settings, retry_now=self.once)
        if any(done.values()):
            log.warning("recovered after a stop: %s", done)
        self._clean_store_staging()
        handlers = {sig: signal.signal(sig, self._signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if not self.once:
                self._start_observers()
            self._loop()
        finally:
            self._shutdown()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        return 0

    def _clean_store_staging(self) -> None:
        """Leftovers of store writes cut short (a crash mid-add) are never part of the store: removed at start
        when older than a day (a write still in progress by an ``ingest`` beside the watcher is younger)."""
        store = OcflStore(self.settings.store_root)
        removed = store.clean_staging()
        if removed:
            log.warning("removed %d leftover(s) of interrupted store writes from %s", len(removed), store.staging)

    def _loop(self) -> None:
        deadline = (
            time.monotonic()
            + 2 * max((p.quiet_seconds for p in self.settings.profiles.values()), default=0)
            + 3 * self.opts.poll_seconds
        )
        next_rescan = next_prune = 0.0
        while not self._stopping:
            now = time.monotonic()
            with self._lock:
                todo = set(self._dirty) | set(self._pending)
                self._dirty.clear()
            if now >= next_rescan:
                todo = {i.profile for i in self.infos}
                next_rescan = now + self.opts.rescan_seconds
                self._sweep()
            if now >= next_prune:  # days of retention: hourly is often enough to look
                if next_prune and not self.once:  # not at start (staging was just cleaned), never in --once
                    self.audits.tick()
                next_prune = now + PRUNE_EVERY_SECONDS
                self._prune()
            for profile in sorted(todo):
                self.scan(profile, now)
            self._reap()
            if not self._stopping:
                self._dispatch()
            if self.once and (self._idle() or (not self.pool.claim_ids and time.monotonic() > deadline)):
                return
            self._wait(self.opts.poll_seconds)

    def _wait(self, seconds: float) -> None:
        """Sleep until a worker ends, an event or a signal arrives, or the timeout."""
        end = time.monotonic() + seconds
        self._wake.clear()
        while not self._wake.is_set() and not self._dirty and time.monotonic() < end:
            sentinels = self.pool.sentinels()
            if sentinels and wait_sentinels(sentinels, timeout=0.2):
                return
            if not sentinels:
                self._wake.wait(max(0.0, end - time.monotonic()))

    def _shutdown(self) -> None:
        self._stop_observers()
        self.audits.stop()
        if self.pool.remote:  # batches on the batch workers go on; a restarted watcher finds them in the catalogue
            return
        grace_end = time.monotonic() + self.opts.stop_grace_seconds
        while self.pool.claim_ids and self._stopping < 2 and time.monotonic() < grace_end:
            wait_sentinels(self.pool.sentinels(), timeout=0.5)
            self._reap()
        if self.pool.claim_ids:
            log.warning(
                "interrupting %d running batch(es); they are released and resume on restart",
                len(self.pool.claim_ids),
            )
            self.pool.signal_all(signal.SIGTERM)
            end = time.monotonic() + 30
            while self.pool.claim_ids and time.monotonic() < end:
                wait_sentinels(self.pool.sentinels(), timeout=0.5)
                self._reap()
            self.pool.signal_all(signal.SIGKILL)
            while self.pool.claim_ids:
                wait_sentinels(self.pool.sentinels(), timeout=0.5)
                self._reap()
