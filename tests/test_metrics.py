"""The watcher's Prometheus endpoint: metrics read from a real catalogue (a generated history), served over
HTTP on loopback by the watcher itself."""

from __future__ import annotations

import datetime as dt
import urllib.request

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from report_history import T0, write_history

from guidang.config import Settings
from guidang.hotfolders import metrics
from guidang.hotfolders.service import Watcher
from guidang.hotfolders.state import open_catalogue


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_the_metrics_are_the_catalogues_numbers(home: Settings) -> None:
    cat = open_catalogue(home.db_url)
    write_history(cat)
    m = _samples(generate_latest(metrics.registry(cat)).decode())
    assert m["guidang_items_total", (("outcome", "accepted"),)] == 9
    assert m["guidang_items_total", (("outcome", "rejected"),)] == 3
    assert m["guidang_check_results_total", (("check", "SCAN-DPI"), ("status", "fail"))] == 2
    assert m["guidang_pages_total", ()] == 24 and m["guidang_bytes_total", ()] == 12000
    assert m["guidang_stage_duration_seconds_count", (("stage", "checks"),)] == 3
    assert m["guidang_stage_duration_seconds_sum", (("stage", "checks"),)] == 300
    assert m["guidang_stage_duration_seconds_bucket", (("le", "60.0"), ("stage", "checks"))] == 0
    assert m["guidang_stage_duration_seconds_bucket", (("le", "300.0"), ("stage", "checks"))] == 3
    assert m["guidang_queue_depth", ()] == 0 and m["guidang_batches_running", ()] == 0
    assert m["guidang_audits_total", (("result", "pass"),)] == 1
    assert m["guidang_last_successful_audit_timestamp_seconds", ()] == (T0 + dt.timedelta(days=15)).timestamp()
    assert m["guidang_pages_per_second", ()] == 0  # no batch finished in the last hour


def test_the_watcher_serves_them_on_loopback(home: Settings) -> None:
    settings = home.model_copy(update={"watch": home.watch.model_copy(update={"metrics_port": 0})})
    watcher = Watcher(settings)
    write_history(watcher.cat)
    with watcher._metrics():
        server = watcher.metrics_server
        assert server is not None and server.server_address[0] == "127.0.0.1"
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as reply:
            body = reply.read().decode()
    assert 'guidang_items_total{outcome="accepted"} 9.0' in body
    assert "guidang_stage_duration_seconds_bucket" in body


def test_a_port_in_use_is_logged_and_the_watcher_runs_on(home: Settings) -> None:
    cat = open_catalogue(home.db_url)
    first = metrics.serve(cat, "127.0.0.1", 0)
    try:
        assert metrics.serve(cat, "127.0.0.1", first.server_port) is None
    finally:
        first.shutdown()
        first.server_close()
