"""Commands of long-term preservation: ``repair``, ``backup``, ``restore-test``, ``destroy`` (logic in
:mod:`guidang.pipeline.copies` and :mod:`guidang.pipeline.destruction`).

Exit codes: 0 done (or nothing to do), 1 a copy was found damaged (restore-test), 2 bad input, 5 storage.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click

from guidang.cli.errors import handle_errors, language
from guidang.config import load_settings
from guidang.reports.registry import render
from guidang.validators.result import exit_code


def _agent(given: str | None) -> str:
    return given or getpass.getuser()


@click.command("repair")
@click.argument("code")
@click.option("--agent", help="操作人 / who repairs (default: the login name)")
@handle_errors
def repair_command(code: str, agent: str | None) -> None:
    """从完好的副本修复损坏的副本（先校验）/ restore a damaged copy of 档号 from the good one, verified first."""
    from guidang.pipeline.copies import repair

    outcome = repair(load_settings(), code, _agent(agent))
    if outcome.repaired is None:
        click.echo(f"{code}：两个副本均完好且一致，无需修复 / both copies are intact and equal; nothing to do")
    else:
        click.echo(f"{code}：已从 {outcome.source} 修复 {outcome.repaired} 并校验通过 / "
                   f"restored {outcome.repaired} from {outcome.source}, verified")


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--carrier", "carrier", required=True, help="脱机载体编号 / offline carrier id (e.g. the disc label)")
@click.option("--location", help="脱机载体存址 / where the carrier is kept (default: DEST)")
@click.option("--code", "codes", multiple=True, help="只备份这些档号 / only these 档号 (default: every object)")
@click.option("--agent", help="操作人 / who writes the carrier (default: the login name)")
@handle_errors
def backup_command(dest: Path, carrier: str, location: str | None, codes: tuple[str, ...], agent: str | None) -> None:
    """写入脱机载体、校验并登记脱机载体编号 / copy objects to an offline carrier, verify, register the carrier."""
    from guidang.pipeline.copies import backup_to_carrier

    out = backup_to_carrier(load_settings(), carrier, dest.resolve(), codes=list(codes) or None,
                            location=location, agent=_agent(agent))
    click.echo(f"载体 carrier {out.carrier}：写入并校验 {len(out.written)} 个对象，新登记 {len(out.registered)} 个 / "
               f"{len(out.written)} objects written and verified, {len(out.registered)} newly registered")


@click.command("restore-test")
@click.argument("source", type=click.Path(file_okay=False, path_type=Path))
@click.option("--carrier", "carrier", required=True, help="脱机载体编号 / carrier id")
@click.option("--sample", "percent", type=click.FloatRange(0, 100, min_open=True), default=5.0, show_default=True,
              help="抽样百分比 / percent of the carrier's objects restored")
@click.option("--seed", type=int, default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "csv"]), default="text", show_default=True)
@handle_errors
def restore_test_command(source: Path, carrier: str, percent: float, seed: int | None, fmt: str) -> None:
    """脱机载体恢复测试（DA/T 70 3-9）/ restore a sample from a carrier into a scratch area and verify it."""
    from guidang.pipeline.copies import restore_test

    subjects = restore_test(load_settings(), carrier, source, percent=percent, seed=seed)
    click.echo(render("check", fmt, subjects, language=language()), nl=False)
    sys.exit(int(exit_code(subjects)))


@click.command("destroy")
@click.argument("code")
@click.option("--decision", required=True, help="鉴定意见（文号或内容）/ the appraisal decision executed")
@click.option("--reason", default="", help="说明 / note")
@click.option("--agent", help="操作人 / who destroys (default: the login name)")
@click.option("--yes", is_flag=True, help="不再确认 / do not ask")
@handle_errors
def destroy_command(code: str, decision: str, reason: str, agent: str | None, yes: bool) -> None:
    """鉴定后销毁：元数据移入销毁登记，对象移出存储 / destroy a record after appraisal (metadata kept)."""
    from guidang.pipeline.destruction import destroy

    if not yes:
        click.confirm(f"销毁 {code}？/ destroy {code}?", abort=True)
    row = destroy(load_settings(), code, decision=decision, agent=_agent(agent), reason=reason)
    click.echo(json.dumps({"destroyed": row.archival_code, "decision": row.decision, "retention": row.retention},
                          ensure_ascii=False))


@click.command("hold")
@click.argument("code")
@click.option("--release", is_flag=True, help="解除法律保留 / lift the legal hold")
@handle_errors
def hold_command(code: str, release: bool) -> None:
    """对 S3 副本设置（或解除）法律保留 / put (or lift) a legal hold on the S3 copy of 档号 (disputes)."""
    from guidang.pipeline.worm import set_legal_hold

    n = set_legal_hold(load_settings(), code, not release)
    state = "解除 lifted" if release else "设置 set"
    click.echo(f"{code}：{n} 个键的法律保留已{state} / legal hold {state.split()[1]} on {n} keys")
