"""Where a command's rendered bytes go: a file written whole (atomically), named on stderr, or standard output."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from guidang.fsutil import replace_file


def emit(data: bytes, output: Path | None, label: str) -> None:
    """Write ``data`` to ``output`` (then say so on stderr as ``label: path``) or to stdout as it is."""
    if output is not None:
        replace_file(output, data)
        click.echo(f"{label}: {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
