"""The search page of the web app (issue #20): results within the account's clearance, a 机密 record neither
listed nor opened by its URL, personal data masked without the right, every search, view and download in the
audit log."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image
from sqlalchemy import select
from test_search import ID_NUMBER, PAGES, PUBLIC, SECRET, stored, text_pdf
from web_support import Desk

from guidang.pipeline import indexing
from guidang.storage.catalogue import EventRow
from guidang.storage.ocfl_store import OcflStore


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    desk = Desk.make(tmp_path, roles=())
    store = OcflStore(desk.settings.store_root)
    pdf = text_pdf(tmp_path, f"tel 13812345678 ID {ID_NUMBER}")
    stored(store, tmp_path, PUBLIC, PAGES[PUBLIC], pdf=pdf)
    stored(store, tmp_path, SECRET, PAGES[SECRET], classification="机密", pdf=pdf)
    assert indexing.rebuild(desk.catalogue, store).indexed == 2
    desk.add("clerk", ["reader"], clearance="公开")
    desk.add("keeper", ["archivist"], clearance="公开")
    desk.add("officer", ["archivist"], clearance="机密")
    return desk


def events(desk: Desk, action: str) -> list[EventRow]:
    with desk.catalogue.session() as s:
        return list(s.scalars(select(EventRow).where(EventRow.action == action).order_by(EventRow.id)))


def test_a_clerk_finds_the_public_record_and_not_the_secret_one(desk: Desk) -> None:
    clerk = desk.client(name="clerk")
    page = clerk.get("/search", params={"q": "张三"})
    assert page.status_code == 200
    assert PUBLIC in page.text and SECRET not in page.text
    assert "<mark>张三</mark>" in page.text
    officer = desk.client(name="officer")
    page = officer.get("/search", params={"q": "张三"})
    assert PUBLIC in page.text and SECRET in page.text
    logged = events(desk, "search.query")
    assert [(e.agent, e.subject, e.detail["hits"]) for e in logged][:1] == [("web:clerk", "张三", 1)]


def test_a_secret_record_is_not_opened_by_its_url_and_the_attempt_is_logged(desk: Desk) -> None:
    clerk = desk.client(name="clerk")
    for path in ("/record", "/record/page.png", "/record/download"):
        refused = clerk.get(path, params={"code": SECRET})
        missing = clerk.get(path, params={"code": "Z109-WS·2023-Y-BGS-9999"})
        assert refused.status_code == missing.status_code == 404
        assert "机密材料" not in refused.text and SECRET not in refused.text
    assert [e.subject for e in events(desk, "record.refused")] == [SECRET, "Z109-WS·2023-Y-BGS-9999"] * 3
    assert desk.client(name="officer").get("/record", params={"code": SECRET}).status_code == 200


def test_a_view_and_a_download_are_in_the_audit_log_with_a_watermark(desk: Desk) -> None:
    officer = desk.client(name="officer")
    page = officer.get("/record", params={"code": PUBLIC, "q": "tel", "n": 1})
    assert page.status_code == 200 and 'id="page-image"' in page.text
    image = officer.get("/record/page.png", params={"code": PUBLIC, "n": 1, "q": "tel"})
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size[0] > 800
    download = officer.get("/record/download", params={"code": PUBLIC})
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert len(pypdfium2.PdfDocument(download.content)) == 1
    viewed = events(desk, "record.viewed")
    assert [(e.agent, e.subject, e.detail["page"]) for e in viewed] == [("web:officer", PUBLIC, 1)]
    assert [e.subject for e in events(desk, "record.page_viewed")] == [PUBLIC]
    assert [(e.agent, e.subject) for e in events(desk, "record.downloaded")] == [("web:officer", PUBLIC)]


def test_personal_data_is_masked_for_a_reader_and_shown_to_an_archivist(desk: Desk) -> None:
    reader = desk.client(name="clerk").get("/search", params={"q": "身份证号"})
    assert ID_NUMBER not in reader.text and "110101********1234" in reader.text
    keeper = desk.client(name="keeper").get("/search", params={"q": "身份证号"})
    assert ID_NUMBER in keeper.text

    def dark(response: bytes) -> int:
        import numpy as np

        return int((np.asarray(Image.open(io.BytesIO(response)).convert("L")) < 10).sum())

    masked = desk.client(name="clerk").get("/record/page.png", params={"code": PUBLIC, "n": 1}).content
    clear = desk.client(name="keeper").get("/record/page.png", params={"code": PUBLIC, "n": 1}).content
    assert dark(masked) > dark(clear) + 1000  # the hidden digits covered on the page image


def test_filters_and_a_bad_query_on_the_page(desk: Desk) -> None:
    officer = desk.client(name="officer")
    page = officer.get("/search", params={"classification": "机密", "year": "", "fonds": ""})  # as a form sends
    assert SECRET in page.text and PUBLIC not in page.text
    bad = officer.get("/search", params={"q": "，。"})
    assert bad.status_code == 400 and "没有可检索的文字" in bad.text
