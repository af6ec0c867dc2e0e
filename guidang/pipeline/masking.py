"""Personal data in what search shows (snippets, metadata) masked for viewers without the right to see it.

Masked: 身份证号 (GB 11643-1999: 17 digits and a check digit or X; the 15-digit first-generation number too),
手机号 (mainland mobile numbers, 11 digits starting 13–19) and 银行卡号 (16 to 19 digits, ISO/IEC 7812, with a valid
Luhn check digit so that other long numbers such as 档号 parts or dates stay readable). Masking keeps the length
(each hidden character becomes ``*``), so a highlight found in the text before masking stays in place. What
stays readable is a local rule (docs/search.md): 身份证号 the first 6 (the issuing region) and the last 4,
手机号 the first 3 and the last 4, 银行卡号 the last 4, enough to tell two numbers apart, not to use one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_NOT_DIGIT_BEFORE = r"(?<![0-9０-９])"
_NOT_DIGIT_AFTER = r"(?![0-9０-９Xx])"
ID_CARD = re.compile(_NOT_DIGIT_BEFORE + r"(\d{6})(\d{8})(\d{3}[\dXx])" + _NOT_DIGIT_AFTER
                     + r"|" + _NOT_DIGIT_BEFORE + r"(\d{6})(\d{5})(\d{4})" + _NOT_DIGIT_AFTER)
MOBILE = re.compile(_NOT_DIGIT_BEFORE + r"(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})" + _NOT_DIGIT_AFTER)
BANK_CARD = re.compile(_NOT_DIGIT_BEFORE + r"\d{16,19}" + _NOT_DIGIT_AFTER)


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _hide(text: str) -> str:
    return re.sub(r"[0-9A-Za-z]", "*", text)


def _id_card(m: re.Match[str]) -> str:
    head, middle, tail = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
    return head + _hide(middle) + _hide(tail[:-4]) + tail[-4:]


def _mobile(m: re.Match[str]) -> str:
    whole = m.group(0)
    cut = whole.rfind(m.group(3))
    start = whole.find(m.group(1)) + 3
    return whole[:start] + _hide(whole[start:cut]) + whole[cut:]


def _bank_card(m: re.Match[str]) -> str:
    whole = m.group(0)
    return _hide(whole[:-4]) + whole[-4:] if _luhn(whole) else whole


_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (ID_CARD, _id_card), (BANK_CARD, _bank_card), (MOBILE, _mobile))


def mask(text: str) -> str:
    """``text`` with 身份证号, 手机号 and 银行卡号 masked; the same length, character for character."""
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return text
