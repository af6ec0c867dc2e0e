"""``guidang form KIND --batch ID``: a registration form of the standards, filled for one finished batch.

KIND is ``a1`` (GB/T 18894-2016 Table A.1 电子文件归档登记表), ``a3`` (Table A.3 电子档案格式转换与迁移
登记表) or ``c1`` (DA/T 93-2022 Table C.1 电子档案移交接收登记表); as a printable PDF (default), an HTML
page, or JSON data. Exit codes: 0 written; 2 no such batch, an unfinished batch or no catalogue.
"""

from __future__ import annotations

from pathlib import Path

import click

from guidang.cli.errors import handle_errors
from guidang.cli.output import emit
from guidang.config import load_settings


@click.command("form")
@click.argument("kind", type=click.Choice(["a1", "a3", "c1"]))
@click.option("--batch", type=int, required=True, help="批次编号 / the batch, by its id")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "json"]), default="pdf", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="写入文件 / write to a file")
@handle_errors
def form_command(kind: str, batch: int, fmt: str, output: Path | None) -> None:
    """登记表 / a registration form (GB/T 18894 A.1, A.3; DA/T 93 C.1) for one batch."""
    from guidang.pipeline.forms import build_form
    from guidang.reports.registry import render_bytes
    from guidang.storage.catalogue import Catalogue

    settings = load_settings()
    data = render_bytes("form", fmt, build_form(Catalogue.existing(settings.db_url), settings, kind, batch))
    emit(data, output, "登记表 form")
