"""Every route of the web app is authorised through the one permission check, and each role reaches exactly the
routes its permissions in roles.toml allow (the route walk of issue #15)."""

from __future__ import annotations

import re

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount
from web_support import Desk

from guidang.web.auth import Permit
from guidang.web.roles import role_table


def permits(dependant: Dependant) -> list[Permit]:
    found = [dependant.call] if isinstance(dependant.call, Permit) else []
    for sub in dependant.dependencies:
        found.extend(permits(sub))
    return found


def app_routes(desk: Desk) -> list[tuple[str, BaseRoute]]:
    """(path, route) of every route the app serves, through included routers (FastAPI >= 0.16x keeps them
    apart; older versions copy them into app.routes)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return [(getattr(r, "path", ""), r) for r in desk.app.routes]
    return [(ctx.path or "", ctx.original_route) for ctx in iter_route_contexts(desk.app.routes)]


def routes(desk: Desk) -> list[tuple[str, APIRoute, Permit]]:
    out = []
    for path, route in app_routes(desk):
        if isinstance(route, Mount):
            assert path == "/static", f"an unexpected mount {path}"  # static files: public, read-only
            continue
        assert isinstance(route, APIRoute), f"{route} is not an APIRoute (no permission check)"
        found = permits(route.dependant)
        assert len(found) == 1, f"{path} {route.methods} has {len(found)} permission checks, needs 1"
        out.append((path, route, found[0]))
    return out


def concrete(path: str) -> str:
    """The path with an id nothing has (the walk must not change the accounts it signs in with)."""
    return re.sub(r"\{[^}]+\}", "999999", path)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    mp = pytest.MonkeyPatch()
    try:
        yield Desk.make(tmp_path_factory.mktemp("perm"), mp)
    finally:
        mp.undo()


def test_every_route_has_exactly_one_permission_check(desk: Desk) -> None:
    found = routes(desk)
    assert len(found) >= 8
    public = sorted(path for path, _, p in found if p.permission is None)
    assert public == ["/lang/{to}", "/login", "/login"], public  # signing in, and the language switch


@pytest.mark.parametrize("role", sorted(role_table().roles))
def test_each_role_reaches_exactly_what_it_is_granted(desk: Desk, role: str) -> None:
    granted = role_table().roles[role].permissions
    client = desk.client(role)
    csrf = desk.csrf(client) if "session.self" in granted else ""
    for path, route, permit in routes(desk):
        if permit.permission is None or path == "/logout":
            continue
        for method in route.methods:
            r = client.request(method, concrete(path), data={"csrf": csrf, "reason": "route walk"})
            if permit.permission in granted:
                assert r.status_code not in (401, 403), f"{role} refused {method} {path}: {r.status_code}"
            else:
                assert r.status_code == 403, f"{role} reached {method} {path}: {r.status_code}"


def test_anonymous_is_sent_to_login_or_gets_401(desk: Desk) -> None:
    client = desk.anonymous()
    for path, route, permit in routes(desk):
        if permit.permission is None:
            continue
        for method in route.methods:
            r = client.request(method, concrete(path))
            if path.startswith("/api/"):
                assert r.status_code == 401
            else:
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)


def test_a_post_without_the_csrf_token_fails(desk: Desk) -> None:
    client = desk.client("admin")
    posts = [path for path, r, p in routes(desk) if "POST" in r.methods and p.permission is not None]
    assert posts
    for path in posts:
        for data in ({}, {"csrf": "forged"}):
            r = client.post(concrete(path), data={**data, "reason": "no token"})
            assert r.status_code == 403, (path, r.status_code)
            assert "CSRF" in r.text


def test_an_api_token_needs_no_csrf_but_only_reaches_its_permissions(desk: Desk) -> None:
    token = desk.token("u-system")
    client = desk.anonymous()
    r = client.get("/queue", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    r = client.get("/queue", headers={"Authorization": "Bearer gdt_not-a-token"})
    assert r.status_code == 303  # an invalid token is nobody


def test_the_login_form_needs_its_csrf_token(desk: Desk) -> None:
    client = desk.anonymous()
    r = client.post("/login", data={"name": "u-admin", "password": "correct horse battery staple"})
    assert r.status_code in (403, 422)
    assert "gd_session" not in client.cookies


def test_the_desk_uses_the_search_access_rule() -> None:
    """One access rule (pipeline/access.py) for the desk and for search: 内部 ranks as 限制, 秘密★10年 as 秘密,
    an open 控制标识 needs no grant; only an item with no 密级 is read differently (the lowest, on the desk)."""
    from guidang.web.auth import Principal

    clerk = Principal(user_id=1, name="clerk", display_name="clerk", roles=("archivist",),
                      permissions=frozenset(), clearance="秘密", control_marks=frozenset(), via="session")
    assert clerk.may_see("内部") and clerk.may_see("秘密★10年") and not clerk.may_see("机密")
    assert clerk.may_see("") and clerk.may_see(None)
    assert clerk.may_see("公开", ["开放"]) and not clerk.may_see("公开", ["控制"])
