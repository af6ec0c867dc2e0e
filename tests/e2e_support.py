"""Shared by the end-to-end tests: ``guidang ingest --json`` through the CLI, and reading what it made."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner

from guidang.cli import main


def ingest_json(batch: Path) -> tuple[int, dict[str, object]]:
    """Exit code and JSON of ``guidang ingest BATCH --profile demo --json`` (never a traceback)."""
    result = CliRunner().invoke(main, ["ingest", str(batch), "--profile", "demo", "--json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def cjk_recall(truth: str, found: str) -> float:
    """Share of the true CJK characters found (multiset, reading order ignored)."""
    want = Counter(ch for ch in truth if "\u4e00" <= ch <= "\u9fff")
    got = Counter(ch for ch in found if "\u4e00" <= ch <= "\u9fff")
    return sum((want & got).values()) / max(1, sum(want.values()))


def pdf_text(data: bytes) -> list[str]:
    """The text of each page as pdfium extracts it."""
    doc = pypdfium2.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def pdftotext(pdf: Path) -> str:
    """The text poppler's pdftotext gets from a PDF (the test is skipped without poppler-utils)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")
