"""Accounts: people with passwords (argon2), business systems with API tokens, browser sessions.

The rows are :mod:`guidang.storage.accounts`; this module is what may be done with them. Every change to an
account is written to the audit log by the caller (``guidang user add``, the admin pages).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidang.errors import InputError
from guidang.packaging.domains import default_domains
from guidang.storage.accounts import ApiTokenRow, UserRow, WebSessionRow
from guidang.web.roles import role_table

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
MIN_PASSWORD = 12  # NIST SP 800-63B 5.1.1.2 asks at least 8; local rule 12 (docs/web.md)
TOKEN_PREFIX = "gdt_"
_hasher = PasswordHasher()  # argon2id, the library's defaults (RFC 9106 second recommended option)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(at: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC; PostgreSQL aware."""
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def clearance_levels() -> tuple[str, ...]:
    """密级, lowest first (DA/T 46 value domain, ``packaging/domains.toml``)."""
    return default_domains()["密级"].values


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"密码至少 {MIN_PASSWORD} 个字符", f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def password_matches(row: UserRow, password: str) -> bool:
    if not row.password_hash or not row.active:
        _hasher.hash(password)  # the same work whether or not the account exists
        return False
    try:
        return _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_roles(roles: Iterable[str]) -> list[str]:
    table = role_table()
    out = sorted(set(roles))
    unknown = [r for r in out if r not in table.roles]
    if unknown or not out:
        raise InputError(f"未知角色：{', '.join(unknown) or '（无）'}；可用：{', '.join(table.roles)}",
                         f"unknown role: {', '.join(unknown) or '(none)'}; known: {', '.join(table.roles)}")
    return out


def check_clearance(level: str) -> str:
    if level not in clearance_levels():
        raise InputError(f"未知密级：{level}；可用：{'、'.join(clearance_levels())}",
                         f"unknown clearance {level}; known: {', '.join(clearance_levels())}")
    return level


def add_user(session: Session, name: str, roles: Iterable[str], password: str | None, *,
             display_name: str = "", clearance: str = "公开", control_marks: Iterable[str] = ()) -> UserRow:
    """A new account; ``password`` None for a business system that only uses API tokens."""
    if not NAME.match(name):
        raise InputError("账户名只能由字母、数字和 _ . @ - 组成（至多 100 个）",
                         "an account name is 1-100 letters, digits or _ . @ -")
    if session.scalars(select(UserRow).where(UserRow.name == name)).first() is not None:
        raise InputError(f"账户已存在：{name}", f"the account exists already: {name}")
    row = UserRow(name=name, display_name=display_name or name, roles=check_roles(roles),
                  password_hash=hash_password(password) if password is not None else None,
                  clearance=check_clearance(clearance), control_marks=sorted(set(control_marks)), active=True)
    session.add(row)
    session.flush()
    return row


def user_named(session: Session, name: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.name == name)).first()


def issue_token(session: Session, user: UserRow, label: str = "",
                expires_at: dt.datetime | None = None) -> tuple[ApiTokenRow, str]:
    """A new API token for ``user``; the token itself is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(user_id=user.id, label=label, token_hash=token_digest(token), prefix=token[:12],
                      expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, token


def token_user(session: Session, token: str) -> tuple[ApiTokenRow, UserRow] | None:
    """The live token and its active user, or None."""
    row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.expires_at is not None and aware(row.expires_at) <= now:
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    return row, user


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta
    max_age: dt.timedelta


def open_session(session: Session, user: UserRow) -> tuple[WebSessionRow, str]:
    """A new browser session; returns the row and the cookie value (stored only as its digest)."""
    token = secrets.token_urlsafe(32)
    row = WebSessionRow(user_id=user.id, token_hash=token_digest(token), csrf=secrets.token_urlsafe(32))
    session.add(row)
    session.flush()
    return row, token


def live_session(session: Session, token: str, policy: SessionPolicy) -> tuple[WebSessionRow, UserRow] | None:
    """The session the cookie names if it has not ended, idled out or grown too old; its user active."""
    row = session.scalars(select(WebSessionRow).where(WebSessionRow.token_hash == token_digest(token))).first()
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    if now - aware(row.seen_at) > policy.idle or now - aware(row.created_at) > policy.max_age:
        row.ended_at = now
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    if now - aware(row.seen_at) > dt.timedelta(seconds=30):  # one write a half-minute, not one a request
        row.seen_at = now
    return row, user


def end_session(session: Session, session_id: int) -> None:
    row = session.get(WebSessionRow, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
