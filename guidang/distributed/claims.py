"""The watcher's side of the Celery back end: each claim is sent to the batch queue, its end read from the catalogue.

With a broker the watcher only claims (readiness, the atomic rename) and sends a batch task naming the claim
(``guidang.batch`` on ``distributed.batch_queue``); a ``guidang worker --queues batch`` runs
:func:`guidang.hotfolders.unit.run_claim` there, exactly what the watcher's own worker process runs without a
broker: the per-claim lock and the compare-and-set on the claim's stage make a second delivery of the message a
no-op, the batch resumes from the catalogue, and the claim is settled (moved to processed/ or rejected/) by
whoever ran it. :class:`RemoteClaims` has the interface of the watcher's local pool
(``hotfolders.pool.WorkerPool``): it tells the watcher that a claim ended when the catalogue says so, and that
its runner died (as a SIGKILL) when the claim is ``running`` and nobody holds its lock, so the watcher's
retries, back-off and rejection after ``watch.max_crashes`` apply unchanged.
"""

from __future__ import annotations

import logging
import signal
import time
import uuid
from dataclasses import dataclass

from guidang.config import Settings
from guidang.distributed.app import BATCH_TASK, app_for
from guidang.hotfolders.claim import lock_is_free
from guidang.hotfolders.state import ClaimRow, Stage, open_catalogue

log = logging.getLogger(__name__)


@dataclass
class _Sent:
    attempts: int  # the claim's runs when its message was sent: more means a runner took it
    at: float  # monotonic time of the last message


class RemoteClaims:
    """Claims whose batches run on the batch workers; what the watcher's loop needs of a pool."""

    remote = True  # the watcher does not wait for these at a stop: they are not its processes

    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self.size = size
        self.cat = open_catalogue(settings.db_url)
        self._sent: dict[int, _Sent] = {}

    @property
    def free(self) -> int:
        return self.size - len(self._sent)

    @property
    def claim_ids(self) -> set[int]:
        return set(self._sent)

    def start(self, claim_id: int) -> None:
        with self.cat.session() as s:
            row = s.get(ClaimRow, claim_id)
            attempts = row.attempts if row is not None else 0
        self._sent[claim_id] = _Sent(attempts, time.monotonic())
        self._send(claim_id)

    def _send(self, claim_id: int) -> None:
        d = self.settings.distributed
        app_for(d.broker_url, d.lease_seconds).send_task(
            BATCH_TASK, args=[claim_id, self.settings.model_dump_json()], queue=d.batch_queue,
            task_id=f"claim-{claim_id}-{uuid.uuid4().hex[:8]}")
        log.info("claim %d: sent to the batch queue %s", claim_id, d.batch_queue)

    def _state(self, claim_id: int) -> tuple[str | None, int, str]:
        with self.cat.session() as s:
            row = s.get(ClaimRow, claim_id)
            return (None, 0, "") if row is None else (str(row.stage), row.attempts, row.profile)

    def reap(self) -> list[tuple[int, int]]:
        """Claims whose run ended, as (claim id, 0), or whose runner died, as (claim id, -SIGKILL)."""
        ended = []
        now = time.monotonic()
        for claim_id, sent in list(self._sent.items()):
            stage, attempts, profile = self._state(claim_id)
            if stage == Stage.RUNNING:
                # nobody holds the lock of a running claim: its runner died (the stage is read again, for a run
                # that ended between the two looks)
                if lock_is_free(self.settings, profile, claim_id) and self._state(claim_id)[0] == Stage.RUNNING:
                    ended.append((claim_id, -signal.SIGKILL))
                continue
            if stage == Stage.CLAIMED and attempts == sent.attempts:  # not taken yet
                if now - sent.at > self.settings.distributed.lease_seconds:
                    log.warning("claim %d: no batch worker took it in %g s; sent again", claim_id,
                                self.settings.distributed.lease_seconds)
                    sent.at = now
                    self._send(claim_id)
                continue
            ended.append((claim_id, 0))  # decided, or released by its runner (a retry is the watcher's to send)
        for claim_id, _code in ended:
            del self._sent[claim_id]
        return ended

    def signal_all(self, signum: int) -> None:
        del signum  # the batch workers' processes are not the watcher's to signal

    def sentinels(self) -> list[int]:
        return []
