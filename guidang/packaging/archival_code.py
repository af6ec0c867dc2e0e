"""档号 (archival code): one engine that parses, validates, formats and allocates codes by rule.

A rule is a template of named parts: ``-`` separates levels, ``·`` (U+00B7) separates the parts
inside a level (DA/T 13-2022 5.x; STANDARDS §5). Each part has a regex, an optional zero-padded
width and an optional code table; all of it comes from configuration, with built-in defaults:

* ``dat22``: ``{全宗号}-{门类}·{年度}-{保管期限}-{机构?}-{件号}``, e.g. ``Z109-WS·2011-Y-BGS-0001``
* ``dat13``: ``{全宗号}-{门类}·{年度}·{保管期限}·{机构?}-{件号}``, e.g. ``Z109-WS·2011·Y·办公室-0001``
* ``dat13-volume``: ``{全宗号}-{门类}·{类目*}·{年度?}·{保管期限?}-{案卷号}-{件号}``,
  e.g. ``J019-ZY·JC·CC·2019·D30-001-001``
* ``dat13-catalogue``: ``{全宗号}-{目录号}-{案卷号}-{件号}``, e.g. ``C038-001-002-003``

Template suffixes: ``?`` optional part, ``*`` zero or more parts, ``+`` one or more (repeated parts are
joined by ``·``). When a code does not match, the diagnosis names the part that is wrong, what was
expected and what was found, in Chinese and English. Common look-alike separators (``.``, ``•``, ``・``,
full-width ``－``, …) and full-width letters/digits are accepted with a warning only where no part of the
rule could contain them, so the replacement can never change which part a character belongs to.

The last part of the template is the sequence part (件号, or 案卷号 in a volume-level rule): the prefix
before it is the lowest-level class, in which :func:`allocate` numbers without gaps or repeats.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from guidang.errors import ConfigError, InputError
from guidang.packaging.domains import default_domains, retention_term

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

LEVEL_SEP = "-"
PART_SEP = "·"  # U+00B7 MIDDLE DOT

PartValue = str | int | Sequence[str] | None  # None or "" = an absent optional part
PartValues = Mapping[str, PartValue]

Role = Literal["fonds", "catalogue", "category", "class", "year", "retention", "org", "volume", "item", "page"]

# Characters people type instead of the two separators; accepted (with a warning) only where safe.
_LOOKALIKES: dict[str, str] = {
    ".": PART_SEP,  # full stop
    "•": PART_SEP,  # U+2022 bullet
    "・": PART_SEP,  # U+30FB katakana middle dot (Chinese/Japanese IMEs)
    "･": PART_SEP,  # U+FF65 half-width katakana middle dot
    "‧": PART_SEP,  # U+2027 hyphenation point
    "∙": PART_SEP,  # U+2219 bullet operator
    "⋅": PART_SEP,  # U+22C5 dot operator
    "。": PART_SEP,  # U+3002 ideographic full stop
    "．": PART_SEP,  # U+FF0E full-width full stop
    "－": LEVEL_SEP,  # U+FF0D full-width hyphen-minus
    "‐": LEVEL_SEP,  # U+2010 hyphen
    "‑": LEVEL_SEP,  # U+2011 non-breaking hyphen
    "‒": LEVEL_SEP,  # U+2012 figure dash
    "–": LEVEL_SEP,  # U+2013 en dash
    "—": LEVEL_SEP,  # U+2014 em dash
    "−": LEVEL_SEP,  # U+2212 minus sign
    "_": LEVEL_SEP,
}
# Full-width Latin letters and digits (IME input) map to ASCII.
_LOOKALIKES.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)})
_LOOKALIKES.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)})

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10))}
_UNSAFE_IN_PATH = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


class PartSpec(BaseModel):
    """How one part of a 档号 looks: regex (full match), width, code table, typed role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name_en: str
    role: Role | None = None
    pattern: str = Field(description="regular expression the part must match in full")
    numeric: bool = False  # a number: formatted zero-padded to `width`, must be ≥ 1
    width: int | None = Field(default=None, ge=1, le=12)  # numeric parts: exact number of digits
    codes: dict[str, str] = Field(default_factory=dict)  # code → meaning (门类代码, 保管期限代码, 机构代码 …)
    closed: bool = False  # the value must be one of `codes`
    expected_zh: str = ""  # human description of the pattern for messages
    expected_en: str = ""

    @model_validator(mode="after")
    def _check(self) -> PartSpec:
        try:
            rx = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"invalid pattern {self.pattern!r}: {exc}") from exc
        for sep in (LEVEL_SEP, PART_SEP):
            if rx.fullmatch(sep):
                raise ValueError(f"pattern {self.pattern!r} may match the separator {sep!r}")
        if self.closed and not self.codes:
            raise ValueError("a closed part needs a code table")
        return self

    def describe(self) -> tuple[str, str]:
        if self.closed:
            listed = list(self.codes)
            return "、".join(listed) + " 之一", "one of " + ", ".join(listed)
        if self.numeric and self.width:
            return f"{self.width} 位数字", f"{self.width} digits"
        return (self.expected_zh or f"符合 {self.pattern}", self.expected_en or f"matching {self.pattern}")


class PartOverride(BaseModel):
    """A rule's changes to a built-in part (only the fields given are changed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name_en: str | None = None
    role: Role | None = None
    pattern: str | None = None
    numeric: bool | None = None
    width: int | None = Field(default=None, ge=1, le=12)
    codes: dict[str, str] | None = None
    closed: bool | None = None
    expected_zh: str | None = None
    expected_en: str | None = None


def _retention_codes(legacy: bool) -> dict[str, str]:
    codes = default_domains().codes
    return {**codes["保管期限代码"], **(codes["保管期限代码_旧"] if legacy else {})}


def _default_parts() -> dict[str, PartSpec]:
    return {
        "全宗号": PartSpec(
            name_en="fonds code",
            role="fonds",
            pattern=r"[A-Z][0-9]{3}",
            expected_zh="1 位大写字母加 3 位数字，如 Z109",
            expected_en="a capital letter and 3 digits, e.g. Z109",
        ),
        "目录号": PartSpec(name_en="catalogue number", role="catalogue", pattern=r"[0-9]+", numeric=True, width=3),
        "门类": PartSpec(
            name_en="category code",
            role="category",
            pattern=r"[A-Z]{2}",
            codes=dict(default_domains().codes["档案门类代码"]),
            closed=True,
        ),
        "类目": PartSpec(
            name_en="class code",
            role="class",
            # Not a 4-digit number or a retention code, so that 年度/保管期限 after it stay unambiguous.
            pattern=r"(?!(?:[0-9]{4}|Y|C|D[0-9]*)(?:[·-]|$))[A-Z0-9]{1,4}",
            expected_zh="1–4 位大写字母或数字（不能是 4 位数字或保管期限代码）",
            expected_en="1-4 capital letters or digits (not 4 digits, not a retention code)",
        ),
        "年度": PartSpec(
            name_en="year",
            role="year",
            pattern=r"(1[0-9]|20)[0-9]{2}",
            expected_zh="4 位年度，如 2011",
            expected_en="a 4-digit year, e.g. 2011",
        ),
        "保管期限": PartSpec(
            name_en="retention code",
            role="retention",
            pattern=r"Y|C|D(?:[1-9][0-9]{0,2})?",
            codes=_retention_codes(legacy=False),
            closed=True,
        ),
        "机构": PartSpec(
            name_en="organisation/subject code",
            role="org",
            pattern=r"[A-Z0-9]{1,10}|[\u4e00-\u9fff]{1,16}",
            expected_zh="大写拼音字母或数字（最多 10 位），或汉字（最多 16 个）",
            expected_en="capital letters or digits (up to 10), or Chinese characters (up to 16)",
        ),
        "项目号": PartSpec(
            name_en="project number",
            role="class",
            pattern=r"[A-Z0-9]{1,12}",
            expected_zh="大写字母或数字",
            expected_en="capital letters or digits",
        ),
        "案卷号": PartSpec(name_en="volume number", role="volume", pattern=r"[0-9]+", numeric=True, width=3),
        "件号": PartSpec(name_en="item number", role="item", pattern=r"[0-9]+", numeric=True, width=4),
        "页号": PartSpec(name_en="page number", role="page", pattern=r"[0-9]+", numeric=True, width=3),
    }


@dataclass(frozen=True)
class _Slot:
    name: str
    spec: PartSpec
    min: int  # 0 or 1
    repeat: bool  # may occur more than once (joined by ·)


_TEMPLATE_TOKEN = re.compile(r"\{([^{}?*+]+)([?*+]?)\}")


class ArchivalCodeRule(BaseModel):
    """A configurable 档号 rule: template + part specs (+ which built-in rule it starts from)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""  # configured rules take the name they are configured under (see get_rule)
    description: str = ""
    template: str
    parts: dict[str, PartOverride] = Field(default_factory=dict)
    legacy_retention: bool = False  # accept 保管期限 C (长期) / D (短期) on digitised legacy paper
    accept_lookalikes: bool = True
    _levels: tuple[tuple[_Slot, ...], ...] = PrivateAttr()
    _regex: re.Pattern[str] = PrivateAttr()
    _lookalikes: dict[int, str] = PrivateAttr()  # str.translate table
    _slots: tuple[_Slot, ...] = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _from_base(cls, data: object) -> object:
        """``base = "dat22"`` in configuration copies that rule's template and parts before overrides."""
        if isinstance(data, dict) and data.get("base"):
            data = dict(data)
            base = builtin_rule(str(data.pop("base")))
            data.setdefault("template", base.template)
            data.setdefault("legacy_retention", base.legacy_retention)
            parts = {k: v.model_dump(exclude_unset=True) for k, v in base.parts.items()}
            for k, v in dict(data.get("parts") or {}).items():
                given = v.model_dump(exclude_unset=True) if isinstance(v, PartOverride) else dict(v)
                parts[k] = {**parts.get(k, {}), **given}
            data["parts"] = parts
        return data

    def model_post_init(self, context: object, /) -> None:
        library = _default_parts()
        if self.legacy_retention:
            library["保管期限"] = library["保管期限"].model_copy(update={"codes": _retention_codes(legacy=True)})
        specs: dict[str, PartSpec] = {}
        for name, override in self.parts.items():
            base = library.get(name)
            update = override.model_dump(exclude_unset=True)
            try:
                specs[name] = (
                    PartSpec.model_validate({**base.model_dump(), **update})
                    if base
                    else PartSpec.model_validate(update)
                )
            except ValueError as exc:
                raise ValueError(
                    f"档号规则 {self.name}: 部分“{name}”配置无效 / part {name!r} is invalid: {exc}"
                ) from exc
        levels: list[tuple[_Slot, ...]] = []
        for level_text in self.template.split(LEVEL_SEP):
            slots: list[_Slot] = []
            for part_text in level_text.split(PART_SEP):
                m = _TEMPLATE_TOKEN.fullmatch(part_text.strip())
                if not m:
                    raise ValueError(f"档号规则 {self.name}: 模板无法解析 / template not understood near {part_text!r}")
                name, mod = m.group(1), m.group(2)
                spec = specs.get(name) or library.get(name)
                if spec is None:
                    raise ValueError(f"档号规则 {self.name}: 未定义的部分 / undefined part {name!r}")
                slots.append(_Slot(name, spec, 0 if mod in ("?", "*") else 1, mod in ("*", "+")))
            if any(s.min == 0 for s in slots[:1]) and len(slots) > 1:
                raise ValueError(f"档号规则 {self.name}: 层级首部分不能可选 / first part of a level cannot be optional")
            levels.append(tuple(slots))
        names = [s.name for lvl in levels for s in lvl]
        if len(set(names)) != len(names):
            raise ValueError(f"档号规则 {self.name}: 部分重复 / a part appears twice")
        if levels[0][0].min == 0 or levels[-1][-1].min == 0 or levels[-1][-1].repeat:
            raise ValueError(f"档号规则 {self.name}: 首尾部分必须必选 / first and last parts must be required")
        if len(levels[-1]) != 1 or not levels[-1][0].spec.numeric:
            raise ValueError(f"档号规则 {self.name}: 末级须为单独的数字部分 / last level must be one numeric part")
        self._levels = tuple(levels)
        self._regex = _compile(self._levels)
        self._slots = tuple(s for lvl in self._levels for s in lvl)
        self._lookalikes = {
            ord(ch): rep
            for ch, rep in _LOOKALIKES.items()
            if self.accept_lookalikes and not any(_may_contain(s.spec.pattern, ch) for s in self.slots)
        }

    # -- introspection -------------------------------------------------------------------------------
    @property
    def slots(self) -> tuple[_Slot, ...]:
        return self._slots

    @property
    def part_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.slots)

    @property
    def sequence_part(self) -> str:
        """The part numbered by :func:`allocate` (the last one: 件号, or 案卷号 in a volume rule)."""
        return self._levels[-1][0].name

    def spec(self, name: str) -> PartSpec:
        for s in self.slots:
            if s.name == name:
                return s.spec
        raise KeyError(name)

    def shape(self) -> str:
        """The template as people read it, e.g. ``全宗号-门类·年度-保管期限-[机构]-件号``."""

        def one(s: _Slot) -> str:
            text = f"{s.name}{'…' if s.repeat else ''}"
            return f"[{text}]" if s.min == 0 else text

        return LEVEL_SEP.join(PART_SEP.join(one(s) for s in lvl) for lvl in self._levels)


_BRACKET = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_WILDCARDS = re.compile(r"(?<!\\)\.|\\[SWDPp]|\[\^")


def _may_contain(pattern: str, ch: str) -> bool:
    """Whether a part pattern could match a value containing ``ch`` (conservative: wildcards say yes)."""
    if re.fullmatch(pattern, ch) or ch in pattern or re.escape(ch) in pattern or _WILDCARDS.search(pattern):
        return True
    return any(re.fullmatch(bracket, ch) for bracket in _BRACKET.findall(pattern))


def _compile(levels: tuple[tuple[_Slot, ...], ...]) -> re.Pattern[str]:
    """One regex for the whole rule; group ``g<i>`` is the i-th slot. Repeats are lazy, options greedy."""
    pieces: list[str] = []
    first = True
    i_slot = 0
    for lvl in levels:
        for i, slot in enumerate(lvl):
            sep = "" if first else re.escape(LEVEL_SEP if i == 0 else PART_SEP)
            first = False
            group = f"g{i_slot}"
            i_slot += 1
            pat = f"(?:{slot.spec.pattern})"
            body = f"{pat}(?:{re.escape(PART_SEP)}{pat})*?" if slot.repeat else pat
            piece = f"{sep}(?P<{group}>{body})"
            if slot.min == 0:
                piece = f"(?:{piece})??" if slot.repeat else f"(?:{piece})?"
            pieces.append(piece)
    return re.compile("".join(pieces))


def _builtin_rules() -> dict[str, ArchivalCodeRule]:
    return {
        "dat22": ArchivalCodeRule(
            name="dat22",
            description="DA/T 22-2015 文书按件：全宗号-门类代码·年度-保管期限代码-机构（问题）代码-件号",
            template="{全宗号}-{门类}·{年度}-{保管期限}-{机构?}-{件号}",
        ),
        "dat13": ArchivalCodeRule(
            name="dat13",
            description="DA/T 13-2022 按件：全宗号-门类·年度·保管期限·机构（问题）-件号",
            template="{全宗号}-{门类}·{年度}·{保管期限}·{机构?}-{件号}",
        ),
        "dat13-volume": ArchivalCodeRule(
            name="dat13-volume",
            description="DA/T 13-2022 按卷：全宗号-类别号-案卷号-件号",
            template="{全宗号}-{门类}·{类目*}·{年度?}·{保管期限?}-{案卷号}-{件号}",
            parts={"件号": PartOverride(width=3)},
        ),
        "dat13-catalogue": ArchivalCodeRule(
            name="dat13-catalogue",
            description="DA/T 13 按卷（含目录号）：全宗号-目录号-案卷号-件号",
            template="{全宗号}-{目录号}-{案卷号}-{件号}",
            parts={"件号": PartOverride(width=3)},
        ),
    }


BUILTIN_RULES: Mapping[str, ArchivalCodeRule] = MappingProxyType(_builtin_rules())


def builtin_rule(name: str) -> ArchivalCodeRule:
    try:
        return BUILTIN_RULES[name]
    except KeyError:
        raise ConfigError(
            f"没有名为“{name}”的内置档号规则；已有：{'、'.join(BUILTIN_RULES)}",
            f"no built-in archival code rule {name!r}; known: {', '.join(BUILTIN_RULES)}",
        ) from None


def get_rule(name: str, configured: Mapping[str, ArchivalCodeRule] | None = None) -> ArchivalCodeRule:
    """The rule a profile names: a configured one first (named after its key), else a built-in."""
    if configured and name in configured:
        rule = configured[name]
        return rule if rule.name == name else rule.model_copy(update={"name": name})
    return builtin_rule(name)


def volume_rule(rule: ArchivalCodeRule) -> ArchivalCodeRule | None:
    """The rule of a volume's (案卷) own 档号 under a by-volume rule: the template without its last
    level (件号), so 案卷号 is the sequence part (``全宗号-目录号-案卷号`` under ``dat13-catalogue``).
    None when the rule numbers no volumes (``dat22``, ``dat13``: by item, DA/T 22)."""
    if len(rule._levels) < 2 or rule._levels[-2][-1].spec.role != "volume":
        return None
    kept = LEVEL_SEP.join(rule.template.split(LEVEL_SEP)[:-1])
    dropped = rule._levels[-1][0].name
    parts = {k: v for k, v in rule.parts.items() if k != dropped}
    return ArchivalCodeRule(name=f"{rule.name}/案卷", description=f"{rule.description}（案卷级）", template=kept,
                            parts=parts, legacy_retention=rule.legacy_retention,
                            accept_lookalikes=rule.accept_lookalikes)


def document_code(volume_code: str, number: int, rule: ArchivalCodeRule) -> ArchivalCode:
    """The 档号 of the ``number``-th document (件号) of a volume under a by-volume ``rule``;
    raises :class:`ArchivalCodeError` when the volume's 档号 does not fit or the number is out of range."""
    seq = rule.slots[-1]
    issues: list[ArchivalCodeIssue] = []
    text = _format_number(number, seq, issues)
    if issues:
        raise ArchivalCodeError(f"{volume_code}{LEVEL_SEP}{number}", issues)
    return parse(f"{volume_code}{LEVEL_SEP}{text}", rule)


# -- issues and errors ------------------------------------------------------------------------------


class IssueKind(StrEnum):
    EMPTY = "empty"
    WHITESPACE = "whitespace"
    LOOKALIKE = "lookalike"
    LEVEL_COUNT = "level_count"
    PART_COUNT = "part_count"
    PATTERN = "pattern"
    WIDTH = "width"
    UNKNOWN_CODE = "unknown_code"
    RANGE = "range"
    MISSING_PART = "missing_part"
    UNKNOWN_PART = "unknown_part"
    UNSAFE_PATH = "unsafe_path"


_KIND_TEXT: dict[IssueKind, tuple[str, str]] = {
    IssueKind.EMPTY: ("档号为空", "the archival code is empty"),
    IssueKind.WHITESPACE: ("档号首尾有空白，已去除", "leading/trailing whitespace removed"),
    IssueKind.LOOKALIKE: (
        "使用了形近字符，已按标准字符读取",
        "look-alike character read as the standard one",
    ),
    IssueKind.LEVEL_COUNT: ("“-”分隔的层级数不符", "wrong number of '-' separated levels"),
    IssueKind.PART_COUNT: (
        "该层级内“·”分隔的组成部分数不符",
        "wrong number of '·' separated parts in the level",
    ),
    IssueKind.PATTERN: ("格式不符", "wrong form"),
    IssueKind.WIDTH: ("位数不符", "wrong number of digits"),
    IssueKind.UNKNOWN_CODE: ("代码不在代码表中", "code not in the code table"),
    IssueKind.RANGE: ("编号须从 1 起", "numbers start at 1"),
    IssueKind.MISSING_PART: ("缺少组成部分", "part missing"),
    IssueKind.UNKNOWN_PART: ("规则中没有该组成部分", "the rule has no such part"),
    IssueKind.UNSAFE_PATH: ("不能用作文件夹名", "not usable as a folder name"),
}


@dataclass(frozen=True)
class ArchivalCodeIssue:
    """One problem with a 档号: which part, what was expected, what was found."""

    kind: IssueKind
    part: str  # Chinese part name (全宗号, 件号 …), a level label (门类·年度) or 档号 for the whole
    expected: str
    found: str
    part_en: str = ""
    expected_en: str = ""
    severity: Literal["error", "warning"] = "error"

    @property
    def zh(self) -> str:
        what = _KIND_TEXT[self.kind][0]
        where = "" if self.part == "档号" else f"“{self.part}”部分"
        return f"档号{where}{what}：应为 {self.expected}，实为“{self.found}”"

    @property
    def en(self) -> str:
        what = _KIND_TEXT[self.kind][1]
        where = "" if self.part == "档号" else f", {self.part_en or self.part} ({self.part})"
        expected = self.expected_en or self.expected
        return f"archival code{where}: {what}: expected {expected}, found {self.found!r}"


class ArchivalCodeError(InputError):
    """A 档号 that does not fit its rule; ``issues`` lists every problem, errors first."""

    code = "ARCHIVAL_CODE"

    def __init__(self, code: str, issues: Sequence[ArchivalCodeIssue]) -> None:
        self.archival_code = code
        self.issues = tuple(sorted(issues, key=lambda i: i.severity != "error"))
        first = self.issues[0]
        more_zh = f"（另有 {len(self.issues) - 1} 处问题）" if len(self.issues) > 1 else ""
        more_en = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(
            f"档号“{code}”无效：{first.zh}{more_zh}", f"invalid archival code {code!r}: {first.en}{more_en}"
        )

    @property
    def part(self) -> str:
        return self.issues[0].part


# -- the parsed code --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchivalCode:
    """A 档号 that fits its rule. ``text`` is the canonical form (standard separators)."""

    text: str
    rule: ArchivalCodeRule = field(repr=False, compare=False)
    parts: Mapping[str, str]  # part name → value as written, in template order; absent optional parts omitted
    levels: tuple[str, ...] = field(repr=False)

    def __str__(self) -> str:
        return self.text

    def part_for(self, role: Role) -> str | None:
        """The value of the part that plays ``role`` (as written, e.g. "001"), None when absent."""
        for s in self.rule.slots:
            if s.spec.role == role and s.name in self.parts:
                return self.parts[s.name]
        return None

    def _number(self, role: Role) -> int | None:
        value = self.part_for(role)
        return int(value) if value is not None and value.isdigit() else None

    @property
    def fonds(self) -> str | None:
        return self.part_for("fonds")

    @property
    def category(self) -> str | None:
        return self.part_for("category")

    @property
    def class_codes(self) -> tuple[str, ...]:
        """Further class codes (类目, 项目号) below the category, split on ·."""
        return tuple(
            v
            for s in self.rule.slots
            if s.spec.role == "class" and s.name in self.parts
            for v in self.parts[s.name].split(PART_SEP)
        )

    @property
    def year(self) -> int | None:
        return self._number("year")

    @property
    def retention(self) -> str | None:
        return self.part_for("retention")

    @property
    def retention_term(self) -> str | None:
        """DA/T 46 term: Y→永久, D30→定期30年, D10→定期10年 (C/D→长期/短期 for legacy rules)."""
        code = self.retention
        return None if code is None else retention_term(code, legacy=self.rule.legacy_retention)

    @property
    def org(self) -> str | None:
        return self.part_for("org")

    @property
    def catalogue(self) -> int | None:
        return self._number("catalogue")

    @property
    def volume(self) -> int | None:
        return self._number("volume")

    @property
    def item(self) -> int | None:
        return self._number("item")

    @property
    def sequence(self) -> int:
        return int(self.parts[self.rule.sequence_part])

    @property
    def prefix(self) -> str:
        """Everything but the sequence part: the lowest-level class the numbering runs in."""
        return LEVEL_SEP.join(self.levels[:-1])

    def path_segments(self) -> tuple[str, ...]:
        """Folder levels for the store layout: one per 档号 level above the item (DA/T 92 8.2.1)."""
        return self.levels[:-1]


# -- parsing and validation -------------------------------------------------------------------------


def _issue(
    kind: IssueKind,
    part: str,
    exp: tuple[str, str],
    found: str,
    part_en: str = "",
    severity: Literal["error", "warning"] = "error",
) -> ArchivalCodeIssue:
    return ArchivalCodeIssue(kind, part, exp[0], found, part_en or part, exp[1], severity)


def _normalise(code: str, rule: ArchivalCodeRule) -> tuple[str, list[ArchivalCodeIssue]]:
    issues: list[ArchivalCodeIssue] = []
    stripped = code.strip()
    if stripped != code:
        issues.append(
            _issue(
                IssueKind.WHITESPACE,
                "档号",
                ("无首尾空白", "no surrounding whitespace"),
                code,
                "archival code",
                "warning",
            )
        )
    lookalikes = rule._lookalikes
    text = stripped.translate(lookalikes)
    if text == stripped:
        return text, issues
    for ch in dict.fromkeys(c for c in stripped if ord(c) in lookalikes):
        rep = lookalikes[ord(ch)]
        issues.append(
            _issue(
                IssueKind.LOOKALIKE,
                "档号",
                (f"“{rep}”(U+{ord(rep):04X})", f"{rep!r} (U+{ord(rep):04X})"),
                f"{ch} (U+{ord(ch):04X})",
                "archival code",
                "warning",
            )
        )
    return text, issues


def _align(
    tokens: Sequence[str], slots: Sequence[_Slot], ok: Callable[[str, _Slot], bool]
) -> list[tuple[_Slot, str]] | None:
    """Best assignment of tokens to slots (each slot takes min..1 or min..n tokens), most matches first."""
    n = len(tokens)
    ranges = [range(s.min, (n if s.repeat else 1) + 1) for s in slots]
    best: tuple[int, list[tuple[_Slot, str]]] | None = None
    for counts in itertools.product(*ranges):
        if sum(counts) != n:
            continue
        pos, assigned = 0, []
        for slot, c in zip(slots, counts, strict=True):
            if c:
                assigned.append((slot, PART_SEP.join(tokens[pos : pos + c])))
            pos += c
        score = sum(all(ok(piece, slot) for piece in value.split(PART_SEP)) for slot, value in assigned)
        if best is None or score > best[0]:
            best = (score, assigned)
    return None if best is None else best[1]


def _part_ok(value: str, slot: _Slot) -> bool:
    return re.fullmatch(slot.spec.pattern, value) is not None


def _check_value(slot: _Slot, value: str) -> list[ArchivalCodeIssue]:
    spec = slot.spec
    out: list[ArchivalCodeIssue] = []
    for piece in value.split(PART_SEP) if slot.repeat else [value]:
        if re.fullmatch(spec.pattern, piece) is None:
            kind = IssueKind.WIDTH if spec.numeric and piece.isdigit() and piece.isascii() else IssueKind.PATTERN
            out.append(_issue(kind, slot.name, spec.describe(), piece, spec.name_en))
            continue
        if spec.numeric and spec.width and len(piece) != spec.width:
            out.append(_issue(IssueKind.WIDTH, slot.name, spec.describe(), piece, spec.name_en))
        elif spec.numeric and int(piece) == 0:
            out.append(
                _issue(
                    IssueKind.RANGE,
                    slot.name,
                    ("不小于 1 的编号", "a number of at least 1"),
                    piece,
                    spec.name_en,
                )
            )
        elif spec.closed and piece not in spec.codes:
            out.append(_issue(IssueKind.UNKNOWN_CODE, slot.name, spec.describe(), piece, spec.name_en))
    return out


def _level_label(slots: Iterable[_Slot]) -> tuple[str, str]:
    slots = list(slots)
    return PART_SEP.join(s.name for s in slots), PART_SEP.join(s.spec.name_en for s in slots)


def _diagnose(text: str, rule: ArchivalCodeRule) -> list[ArchivalCodeIssue]:
    """Why ``text`` does not match: level count, then part count per level, then each part."""
    levels = text.split(LEVEL_SEP)

    # Treat each level as a pseudo-slot so optional levels (a lone optional part) align like parts.
    level_slots = [
        _Slot(_level_label(lvl)[0], lvl[0].spec, 0 if len(lvl) == 1 and lvl[0].min == 0 else 1, False)
        for lvl in rule._levels
    ]
    by_label = {ls.name: lvl for ls, lvl in zip(level_slots, rule._levels, strict=True)}

    def level_matches(value: str, ls: _Slot) -> bool:
        return _match_level(value, by_label[ls.name]) is not None

    n_min = sum(ls.min for ls in level_slots)
    if not n_min <= len(levels) <= len(level_slots):
        expected = rule.shape()
        return [
            _issue(
                IssueKind.LEVEL_COUNT,
                "档号",
                (
                    f"{n_min}–{len(level_slots)} 级：{expected}"
                    if n_min != len(level_slots)
                    else f"{n_min} 级：{expected}",
                    f"{n_min}-{len(level_slots)} levels: {expected}"
                    if n_min != len(level_slots)
                    else f"{n_min} levels: {expected}",
                ),
                text,
                "archival code",
            )
        ]
    # Levels are separated by "-" which no part contains, so whole levels align without ambiguity
    # except for optional levels; _align with level-level matching picks the best fit.
    aligned = _align_levels(levels, level_slots, level_matches)
    issues: list[ArchivalCodeIssue] = []
    for ls, value in aligned:
        issues.extend(_diagnose_level(value, by_label[ls.name]))
    return issues


def _align_levels(
    levels: Sequence[str], level_slots: Sequence[_Slot], matches: Callable[[str, _Slot], bool]
) -> list[tuple[_Slot, str]]:
    n = len(levels)
    best: tuple[int, list[tuple[_Slot, str]]] | None = None
    for present in itertools.product(*[(True,) if ls.min else (False, True) for ls in level_slots]):
        if sum(present) != n:
            continue
        chosen = [ls for ls, p in zip(level_slots, present, strict=True) if p]
        pairs = list(zip(chosen, levels, strict=True))
        score = sum(matches(v, ls) for ls, v in pairs)
        if best is None or score > best[0]:
            best = (score, pairs)
    assert best is not None  # the level count was checked by the caller
    return best[1]


def _match_level(value: str, slots: Sequence[_Slot]) -> list[tuple[_Slot, str]] | None:
    tokens = value.split(PART_SEP)
    aligned = _align(tokens, slots, _part_ok)
    if aligned is None:
        return None
    if all(all(_part_ok(p, s) for p in v.split(PART_SEP)) for s, v in aligned):
        return aligned
    return None


def _diagnose_level(value: str, slots: Sequence[_Slot]) -> list[ArchivalCodeIssue]:
    tokens = value.split(PART_SEP)
    n_min = sum(s.min for s in slots)
    n_max = None if any(s.repeat for s in slots) else len(slots)
    if len(tokens) < n_min or (n_max is not None and len(tokens) > n_max):
        zh_label, en_label = _level_label(slots)
        shape = PART_SEP.join(f"[{s.name}]" if s.min == 0 else s.name for s in slots)
        count = f"{n_min}" if n_max == n_min else f"{n_min}–{n_max if n_max is not None else 'n'}"
        return [
            _issue(
                IssueKind.PART_COUNT,
                zh_label,
                (f"{count} 部分：{shape}", f"{count} parts: {shape}"),
                value,
                en_label,
            )
        ]
    aligned = _align(tokens, slots, _part_ok)
    assert aligned is not None  # token count within bounds
    issues: list[ArchivalCodeIssue] = []
    for slot, v in aligned:
        issues.extend(_check_value(slot, v))
    return issues


def _unsafe_segments(segments: Iterable[str]) -> list[ArchivalCodeIssue]:
    out = []
    for seg in segments:
        if (
            _UNSAFE_IN_PATH.search(seg)
            or seg in (".", "..")
            or seg.endswith((".", " "))
            or seg.split(".")[0].upper() in _WINDOWS_RESERVED
        ):
            out.append(
                _issue(
                    IssueKind.UNSAFE_PATH,
                    "档号",
                    ("可作文件夹名的层级", "levels usable as folder names"),
                    seg,
                    "archival code",
                )
            )
    return out


def _parse(code: str, rule: ArchivalCodeRule) -> tuple[ArchivalCode | None, list[ArchivalCodeIssue]]:
    if not code.strip():
        return None, [_issue(IssueKind.EMPTY, "档号", (rule.shape(), rule.shape()), code, "archival code")]
    text, issues = _normalise(code, rule)
    m = rule._regex.fullmatch(text)
    if m is None:
        return None, issues + _diagnose(text, rule)
    parts: dict[str, str] = {}
    for i, slot in enumerate(rule.slots):
        value = m.group(f"g{i}")
        if value is not None:
            parts[slot.name] = value
    errors = [i for s in rule.slots if s.name in parts for i in _check_value(s, parts[s.name])]
    levels = tuple(text.split(LEVEL_SEP))
    errors += _unsafe_segments(levels)
    if errors:
        return None, issues + errors
    return ArchivalCode(text, rule, MappingProxyType(parts), levels), issues


def validate(code: str, rule: ArchivalCodeRule) -> list[ArchivalCodeIssue]:
    """Every problem with ``code`` under ``rule`` (errors and warnings); empty when it is canonical."""
    return _parse(code, rule)[1]


def parse(code: str, rule: ArchivalCodeRule) -> ArchivalCode:
    """Parse a 档号; raise :class:`ArchivalCodeError` naming the wrong part. Warnings are not errors."""
    result, issues = _parse(code, rule)
    if result is None:
        raise ArchivalCodeError(code, issues)
    return result


def format(parts: PartValues, rule: ArchivalCodeRule) -> str:
    """Build the canonical 档号 from part values (numbers are zero-padded; repeated parts may be lists)."""
    return build(parts, rule).text


def _format_number(value: int, slot: _Slot, issues: list[ArchivalCodeIssue]) -> str:
    if not slot.spec.numeric or not slot.spec.width:
        return str(value)
    top = 10**slot.spec.width - 1
    if not 1 <= value <= top:
        issues.append(_issue(IssueKind.RANGE, slot.name, (f"1–{top}", f"1-{top}"), str(value), slot.spec.name_en))
    return str(value).zfill(slot.spec.width)


def build(parts: PartValues, rule: ArchivalCodeRule) -> ArchivalCode:
    """Like :func:`format` but returns the parsed :class:`ArchivalCode`."""
    issues: list[ArchivalCodeIssue] = []
    for name in parts:
        if name not in rule.part_names:
            issues.append(
                _issue(
                    IssueKind.UNKNOWN_PART,
                    name,
                    ("、".join(rule.part_names), ", ".join(rule.part_names)),
                    name,
                )
            )
    values: dict[str, str] = {}
    for slot in rule.slots:
        raw = parts.get(slot.name)
        if raw is None or raw == "" or (isinstance(raw, Sequence) and not isinstance(raw, str) and not raw):
            if slot.min:
                issues.append(_issue(IssueKind.MISSING_PART, slot.name, ("必填", "required"), "", slot.spec.name_en))
            continue
        if isinstance(raw, str):
            values[slot.name] = raw
        elif isinstance(raw, int):
            values[slot.name] = _format_number(raw, slot, issues)
        else:
            values[slot.name] = PART_SEP.join(str(v) for v in raw)
    if issues:
        raise ArchivalCodeError(" ".join(f"{k}={v}" for k, v in parts.items()), issues)
    levels = []
    for lvl in rule._levels:
        present = [values[s.name] for s in lvl if s.name in values]
        if present:
            levels.append(PART_SEP.join(present))
    return parse(LEVEL_SEP.join(levels), rule)


def allocate(
    rule: ArchivalCodeRule,
    parts: PartValues,
    bind: Engine | Connection | Session,
) -> ArchivalCode:
    """Give the next 档号 in the class ``parts`` names (every part but the sequence part).

    Numbers run without gaps or repeats per prefix, also under concurrent allocation from several
    processes (see :mod:`guidang.storage.sequence`). With an Engine the number is committed at once;
    with a Connection or Session it belongs to the caller's transaction (commit it with the record so
    a failed insert leaves no gap).
    """
    from guidang.storage.sequence import next_value

    seq = rule.sequence_part
    if seq in parts:
        raise ArchivalCodeError(
            str(parts[seq]),
            [
                _issue(
                    IssueKind.UNKNOWN_PART,
                    seq,
                    ("由系统分配，不应给出", "allocated, must not be given"),
                    str(parts[seq]),
                    rule.spec(seq).name_en,
                )
            ],
        )
    probe = build({**parts, seq: 1}, rule)
    width = rule.spec(seq).width or 9
    n = next_value(bind, probe.prefix, limit=10**width - 1)
    return build({**parts, seq: n}, rule)
