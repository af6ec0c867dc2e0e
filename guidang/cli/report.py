"""``guidang report``: the ops report over the catalogue (batches, items, acceptance by vendor and check,
top failing checks, time per stage, audits) in HTML, CSV, JSON or XLSX.

``--since`` and ``--until`` take a date (``2026-12-01``, a whole day in UTC) or an ISO time; a batch
counts by when it was received, ``--until`` is inclusive of its day. Exit codes: 0 written; 2 a bad
option or no catalogue database; 5 the database failed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from guidang.cli.errors import handle_errors
from guidang.cli.output import emit
from guidang.config import load_settings
from guidang.errors import InputError


def _when(value: str | None, option: str, *, end: bool = False) -> dt.datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:  # a date: the whole day
            day = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
            return day + dt.timedelta(days=1) if end else day
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} 不是日期或时间：{value!r}（例如 2026-12-01）",
                         f"{option} is not a date or time: {value!r} (e.g. 2026-12-01)") from None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


@click.command("report")
@click.option("--batch", type=int, help="批次编号 / one batch, by its id")
@click.option("--vendor", help="提交方 / one vendor")
@click.option("--since", help="自（含）/ received on or after (YYYY-MM-DD or ISO time)")
@click.option("--until", help="至（含当日）/ received up to (YYYY-MM-DD: that whole day)")
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json", "xlsx"]), default="html", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="写入文件 / write to a file")
@handle_errors
def report_command(batch: int | None, vendor: str | None, since: str | None, until: str | None, fmt: str,
                   output: Path | None) -> None:
    """运行报告 / the ops report: batches, acceptance by vendor and check, stages, audits."""
    from guidang.pipeline.ops_report import ReportFilter, build_report
    from guidang.reports.registry import render_bytes
    from guidang.storage.catalogue import Catalogue

    settings = load_settings()
    f = ReportFilter(batch=batch, vendor=vendor, since=_when(since, "--since"), until=_when(until, "--until", end=True))
    data = render_bytes("report", fmt, build_report(Catalogue.existing(settings.db_url), f))
    emit(data, output, "报告 report")
