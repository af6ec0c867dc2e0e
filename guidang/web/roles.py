"""Roles and permissions, read from ``roles.toml`` (data, Chinese first with English)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType


@dataclass(frozen=True)
class Role:
    name: str
    zh: str
    en: str
    permissions: frozenset[str]

    def label(self, language: str = "zh") -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True)
class RoleTable:
    permissions: Mapping[str, tuple[str, str]]  # permission -> (zh, en)
    roles: Mapping[str, Role]

    def granted(self, roles: Iterable[str]) -> frozenset[str]:
        """The permissions the roles give together (an unknown role gives none)."""
        out: set[str] = set()
        for name in roles:
            role = self.roles.get(name)
            if role is not None:
                out |= role.permissions
        return frozenset(out)


@cache
def role_table() -> RoleTable:
    data = tomllib.loads(files("guidang.web").joinpath("roles.toml").read_text("utf-8"))
    permissions = {name: (str(zh), str(en)) for name, (zh, en) in data["permissions"].items()}
    roles = {}
    for name, spec in data["roles"].items():
        unknown = set(spec["permissions"]) - set(permissions)
        if unknown:
            raise ValueError(f"roles.toml: role {name} names unknown permissions {sorted(unknown)}")
        roles[name] = Role(name, spec["zh"], spec["en"], frozenset(spec["permissions"]))
    return RoleTable(MappingProxyType(permissions), MappingProxyType(roles))
