"""Scan QA per DA/T 31-2017: measure page images (pure functions, frozen results).

Public API: :func:`inspect_page`, :func:`inspect_file`, :func:`inspect_item`,
:func:`inspect_batch`, :func:`digitisation_metadata`, :class:`ScanQAOptions`. The checks
that judge the measurements are in :mod:`guidang.validators.scan_checks`; derivatives are
made by :func:`guidang.ingest.prepare.prepare_page`.
"""

from guidang.ingest.scanqa.inspect import (
    BatchMeasurement,
    ItemMeasurement,
    PageMeasurement,
    inspect_batch,
    inspect_file,
    inspect_item,
    inspect_page,
)
from guidang.ingest.scanqa.metadata import DigitisationMetadata, digitisation_metadata
from guidang.ingest.scanqa.options import ScanQAOptions

__all__ = [
    "BatchMeasurement",
    "DigitisationMetadata",
    "ItemMeasurement",
    "PageMeasurement",
    "ScanQAOptions",
    "digitisation_metadata",
    "inspect_batch",
    "inspect_file",
    "inspect_item",
    "inspect_page",
]
