"""Accounts and API tokens."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["admin"])
