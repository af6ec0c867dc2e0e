"""Scan QA per DA/T 31-2017: measure page images (pure functions, frozen results).

Public API: :func:`inspect_page`, :func:`inspect_file`, :func:`inspect_item`,
:func:`inspect_batch`, :func:`digitisation_metadata`, :class:`ScanQAOptions`. The checks
that judge the measurements are in :mod:`guidang.validators.scan_checks`; derivatives are
made by :func:`guidang.ingest.prepare.prepare_page`.

The names are imported on first use (PEP 562), so importing ``guidang.ingest.scanqa.options`` (the
configuration does, and so ``guidang --help``) loads neither OpenCV nor NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    "BatchMeasurement": "inspect",
    "ItemMeasurement": "inspect",
    "PageMeasurement": "inspect",
    "inspect_batch": "inspect",
    "inspect_file": "inspect",
    "inspect_item": "inspect",
    "inspect_page": "inspect",
    "DigitisationMetadata": "metadata",
    "digitisation_metadata": "metadata",
    "ScanQAOptions": "options",
}

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


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
