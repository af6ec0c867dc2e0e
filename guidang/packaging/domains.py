"""Value domains (值域) of DA/T 46 elements and the 档号 code tables, loaded from ``domains.toml``.

The lists are data, not code: a deployment adds local terms (e.g. 密级 内部) with
:meth:`Domains.extended` instead of editing this package. Closed domains are enforced by the
metadata model and the XSD; open ones (the standard lists "[其他]") are only reported.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from types import MappingProxyType


@dataclass(frozen=True)
class Domain:
    name: str
    values: tuple[str, ...]
    closed: bool

    def __contains__(self, value: object) -> bool:
        return value in self.values


@dataclass(frozen=True)
class Domains:
    """All value domains plus the code tables (code → term)."""

    domains: Mapping[str, Domain]
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Domain:
        return self.domains[name]

    def extended(self, extra: Mapping[str, list[str] | tuple[str, ...]]) -> Domains:
        """A copy with local terms appended to the named domains (unknown names create open domains)."""
        merged = dict(self.domains)
        for name, values in extra.items():
            old = merged.get(name, Domain(name, (), closed=False))
            added = tuple(v for v in values if v not in old.values)
            merged[name] = Domain(name, old.values + added, old.closed)
        return Domains(MappingProxyType(merged), self.codes)


@cache
def default_domains() -> Domains:
    raw = tomllib.loads(files("guidang.packaging").joinpath("domains.toml").read_text("utf-8"))
    codes = raw.pop("codes", {})
    domains = {name: Domain(name, tuple(spec["values"]), bool(spec.get("closed", False))) for name, spec in raw.items()}
    return Domains(
        MappingProxyType(domains),
        MappingProxyType({k: MappingProxyType(dict(v)) for k, v in codes.items()}),
    )


def retention_term(code: str, *, legacy: bool = True) -> str | None:
    """DA/T 46 term of a 保管期限 code: Y→永久, D30→定期30年, D<n>→定期<n>年 (C/D→长期/短期 if legacy)."""
    codes = default_domains().codes
    if code in codes["保管期限代码"]:
        return codes["保管期限代码"][code]
    if legacy and code in codes["保管期限代码_旧"]:
        return codes["保管期限代码_旧"][code]
    if code.startswith("D") and code[1:].isdigit() and code[1] != "0":
        return f"定期{code[1:]}年"
    return None


def retention_code(term: str, *, legacy: bool = True) -> str | None:
    """Inverse of :func:`retention_term`; also takes the DA/T 46-2009 spellings 30年 / 10年."""
    term = term.strip()
    codes = default_domains().codes
    tables = [codes["保管期限代码"], *([codes["保管期限代码_旧"]] if legacy else [])]
    for table in tables:
        for code, name in table.items():
            if name == term:
                return code
    for prefix in ("定期", ""):
        if term.startswith(prefix) and term.endswith("年"):
            years = term[len(prefix) : -1]
            if years.isdigit() and not years.startswith("0"):
                return f"D{years}"
    return None
