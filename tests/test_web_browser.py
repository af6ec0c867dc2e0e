"""The review desk in a real browser (Debian's Chromium driven by Playwright) on real ingest output (real
Tesseract, real clamd): sign in, open the queue, view an item and a page with its evidence drawn, return one
item, override another, and find the results in the catalogue DB, the audit log and the vendor's receipt; the
auditor verifies the chain and exports it; a tampered row is found. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select, text
from web_support import PASSWORD, review_batch

from guidang.config import Settings
from guidang.models import ItemStatus
from guidang.pipeline.run import ingest_batch
from guidang.storage.catalogue import Catalogue, EventRow, ItemRow
from guidang.web.accounts import add_user
from guidang.web.app import create_app

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SLOW = 600_000  # ms: an override runs OCR, PDF/A and the DA/T 70 checks on a loaded machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(home: Settings, tmp_path: Path) -> Iterator[tuple[str, Settings, Path]]:
    """The desk served on loopback over a catalogue holding a real ingested batch (2 rejected, 1 archived)."""
    outcome = ingest_batch(home, "demo", review_batch(tmp_path / "drop"))
    assert [str(i.status) for i in outcome.items] == ["rejected", "rejected", "accepted"]
    cat = Catalogue(home.db_url)
    with cat.session() as s:
        add_user(s, "wang", ["archivist"], PASSWORD, display_name="王档案员", clearance="秘密")
        add_user(s, "li", ["auditor"], PASSWORD, display_name="李审计员")
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(home, cat), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:  # the server says when it listens; no fixed wait
        if not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", home, Path(outcome.receipt_paths[0])
    finally:
        srv.should_exit = True
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def sign_in(page: Page, base: str, name: str, target: str = "/queue") -> None:
    page.goto(base + target)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(base + target)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_return_and_override_in_the_browser(server: tuple[str, Settings, Path], browser: Browser) -> None:
    base, settings, receipt = server
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page.set_default_timeout(60_000)
    sign_in(page, base, "wang")
    rows = page.locator("#queue tbody tr.rejected")
    expect(rows).to_have_count(2)
    expect(page.locator("#counts")).to_contain_text("已拒收 2")
    shot(page, "queue.png")
    first_code = rows.nth(0).locator("td a").first.inner_text()
    second_code = rows.nth(1).locator("td a").first.inner_text()

    # the first item: its page, with the black band drawn where the evidence places it
    rows.filter(has_text=first_code).locator("td a").first.click()
    expect(page.locator("#item-code")).to_have_text(first_code)
    expect(page.locator("#checks tr.fail[data-check=SCAN-BORDER]")).to_have_count(1)
    expect(page.locator("#pages figure.flagged img")).to_have_count(1)
    page.wait_for_function("document.querySelector('#pages img').naturalWidth > 0")
    shot(page, "item.png")
    page.click("#pages figure a")
    expect(page.locator("#viewer svg rect")).to_have_count(1)
    page.wait_for_function("document.querySelector('#viewer img').naturalWidth > 0")
    shot(page, "viewer.png")

    # return it to the vendor, with a reason
    page.go_back()
    page.fill("#return-form textarea[name=reason]", "黑边遮挡正文，请重新扫描第1页")
    page.click("#return-form button")
    expect(page.locator("#item-status")).to_have_text("已退回厂商")
    expect(page.locator("#override-form")).to_have_count(0)

    # override the second: carried through OCR, PDF/A, packaging and the DA/T 70 checks into the store
    page.goto(base + "/queue")
    page.locator("#queue a", has_text=second_code).click()
    page.fill("#override-form textarea[name=reason]", "黑边只遮住页边的手写批注，正文完整可读")
    page.click("#override-form button", timeout=SLOW)
    expect(page.locator("#item-status")).to_have_attribute("data-status", "accepted", timeout=SLOW)
    expect(page.locator("#item-status")).to_have_text("已归档")
    expect(page.locator("#metadata-events")).to_contain_text("黑边只遮住页边的手写批注")  # the override, recorded
    shot(page, "item-overridden.png")

    # the English switch
    page.click("#lang-switch")
    expect(page.locator("#item-status")).to_have_text("archived")
    page.click("#lang-switch")

    # the database
    cat = Catalogue(settings.db_url)
    with cat.session() as s:
        items = {i.archival_code: i for i in s.scalars(select(ItemRow))}
        assert items[first_code].status == ItemStatus.REJECTED
        assert items[first_code].decisions[-1].status == "returned"
        assert items[first_code].decisions[-1].agent == "web:wang"
        assert items[second_code].status == ItemStatus.ACCEPTED and items[second_code].object_id == second_code
        events = {(e.action, e.subject): e for e in s.scalars(select(EventRow))}
    assert events[("item.returned", first_code)].detail["reason"] == "黑边遮挡正文，请重新扫描第1页"
    assert events[("item.overridden", second_code)].agent == "web:wang"

    # the vendor's receipt, written again
    data = json.loads(receipt.read_text("utf-8"))
    by_code = {i["id"]: i for i in data["items"]}
    assert any(p["check"] == "REVIEW-RETURNED" and "黑边遮挡正文" in p["message_zh"]
               for p in by_code[first_code]["problems"])
    assert by_code[second_code]["status"] == "accepted"
    assert data["summary"]["accepted"] == 2 and data["summary"]["rejected"] == 1

    # the auditor: the log shows both, the chain verifies, the CSV holds them; a tampered row is found
    page.click("text=退出")
    sign_in(page, base, "li", "/audit")
    expect(page.locator("#events")).to_contain_text("item.overridden")
    page.click("#verify-chain")
    expect(page.locator("#chain-report")).to_have_class("ok")
    with page.expect_download() as download:
        page.click("#export-csv")
    rows_csv = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert rows_csv[0][:3] == ["seq", "at", "agent"]
    assert any(r[3] == "item.returned" and r[2] == "web:wang" for r in rows_csv[1:])
    with cat.engine.begin() as conn:  # someone edits the log in the database
        conn.execute(text("UPDATE events SET agent = 'web:nobody' WHERE action = 'item.overridden'"))
    page.goto(base + "/audit")
    page.click("#verify-chain")
    expect(page.locator("#chain-report")).to_have_class("broken")
    expect(page.locator("#chain-report li[data-kind=changed]")).to_have_count(1)
    shot(page, "audit.png")
    page.close()


def test_an_archivist_cannot_open_the_audit_log(server: tuple[str, Settings, Path], browser: Browser) -> None:
    base, _, _ = server
    page = browser.new_page()
    sign_in(page, base, "wang")
    response = page.goto(base + "/audit")
    assert response is not None and response.status == 403
    expect(page.locator("#error-message")).to_contain_text("无此权限")
    page.close()
