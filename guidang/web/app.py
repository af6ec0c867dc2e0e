"""The app factory: ``create_app(settings)`` builds the one FastAPI app of guidang.

Routers are listed in :data:`ROUTERS` (module path, attribute): add one line to add a router. Each router's
routes depend on :func:`guidang.web.auth.require` (or ``public``); ``tests/test_web_permissions.py`` checks
every route does.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from guidang.config import Settings, load_settings
from guidang.errors import GuidangError
from guidang.storage.catalogue import Catalogue
from guidang.web.auth import Forbidden, NotSignedIn
from guidang.web.context import WebContext
from guidang.web.pages import render

# (module, attribute) of every router, in the order they are matched
ROUTERS: tuple[tuple[str, str], ...] = (
    ("guidang.web.routers.session", "router"),
    ("guidang.web.routers.desk", "router"),
    ("guidang.web.routers.samples", "router"),
    ("guidang.web.routers.auditlog", "router"),
    ("guidang.web.routers.admin", "router"),
    ("guidang.web.routers.search", "router"),  # issue #20
    ("guidang.web.routers.api_cases", "router"),  # issue #16: HTTP ingest of cases for business systems
)


def wants_json(request: Request) -> bool:
    """API callers (``/api/…``, or asking for JSON) get JSON errors; browsers get pages."""
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def create_app(settings: Settings | None = None, catalogue: Catalogue | None = None) -> FastAPI:
    settings = settings or load_settings()
    catalogue = catalogue or Catalogue(settings.db_url)
    # no /docs or /redoc: their pages load scripts from the internet
    ctx = WebContext.build(settings, catalogue)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ctx.cases.start()  # cases posted before a stop are run again (the spool is their durable record)
        yield

    app = FastAPI(title="guidang", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")
    for module, attr in ROUTERS:
        app.include_router(getattr(importlib.import_module(module), attr))

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if wants_json(request):
            return JSONResponse({"error": "unauthorized", "message_zh": "未登录或令牌无效",
                                 "message_en": "not signed in, or the token is not valid"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if wants_json(request):
            return JSONResponse({"error": "forbidden", "permission": exc.permission, "message_zh": exc.zh,
                                 "message_en": exc.en}, status_code=403)
        return render(request, "error.html.j2", getattr(request.state, "principal", None), status_code=403,
                      title=("无权访问", "Forbidden"), message=(exc.zh, exc.en))

    @app.exception_handler(GuidangError)
    async def bad_request(request: Request, exc: GuidangError) -> Response:
        if wants_json(request):
            return JSONResponse({"error": exc.code.lower(), "message_zh": exc.zh, "message_en": exc.en},
                                status_code=400)
        return render(request, "error.html.j2", getattr(request.state, "principal", None), status_code=400,
                      title=("无法完成", "Cannot do that"), message=(exc.zh, exc.en))

    return app
