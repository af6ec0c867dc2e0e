"""The one permission check of the web app.

Every route depends on exactly one :class:`Permit`, made by :func:`require` (a permission from
``roles.toml``) or :func:`public` (login page, static files). The permit

* finds who is asking: an ``Authorization: Bearer gdt_…`` API token (business systems), else the session
  cookie of a signed-in browser (expired sessions are refused);
* for a browser's POST/PUT/PATCH/DELETE, checks the CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``) against the session's own;
* checks the principal's roles grant the permission;

and hands the route a :class:`Principal`. ``tests/test_web_permissions.py`` walks every route of the app with
every role and keeps it so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from guidang.pipeline.access import Viewer, may_see
from guidang.pipeline.access import rules as access_rules
from guidang.web import accounts
from guidang.web.context import WebContext, web_context
from guidang.web.roles import role_table

SESSION_COOKIE = "gd_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NotSignedIn(Exception):
    """No valid session or token: a browser is sent to the login page, an API caller gets 401."""


class Forbidden(Exception):
    """Signed in, but the roles do not grant the permission, or the CSRF token is missing or wrong: 403."""

    def __init__(self, permission: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.permission, self.zh, self.en = permission, zh, en


PERSONAL = "search.personal"  # roles.toml: may see 身份证号, 手机号, 银行卡号 unmasked


@dataclass(frozen=True)
class Principal:
    """Who is asking, as the routes see it."""

    user_id: int
    name: str
    display_name: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    clearance: str  # the highest 密级 they may see
    control_marks: frozenset[str]  # the 控制标识 they may see
    via: str  # session | token
    csrf: str = ""  # the session's CSRF token (empty for a token)
    session_id: int | None = None
    token_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def agent(self) -> str:
        """How the audit log names them."""
        return f"web:{self.name}" if self.via == "session" else f"api:{self.name}"

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def viewer(self) -> Viewer:
        """The same person as the access rule sees them (one rule for the desk and for search)."""
        return Viewer(self.agent, clearance=self.clearance, controls=self.control_marks,
                      personal_data=self.may(PERSONAL))

    def may_see(self, level: str | None, marks: Iterable[str] = ()) -> bool:
        """Whether an item of 密级 ``level`` bearing the 控制标识 ``marks`` is within the clearance, by the access
        rule of :mod:`guidang.pipeline.access` (its ranks: 内部 as 限制, 机密★10年 as 机密; open marks). One
        difference, for the desk: an item whose row has no 密级 counts as the lowest, since such an item (not
        accepted: GD-2-3 returns it) must reach an archivist to be put right; search, over accepted records,
        fails closed instead."""
        lowest = min(access_rules().levels.items(), key=lambda kv: kv[1])[0]
        level = level if (level or "").strip() else lowest
        return all(may_see(self.viewer, level, mark) for mark in (tuple(marks) or ("",)))


class Permit:
    """A FastAPI dependency granting ``permission`` (None: public). Use :func:`require` / :func:`public`."""

    def __init__(self, permission: str | None) -> None:
        if permission is not None and permission not in role_table().permissions:
            raise ValueError(f"unknown permission {permission!r}: add it to guidang/web/roles.toml")
        self.permission = permission

    def __repr__(self) -> str:
        return f"Permit({self.permission!r})"

    async def __call__(self, request: Request) -> Principal | None:
        ctx = web_context(request)
        authz = request.headers.get("authorization", "")
        token = authz[7:].strip() if authz[:7].lower() == "bearer " else None
        cookie = request.cookies.get(SESSION_COOKIE)
        principal = await run_in_threadpool(self._identify, ctx, token, cookie)
        if self.permission is None:
            return principal
        if principal is None:
            raise NotSignedIn()
        request.state.principal = principal  # the error pages show who is signed in
        if principal.via == "session" and request.method in UNSAFE:
            given = request.headers.get("x-csrf-token")
            if given is None:
                form = await request.form()
                value = form.get("csrf")
                given = value if isinstance(value, str) else None
            if not accounts.same_secret(given, principal.csrf):
                raise Forbidden(self.permission, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试",
                                "the form is stale or forged (CSRF check failed); reload the page and retry")
        if not principal.may(self.permission):
            zh, en = role_table().permissions[self.permission]
            raise Forbidden(self.permission, f"无此权限：{zh}", f"not permitted: {en}")
        return principal

    @staticmethod
    def _identify(ctx: WebContext, token: str | None, cookie: str | None) -> Principal | None:
        table = role_table()
        with ctx.catalogue.session() as s:
            if token is not None:
                found_token = accounts.token_user(s, token)
                if found_token is None:
                    return None
                trow, user = found_token
                via, csrf, session_id, token_id = "token", "", None, trow.id
            elif cookie:
                found_session = accounts.live_session(s, cookie, ctx.policy)
                if found_session is None:
                    return None
                srow, user = found_session
                via, csrf, session_id, token_id = "session", srow.csrf, srow.id, None
            else:
                return None
            roles = tuple(user.roles)
            return Principal(user_id=user.id, name=user.name, display_name=user.display_name, roles=roles,
                             permissions=table.granted(roles), clearance=user.clearance,
                             control_marks=frozenset(user.control_marks), via=via, csrf=csrf,
                             session_id=session_id, token_id=token_id)


@cache
def require(permission: str) -> Permit:
    """The dependency for a route needing ``permission``: ``p: Principal = Depends(require("queue.view"))``."""
    return Permit(permission)


@cache
def public() -> Permit:
    """The dependency for a route anyone may reach (gives the Principal if signed in, else None)."""
    return Permit(None)
