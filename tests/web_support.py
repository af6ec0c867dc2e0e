"""Helpers of the web app's tests: a working home with a catalogue, one account per role, signed-in clients.

Copy these for a new router's tests (docs/web.md): ``desk = Desk.make(tmp_path, monkeypatch)``, then
``client = desk.client("archivist")`` is signed in and ``desk.csrf(client)`` gives the token its forms need.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markup import injected_markup
from sqlalchemy import select

from guidang.config import Settings
from guidang.home import init_home
from guidang.models import ItemStatus
from guidang.storage.accounts import UserRow
from guidang.storage.catalogue import BatchRow, Catalogue, CheckResultRow, FileRow, ItemRow
from guidang.web.accounts import add_user, issue_token
from guidang.web.app import create_app
from guidang.web.roles import role_table

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Desk:
    settings: Settings
    catalogue: Catalogue
    app: FastAPI

    @classmethod
    def make(cls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch | None = None,
             roles: Iterable[str] | None = None) -> Desk:
        """A home and app with an account ``u-<role>`` for each of ``roles`` (default: every role)."""
        root = tmp_path / "home"
        init_home(root)
        if monkeypatch is not None:
            monkeypatch.setenv("GUIDANG_HOME", str(root))
        settings = Settings(home=root)
        catalogue = Catalogue(settings.db_url)
        with catalogue.session() as s:
            for role in role_table().roles if roles is None else roles:
                add_user(s, f"u-{role}", [role], PASSWORD, display_name=f"{role} 用户", clearance="秘密")
        return cls(settings, catalogue, create_app(settings, catalogue))

    def add(self, name: str, roles: list[str], **kw: object) -> None:
        with self.catalogue.session() as s:
            add_user(s, name, roles, PASSWORD, **kw)  # type: ignore[arg-type]

    def anonymous(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def client(self, role: str | None = None, *, name: str | None = None) -> TestClient:
        """A client signed in through the login form as ``u-<role>`` (or ``name``)."""
        c = self.anonymous()
        page = c.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert token, page.text
        done = c.post("/login", data={"name": name or f"u-{role}", "password": PASSWORD,
                                       "login_csrf": token.group(1), "next": "/"})
        assert done.status_code == 303 and "failed" not in done.headers["location"], done.headers
        return c

    def csrf(self, client: TestClient) -> str:
        """The CSRF token of the client's session (from a page holding the sign-out form)."""
        for path in ("/queue", "/audit", "/admin/users", "/admin/clearance", "/samples", "/"):
            found = CSRF.search(client.get(path, follow_redirects=True).text)
            if found:
                return found.group(1)
        raise AssertionError("no page with a form")

    def token(self, name: str) -> str:
        with self.catalogue.session() as s:
            user = s.scalars(select(UserRow).where(UserRow.name == name)).one()
            return issue_token(s, user, "test")[1]


def seed_item(cat: Catalogue, *, code: str = "A1-WS-2026-Y-0001", title: str = "关于测试的通知",
              vendor: str = "示例扫描公司", batch: str = "batch-1", status: str = ItemStatus.REJECTED,
              check: str = "SCAN-SKEW", check_status: str = "fail", message: str = "页面倾斜 2.1°",
              evidence: object = None, row: dict[str, object] | None = None, kept: Path | None = None,
              relpath: str = "item-0001/0001.png") -> int:
    """A batch holding one item with one check result, as the pipeline leaves them; returns the item id.
    ``kept``: a folder to hold the item's kept delivery (one real 300 dpi page image), as a rejected item's."""
    if kept is not None:
        from PIL import Image

        (kept / "delivered" / relpath).parent.mkdir(parents=True)
        Image.new("L", (2480, 3508), 235).save(kept / "delivered" / relpath, "PNG", dpi=(300, 300))
    with cat.session() as s:
        b = BatchRow(profile="demo", vendor=vendor, name=batch, content_digest="0" * 64, status="done",
                     source_path="/nowhere", summary={})
        s.add(b)
        s.flush()
        item = ItemRow(batch_id=b.id, archival_code=code, title=title, status=status,
                       failed_checks=[check] if check_status == "fail" else [], row=row or {"题名": title},
                       page_count=1, rejected_path=str(kept) if kept is not None else None)
        s.add(item)
        s.flush()
        s.add(CheckResultRow(item_id=item.id, check_id=check, status=check_status, blocking=check_status == "fail",
                             message_zh=message, message_en=message,
                             evidence=[evidence] if evidence is not None else
                             [{"page": 1, "field": "border_content", "found": "左/left 40.0mm：85%"}]))
        s.add(FileRow(item_id=item.id, role="master", relpath=relpath, size=1, sha256=f"{item.id:064d}",
                      sm3="0" * 64))
        cat.log(s, "guidang", "item.rejected" if status == ItemStatus.REJECTED else "item.accepted", code,
                batch_id=b.id, title=title)
        return item.id


def injected_by(hostile: str, benign: str) -> list[str]:
    """Active markup in the hostile rendering that the same page with benign values does not have (the pages'
    own forms, links and images are not injections)."""
    extra = Counter(injected_markup(hostile))
    extra.subtract(Counter(injected_markup(benign)))
    return sorted(k for k, n in extra.items() if n > 0)


def review_batch(dest: Path, batch_id: str = "REVIEW-TIF") -> Path:
    """A vendor batch for the desk: 件 1 and 2 each with a 40 mm black band over the text (rejected with
    SCAN-BORDER, an overridable check), 件 3 clean (archived). One page each, 300 dpi TIFF."""
    from guidang.samples.batch import DEMO_COVER_BORDER_PX, make_batch
    from guidang.samples.degrade import GREY_PAPER, Degradation

    cover = Degradation(skew_deg=0.4, noise_sigma=3.0, blur_sigma=0.7, paper=GREY_PAPER,
                        border_px=DEMO_COVER_BORDER_PX, border_edges="l", specks=3)
    clean = Degradation(skew_deg=-0.3, noise_sigma=3.0, blur_sigma=0.7, paper=GREY_PAPER)
    make_batch(dest, page_counts=(1, 1, 1), seed=3, image_format="tiff", batch_id=batch_id, profile="scan",
               overrides={(0, 0): cover, (1, 0): cover, (2, 0): clean}, write_truth=False)
    return dest / batch_id
