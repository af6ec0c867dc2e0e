"""Rows of the web app (issue #15): people's accounts, business systems' API tokens, login sessions and the
DA/T 31 acceptance sample. Behaviour lives in :mod:`guidang.web`; these are only the tables.

Secrets are never stored: a password as its argon2 hash, a session or API token as the SHA-256 of a random
32-byte value (a fast hash suffices for a value with 256 bits of entropy).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guidang.storage.catalogue import Base, utcnow


class UserRow(Base):
    """A person (or a business system, role ``system``) that signs in or calls the API."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)  # None: no password sign-in
    roles: Mapped[list[Any]] = mapped_column(default=list)
    # the highest 密级 the user may see, and the 控制标识 they may see (used by search, issue #20)
    clearance: Mapped[str] = mapped_column(String(20), default="公开")
    control_marks: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiTokenRow(Base):
    """A business system's API token (HTTP ingest API, issue #16), acting as its user."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to tell tokens apart in lists
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class WebSessionRow(Base):
    """A signed-in browser: expires after an idle time and after a maximum age; holds its CSRF token."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class SampleRow(Base):
    """An accepted item drawn for DA/T 31 acceptance (验收) sampling, and the verdict a person gave it."""

    __tablename__ = "acceptance_samples"
    __table_args__ = (UniqueConstraint("item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    verdict: Mapped[str | None] = mapped_column(String(10), default=None)  # pass | fail
    reason: Mapped[str] = mapped_column(Text, default="")
    agent: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
