"""Who may see which record (查阅利用): a viewer's clearance against a record's 密级 and 控制标识.

The rule is data (``access.toml``, sources cited there; the order of the 密级 is the DA/T 46 value domain's in
``packaging/domains.toml``, the one the web app's clearances use): each 密级 has a rank; a viewer sees a record when the
record's rank is at most the viewer's and its 控制标识 is open or one the viewer holds. The search index stores
the rank and the mark with each record, so the rule is applied in the query itself (a record the viewer may
not see is neither counted nor listed, and opening it by its 档号 answers as if it did not exist).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from guidang.errors import InputError
from guidang.packaging.domains import default_domains

RULES = Path(__file__).with_name("access.toml")


@dataclass(frozen=True)
class AccessRules:
    levels: dict[str, int]
    unknown_rank: int
    open_controls: frozenset[str]

    def rank(self, classification: str | None) -> int:
        """The rank of a 密级 as written (机密★10年 ranks as 机密); unknown or absent: the highest (fail closed)."""
        value = (classification or "").strip()
        if not value:
            return self.unknown_rank
        for level in sorted(self.levels, key=len, reverse=True):
            if value.startswith(level):
                return self.levels[level]
        return self.unknown_rank

    @property
    def top(self) -> int:
        return max(self.unknown_rank, *self.levels.values())


@cache
def rules() -> AccessRules:
    data: dict[str, Any] = tomllib.loads(RULES.read_text(encoding="utf-8"))
    order = default_domains()["密级"].values
    levels = {level: rank for rank, level in enumerate(order)}
    levels |= {str(alias): levels[str(level)] for alias, level in data["aliases"].items()}
    return AccessRules(levels=levels, unknown_rank=len(order) - 1,
                       open_controls=frozenset(str(c) for c in data["controls"]["open"]))


@dataclass(frozen=True)
class Viewer:
    """Who searches or views: a name for the audit log, the highest 密级 they are cleared for, the 控制标识 they
    hold, and whether they may see personal data (身份证号, 手机号, 银行卡号) unmasked."""

    name: str
    clearance: str = "公开"
    controls: frozenset[str] = field(default_factory=frozenset)
    personal_data: bool = False
    every_control: bool = False  # holds every 控制标识 (the local operator)

    @property
    def max_level(self) -> int:
        known = rules().levels
        if self.clearance not in known and self.clearance != "*":
            raise InputError(f"未知的密级“{self.clearance}”（可用：{'、'.join(known)}）",
                             f"unknown clearance {self.clearance!r} (one of {', '.join(known)})")
        return rules().top if self.clearance == "*" else known[self.clearance]

    @property
    def reach(self) -> frozenset[str] | None:
        """The 控制标识 of the records this viewer may see (None: every one)."""
        return None if self.every_control else rules().open_controls | self.controls


def operator(name: str) -> Viewer:
    """The local operator at the command line: cleared for every record, personal data included."""
    return Viewer(name=name, clearance="*", personal_data=True, every_control=True)


def may_see(viewer: Viewer, classification: str | None, control: str | None) -> bool:
    reach = viewer.reach
    return rules().rank(classification) <= viewer.max_level and (reach is None or (control or "") in reach)
