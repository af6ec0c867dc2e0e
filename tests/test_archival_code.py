"""档号 engine: built-in forms, configured rules, every issue kind, formatting round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from guidang.config import load_settings
from guidang.errors import ConfigError, ExitCode, GuidangError, InputError
from guidang.packaging import archival_code as ac
from guidang.packaging.archival_code import (
    ArchivalCodeError,
    ArchivalCodeRule,
    IssueKind,
    PartValue,
    builtin_rule,
    get_rule,
    parse,
    validate,
)

DAT22 = builtin_rule("dat22")
DAT13 = builtin_rule("dat13")
VOLUME = builtin_rule("dat13-volume")


# -- the forms in use -------------------------------------------------------------------------------


def test_dat22_example_parts_and_typed_fields() -> None:
    code = parse("Z109-WS·2011-Y-BGS-0001", DAT22)
    assert dict(code.parts) == {
        "全宗号": "Z109", "门类": "WS", "年度": "2011", "保管期限": "Y", "机构": "BGS", "件号": "0001",
    }  # fmt: skip
    assert (code.fonds, code.category, code.year, code.retention, code.org, code.item) == (
        "Z109", "WS", 2011, "Y", "BGS", 1,
    )  # fmt: skip
    assert code.retention_term == "永久"
    assert code.volume is None
    assert code.prefix == "Z109-WS·2011-Y-BGS"
    assert code.path_segments() == ("Z109", "WS·2011", "Y", "BGS")
    assert str(code) == "Z109-WS·2011-Y-BGS-0001"
    assert validate("Z109-WS·2011-Y-BGS-0001", DAT22) == []


def test_dat22_without_org_level() -> None:
    code = parse("Z109-WS·2011-D30-0001", DAT22)
    assert code.org is None
    assert code.retention_term == "定期30年"
    assert code.prefix == "Z109-WS·2011-D30"


def test_dat13_example() -> None:
    code = parse("Z109-WS·2011·Y·办公室-0001", DAT13)
    assert (code.fonds, code.category, code.year, code.retention, code.org, code.item) == (
        "Z109", "WS", 2011, "Y", "办公室", 1,
    )  # fmt: skip
    assert code.prefix == "Z109-WS·2011·Y·办公室"
    assert code.path_segments() == ("Z109", "WS·2011·Y·办公室")
    assert parse("Z008-WS·2019·D10-0037", DAT13).retention_term == "定期10年"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "J019-ZY·JC·CC·2019·D30-001-001",
            {"门类": "ZY", "类目": "JC·CC", "年度": "2019", "保管期限": "D30"},
        ),
        ("J019-KU·01·2017-001-001", {"门类": "KU", "类目": "01", "年度": "2017"}),
        ("A002-RS-001-002", {"门类": "RS"}),
        ("X032-KJ·JJ·02-005-054", {"门类": "KJ", "类目": "JJ·02"}),
        ("K021-ZP·2019·D30-025-005", {"门类": "ZP", "年度": "2019", "保管期限": "D30"}),
    ],
)
def test_by_volume_examples_of_dat13(text: str, expected: dict[str, str]) -> None:
    code = parse(text, VOLUME)
    class_level = {k: v for k, v in code.parts.items() if k not in ("全宗号", "案卷号", "件号")}
    assert class_level == expected
    assert code.text == text
    fonds, _, volume, item = text.split("-")
    assert (code.fonds, code.volume, code.item) == (fonds, int(volume), int(item))
    assert code.prefix == text.rsplit("-", 1)[0]
    assert code.path_segments()[-1] == volume  # the volume is a folder; items sit in it


def test_by_volume_class_codes_and_catalogue_form() -> None:
    assert parse("J019-ZY·JC·CC·2019·D30-001-001", VOLUME).class_codes == ("JC", "CC")
    code = parse("C038-001-002-003", builtin_rule("dat13-catalogue"))
    assert (code.fonds, code.catalogue, code.volume, code.item) == ("C038", 1, 2, 3)


def test_format_pads_numbers_and_joins_repeated_parts() -> None:
    parts: dict[str, PartValue] = {
        "全宗号": "Z109",
        "门类": "WS",
        "年度": 2011,
        "保管期限": "Y",
        "机构": "BGS",
        "件号": 7,
    }
    assert ac.format(parts, DAT22) == "Z109-WS·2011-Y-BGS-0007"
    assert ac.format({**parts, "机构": None}, DAT22) == "Z109-WS·2011-Y-0007"
    assert ac.format({**parts, "机构": "办公室"}, DAT13) == "Z109-WS·2011·Y·办公室-0007"
    volume: dict[str, PartValue] = {
        "全宗号": "J019",
        "门类": "ZY",
        "类目": ["JC", "CC"],
        "年度": 2019,
        "保管期限": "D30",
    }
    assert ac.format({**volume, "案卷号": 1, "件号": 1}, VOLUME) == "J019-ZY·JC·CC·2019·D30-001-001"


# -- every issue kind -------------------------------------------------------------------------------


def _error(text: str, rule: ArchivalCodeRule = DAT22) -> ArchivalCodeError:
    with pytest.raises(ArchivalCodeError) as info:
        parse(text, rule)
    return info.value


@pytest.mark.parametrize(
    ("text", "kind", "part", "found"),
    [
        ("", IssueKind.EMPTY, "档号", ""),
        ("   ", IssueKind.EMPTY, "档号", "   "),
        ("Z109-WS·2011-Y-BGS-0001-5", IssueKind.LEVEL_COUNT, "档号", "Z109-WS·2011-Y-BGS-0001-5"),
        ("Z109-WS·2011", IssueKind.LEVEL_COUNT, "档号", "Z109-WS·2011"),
        ("Z109-WS-Y-BGS-0001", IssueKind.PART_COUNT, "门类·年度", "WS"),
        ("Z109-WS·2011·Y-BGS-0001", IssueKind.PART_COUNT, "门类·年度", "WS·2011·Y"),
        ("z109-WS·2011-Y-BGS-0001", IssueKind.PATTERN, "全宗号", "z109"),
        ("Z109-WS·11-Y-BGS-0001", IssueKind.PATTERN, "年度", "11"),
        ("Z109-WS·2011-Y-B/S-0001", IssueKind.PATTERN, "机构", "B/S"),
        ("Z109-WS·2011-Y-BGS-00a1", IssueKind.PATTERN, "件号", "00a1"),
        ("Z109-WS·2011-Y-BGS-001", IssueKind.WIDTH, "件号", "001"),
        ("Z109-WS·2011-Y-BGS-00001", IssueKind.WIDTH, "件号", "00001"),
        ("Z109-XX·2011-Y-BGS-0001", IssueKind.UNKNOWN_CODE, "门类", "XX"),
        ("Z109-WS·2011-D20-BGS-0001", IssueKind.UNKNOWN_CODE, "保管期限", "D20"),
        ("Z109-WS·2011-C-BGS-0001", IssueKind.UNKNOWN_CODE, "保管期限", "C"),
        ("Z109-WS·2011-Y-BGS-0000", IssueKind.RANGE, "件号", "0000"),
        ("Z109-WS·2011-Y-CON-0001", IssueKind.UNSAFE_PATH, "档号", "CON"),
    ],
)
def test_each_error_names_the_part(text: str, kind: IssueKind, part: str, found: str) -> None:
    err = _error(text)
    issue = err.issues[0]
    assert (issue.kind, issue.part, issue.found, issue.severity) == (kind, part, found, "error")
    assert err.part == part
    assert issue.expected and issue.expected_en
    assert part in err.zh and "档号" in err.zh
    assert "archival code" in err.en and repr(found) in err.en
    assert validate(text, DAT22)[0] == issue


def test_messages_in_chinese_and_english_say_expected_and_found() -> None:
    err = _error("Z109-WS·2011-D20-BGS-0001")
    assert err.zh == (
        "档号“Z109-WS·2011-D20-BGS-0001”无效：档号“保管期限”部分代码不在代码表中：应为 Y、D30、D10 之一，实为“D20”"
    )
    assert err.en == (
        "invalid archival code 'Z109-WS·2011-D20-BGS-0001': archival code, retention code (保管期限): "
        "code not in the code table: expected one of Y, D30, D10, found 'D20'"
    )
    assert err.message("en") == err.en
    assert isinstance(err, InputError) and err.exit_code == ExitCode.CANNOT_RUN


def test_several_problems_are_all_reported() -> None:
    err = _error("z109-XX·2011-Y-BGS-0000")
    assert [(i.kind, i.part) for i in err.issues] == [
        (IssueKind.PATTERN, "全宗号"),
        (IssueKind.UNKNOWN_CODE, "门类"),
        (IssueKind.RANGE, "件号"),
    ]
    assert "另有 2 处问题" in err.zh and "and 2 more" in err.en


def test_level_diagnosis_aligns_optional_levels() -> None:
    # Four levels: the optional 机构 level is the one left out, so the wrong 件号 is named as such.
    err = _error("Z109-WS·2011-Y-12345")
    assert [(i.kind, i.part, i.found) for i in err.issues] == [(IssueKind.WIDTH, "件号", "12345")]
    # Repeated parts: the bad part is found among the class codes of a by-volume code.
    err = _error("J019-ZY·JC·cc·2019·D30-001-001", VOLUME)
    assert [(i.kind, i.part, i.found) for i in err.issues] == [(IssueKind.PATTERN, "类目", "cc")]


def test_whitespace_and_lookalikes_are_warnings_and_read_as_standard() -> None:
    text = " Z109－WS.2011-Y-BGS-0001\t"
    code = parse(text, DAT22)
    assert code.text == "Z109-WS·2011-Y-BGS-0001"
    issues = validate(text, DAT22)
    assert [(i.kind, i.severity) for i in issues] == [
        (IssueKind.WHITESPACE, "warning"),
        (IssueKind.LOOKALIKE, "warning"),
        (IssueKind.LOOKALIKE, "warning"),
    ]
    assert "U+FF0D" in issues[1].found and "U+002E" in issues[2].found


@pytest.mark.parametrize("sep", ["•", "・", "･", "‧", "∙", "⋅", "。", "．"])
def test_middle_dot_lookalikes(sep: str) -> None:
    assert parse(f"Z109-WS{sep}2011·Y·办公室-0001", DAT13).text == "Z109-WS·2011·Y·办公室-0001"


def test_fullwidth_letters_and_digits_are_read_as_ascii() -> None:
    assert parse("Ｚ１０９-ＷＳ·２０１１-Ｙ-ＢＧＳ-０００１", DAT22).text == "Z109-WS·2011-Y-BGS-0001"


def test_lookalike_not_replaced_where_a_part_may_contain_it() -> None:
    rule = ArchivalCodeRule.model_validate(
        {"name": "dotted", "base": "dat22", "parts": {"机构": {"pattern": r"[A-Z]+\.[A-Z]+"}}}
    )
    assert parse("Z109-WS·2011-Y-B.S-0001", rule).org == "B.S"
    err = _error("Z109-WS.2011-Y-BS-0001", rule)
    assert err.issues[0].kind == IssueKind.PART_COUNT
    assert not any(i.kind == IssueKind.LOOKALIKE for i in err.issues)


def test_lookalikes_can_be_refused() -> None:
    rule = ArchivalCodeRule.model_validate({"name": "strict", "base": "dat22", "accept_lookalikes": False})
    assert _error("Z109-WS.2011-Y-BGS-0001", rule).issues[0].kind == IssueKind.PART_COUNT


def test_format_errors() -> None:
    with pytest.raises(ArchivalCodeError) as info:
        ac.format({"全宗号": "Z109", "门类": "WS", "保管期限": "Y", "件号": 1, "卷号": 3}, DAT22)
    kinds = {(i.kind, i.part) for i in info.value.issues}
    assert kinds == {(IssueKind.UNKNOWN_PART, "卷号"), (IssueKind.MISSING_PART, "年度")}
    with pytest.raises(ArchivalCodeError) as info:
        ac.format({"全宗号": "Z109", "门类": "WS", "年度": 2011, "保管期限": "Y", "件号": 10000}, DAT22)
    assert (info.value.issues[0].kind, info.value.issues[0].part) == (IssueKind.RANGE, "件号")
    with pytest.raises(ArchivalCodeError) as info:
        ac.format({"全宗号": "Z109", "门类": "WS", "年度": 2011, "保管期限": "Y", "件号": "1"}, DAT22)
    assert (info.value.issues[0].kind, info.value.issues[0].part) == (IssueKind.WIDTH, "件号")


# -- configured rules -------------------------------------------------------------------------------


def test_configured_rule_with_org_code_table_and_widths() -> None:
    rule = ArchivalCodeRule.model_validate(
        {
            "name": "z109",
            "base": "dat22",
            "parts": {
                "机构": {"codes": {"BGS": "办公室", "CWK": "财务科"}, "closed": True},
                "件号": {"width": 3},
            },
        }
    )
    assert parse("Z109-WS·2011-Y-CWK-001", rule).org == "CWK"
    err = _error("Z109-WS·2011-Y-XYZ-001", rule)
    assert (err.issues[0].kind, err.issues[0].part, err.issues[0].expected) == (
        IssueKind.UNKNOWN_CODE, "机构", "BGS、CWK 之一",
    )  # fmt: skip
    assert _error("Z109-WS·2011-Y-BGS-0001", rule).issues[0].kind == IssueKind.WIDTH
    assert get_rule("z109", {"z109": rule}) is rule
    assert get_rule("dat13", {"z109": rule}) is DAT13


def test_legacy_retention_for_digitised_paper() -> None:
    rule = ArchivalCodeRule.model_validate({"name": "old", "base": "dat22", "legacy_retention": True})
    assert parse("Z109-WS·1985-C-BGS-0001", rule).retention_term == "长期"
    assert parse("Z109-WS·1985-D-BGS-0001", rule).retention_term == "短期"
    assert parse("Z109-WS·1985-Y-BGS-0001", rule).retention_term == "永久"


def test_custom_template_with_project_number() -> None:
    rule = ArchivalCodeRule(name="project", template="{全宗号}-{门类}·{项目号}-{案卷号}-{件号}")
    code = parse("X032-KJ·GC2019-003-0012", rule)
    assert code.class_codes == ("GC2019",) and code.volume == 3 and code.item == 12
    assert rule.shape() == "全宗号-门类·项目号-案卷号-件号"
    assert rule.sequence_part == "件号"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"template": "{全宗号}-{门类}·{年度}-{无此部分}-{件号}"}, "无此部分"),
        ({"template": "{全宗号}-门类-{件号}"}, "template"),
        ({"template": "{全宗号}-{门类?}·{年度}-{件号}"}, "optional"),
        ({"template": "{全宗号}-{门类}-{件号}-{年度}"}, "numeric"),
        ({"template": "{全宗号}-{门类}·{门类}-{件号}"}, "twice"),
        ({"template": "{全宗号}-{门类}-{件号}", "parts": {"门类": {"pattern": "[A-Z-]+"}}}, "separator"),
        ({"template": "{全宗号}-{门类}-{件号}", "parts": {"门类": {"pattern": "("}}}, "invalid pattern"),
        ({"base": "no-such-rule"}, "no-such-rule"),
    ],
)
def test_bad_rule_configuration_is_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises((ValidationError, GuidangError)) as info:
        ArchivalCodeRule.model_validate({"name": "bad", **data})
    assert message in str(info.value)


def test_unknown_builtin_rule() -> None:
    with pytest.raises(ConfigError) as info:
        builtin_rule("dat99")
    assert "dat99" in info.value.zh and "dat22" in info.value.en


# -- properties -------------------------------------------------------------------------------------

_org = st.one_of(
    st.none(),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=10),
    st.text(alphabet="办公室财务科人事处档案馆", min_size=1, max_size=16),
).filter(lambda s: s is None or s.upper() not in ac._WINDOWS_RESERVED)


@given(
    fonds=st.from_regex(r"[A-Z][0-9]{3}", fullmatch=True),
    category=st.sampled_from(["WS", "KJ", "RS", "KU", "ZP"]),
    year=st.integers(1000, 2099),
    retention=st.sampled_from(["Y", "D30", "D10"]),
    org=_org,
    item=st.integers(1, 9999),
    rule=st.sampled_from([DAT22, DAT13]),
)
def test_format_then_parse_gives_the_parts_back(
    fonds: str, category: str, year: int, retention: str, org: str | None, item: int, rule: ArchivalCodeRule
) -> None:
    parts: dict[str, PartValue] = {
        "全宗号": fonds,
        "门类": category,
        "年度": year,
        "保管期限": retention,
    }
    parts |= {"机构": org, "件号": item}
    text = ac.format(parts, rule)
    code = parse(text, rule)
    assert (code.fonds, code.category, code.year, code.retention, code.org, code.item) == (
        fonds, category, year, retention, org, item,
    )  # fmt: skip
    assert validate(text, rule) == []
    assert ac.format(dict(code.parts), rule) == text
    assert code.prefix + "-" + f"{item:04d}" == text


@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes(text: str) -> None:
    for rule in (DAT22, DAT13, VOLUME):
        try:
            parse(text, rule)
        except ArchivalCodeError as exc:
            assert exc.issues and all(i.zh and i.en for i in exc.issues)


def test_rules_from_the_configuration_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "guidang.toml").write_text(
        """
[profiles.vendor-a]
vendor = "某扫描公司"
archival_code_rule = "z109"

[archival_code_rules.z109]
base = "dat13-volume"
description = "Z109 全宗按卷"

[archival_code_rules.z109.parts."件号"]
pattern = "[0-9]+"

[archival_code_rules.z109.parts."门类"]
codes = { WS = "文书", ZY = "专业" }
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path))
    settings = load_settings()
    rule = get_rule(settings.profile("vendor-a").archival_code_rule, settings.archival_code_rules)
    assert rule.name == "z109" and rule.template == VOLUME.template
    # per-part settings merge with the base rule's: 件号 keeps width 3 from dat13-volume
    assert rule.spec("件号").width == 3
    assert parse("J019-ZY·JC·CC·2019·D30-001-001", rule).item == 1
    err = _error("J019-KU·2019·D30-001-001", rule)
    assert (err.issues[0].kind, err.issues[0].expected) == (IssueKind.UNKNOWN_CODE, "WS、ZY 之一")


def test_bad_rule_in_the_configuration_file_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "guidang.toml").write_text(
        '[archival_code_rules.bad]\ntemplate = "{全宗号}-{无此部分}-{件号}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "无此部分" in info.value.zh


_class_code = st.from_regex(r"[A-Z][A-Z0-9]{0,3}|[0-9]{1,3}", fullmatch=True).filter(
    lambda c: c not in ("Y", "C", "D") and not (c[0] == "D" and c[1:].isdigit())  # the rule refuses these
)


@given(
    category=st.sampled_from(["ZY", "KU", "RS", "KJ", "ZP"]),
    classes=st.lists(_class_code, max_size=3),
    year=st.none() | st.integers(1900, 2099),
    retention=st.none() | st.sampled_from(["Y", "D30", "D10"]),
    volume=st.integers(1, 999),
    item=st.integers(1, 999),
)
def test_by_volume_codes_parse_back_into_the_same_parts(
    category: str, classes: list[str], year: int | None, retention: str | None, volume: int, item: int
) -> None:
    parts: dict[str, PartValue] = {"全宗号": "J019", "门类": category, "类目": classes, "年度": year}
    parts |= {"保管期限": retention, "案卷号": volume, "件号": item}
    code = parse(ac.format(parts, VOLUME), VOLUME)
    assert (code.category, code.class_codes, code.year, code.retention) == (category, tuple(classes), year, retention)
    assert (code.volume, code.item) == (volume, item)


def test_class_codes_that_look_like_a_year_or_retention_are_refused() -> None:
    err = _error("J019-ZY·2019·2020·D30-001-001", VOLUME)
    assert (err.issues[0].kind, err.issues[0].part, err.issues[0].found) == (IssueKind.PATTERN, "类目", "2019")
