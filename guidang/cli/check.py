"""``guidang check PATH``: the checks on a file, a package, a folder of packages, a vendor batch or a store.

* a PDF: structure, encryption, JavaScript, dangerous actions, embedded files, PDF/A (PDF family);
* another file (page image, OFD, …): format by content, the image decodes, OFD structure and seals;
* an archival package (``content/``, ``metadata/metadata.xml``, manifests): every DA/T 70 item of the
  stage (default GD);
* an OCFL store (``0=ocfl_1.x``): every object's head version at stage BC (default), with the package
  digest and file count recorded in the object's inventory as the reference (1-14, 2-1);
* any other folder: its packages if it holds some, else a vendor batch: every delivered file.

Entries are judged by ``lstat``: a link or a special file (FIFO, socket, device) inside a checked
folder, or named as PATH, is never followed or opened; it is a FILE-KIND failure. A folder in which
no file could be checked (empty, or only links) is reported as "nothing checked".

Exit codes: 0 nothing failed, 1 failures found, 2 something (or nothing at all) could not be checked.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from guidang.cli.errors import fail, handle_errors, language
from guidang.config import Settings, load_settings
from guidang.errors import ExitCode, GuidangError, InputError
from guidang.pipeline.antivirus import open_scanner
from guidang.pipeline.catalogue_file import CATALOGUE_NAMES
from guidang.pipeline.volumes import FILE_NAMES as VOLUME_FILE_NAMES
from guidang.reports.registry import render
from guidang.validators.clamav import Scanner
from guidang.validators.dat70 import Dat70Context, SenderDeclaration, run_dat70
from guidang.validators.dat70.integrity import numbering_across
from guidang.validators.dat70.package import PackageView
from guidang.validators.file_checks import check_file, check_kind
from guidang.validators.pdf_checks import check_pdf
from guidang.validators.result import CheckedSubject, Report, exit_code
from guidang.validators.spec import Stage

BATCH_CONTROL_FILES = frozenset(
    {"READY", "catalogue.csv", "目录.csv", "目录.xlsx", "catalogue.xlsx", "目录文件.xml", "bagit.txt", "bag-info.txt"}
    | set(VOLUME_FILE_NAMES)  # a volume batch's 案卷目录 and 卷内目录 (docs/volumes.md)
)


# -- what a path is ----------------------------------------------------------------------------------------
def is_package(path: Path) -> bool:
    return (
        not path.is_symlink()
        and path.is_dir()
        and (path / "content").is_dir()
        and ((path / "metadata" / "metadata.xml").is_file() or (path / "manifest-sha256.txt").is_file())
    )


def is_store(path: Path) -> bool:
    return path.is_dir() and any(p.name.startswith("0=ocfl_1.") for p in path.iterdir())


# -- the context from the configuration --------------------------------------------------------------------
def build_context(settings: Settings, profile: str | None, scanner: Scanner | None = None) -> Dat70Context:
    from guidang.packaging.archival_code import get_rule
    from guidang.packaging.signing import load_certificates

    prof = None
    if profile is not None:
        prof = settings.profile(profile)
    elif len(settings.profiles) == 1:
        prof = next(iter(settings.profiles.values()))
    rule = get_rule(prof.archival_code_rule if prof else "dat22", settings.archival_code_rules)
    return Dat70Context(
        options=settings.dat70,
        db=_catalogue(settings),
        clamd=scanner,
        test_signatures_block=not (prof is not None and prof.accept_test_signatures),
        trusted_certificates=load_certificates(settings.signing.trusted_certificates, settings.home),
        untrusted_signer=settings.signing.untrusted_signer,
        archival_code_rule=rule,
        fonds_code=prof.fonds_code if prof else None,
    )


def _catalogue(settings: Settings) -> Any:
    """The catalogue DB when one exists (a check never creates a database)."""
    url = settings.db_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    from guidang.pipeline.lookups import CatalogueDbLookups
    from guidang.storage.catalogue import Catalogue

    try:
        return CatalogueDbLookups(Catalogue(url))
    except GuidangError:
        return None  # 3-2 then reports that no database was reachable in this run


# -- running -----------------------------------------------------------------------------------------------
def regular(path: Path) -> bool:
    """A regular file or a folder, by ``lstat`` (a link is neither, whatever it points to)."""
    mode = os.lstat(path).st_mode
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def flagged(path: Path, shown: str | None = None) -> CheckedSubject:
    """A link or special file: reported (FILE-KIND), never followed or opened."""
    return CheckedSubject(shown or str(path), "文件", check_kind(path, shown))


NOTHING_CHECKED = (
    "未检测任何文件（空目录，或只有链接、特殊文件和控制文件）",
    "nothing checked (an empty folder, or only links, special files and control files)",
)


def check_one_file(path: Path, settings: Settings, shown: str | None = None) -> CheckedSubject:
    pdf = path.suffix.lower() == ".pdf"
    report = check_pdf(path, None, shown) if pdf else check_file(path, settings.dat70, shown)
    return CheckedSubject(shown or str(path), "文件", report)


def backups_for(code: str, roots: Iterable[Path]) -> tuple[Path, ...]:
    """Backup copies of a package under the configured backup roots (3-9)."""
    names = (code, f"{code}.zip", f"{code}.tar", f"{code}.tar.gz", f"{code}.tgz")
    return tuple(root / n for root in roots for n in names if (root / n).exists())


def check_package(path: Path, stage: Stage, ctx: Dat70Context, code: str | None = None) -> CheckedSubject:
    from dataclasses import replace

    if not ctx.backups and ctx.options.backup_roots:
        ctx = replace(ctx, backups=backups_for(code or PackageView(path).archival_code, ctx.options.backup_roots))
    try:
        return CheckedSubject(str(path), "信息包", run_dat70(path, stage, ctx), stage=stage.value)
    except GuidangError as exc:
        return CheckedSubject(str(path), "信息包", Report(), stage=stage.value, error=exc.message("zh"))


def check_stored(store: Any, code: str, stage: Stage, ctx: Dat70Context, dest: Path) -> CheckedSubject:
    """One stored object's head version, checked out to ``dest``, with the package digest and file count
    of its inventory as the reference (1-14, 2-1); used by ``check STORE`` and ``guidang audit``."""
    from dataclasses import replace

    shown = f"{store.root}#{code}"
    try:
        inventory = store.inventory(code)
        state = inventory["versions"][inventory["head"]]["state"]
        by_path = {p: d for d, paths in state.items() for p in paths}
        records = [p for p in by_path if p.startswith(("content/", "masters/"))]
        sender = SenderDeclaration(
            package_digest=by_path.get("manifest-sha256.txt"),
            algorithm="sha256",
            file_count=len(records),
            source="保存库清单（OCFL inventory）/ store inventory",
        )
        store.checkout(code, dest)
    except (GuidangError, OSError, KeyError, ValueError) as exc:
        return CheckedSubject(shown, "保存对象", Report(), stage=stage.value, error=str(exc))
    checked = check_package(dest, stage, replace(ctx, sender=sender), code)
    return replace(checked, path=shown, kind="保存对象")


def check_store(path: Path, stage: Stage, ctx: Dat70Context) -> Iterator[CheckedSubject]:
    from guidang.storage.ocfl_store import OcflStore

    store = OcflStore(path, create=False)
    with tempfile.TemporaryDirectory(prefix="guidang-check-") as tmp:
        for n, code in enumerate(sorted(store.list_codes())):
            yield check_stored(store, code, stage, ctx, Path(tmp) / str(n))


def walk(path: Path) -> Iterator[Path]:
    """Every entry under ``path``, by ``lstat``: folders are entered, links never (a link to a
    folder, or a link loop, is one entry)."""
    for p in sorted(path.iterdir()):
        yield p
        if not p.is_symlink() and p.is_dir():
            yield from walk(p)


def check_batch(path: Path, settings: Settings) -> Iterator[CheckedSubject]:
    checked = 0
    for p in walk(path):
        shown = p.relative_to(path).as_posix()
        if not regular(p):
            yield flagged(p, shown)
        elif p.is_dir() or p.name in BATCH_CONTROL_FILES or p.name.startswith(("manifest-", "tagmanifest-")):
            continue
        else:
            checked += 1
            yield check_one_file(p, settings, shown)
    if not checked:
        yield CheckedSubject(str(path), "目录", Report(), error=" / ".join(NOTHING_CHECKED))


def check_path(path: Path, stage: Stage | None, settings: Settings, profile: str | None = None) -> list[CheckedSubject]:
    if not path.exists():
        raise InputError(f"路径不存在：{path}", f"no such path: {path}")
    if path.is_file():
        return [check_one_file(path, settings)]
    if not path.is_dir():  # a FIFO, socket or device: never opened
        return [flagged(path)]
    packages = [] if is_package(path) or is_store(path) else [p for p in sorted(path.iterdir()) if is_package(p)]
    if not (is_package(path) or is_store(path) or packages):
        if any((path / name).is_file() for name in CATALOGUE_NAMES):  # a vendor batch: `guidang preflight`
            return _preflight(path, settings, profile)
        return list(check_batch(path, settings))
    with open_scanner(settings) as scanner:  # held (and a clamd of its own stopped) for this command only
        ctx = build_context(settings, profile, scanner)
        if is_package(path):
            return [check_package(path, stage or Stage.GD, ctx)]
        if is_store(path):
            subjects = list(check_store(path, stage or Stage.BC, ctx))
            return subjects + classes(path, [s.path.rsplit("#", 1)[1] for s in subjects], stage or Stage.BC, ctx)
        subjects = [check_package(p, stage or Stage.GD, ctx) for p in packages]
        subjects += [flagged(p, p.name) for p in sorted(path.iterdir()) if not regular(p)]
        codes = [PackageView(p).archival_code for p in packages]
        return subjects + classes(path, codes, stage or Stage.GD, ctx)


def _preflight(path: Path, settings: Settings, profile: str | None) -> list[CheckedSubject]:
    """Deprecated: ``check BATCH`` is ``guidang preflight BATCH`` (the same checks, the same report)."""
    from guidang.cli.preflight import profile_name
    from guidang.cli.progress import page_progress
    from guidang.pipeline.preflight import run_preflight
    from guidang.pipeline.progress import Progress
    from guidang.pipeline.vendor_profile import VendorProfile

    click.echo("guidang check BATCH 已由 guidang preflight BATCH 取代 / is now guidang preflight BATCH", err=True)
    vendor = VendorProfile.of(settings, profile_name(settings, profile))
    with page_progress("检测 check") as bar:
        return list(run_preflight(path, vendor, settings, progress=Progress(bar.start, bar.advance)).subjects)


def classes(path: Path, codes: list[str], stage: Stage, ctx: Dat70Context) -> list[CheckedSubject]:
    """2-6 across the packages: 件号 continuous within each class (one subject per class)."""
    reports = numbering_across(codes, ctx.rule(), stage, ctx.options.sequence_start)
    return [CheckedSubject(f"{path} [{prefix}]", "类目", report, stage.value) for prefix, report in reports.items()]


@click.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--stage", type=click.Choice(["GD", "YJ", "BC"]), help="检测环节 / DA/T 70 stage (package: GD, store: BC)"
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "csv"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="写入文件 / write to a file")
@click.option("--profile", help="收件箱档案名（档号规则、全宗号）/ profile for the 档号 rule and fonds code")
@handle_errors
def check_command(path: Path, stage: str | None, fmt: str, output: Path | None, profile: str | None) -> None:
    """四性检测 / run the checks on a file, a package, a batch or a store (exit 0 pass, 1 failures, 2 cannot run)."""
    try:
        settings = load_settings()
        subjects = check_path(path, Stage(stage) if stage else None, settings, profile)
    except GuidangError as exc:  # exit 1 means "checks found failures": an error that could not check is 2
        fail(exc, ExitCode.CANNOT_RUN if exc.exit_code == ExitCode.CHECKS_FAILED else None)
    text = render("check", fmt, subjects, language=language())
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    sys.exit(int(exit_code(subjects)))
