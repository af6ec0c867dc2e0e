"""Options of the hot-folder watcher (``[watch]`` in guidang.toml, ``GUIDANG_WATCH__*`` in the env)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


class WatchOptions(BaseModel):
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1,
                         description="batches processed at once, each in its own worker process")
    poll_seconds: float = Field(2.0, gt=0, description="polling observer interval and quiet-period check cadence")
    rescan_seconds: float = Field(60.0, gt=0, description="full rescan of every inbox, whatever the events say")
    polling: list[str] = Field(default_factory=list,
                               description="profiles whose inbox is polled (\"*\" = all); network mounts always are")
    max_attempts: int = Field(3, ge=1, description="worker crashes or errors before a batch is rejected")
    retry_seconds: float = Field(30.0, ge=0, description="wait before retrying a batch whose worker failed")
    stop_grace_seconds: float = Field(60.0, ge=0,
                                      description="on SIGTERM, how long running batches may finish before "
                                                  "they are interrupted and released")
    processor: str = Field("guidang.pipeline.run:ingest_batch",
                           description="module:function(settings, profile, batch_dir) run on each claimed batch")
    processing: dict[str, Path] = Field(default_factory=dict,
                                        description="per profile: a processing area on the inbox's filesystem "
                                                    "(default: <home>/processing/<profile>)")
