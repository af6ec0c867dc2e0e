"""Check specifications as data: loaded from the TOML files in ``validators/checks/``.

Each check has a stable ID, the property (of the four of DA/T 70) it serves, the stages
it applies to, how automatic it is, whether a failure blocks acceptance, and its names and
messages in Chinese and English. DA/T 70 checks are numbered ``1-7`` in the data and
reported per stage as ``GD-1-7``, ``YJ-1-7``, ``BC-1-7``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from types import MappingProxyType


class Property(StrEnum):
    AUTHENTICITY = "authenticity"  # 真实性
    INTEGRITY = "integrity"  # 完整性
    USABILITY = "usability"  # 可用性
    SECURITY = "security"  # 安全性


PROPERTY_ZH: Mapping[Property, str] = MappingProxyType(
    {
        Property.AUTHENTICITY: "真实性",
        Property.INTEGRITY: "完整性",
        Property.USABILITY: "可用性",
        Property.SECURITY: "安全性",
    }
)


class Stage(StrEnum):
    GD = "GD"  # 归档 archiving
    YJ = "YJ"  # 移交与接收 transfer and accession
    BC = "BC"  # 长期保存 long-term preservation


class Automation(StrEnum):
    AUTO = "auto"
    SEMI = "semi"
    MANUAL = "manual"


@dataclass(frozen=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True)
class CheckSpec:
    id: str
    family: str
    property: Property
    stages: frozenset[Stage]
    automation: Automation
    blocking: bool
    name: Text
    messages: Mapping[str, Text]
    # about the archive's own systems (antivirus, database), the same for every record checked in a
    # run: a receipt states it once for the batch, not on every item
    system: bool = False
    # "batch": a failure found outside any item's folder (the catalogue, the manifest, the batch's own
    # structure) rejects every item of the batch; "item": it concerns one item only (docs/verdicts.md)
    scope: str = "item"
    # message key -> DA/T 70 items naming the defect ("*": every other key); None: not mapped (DA/T 70
    # items themselves, SCAN-*). An empty tuple says explicitly that the standard names no item.
    dat70: Mapping[str, tuple[str, ...]] | None = None
    # an archivist may accept an item this check failed, with a written reason (the review desk, issue #15);
    # never a security, fixity or readability check (see NEVER_OVERRIDABLE)
    overridable: bool = False

    def dat70_of(self, key: str) -> tuple[str, ...]:
        """The DA/T 70 items (e.g. ``1-14``) a finding of this check with this message key is one of."""
        if self.dat70 is None:
            return ()
        return self.dat70.get(key, self.dat70.get("*", ()))

    def result_id(self, stage: Stage | None) -> str:
        """The ID a result carries: DA/T 70 items are prefixed with their stage."""
        if self.family == "DAT70":
            if stage is None:
                raise ValueError(f"DA/T 70 check {self.id} needs a stage")
            return f"{stage}-{self.id}"
        return self.id

    def message(self, key: str) -> Text:
        try:
            return self.messages[key]
        except KeyError:
            return COMMON_MESSAGES[key]


def _text(raw: Mapping[str, str]) -> Text:
    return Text(zh=raw["zh"], en=raw["en"])


def _load_file(name: str, raw: Mapping[str, object]) -> dict[str, CheckSpec]:
    family = str(raw.get("family", name.removesuffix(".toml").upper()))
    specs: dict[str, CheckSpec] = {}
    checks = raw.get("check", {})
    assert isinstance(checks, dict), f"{name}: [check.*] tables expected"
    for check_id, body in checks.items():
        specs[check_id] = CheckSpec(
            id=check_id,
            family=family,
            property=Property(body["property"]),
            stages=frozenset(Stage(s) for s in body.get("stages", ["GD"])),
            automation=Automation(body.get("automation", "auto")),
            blocking=bool(body.get("blocking", True)),
            name=Text(zh=body["name_zh"], en=body["name_en"]),
            messages=MappingProxyType({k: _text(v) for k, v in body.get("messages", {}).items()}),
            system=bool(body.get("system", False)),
            scope=_scope(check_id, body.get("scope", "item")),
            dat70=_dat70_map(body["dat70"]) if "dat70" in body else None,
            overridable=_overridable(check_id, body.get("overridable", False), body["property"]),
        )
    return specs


# checks no person may override: a virus, a fixity mismatch, an unreadable file (issue #15)
NEVER_OVERRIDABLE = frozenset({"SCAN-READ", "INGEST-PAGE", "INGEST-STORE", "INTAKE-UNSAFE", "INTAKE-MANIFEST",
                               "INTAKE-CLASSIFIED", "1-14", "2-1", "2-2"})


def _overridable(check_id: str, value: object, prop: str) -> bool:
    if value and (check_id in NEVER_OVERRIDABLE or prop == Property.SECURITY):
        raise ValueError(f"check {check_id} cannot be overridable (security, fixity or readability)")
    return bool(value)


SCOPES = ("item", "batch")


def _scope(check_id: str, value: object) -> str:
    if value not in SCOPES:
        raise ValueError(f"check {check_id}: scope must be one of {SCOPES}, not {value!r}")
    return str(value)


def _dat70_map(raw: Mapping[str, list[str]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({key: tuple(items) for key, items in raw.items()})


def _load_messages(name: str) -> Mapping[str, Text]:
    """A message catalogue of ``checks/`` (a file named ``_*.toml`` with ``[messages.<key>]`` tables)."""
    raw = tomllib.loads(resources.files(__package__).joinpath("checks").joinpath(name).read_text("utf-8"))
    return MappingProxyType({k: _text(v) for k, v in raw["messages"].items()})


COMMON_MESSAGES = _load_messages("_common.toml")  # keys every check may use
REFUSAL_MESSAGES = _load_messages("_refusals.toml")  # a whole delivery refused by the watcher (not a check)


def load_specs() -> dict[str, CheckSpec]:
    """All check specs shipped with guidang, keyed by ID."""
    specs: dict[str, CheckSpec] = {}
    folder = resources.files(__package__).joinpath("checks")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml") or entry.name.startswith("_"):
            continue
        for check_id, spec in _load_file(entry.name, tomllib.loads(entry.read_text("utf-8"))).items():
            if check_id in specs:
                raise ValueError(f"check {check_id} defined twice ({entry.name})")
            specs[check_id] = spec
    return specs
