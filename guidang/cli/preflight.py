"""``guidang preflight BATCH_DIR`` and ``guidang profile export``: a vendor checks a batch before delivering it.

At the archive: ``guidang profile export --profile P -o vendor-profile.json`` writes the profile's
thresholds (no path, key or address of the archive). At the vendor, without a working home:
``guidang preflight BATCH --profile-file vendor-profile.json [--format html -o report.html]``.
With a working home, ``--profile P`` reads the thresholds from its configuration instead.

Exit codes: 0 nothing failed, 1 failures found (each listed with its check ID); 2 the batch folder or
the profile file cannot be read; 3 a bad configuration; 4 no antivirus answers.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import click

from guidang.cli.errors import handle_errors, language
from guidang.cli.progress import page_progress
from guidang.config import CONFIG_NAME, Settings, default_home, load_settings
from guidang.errors import ExitCode, InputError
from guidang.fsutil import replace_file
from guidang.pipeline.preflight import run_preflight
from guidang.pipeline.progress import Progress
from guidang.pipeline.vendor_profile import VendorProfile, load_vendor_profile
from guidang.reports.registry import render

TITLE = "预检报告 / preflight report"


def profile_name(settings: Settings, profile: str | None) -> str:
    if profile is not None:
        settings.profile(profile)
        return profile
    if len(settings.profiles) == 1:
        return next(iter(settings.profiles))
    raise InputError("请用 --profile 指定收件箱档案，或用 --profile-file 指定档案馆导出的预检配置文件",
                     "name the profile with --profile, or the archive's exported profile with --profile-file")


def _settings(stack: ExitStack, profile_file: Path | None) -> Settings:
    """The working home's settings; a vendor without one gets the defaults in a throwaway home (its
    own clamd runs there for this command and is removed with it)."""
    if profile_file is None or (default_home() / CONFIG_NAME).is_file():
        return load_settings()
    return load_settings(home=Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="guidang-preflight-"))))


@click.command("preflight")
@click.argument("batch_dir", type=click.Path(path_type=Path))
@click.option("--profile", help="收件箱档案名（档案馆内运行）/ profile of the working home")
@click.option("--profile-file", type=click.Path(dir_okay=False, path_type=Path),
              help="档案馆导出的预检配置 / the profile file the archive exported (guidang profile export)")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "csv"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="写入文件 / write to a file")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（同 --format json）/ same as --format json")
@click.option("--jobs", type=click.IntRange(1), default=1, show_default=True, help="并行页数 / pages at once")
@handle_errors
def preflight_command(batch_dir: Path, profile: str | None, profile_file: Path | None, fmt: str,
                      output: Path | None, as_json: bool, jobs: int) -> None:
    """交付前预检 / check a batch before delivery, as ingest would (no OCR; writes only its report)."""
    fmt = "json" if as_json else fmt
    with ExitStack() as stack:
        settings = _settings(stack, profile_file)
        vendor = (load_vendor_profile(profile_file) if profile_file is not None
                  else VendorProfile.of(settings, profile_name(settings, profile)))
        with page_progress("预检 preflight", quiet=fmt == "json" and output is None) as bar:
            result = run_preflight(batch_dir, vendor, settings, jobs=jobs, progress=Progress(bar.start, bar.advance))
    text = render("check", fmt, list(result.subjects), language=language(), title=TITLE)
    if output is not None:
        replace_file(output, text.encode("utf-8-sig" if fmt == "csv" else "utf-8"))
    else:
        click.echo(text, nl=False)
    sys.exit(int(ExitCode.CHECKS_FAILED if result.failed else ExitCode.OK))


@click.group("profile")
def profile_group() -> None:
    """收件箱档案 / profiles: export one for a vendor's preflight."""


@profile_group.command("export")
@click.option("--profile", help="收件箱档案名 / profile name (default: the only one)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="写入文件 / the file to write")
@handle_errors
def export_command(profile: str | None, output: Path) -> None:
    """导出预检配置文件给供应商 / write the profile file a vendor's preflight reads."""
    settings = load_settings()
    vendor = VendorProfile.of(settings, profile_name(settings, profile))
    replace_file(output, vendor.dumps().encode("utf-8"))
    click.echo(f"预检配置 preflight profile: {output}（{vendor.profile}, {vendor.archival_code_rule.name}）")
