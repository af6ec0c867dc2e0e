"""Options of the hot-folder watcher (``[watch]`` in guidang.toml, ``GUIDANG_WATCH__*`` in the env)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


class WatchOptions(BaseModel):
    # batches processed at once, each in its own worker process
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # polling observer interval, and how often pending batches are looked at again
    poll_seconds: float = Field(default=2.0, gt=0)
    # full rescan of every inbox, whatever the events said
    rescan_seconds: float = Field(default=60.0, gt=0)
    # profiles whose inbox is polled ("*" = all); inboxes on network mounts always are
    polling: list[str] = Field(default_factory=list)
    # runs of a batch ended by a crash (signal: segfault, OOM kill) before it is rejected
    max_crashes: int = Field(default=3, ge=1)
    # runs of a batch ended by an error (an exception of the unit of work) before it is rejected
    max_errors: int = Field(default=2, ge=1)
    # wait before retrying a batch whose worker failed (doubled on each further failure)
    retry_seconds: float = Field(default=30.0, ge=0)
    # on SIGTERM, how long running batches may finish before they are interrupted and released
    stop_grace_seconds: float = Field(default=60.0, ge=0)
    # days a done delivery stays in processed/ before it is deleted (its masters are archived); 0: kept
    keep_processed_days: float = Field(default=30, ge=0)
    # a batch delivered as a ZIP file is refused (zip bomb) when it would unpack to more bytes than this:
    # 128 GiB holds 1,000 A4 pages scanned at 600 dpi in 24-bit colour, uncompressed (104.4 MB each)
    max_unpacked_bytes: int = Field(default=128 * 1024**3, ge=1)
    # ... or when a member, or the whole zip, unpacks to more than this many times its packed size
    # (members and zips under 1 MiB unpacked are not judged); a clean 600 dpi colour page deflates ~90:1
    max_zip_ratio: float = Field(default=200.0, ge=1)
    # unpacking stops (disk full: retried later) rather than leave less free space than this
    zip_min_free_bytes: int = Field(default=1024**3, ge=0)
    # module:function(settings, profile, batch_dir) run on each claimed batch
    processor: str = "guidang.pipeline.dispatch:ingest_delivery"  # scans or cases
    # per profile: a processing area on the inbox's filesystem (default <home>/processing/<profile>)
    processing: dict[str, Path] = Field(default_factory=dict)
    # Prometheus /metrics of the watcher (guidang.hotfolders.metrics): None = not served; 0 = any free port
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_address: str = "127.0.0.1"  # loopback: put a reverse proxy with authentication in front to expose it
