"""Options of the web app (``[web]`` in guidang.toml, ``GUIDANG_WEB__PORT`` …); sources in docs/web.md."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WebOptions(BaseModel):
    host: str = "127.0.0.1"  # loopback unless the operator opens it
    port: int = Field(default=8470, ge=1, le=65535)
    # a session ends after this long without a request, and at the latest after session_max_hours
    # (local rule, docs/web.md: GB/T 22239-2019 8.1.4.1 d asks for a timeout, without a number)
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=10, ge=1)
    secure_cookies: bool = False  # true behind HTTPS (the cookie is then sent over HTTPS only)
    # DA/T 31-2017 acceptance: manual sampling of at least 5% of the items, pass rate at least 95%
    sample_share: float = Field(default=0.05, ge=0.05, le=1.0)
    sample_pass_rate: float = Field(default=0.95, gt=0, le=1.0)
