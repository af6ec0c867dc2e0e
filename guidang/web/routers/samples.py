"""DA/T 31 acceptance (验收) sampling."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["samples"])
