"""Dates and times of DA/T 46 metadata: ISO 8601 (GB/T 7408) as stored, and the forms catalogues write.

``check_*`` validate what the metadata model holds (used as pydantic validators: they raise ValueError);
``normalise_*`` turn a catalogue's date (DA/T 22 YYYYMMDD and common variants) into that form, raising
:class:`MetadataError` with a bilingual message for the vendor.
"""

from __future__ import annotations

import datetime as dt
import re

from guidang.errors import MetadataError

_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?")


def check_iso_date(value: str) -> str:
    m = _ISO_DATE.fullmatch(value)
    if not m:
        raise ValueError(f"日期须为 GB/T 7408 格式 YYYY[-MM[-DD]] / date must be ISO 8601 YYYY[-MM[-DD]]: {value!r}")
    year, month, day = (int(g) if g else None for g in m.groups())
    try:
        dt.date(year or 0, month or 1, day or 1)
    except ValueError:
        raise ValueError(f"不存在的日期 / no such date: {value!r}") from None
    return value


def check_iso_date_or_time(value: str) -> str:
    if "T" not in value:
        return check_iso_date(value)
    if not _ISO_DATETIME.fullmatch(value):
        raise ValueError(f"时间须为 ISO 8601 / time must be ISO 8601 YYYY-MM-DDThh:mm:ss[±hh:mm]: {value!r}")
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"不存在的时间 / no such time: {value!r}") from None
    return value


def check_aware(value: dt.datetime) -> dt.datetime:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("时间须带时区 / time must carry a time zone offset")
    if offset.total_seconds() % 60 or offset.microseconds:
        raise ValueError("时区偏移须为整分钟 / the time zone offset must be whole minutes (xs:dateTime)")
    return value


_DATE_FORMS = [
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})"),
    re.compile(r"(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})(?:[-/.](?P<d>\d{1,2}))?"),
    re.compile(r"(?P<y>\d{4})年(?:(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?)?"),
]


def normalise_date(text: str) -> str:
    """A catalogue date (YYYYMMDD as DA/T 22 writes it, or common variants) as ISO 8601 (GB/T 7408).

    Unknown month or day written as 00 (``19950300``) gives a reduced-precision date (``1995-03``).
    """
    value = text.strip()
    for form in _DATE_FORMS:
        m = form.fullmatch(value)
        if not m:
            continue
        y, mo, d = m.group("y"), m.groupdict().get("m"), m.groupdict().get("d")
        mo = None if mo is None or int(mo) == 0 else f"{int(mo):02d}"
        d = None if d is None or int(d) == 0 or mo is None else f"{int(d):02d}"
        iso = y + (f"-{mo}" if mo else "") + (f"-{d}" if d else "")
        try:
            return check_iso_date(iso)
        except ValueError:
            break
    raise MetadataError(
        f"日期“{text}”无法识别：应为 YYYYMMDD（如 20110305），月、日不详可写 00",
        f"date {text!r} not understood: expected YYYYMMDD (e.g. 20110305); 00 for an unknown month or day",
    )


def normalise_date_or_time(text: str) -> str:
    """A 受理/办结时间: a date (see :func:`normalise_date`) or a date and time, as ISO 8601."""
    value = text.strip()
    m = re.fullmatch(
        r"(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2})(?::?(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?",
        value,
    )
    if not m:
        return normalise_date(value)
    y, mo, d, h, mi, s, frac, tz = m.groups()
    iso = f"{y}-{mo}-{d}T{h}:{mi}:{s or '00'}{frac or ''}"
    if tz:
        iso += tz if tz == "Z" or ":" in tz else f"{tz[:3]}:{tz[3:]}"
    try:
        return check_iso_date_or_time(iso)
    except ValueError:
        raise MetadataError(
            f"时间“{text}”无法识别：应为 YYYY-MM-DD hh:mm:ss",
            f"time {text!r} not understood: expected YYYY-MM-DD hh:mm:ss",
        ) from None
