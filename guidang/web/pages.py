"""Rendering a page: the template, the language (Chinese by default, English by the switch), the principal and
its CSRF token. Jinja2 autoescapes every value: names, 题名 and 档号 are data, never markup."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from guidang.web.auth import Principal
from guidang.web.context import web_context

LANG_COOKIE = "gd_lang"
LANGUAGES = ("zh", "en")


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in LANGUAGES else "zh"


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go on to after login or a switch (never another site: no scheme, no //host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def render(request: Request, template: str, principal: Principal | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    lang = language(request)

    def t(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    ctx = web_context(request)
    return ctx.templates.TemplateResponse(
        request, template,
        {"lang": lang, "t": t, "principal": principal, "csrf": principal.csrf if principal else "", **context},
        status_code=status_code,
    )
