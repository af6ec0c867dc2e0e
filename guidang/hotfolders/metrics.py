"""Prometheus metrics of the watcher (``[watch] metrics_port``; loopback unless ``metrics_address`` says
otherwise), read from the catalogue database at each scrape.

Batches run in worker processes; the catalogue is where all of them record what they did, so the
numbers are read from it rather than counted in any one process (they survive restarts, and every
worker's items count). Exposed (all prefixed ``guidang_``):

* ``items_total{outcome}``: items by verdict (accepted, rejected, duplicate, processing, …);
* ``check_results_total{check,status}``: results recorded per check ID and status;
* ``pages_total``, ``bytes_total``: of decided items; ``pages_per_second``: pages of the batches finished
  in the last hour over the seconds those batches took (0 when none);
* ``stage_duration_seconds{stage}``: histogram per stage (intake, checks, receipt), as in ``guidang report``;
* ``queue_depth``: claimed batches waiting for a worker; ``batches_running``: batches a worker holds;
* ``audits_total{result}`` and ``last_successful_audit_timestamp_seconds``: from the store audit's ``audit.run``
  events (``guidang audit`` records ``result`` = ``pass`` when no object was damaged, ``fail`` otherwise).

Served by prometheus-client's own HTTP server on a daemon thread, at ``/metrics``; the web app may
mount :func:`registry` too. A port that cannot be bound is logged and the watcher runs on without it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from guidang.hotfolders.state import ClaimRow, Stage
from guidang.pipeline.ops_report import STAGES, stage_durations
from guidang.storage.catalogue import BatchRow, Catalogue, CheckResultRow, EventRow, ItemRow, as_utc

log = logging.getLogger(__name__)
# seconds: a one-page item to a batch of thousands of pages (DA/T 31 scans OCR at about a page per second
# and core, docs/benchmarks.md)
BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
DECIDED = ("accepted", "rejected", "duplicate")
AUDIT_PASS = ("pass", "ok", "passed")



def _histogram(values: list[float]) -> tuple[list[tuple[str, float]], float]:
    buckets = [(str(b), float(sum(1 for v in values if v <= b))) for b in BUCKETS]
    buckets.append(("+Inf", float(len(values))))
    return buckets, sum(values)


class CatalogueCollector(Collector):
    """The metrics above, from one catalogue database."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except Exception:  # a scrape must not take the watcher down; the scrape shows the gap
            log.exception("metrics: reading the catalogue failed")

    def _collect(self) -> Iterator[Metric]:
        now = dt.datetime.now(dt.UTC)
        with self.cat.session() as s:
            items = CounterMetricFamily("guidang_items", "件 items by verdict", labels=["outcome"])
            for status, n in s.execute(select(ItemRow.status, func.count()).group_by(ItemRow.status)):
                items.add_metric([status], n)
            yield items
            results = CounterMetricFamily("guidang_check_results", "检测结果 results per check and status",
                                          labels=["check", "status"])
            stmt = select(CheckResultRow.check_id, CheckResultRow.status, func.count()).group_by(
                CheckResultRow.check_id, CheckResultRow.status)
            for check, status, n in s.execute(stmt):
                results.add_metric([check, status], n)
            yield results
            pages, size = s.execute(select(func.coalesce(func.sum(ItemRow.page_count), 0),
                                           func.coalesce(func.sum(ItemRow.byte_count), 0))
                                    .where(ItemRow.status.in_(DECIDED))).one()
            yield CounterMetricFamily("guidang_pages", "页 pages of decided items", value=pages)
            yield CounterMetricFamily("guidang_bytes", "字节 bytes of decided items", value=size)
            yield GaugeMetricFamily("guidang_pages_per_second", "页/秒 pages per second, batches of the last hour",
                                    value=self._rate(s, now))
            hist = HistogramMetricFamily("guidang_stage_duration_seconds", "各环节用时 seconds per stage",
                                         labels=["stage"])
            durations = stage_durations(s)
            for key, _, _ in STAGES:
                buckets, total = _histogram(durations[key])
                hist.add_metric([key], buckets, total)
            yield hist
            claims = dict(s.execute(select(ClaimRow.stage, func.count()).group_by(ClaimRow.stage)).all())
            yield GaugeMetricFamily("guidang_queue_depth", "待处理批次 batches claimed, waiting for a worker",
                                    value=claims.get(str(Stage.CLAIMED), 0))
            yield GaugeMetricFamily("guidang_batches_running", "处理中批次 batches a worker holds",
                                    value=claims.get(str(Stage.RUNNING), 0))
            yield from self._audits(s)

    def _rate(self, s: Any, now: dt.datetime) -> float:
        since = now - dt.timedelta(hours=1)
        batches = list(s.scalars(select(BatchRow).where(BatchRow.finished_at >= since)))
        seconds = sum(max(0.0, (as_utc(b.finished_at) - as_utc(b.received_at)).total_seconds()) for b in batches)
        pages = sum(int(b.summary.get("pages", 0)) for b in batches)
        return pages / seconds if seconds > 0 else 0.0

    def _audits(self, s: Any) -> Iterator[Metric]:
        audits = CounterMetricFamily("guidang_audits", "保存库审计 store audits by result", labels=["result"])
        last_ok: dt.datetime | None = None
        counts: dict[str, int] = {}
        for e in s.scalars(select(EventRow).where(EventRow.action == "audit.run")):  # one per store audit
            result = str(e.detail.get("result", "")) or "unknown"
            counts[result] = counts.get(result, 0) + 1
            if result in AUDIT_PASS:
                at = as_utc(e.at)
                last_ok = at if last_ok is None or at > last_ok else last_ok
        for result, n in sorted(counts.items()):
            audits.add_metric([result], n)
        yield audits
        yield GaugeMetricFamily("guidang_last_successful_audit_timestamp_seconds",
                                "最近一次通过的审计 Unix time of the last audit that passed (0: none)",
                                value=last_ok.timestamp() if last_ok else 0.0)


def registry(cat: Catalogue) -> CollectorRegistry:
    """A registry holding the catalogue's metrics (the web app may serve it too)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(CatalogueCollector(cat))
    return reg


def serve(cat: Catalogue, address: str, port: int) -> Any:
    """Serve ``/metrics`` on ``address:port`` on a daemon thread; returns the server (``shutdown()``), or
    None when the port cannot be bound (logged; the watcher runs on)."""
    try:
        server, _thread = start_http_server(port, addr=address, registry=registry(cat))
    except OSError as exc:
        log.error("metrics: cannot listen on %s:%d (%s); running without the metrics endpoint", address, port, exc)
        return None
    log.info("metrics on http://%s:%d/metrics", address, server.server_port)
    return server
