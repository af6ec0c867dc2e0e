"""``guidang eep export|verify|import``: DA/T 48 EEPs (``export-eep`` and ``verify-eep`` are the old names)."""

from __future__ import annotations

from pathlib import Path

import click

from guidang.cli.eep_import import import_eep_command
from guidang.cli.errors import handle_errors
from guidang.errors import ExitCode
from guidang.packaging.eep.export import export_eep
from guidang.packaging.eep.verify import verify_eep
from guidang.packaging.signing import ALGORITHM_NAMES


@click.command("export-eep")
@click.argument("code")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="EEP 文件 / EEP file to write",
)
@click.option("--version", "version", default=None, help="OCFL 版本（默认最新）/ OCFL version (default: head)")
@click.option("--unsigned", is_flag=True, help="不签名 / do not sign even if a key is configured")
@click.option("--modified", is_flag=True, help="修改型：各版本逐层封装 / 修改型 EEP with one layer per OCFL version")
@handle_errors
def export_eep_command(code: str, output: Path, version: str | None, unsigned: bool, modified: bool) -> None:
    """导出一件档案的 DA/T 48 电子文件封装包（EEP）。Export a record as a DA/T 48 EEP."""
    from guidang.config import load_settings
    from guidang.packaging.signing import signer_from_options
    from guidang.storage.ocfl_store import OcflStore

    settings = load_settings()
    signer = None if unsigned else signer_from_options(settings.signing, settings.home)
    store = OcflStore(settings.store_root, create=False)
    path = export_eep(store, code, output, signer, version=version, modified=modified)
    click.echo(f"{path}  ({'signed ' + ALGORITHM_NAMES[signer.algorithm_oid] if signer else 'unsigned'})")


UNTRUSTED = "完好，签名人不受信任 intact, signer not trusted"


@click.command("verify-eep")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--allow-unsigned", is_flag=True, help="未签名不算失败 / an unsigned EEP is not a failure")
@handle_errors
def verify_eep_command(file: Path, allow_unsigned: bool) -> None:
    """验证 EEP 的模式与签名。Verify an EEP's schema and signatures (exit 1 when it fails).

    Signers are judged against ``[signing] trusted_certificates``: an intact signature by anyone
    else is "intact, signer not trusted", a warning or a failure as ``[signing] untrusted_signer`` says."""
    from guidang.config import load_settings
    from guidang.packaging.signing import load_certificates

    settings = load_settings()
    anchors = load_certificates(settings.signing.trusted_certificates, settings.home)
    result = verify_eep(file, require_signature=not allow_unsigned, trusted_certificates=anchors,
                        untrusted_signer=settings.signing.untrusted_signer)
    for s in result.signatures:
        state = "失败 FAILED" if not s.valid else "通过 ok" if s.trusted else UNTRUSTED
        click.echo(f"{s.identifier}\t{ALGORITHM_NAMES.get(s.algorithm, s.algorithm)}\t{s.signer}\t{state}")
    for p in (*result.problems, *result.warnings):
        click.echo(f"{p.zh} / {p.en}", err=True)
    if not result.valid:
        raise SystemExit(int(ExitCode.CHECKS_FAILED))
    if result.warnings:
        click.echo("EEP 完好，但签名人不受信任 / EEP intact, signer not trusted")
    else:
        click.echo("EEP 验证通过 / EEP verified")


@click.group("eep")
def eep_group() -> None:
    """电子文件封装包（DA/T 48）/ DA/T 48 EEPs: export, verify, import."""


eep_group.add_command(export_eep_command, "export")
eep_group.add_command(verify_eep_command, "verify")
eep_group.add_command(import_eep_command, "import")  # in its own module: the YJ intake verb, kept apart
