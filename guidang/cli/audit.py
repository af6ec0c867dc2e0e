"""``guidang audit``: the BC-stage audit of the long-term store (it replaces ``guidang check STORE``).

* ``guidang audit``: fixity and structure of every object (and of its second copy, when configured);
* ``--sample PCT``: the same, plus the four-property checks (DA/T 70, stage BC) on a random PCT% of objects;
* ``--full``: the same, plus the four-property checks on every object;
* ``--scheduled``: the kind the schedule (``[preservation]``) says is due, or nothing (what the watcher runs).

Reports in text, JSON, HTML or CSV (the ``check`` renderers; only objects with findings are listed, intact
ones are counted); the audit log's hash chain is verified too. Exit codes: 0 nothing failed, 1 damage found
(or the audit log broken), 2 the audit could not run.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from guidang.cli.errors import fail, handle_errors, language
from guidang.cli.progress import page_progress
from guidang.config import load_settings
from guidang.errors import ExitCode, GuidangError
from guidang.pipeline.audit_log import check_chain
from guidang.reports.registry import render
from guidang.storage.catalogue import Catalogue
from guidang.validators.result import CheckedSubject, exit_code


@click.command("audit")
@click.option("--full", "full", is_flag=True, help="全部对象做四性检测 / four-property checks on every object")
@click.option("--sample", "sample", type=click.FloatRange(0, 100, min_open=True),
              help="随机抽取百分比做四性检测 / four-property checks on a random PCT% of objects")
@click.option("--scheduled", is_flag=True, help="按计划运行到期的审计 / run the audit the schedule says is due")
@click.option("--seed", type=int, default=None, help="抽样随机种子 / random seed of the sample")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "csv"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="写入文件 / write to a file")
@handle_errors
def audit_command(full: bool, sample: float | None, scheduled: bool, seed: int | None, fmt: str,
                  output: Path | None) -> None:
    """长期保存审计（固化信息、第二副本、四性抽检）/ audit the store: fixity, second copy, four-property checks."""
    from guidang.pipeline.audit import StoreAudit, due

    settings = load_settings()
    if full and sample is not None:
        raise click.UsageError("--full 与 --sample 只能选一个 / --full or --sample, not both")
    kind = "full" if full else "sample" if sample is not None else "fixity"
    percent = sample if sample is not None else settings.preservation.sample_percent
    if scheduled:
        found = due(settings)
        if found is None:
            click.echo("没有到期的审计 / no audit is due")
            return
        kind = found
    try:
        with contextlib.ExitStack() as stack:
            four = None
            if kind != "fixity":
                four = stack.enter_context(_four_property(settings))
            audit = StoreAudit(settings, kind=kind, sample_percent=percent, four_property=four, seed=seed)
            total = audit.count()
            with page_progress(f"审计 audit ({kind})", quiet=fmt != "text" and output is None) as bar:
                bar.start(total)

                def tick(objects: int) -> None:
                    for _ in range(objects):
                        bar.advance()

                audit.progress = tick
                for _subject in audit.run(total):
                    pass
    except GuidangError as exc:
        fail(exc, ExitCode.CANNOT_RUN if exc.exit_code == ExitCode.CHECKS_FAILED else None)
    # the audit log is checked at every audit too (DA/T 92), and its head anchored outside the database
    chain = check_chain(settings, Catalogue(settings.db_url), reason=f"guidang audit ({kind})")
    for p in chain.problems:
        click.echo(f"审计日志 audit log {p.kind}: {p.zh} / {p.en}", err=True)
    subjects = audit.problems
    if fmt == "json":
        text = json.dumps({"kind": kind, "totals": audit.totals.as_dict(), "run": audit.run_id,
                           "objects": json.loads(render("check", "json", subjects, language=language()))},
                          ensure_ascii=False, indent=2) + "\n"
    else:
        text = render("check", fmt, subjects, language=language(), title="长期保存审计报告 / store audit")
        if fmt == "text":
            t = audit.totals
            text += (f"审计 {kind}：{t.objects} 个对象，{t.files} 个文件，{t.bytes} 字节，四性检测 {t.checked} 个，"
                     f"损坏 {t.damaged} 个 / audit {kind}: {t.objects} objects, {t.files} files, {t.bytes} bytes, "
                     f"{t.checked} given the four-property checks, {t.damaged} damaged ({t.seconds:.1f} s)\n")
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    code = exit_code(subjects)
    sys.exit(int(ExitCode.CHECKS_FAILED if not chain.ok and code == ExitCode.OK else code))


@contextlib.contextmanager
def _four_property(settings: object) -> Iterator[Callable[[str, object], CheckedSubject]]:
    """The BC-stage checks of one stored object, with the check context of ``guidang check`` (ClamAV held for
    the run)."""
    from dataclasses import replace

    from guidang.cli.check import build_context, check_stored
    from guidang.config import Settings
    from guidang.pipeline.antivirus import open_scanner
    from guidang.pipeline.audit import open_replica
    from guidang.validators.spec import Stage

    assert isinstance(settings, Settings)
    with open_scanner(settings) as scanner, tempfile.TemporaryDirectory(prefix="guidang-audit-") as tmp:
        ctx = build_context(settings, None, scanner)
        counter = iter(range(1 << 62))

        replica = open_replica(settings)

        def check(code: str, store: object) -> CheckedSubject:
            n = next(counter)
            here = ctx
            if replica is not None and replica.exists(code):  # 3-9: the second copy is the backup restored
                with contextlib.suppress(GuidangError, OSError):
                    here = replace(ctx, backups=(replica.checkout(code, Path(tmp) / f"{n}-replica"),))
            return check_stored(store, code, Stage.BC, here, Path(tmp) / str(n))

        yield check
