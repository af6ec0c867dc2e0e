"""Options of long-term preservation (``[preservation]`` in guidang.toml): the second copy, the audit schedule,
the S3 back end. Pure pydantic models (the configuration gathers them); the sources of every default are in
docs/storage.md ("Audits and copies")."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class S3Options(BaseModel):
    """An S3-compatible bucket with Object Lock enabled, holding a WORM copy of every object.

    Credentials come from the usual boto3 sources (``AWS_ACCESS_KEY_ID`` …), never from this file."""

    endpoint_url: str = ""  # empty: no S3 copy
    bucket: str = ""
    region: str = "us-east-1"
    prefix: str = ""  # key prefix inside the bucket
    # 永久 (permanent) records: compliance mode for this many years (the longest S3 allows is 100 years)
    permanent_years: int = Field(default=100, ge=1, le=100)


class PreservationOptions(BaseModel):
    replica_root: Path | None = None  # a second OCFL storage root on another disk or mount; None: no second copy
    # the schedule the watcher runs (docs/storage.md): fixity of every object, a random sample with the
    # four-property checks, and a full four-property audit
    fixity_every_days: float = Field(default=30, gt=0)
    sample_every_days: float = Field(default=91, gt=0)  # DA/T 70-2018 4.3.1: every quarter
    sample_percent: float = Field(default=5.0, gt=0, le=100)  # DA/T 70-2018 4.3.1: at least 5%
    full_every_days: float = Field(default=365, gt=0)  # DA/T 92-2022: at least yearly (DA/T 70: 2 years)
    staging_max_age_hours: float = Field(default=24, gt=0)  # leftovers of interrupted store writes
    s3: S3Options = S3Options()
