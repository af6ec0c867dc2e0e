"""DA/T 70-2018 four-property checks (四性检测) of archival packages, at stage GD, YJ or BC.

``run_dat70(package_dir, stage, context)`` runs every item of the stage (Appendix A of the
standard; the registry data is ``validators/checks/dat70.toml``) and returns the report. The
same call serves ingest (GD), transfer (YJ) and audits of the store (BC).
"""

from __future__ import annotations

from pathlib import Path

from guidang.errors import InputError
from guidang.validators.dat70 import authenticity, eep_checks, integrity, security, usability
from guidang.validators.dat70.context import (
    Carrier,
    CatalogueLookups,
    Dat70Context,
    Event,
    IntakeRegistration,
    Registered,
    SenderDeclaration,
)
from guidang.validators.dat70.package import PackageView
from guidang.validators.dat70.subject import Dat70Subject
from guidang.validators.dat70_options import Dat70Options
from guidang.validators.registry import REGISTRY
from guidang.validators.result import Report
from guidang.validators.spec import Stage

__all__ = [
    "Carrier",
    "CatalogueLookups",
    "Dat70Context",
    "Dat70Options",
    "Event",
    "IntakeRegistration",
    "Registered",
    "SenderDeclaration",
    "run_dat70",
    "stage_items",
]

_MODULES = (authenticity, eep_checks, integrity, usability, security)  # importing them registers the checks


def _number(check_id: str) -> tuple[int, int]:
    prop, n = check_id.split("-")
    return int(prop), int(n)


def stage_items(stage: Stage | str) -> list[str]:
    """DA/T 70 item numbers tested in a stage, in the standard's order (GD 36, YJ 35, BC 32)."""
    st = Stage(stage)
    return sorted((s.id for s in REGISTRY.family("DAT70") if st in s.stages), key=_number)


def run_dat70(package_dir: Path, stage: Stage | str, context: Dat70Context | None = None) -> Report:
    """Run every DA/T 70 item of ``stage`` on one package folder; results are ``<stage>-<item>``."""
    if not package_dir.is_dir():
        raise InputError(f"信息包文件夹不存在：{package_dir}", f"no package folder at {package_dir}")
    st = Stage(stage)
    subject = Dat70Subject(PackageView(package_dir), context or Dat70Context(), st)
    return REGISTRY.run(stage_items(st), subject, st)
