"""What every request of the web app shares: settings, the catalogue, templates, the session policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from guidang.config import Settings
from guidang.storage.catalogue import Catalogue
from guidang.web.accounts import SessionPolicy
from guidang.web.case_queue import CaseQueue


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    catalogue: Catalogue
    templates: Jinja2Templates
    policy: SessionPolicy
    cases: CaseQueue  # the HTTP intake's spool and worker (issue #16)

    @classmethod
    def build(cls, settings: Settings, catalogue: Catalogue) -> WebContext:
        # autoescape for every template (the default picks by file name, and .html.j2 is not one it escapes)
        env = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
                          undefined=StrictUndefined)
        templates = Jinja2Templates(env=env)
        opts = settings.web
        policy = SessionPolicy(idle=dt.timedelta(minutes=opts.session_idle_minutes),
                               max_age=dt.timedelta(hours=opts.session_max_hours))
        return cls(settings=settings, catalogue=catalogue, templates=templates, policy=policy,
                   cases=CaseQueue(settings, catalogue))

    @property
    def cache_root(self) -> Path:
        """Rendered thumbnails and views: under the home's work area, never beside the masters."""
        return self.settings.work_root / "web-cache"


def web_context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx
