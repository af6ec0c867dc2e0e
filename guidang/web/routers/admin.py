"""Accounts and API tokens (系统管理员: users.manage), roles and clearances (安全保密管理员: users.clearance).
Every change is in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidang.errors import InputError
from guidang.storage.accounts import ApiTokenRow, UserRow
from guidang.web import accounts
from guidang.web.audit import record
from guidang.web.auth import Principal, require
from guidang.web.context import web_context
from guidang.web.pages import render
from guidang.web.roles import role_table

router = APIRouter(tags=["admin"])


def _user(s: Session, user_id: int) -> UserRow:
    user = s.get(UserRow, user_id)
    if user is None:
        raise InputError(f"没有编号为 {user_id} 的账户", f"no account {user_id}")
    return user


def _listing(request: Request) -> tuple[list[UserRow], dict[int, list[ApiTokenRow]]]:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        users = list(s.scalars(select(UserRow).order_by(UserRow.name)))
        tokens: dict[int, list[ApiTokenRow]] = {}
        for t in s.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)):
            tokens.setdefault(t.user_id, []).append(t)
    return users, tokens


@router.get("/admin/users")
def users_page(request: Request, principal: Annotated[Principal, Depends(require("users.manage"))]) -> Response:
    users, tokens = _listing(request)
    return render(request, "users.html.j2", principal, users=users, tokens=tokens, roles=role_table().roles,
                  levels=accounts.clearance_levels(), mode="manage", new_token="")


@router.post("/admin/users")
def add_user(request: Request, principal: Annotated[Principal, Depends(require("users.manage"))],
             name: Annotated[str, Form()] = "", display_name: Annotated[str, Form()] = "",
             password: Annotated[str, Form()] = "", role: Annotated[list[str] | None, Form()] = None) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        row = accounts.add_user(s, name.strip(), role or [], password or None, display_name=display_name.strip())
        record(s, principal, "user.added", row.name, roles=row.roles, password=bool(password))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/active")
def set_active(request: Request, user_id: int, principal: Annotated[Principal, Depends(require("users.manage"))],
               active: Annotated[str, Form()] = "") -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        user = _user(s, user_id)
        if user.id == principal.user_id:
            raise InputError("不能停用自己的账户", "you cannot disable your own account")
        user.active = active == "1"
        record(s, principal, "user.enabled" if user.active else "user.disabled", user.name)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/tokens")
def new_token(request: Request, user_id: int, principal: Annotated[Principal, Depends(require("users.manage"))],
              label: Annotated[str, Form()] = "") -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        user = _user(s, user_id)
        row, token = accounts.issue_token(s, user, label.strip())
        record(s, principal, "token.issued", user.name, token=row.id, prefix=row.prefix, label=row.label)
    users, tokens = _listing(request)
    return render(request, "users.html.j2", principal, users=users, tokens=tokens, roles=role_table().roles,
                  levels=accounts.clearance_levels(), mode="manage", new_token=token)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int,
                 principal: Annotated[Principal, Depends(require("users.manage"))]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        row = s.get(ApiTokenRow, token_id)
        if row is None:
            raise InputError(f"没有编号为 {token_id} 的令牌", f"no token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = accounts.utcnow()
            record(s, principal, "token.revoked", str(row.user_id), token=row.id, prefix=row.prefix)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/clearance")
def clearance_page(request: Request, principal: Annotated[Principal, Depends(require("users.clearance"))]) -> Response:
    users, tokens = _listing(request)
    return render(request, "users.html.j2", principal, users=users, tokens=tokens, roles=role_table().roles,
                  levels=accounts.clearance_levels(), mode="clearance", new_token="")


@router.post("/admin/users/{user_id}/clearance")
def set_clearance(request: Request, user_id: int,
                  principal: Annotated[Principal, Depends(require("users.clearance"))],
                  clearance: Annotated[str, Form()] = "", marks: Annotated[str, Form()] = "",
                  role: Annotated[list[str] | None, Form()] = None) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        user = _user(s, user_id)
        before = {"roles": list(user.roles), "clearance": user.clearance, "control_marks": list(user.control_marks)}
        user.clearance = accounts.check_clearance(clearance)
        user.control_marks = sorted({m.strip() for m in marks.replace("，", ",").split(",") if m.strip()})
        user.roles = accounts.check_roles(role or [])
        record(s, principal, "user.clearance", user.name, before=before,
               after={"roles": user.roles, "clearance": user.clearance, "control_marks": user.control_marks})
    return RedirectResponse("/admin/clearance", status_code=303)
