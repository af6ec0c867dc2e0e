"""Accounts through the desk: the 系统管理员 adds accounts and issues API tokens (shown once, usable, revocable);
the 安全保密管理员 sets roles and clearances; every change is in the audit log; sessions end."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import select, update
from web_support import PASSWORD, Desk

from guidang.storage.accounts import UserRow, WebSessionRow
from guidang.storage.catalogue import EventRow


def test_accounts_tokens_and_clearances(tmp_path: Path) -> None:
    desk = Desk.make(tmp_path, roles=["sysadmin", "secadmin", "archivist"])
    admin = desk.client("sysadmin")
    csrf = desk.csrf(admin)
    r = admin.post("/admin/users", data={"csrf": csrf, "name": "erp", "display_name": "ERP 系统", "role": ["system"]})
    assert r.status_code == 303
    with desk.catalogue.session() as s:
        erp = s.scalars(select(UserRow).where(UserRow.name == "erp")).one()
        assert erp.password_hash is None and erp.roles == ["system"]
    page = admin.post(f"/admin/users/{erp.id}/tokens", data={"csrf": csrf, "label": "ERP 归档接口"})
    token = re.search(r"<code>(gdt_[^<]+)</code>", page.text)
    assert token, page.text
    anyone = desk.anonymous()
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    assert anyone.get("/queue", headers=headers).status_code == 403  # a system reaches only ingest.submit
    assert token.group(1) not in admin.get("/admin/users").text  # shown once
    with desk.catalogue.session() as s:
        token_id = s.scalars(select(EventRow).where(EventRow.action == "token.issued")).one().detail["token"]
    admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf": csrf})
    assert anyone.get("/queue", headers=headers).status_code == 303  # revoked: nobody

    sec = desk.client("secadmin")
    with desk.catalogue.session() as s:
        wang = s.scalars(select(UserRow).where(UserRow.name == "u-archivist")).one()
    r = sec.post(f"/admin/users/{wang.id}/clearance", data={"csrf": desk.csrf(sec), "clearance": "机密",
                                                             "marks": "内部，人事", "role": ["archivist"]})
    assert r.status_code == 303
    with desk.catalogue.session() as s:
        wang = s.scalars(select(UserRow).where(UserRow.name == "u-archivist")).one()
        assert (wang.clearance, wang.control_marks) == ("机密", ["人事", "内部"])
        actions = [e.action for e in s.scalars(select(EventRow))]
    assert {"user.added", "token.issued", "token.revoked", "user.clearance"} <= set(actions)
    assert admin.post(f"/admin/users/{wang.id}/clearance", data={"csrf": csrf, "clearance": "绝密"}).status_code == 403


def test_a_session_ends_when_idle_or_signed_out(tmp_path: Path) -> None:
    desk = Desk.make(tmp_path, roles=["archivist"])
    client = desk.client("archivist")
    assert client.get("/queue").status_code == 200
    with desk.catalogue.session() as s:  # 31 minutes without a request
        s.execute(update(WebSessionRow).values(seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)))
    assert client.get("/queue").status_code == 303
    client = desk.client("archivist")
    client.post("/logout", data={"csrf": desk.csrf(client)})
    assert client.get("/queue").status_code == 303


def test_a_wrong_password_is_refused_and_logged(tmp_path: Path) -> None:
    desk = Desk.make(tmp_path, roles=["archivist"])
    c = desk.anonymous()
    token = re.search(r'name="login_csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"name": "u-archivist", "password": PASSWORD + "x", "login_csrf": token.group(1)})
    assert r.status_code == 303 and "failed=1" in r.headers["location"]
    with desk.catalogue.session() as s:
        failed = s.scalars(select(EventRow).where(EventRow.action == "session.login_failed")).one()
        assert failed.subject == "u-archivist"
