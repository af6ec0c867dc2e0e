"""``guidang eep import FILE``: take in a DA/T 48 EEP for the YJ (移交接收) stage: verify, unpack, report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from guidang.cli.errors import handle_errors, language
from guidang.errors import ExitCode
from guidang.packaging.signing import ALGORITHM_NAMES


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="重建档案包到此目录（须不存在）/ rebuild the archival package into this folder (must not exist)",
)
@click.option("--allow-unsigned", is_flag=True, help="未签名不算失败 / accept an unsigned EEP")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print one JSON object")
@handle_errors
def import_eep_command(file: Path, output: Path | None, allow_unsigned: bool, as_json: bool) -> None:
    """导入 EEP（移交接收 YJ 环节）：验证、解包并列出内容。Import an EEP for the YJ stage: verify, unpack, list.

    With ``-o DIR`` the record is rebuilt as an archival package there, which ``guidang check DIR --stage YJ``
    then checks. An EEP that fails verification exits 1 and writes nothing.
    """
    from guidang.packaging.eep.document import EepError
    from guidang.packaging.eep.reader import import_eep, write_package

    try:
        imported = import_eep(file, require_signature=not allow_unsigned)
    except EepError as exc:
        click.echo(f"guidang: [{exc.code}] {exc.message(language())}", err=True)
        raise SystemExit(int(ExitCode.CHECKS_FAILED)) from exc
    package = write_package(imported, output) if output is not None else None
    title = str(imported.metadata.record.content.title)
    files = {rel: len(data) for rel, data in sorted(imported.files.items())}
    signatures = [
        {"id": s.identifier, "algorithm": ALGORITHM_NAMES.get(s.algorithm, s.algorithm), "signer": s.signer,
         "valid": s.valid}
        for s in imported.verification.signatures
    ]
    if as_json:
        summary = {"archival_code": imported.code, "title": title, "files": files, "signatures": signatures,
                   "package": str(package.root) if package is not None else None}
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    click.echo(f"档号 archival code: {imported.code}")
    click.echo(f"题名 title: {title}")
    for sig in signatures:
        verdict = "通过 ok" if sig["valid"] else "失败 FAILED"
        click.echo(f"签名 signature {sig['id']}\t{sig['algorithm']}\t{sig['signer']}\t{verdict}")
    click.echo(f"文件 files: {len(files)}")
    for rel, size in files.items():
        click.echo(f"  {rel}\t{size} B")
    if package is not None:
        click.echo(f"档案包 package: {package.root}")
