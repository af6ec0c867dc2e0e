"""The search page in a real browser (Chromium through Playwright): a reader signs in, searches a Chinese
word, opens the hit and sees the page image, highlighted and watermarked; the view is in the audit log."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from test_search import ID_NUMBER, PAGES, PUBLIC, SECRET, stored, text_pdf
from web_support import PASSWORD, Desk

from guidang.pipeline import indexing
from guidang.storage.catalogue import EventRow
from guidang.storage.ocfl_store import OcflStore

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Desk, str]]:
    uvicorn = pytest.importorskip("uvicorn")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    desk = Desk.make(tmp_path, roles=())
    store = OcflStore(desk.settings.store_root)
    pdf = text_pdf(tmp_path, f"tel 13812345678 ID {ID_NUMBER}")
    stored(store, tmp_path, PUBLIC, PAGES[PUBLIC], pdf=pdf)
    stored(store, tmp_path, SECRET, PAGES[SECRET], classification="机密", pdf=pdf)
    indexing.rebuild(desk.catalogue, store)
    desk.add("clerk", ["reader"], clearance="公开")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(desk.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield desk, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_reader_searches_and_views_a_page_in_chromium(served: tuple[Desk, str]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    desk, base = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/login?next=/search")
            page.fill("input[name=name]", "clerk")
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(f"{base}/search")
            page.fill("input[name=q]", "张三")
            page.click("#search-form button[type=submit]")
            page.wait_for_selector("#hits")
            rows = page.locator("#hits tr.hit")
            assert rows.count() == 1  # page 1 of the public record; the 机密 record is not listed
            assert SECRET not in page.content()
            assert page.locator("#hits mark").first.inner_text() == "张三"
            page.locator("#hits a.open").first.click()
            page.wait_for_selector("#page-image")
            page.wait_for_function("document.querySelector('#page-image').complete")
            width = page.evaluate("document.querySelector('#page-image').naturalWidth")
            assert width > 800
        finally:
            browser.close()
    with desk.catalogue.session() as s:
        actions = [(e.agent, e.action, e.subject) for e in s.scalars(select(EventRow).order_by(EventRow.id))]
    assert ("web:clerk", "record.viewed", PUBLIC) in actions
    assert ("web:clerk", "record.page_viewed", PUBLIC) in actions
