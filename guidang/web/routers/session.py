"""Signing in and out, and the language switch."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from guidang.web import accounts
from guidang.web.audit import record
from guidang.web.auth import SESSION_COOKIE, Principal, public, require
from guidang.web.context import WebContext, web_context
from guidang.web.pages import LANG_COOKIE, LANGUAGES, render, safe_next

router = APIRouter(tags=["session"])
LOGIN_CSRF_COOKIE = "gd_login_csrf"  # double-submit token of the login form (there is no session yet)


@router.get("/login")
def login_page(request: Request, principal: Annotated[Principal | None, Depends(public())],
               next: str = "/queue", failed: bool = False) -> Response:
    token = secrets.token_urlsafe(32)
    page = render(request, "login.html.j2", principal, login_csrf=token, next=safe_next(next, "/queue"),
                  failed=failed, status_code=401 if failed else 200)
    page.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return page


def _sign_in(ctx: WebContext, name: str, password: str, client: str) -> str | None:
    with ctx.catalogue.session() as s:
        user = accounts.user_named(s, name)
        if user is None or not accounts.password_matches(user, password):
            record(s, f"web:{name[:100]}", "session.login_failed", name[:100], client=client)
            return None
        row, cookie = accounts.open_session(s, user)
        record(s, f"web:{user.name}", "session.login", user.name, session=row.id, client=client)
        return cookie


@router.post("/login")
async def login(request: Request, principal: Annotated[Principal | None, Depends(public())],
                name: Annotated[str, Form()], password: Annotated[str, Form()],
                login_csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/queue") -> Response:
    ctx = web_context(request)
    target = safe_next(next, "/queue")
    if not accounts.same_secret(login_csrf, request.cookies.get(LOGIN_CSRF_COOKIE, "\0")):
        return render(request, "error.html.j2", principal, status_code=403, title=("无法登录", "Cannot sign in"),
                      message=("登录表单已过期或来源不明，请重新打开登录页",
                               "the login form is stale or forged; open it again"))
    client = request.client.host if request.client else ""
    cookie = await run_in_threadpool(_sign_in, ctx, name.strip(), password, client)
    if cookie is None:
        return RedirectResponse(f"/login?failed=1&next={quote(target)}", status_code=303)
    done = RedirectResponse(target, status_code=303)
    done.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=ctx.settings.web.secure_cookies,
                    max_age=int(ctx.policy.max_age.total_seconds()))
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return done


@router.post("/logout")
def logout(request: Request, principal: Annotated[Principal, Depends(require("session.self"))]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        if principal.session_id is not None:
            accounts.end_session(s, principal.session_id)
        record(s, principal, "session.logout", principal.name)
    done = RedirectResponse("/login", status_code=303)
    done.delete_cookie(SESSION_COOKIE)
    return done


@router.get("/lang/{to}")
def switch_language(to: str, principal: Annotated[Principal | None, Depends(public())],
                    next: str = "/") -> Response:
    done = RedirectResponse(safe_next(next), status_code=303)
    if to in LANGUAGES:
        done.set_cookie(LANG_COOKIE, to, samesite="lax", max_age=365 * 24 * 3600)
    return done
