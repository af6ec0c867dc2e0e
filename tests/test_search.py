"""Search (查阅利用, issue #20): records indexed from the store, found by Chinese phrases of their text (one
character and up) and by metadata, on SQLite FTS5 and on PostgreSQL; access by 密级 and 控制标识; personal data
masked; the index kept in step on acceptance, correction and destruction and rebuilt from the store alone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import create_engine, select, text
from test_aip_support import metadata_for, sources

from guidang.cli import main
from guidang.config import Settings
from guidang.errors import InputError
from guidang.packaging.aip import build_package
from guidang.packaging.metadata import GovernmentService, RecordMetadata, Rights
from guidang.packaging.metadata_xml import from_xml, to_xml
from guidang.packaging.ocfl_package import store_package
from guidang.pipeline import indexing, masking, search, viewing
from guidang.pipeline.access import Viewer, may_see, operator, rules
from guidang.pipeline.corrections import correct_metadata
from guidang.storage import search_index
from guidang.storage.catalogue import Catalogue, EventRow
from guidang.storage.ocfl_store import OcflStore

ID_NUMBER = "110101199003071234"
PUBLIC = "Z109-WS·2023-Y-BGS-0001"
SECRET = "Z109-WS·2023-Y-BGS-0002"
CONTROLLED = "Z109-WS·2022-D30-BGS-0003"
PAGES = {
    PUBLIC: ["关于张三申请社会保险的函\n申请人 张 三，身份证号" + ID_NUMBER + "，联系电话13812345678。",
             "第二页：社保待遇核定表，办结。"],
    SECRET: ["机密材料：张三的社保核查情况。"],
    CONTROLLED: ["李四的营业执照变更登记。", "附件：股东会决议。"],
}


def record(code: str, *, level: int = 0, classification: str = "公开", control: str = "", matter: str = "",
           vendor: str = "甲扫描公司", batch: str = "B1", year: int = 2023, retention: str = "Y") -> (
        search_index.IndexedRecord):
    return search_index.IndexedRecord(
        code=code, version="v1", title=f"{code} 的题名", level=level, pages=tuple(PAGES[code]),
        metadata_text=f"{code}\n王五", fonds="Z109", year=year, retention=retention,
        classification=classification, control=control, matter=matter, vendor=vendor, batch=batch,
        fields={"申请人": f"张三 {ID_NUMBER}"})


def fill(cat: Catalogue) -> None:
    with cat.engine.begin() as conn:
        search_index.put(conn, record(PUBLIC, matter="社会保险登记"))
        search_index.put(conn, record(SECRET, level=3, classification="机密"))
        search_index.put(conn, record(CONTROLLED, control="控制", vendor="乙扫描公司", batch="B2", year=2022,
                                      retention="D30"))


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalogue]:
    if request.param == "sqlite":
        cat = Catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")
    else:
        url: str = request.getfixturevalue("postgres_url")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        cat = Catalogue(url)
    yield cat
    cat.engine.dispose()


CLERK = Viewer("clerk", clearance="公开")
OFFICER = Viewer("officer", clearance="机密", controls=frozenset({"控制"}), personal_data=True)


def codes(hits: list[search.Hit]) -> list[str]:
    return sorted({h.code for h in hits})


# ------------------------------------------------------------------------------------------------ terms

def test_every_cjk_character_is_a_term_and_words_of_letters_and_digits_are_one() -> None:
    assert search_index.terms("张三 申请ABC-2023年，ＯＣＲ") == ["张", "三", "申", "请", "abc", "2023", "年", "ocr"]
    assert search_index.query_phrases("社保  张三 ，") == [["社", "保"], ["张", "三"]]
    # the places of a phrase in the original text, across OCR's spaces and a line end
    body = "申请人 张 三\n张三"
    assert [body[s:e] for s, e in search_index.locate(body, [["张", "三"]])] == ["张 三", "张三"]


def test_masking_keeps_the_length_and_hides_the_middle() -> None:
    masked = masking.mask(f"身份证{ID_NUMBER}，手机13812345678，卡6222021234567890128，档号20230105")
    assert masked == "身份证110101********1234，手机138****5678，卡***************0128，档号20230105"
    assert masking.mask("卡6222021234567890123") == "卡6222021234567890123"  # not a card number (Luhn)


def test_a_classification_ranks_by_the_level_it_starts_with_and_unknown_is_closed() -> None:
    r = rules()
    assert r.rank("公开") == 0 < r.rank("内部") == r.rank("限制") < r.rank("秘密") < r.rank("机密★10年") == 3
    assert r.rank("") == r.rank("保密") == r.top  # fail closed
    assert not may_see(CLERK, "机密", "") and may_see(OFFICER, "机密", "控制")
    with pytest.raises(InputError, match="unknown clearance"):
        _ = Viewer("x", clearance="高").max_level


# ------------------------------------------------------------------------------------------- searching

@pytest.mark.parametrize(("query", "expected"), [
    ("张", [PUBLIC]),  # one character
    ("张三", [PUBLIC]),  # two, also where OCR wrote 张 三
    ("社会保险", [PUBLIC]),
    ("社保 办结", [PUBLIC]),  # every word, on one page
    ("王五", [PUBLIC]),  # metadata text
    ("Z109-WS·2023-Y-BGS-0001", [PUBLIC]),  # 档号
    ("机密", []),  # only in the 机密 record
    ("营业执照", []),  # only in the controlled record
    ("社保 营业执照", []),
])
def test_a_public_clerk_finds_text_of_any_length_and_only_open_records(
        catalogue: Catalogue, query: str, expected: list[str]) -> None:
    fill(catalogue)
    assert codes(search.find(catalogue, CLERK, query)) == expected


def test_the_cleared_officer_finds_the_secret_and_controlled_records(catalogue: Catalogue) -> None:
    fill(catalogue)
    assert codes(search.find(catalogue, OFFICER, "张三")) == [PUBLIC, SECRET]
    assert codes(search.find(catalogue, OFFICER, "营业执照")) == [CONTROLLED]
    # a 机密 clearance without the 控制 mark does not reach the controlled record
    assert codes(search.find(catalogue, Viewer("v", clearance="机密"), "营业执照")) == []


def test_a_secret_record_is_not_opened_by_its_code_without_the_clearance(catalogue: Catalogue) -> None:
    fill(catalogue)
    assert search.open_record(catalogue, CLERK, SECRET) is None
    assert search.open_record(catalogue, CLERK, "no-such-code") is None  # the same answer
    view = search.open_record(catalogue, OFFICER, SECRET)
    assert view is not None and view.classification == "机密"


def test_hits_carry_the_page_and_a_highlighted_snippet(catalogue: Catalogue) -> None:
    fill(catalogue)
    hits = search.find(catalogue, CLERK, "办结")
    assert [(h.code, h.page) for h in hits] == [(PUBLIC, 2)]
    assert hits[0].snippet.marked() == "第二页：社保待遇核定表，【办结】。"
    first = search.find(catalogue, CLERK, "张三", {"vendor": "甲扫描公司"})
    page1 = next(h for h in first if h.page == 1)
    assert "【张三】" in page1.snippet.marked() and "【张 三】" in page1.snippet.marked()


def test_personal_data_is_masked_for_a_viewer_without_the_right(catalogue: Catalogue) -> None:
    fill(catalogue)
    page1 = next(h for h in search.find(catalogue, CLERK, "身份证号") if h.page == 1)
    assert ID_NUMBER not in page1.snippet.text and "110101********1234" in page1.snippet.text
    assert "138****5678" in page1.snippet.text
    assert page1.fields["申请人"] == "张三 110101********1234"
    officer = next(h for h in search.find(catalogue, OFFICER, "身份证号") if h.page == 1)
    assert ID_NUMBER in officer.snippet.text and officer.fields["申请人"] == f"张三 {ID_NUMBER}"


@pytest.mark.parametrize(("filters", "expected"), [
    ({"fonds": "Z109"}, [PUBLIC, SECRET, CONTROLLED]),
    ({"year": 2022}, [CONTROLLED]),
    ({"retention": "D30"}, [CONTROLLED]),
    ({"classification": "机密"}, [SECRET]),
    ({"matter": "社会保险登记"}, [PUBLIC]),
    ({"vendor": "乙扫描公司"}, [CONTROLLED]),
    ({"batch": "B1"}, [PUBLIC, SECRET]),
])
def test_metadata_filters_alone_list_records(catalogue: Catalogue, filters: dict[str, str | int],
                                             expected: list[str]) -> None:
    fill(catalogue)
    hits = search.find(catalogue, OFFICER, "", filters)
    assert sorted(h.code for h in hits) == sorted(expected) and {h.page for h in hits} == {0}


def test_a_query_of_punctuation_or_an_unknown_filter_is_refused(catalogue: Catalogue) -> None:
    fill(catalogue)
    with pytest.raises(search_index.SearchQueryError, match="nothing searchable"):
        search.find(catalogue, CLERK, "，。！")
    with pytest.raises(search_index.SearchQueryError, match="no filter"):
        search.find(catalogue, CLERK, "张三", {"colour": "red"})


def test_a_record_indexed_again_replaces_itself_and_a_destroyed_one_is_gone(catalogue: Catalogue) -> None:
    fill(catalogue)
    with catalogue.engine.begin() as conn:
        search_index.put(conn, dataclasses.replace(record(PUBLIC), pages=("新的正文 赵六",)))
    assert codes(search.find(catalogue, CLERK, "赵六")) == [PUBLIC]
    assert codes(search.find(catalogue, CLERK, "社会保险")) == []
    assert indexing.unindex(catalogue, PUBLIC) and not indexing.unindex(catalogue, PUBLIC)
    assert codes(search.find(catalogue, CLERK, "赵六")) == []
    with catalogue.engine.connect() as conn:
        assert set(search_index.indexed(conn)) == {SECRET, CONTROLLED}


# ------------------------------------------------------------------------------- from the store

def stored(store: OcflStore, tmp: Path, code: str, pages: list[str], *, classification: str = "公开",
           control: str | None = None, matter: str | None = None, pdf: Path | None = None) -> None:
    src = sources(tmp / f"src-{code}", code)
    src["text"].write_text("\f".join(pages), encoding="utf-8")
    if pdf is not None:
        src["pdf"].write_bytes(pdf.read_bytes())
    meta = metadata_for(code, src, creator="某市社会保险事业管理局")
    content = meta.record.content.model_copy(update={"classification": classification, "title": f"示例文件{code[-1]}"})
    rec = meta.record.model_copy(update={"content": content,
                                         "rights": Rights(control=control) if control else None})
    meta = RecordMetadata(record=rec, events=meta.events,
                          government=GovernmentService(matter_name=matter) if matter else None)
    pkg = build_package(tmp / f"pkg-{code}", code=code, pdf=src["pdf"], text=src["text"],
                        masters=[src["m1"], src["m2"]], metadata_xml=to_xml(meta))
    store_package(store, pkg.root)


def test_the_index_is_rebuilt_from_the_store_alone_and_follows_a_correction(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    stored(store, tmp_path, PUBLIC, PAGES[PUBLIC], matter="社会保险登记")
    stored(store, tmp_path, SECRET, PAGES[SECRET], classification="机密")
    stored(store, tmp_path, CONTROLLED, PAGES[CONTROLLED], control="控制")
    cat = Catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")
    done = indexing.rebuild(cat, store)
    assert (done.indexed, done.pages, done.failed) == (3, 5, ())
    assert codes(search.find(cat, CLERK, "张三")) == [PUBLIC]
    assert codes(search.find(cat, OFFICER, "张三")) == [PUBLIC, SECRET]
    assert codes(search.find(cat, OFFICER, "社会保险事业管理局")) == [CONTROLLED, PUBLIC, SECRET]  # 责任者
    assert codes(search.find(cat, OFFICER, "", {"matter": "社会保险登记"})) == [PUBLIC]
    assert codes(search.find(cat, CLERK, "营业执照")) == []  # 控制
    hit = search.find(cat, OFFICER, "待遇核定")[0]
    assert (hit.code, hit.page, hit.vendor, hit.year, hit.retention) == (PUBLIC, 2, "", 2023, "永久")

    current = from_xml(store.read_file(PUBLIC, "metadata/metadata.xml"))
    content = current.record.content.model_copy(update={"title": "关于孙七申请社会保险的函"})
    fixed = current.model_copy(update={"record": current.record.model_copy(update={"content": content})})
    correct_metadata(store, PUBLIC, fixed, agent="王档案员", reason="题名录入错误", catalogue=cat)
    hits = search.find(cat, CLERK, "孙七")
    assert [(h.code, h.page, h.title) for h in hits] == [(PUBLIC, 0, "关于孙七申请社会保险的函")]
    with cat.engine.connect() as conn:
        assert search_index.indexed(conn)[PUBLIC] == "v2"

    again = indexing.rebuild(cat, store)  # the same from scratch
    assert again.indexed == 3 and codes(search.find(cat, CLERK, "孙七")) == [PUBLIC]


def test_the_cli_searches_as_json_and_logs_the_search(home: Settings, tmp_path: Path) -> None:
    store = OcflStore(home.store_root)
    stored(store, tmp_path, PUBLIC, PAGES[PUBLIC])
    stored(store, tmp_path, SECRET, PAGES[SECRET], classification="机密")
    runner = CliRunner()
    done = runner.invoke(main, ["index", "rebuild"])
    assert done.exit_code == 0, done.output
    assert "indexed 2 records, 3 pages" in done.output
    done = runner.invoke(main, ["search", "张三", "--json"])
    assert done.exit_code == 0, done.output
    hits = json.loads(done.stdout)["hits"]
    assert {h["档号"] for h in hits} == {PUBLIC, SECRET}
    done = runner.invoke(main, ["search", "张三", "--json", "--clearance", "公开", "--mask"])
    hits = json.loads(done.stdout)["hits"]
    assert {h["档号"] for h in hits} == {PUBLIC}
    assert all(ID_NUMBER not in h["snippet"] for h in hits)
    done = runner.invoke(main, ["search", "办结", "--ranked"])
    assert done.exit_code == 0 and "【办结】" in done.output and "第 2 页" in done.output
    with Catalogue(home.db_url).session() as s:
        logged = list(s.scalars(select(EventRow).where(EventRow.action == "search.query")))
    assert [e.subject for e in logged] == ["张三", "张三", "办结"]
    assert logged[1].detail["clearance"] == "公开"


def test_an_operator_sees_everything() -> None:
    op = operator("root")
    assert op.reach is None and op.max_level == rules().top and op.personal_data


def yellow(image: Image.Image) -> int:
    import numpy as np

    rgb = np.asarray(image.convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] > 180) & (rgb[..., 2] < 150)).sum())


def test_an_accepted_item_is_found_without_a_rebuild(home: Settings, tmp_path: Path) -> None:
    """The pipeline indexes what it accepts: found by a phrase of its OCR text and by its title."""
    from guidang.samples.batch import make_batch

    truth = make_batch(tmp_path / "drop", page_counts=(1,), seed=7, dpi=200, profile="clean", colour="none",
                       scripts=["hans"], batch_id="S", write_truth=False)
    done = CliRunner().invoke(main, ["ingest", str(truth.batch_dir), "--profile", "demo", "--json"])
    assert done.exit_code == 0, done.output
    item = truth.items[0]
    code = item.archival_code
    ocr = OcflStore(home.store_root).read_file(code, f"content/{code}.txt").decode("utf-8")
    phrase = "".join(ch for ch in ocr if "\u4e00" <= ch <= "\u9fff")[10:14]  # four characters OCR read
    assert len(phrase) == 4
    cat = Catalogue(home.db_url)
    hits = search.find(cat, OFFICER, phrase)
    assert code in {h.code for h in hits} and any(h.page == 1 for h in hits)
    titled = search.find(cat, OFFICER, item.title)
    meta = next(h for h in titled if h.page == 0)
    assert meta.code == code and meta.batch == "S" and meta.vendor and meta.title == item.title

    # the page as a viewer sees it: the phrase highlighted from the PDF's text layer, watermarked
    pdf = viewing.record_pdf(OcflStore(home.store_root), code)
    phrases = search_index.query_phrases(phrase)
    doc = pypdfium2.PdfDocument(pdf)
    occurrences = len(search_index.locate(ocr.split("\f")[0], phrases))
    assert occurrences >= 1 and len(viewing.hit_boxes(doc[0], phrases)) == 4 * occurrences
    doc.close()
    at = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
    shown = Image.open(io.BytesIO(viewing.page_png(pdf, 1, viewing.Stamp("查阅人甲", at, code), phrases)))
    plain = Image.open(io.BytesIO(viewing.page_png(pdf, 1, viewing.Stamp("查阅人甲", at, code))))
    other = Image.open(io.BytesIO(viewing.page_png(pdf, 1, viewing.Stamp("查阅人乙", at, code))))
    assert yellow(shown) > 50 and yellow(plain) == 0
    assert plain.tobytes() != other.tobytes()  # the watermark names the viewer
    with pytest.raises(InputError, match="no page 9"):
        viewing.page_png(pdf, 9, viewing.Stamp("x", at, code))
    download = viewing.download_pdf(pdf, viewing.Stamp("查阅人甲", at, code))
    assert viewing.page_count(download) == viewing.page_count(pdf) == 1


def text_pdf(tmp_path: Path, line: str) -> Path:
    """A one-page PDF whose text (base-14 Helvetica) is ``line``: a text layer without OCR."""
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    content = pdf.make_stream(f"BT /F1 14 Tf 40 400 Td ({line}) Tj ET".encode("ascii"))
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    pdf.pages[0].obj.Contents = content
    path = tmp_path / "text.pdf"
    pdf.save(path)
    return path


def test_personal_data_is_covered_on_the_page_image(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path, f"ID {ID_NUMBER} tel 13812345678 date 20230105")
    doc = pypdfium2.PdfDocument(pdf)
    assert len(viewing.personal_boxes(doc[0])) == 8 + 4  # the hidden digits of each number, not the date
    assert len(viewing.hit_boxes(doc[0], search_index.query_phrases("tel"))) == 3
    doc.close()
    stamp = viewing.Stamp("clerk", dt.datetime(2026, 12, 6, tzinfo=dt.UTC), PUBLIC)

    def black(png: bytes) -> int:
        import numpy as np

        return int((np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 10).sum())

    masked, clear = viewing.page_png(pdf, 1, stamp, mask=True), viewing.page_png(pdf, 1, stamp)
    assert black(masked) > black(clear) + 12 * 100  # twelve opaque boxes of at least 10 × 10 pixels


def test_the_review_desk_keeps_the_index_in_step(home: Settings, tmp_path: Path) -> None:
    """An item accepted over an overridable failure is indexed; a corrected 题名 is found by its new words."""
    from web_support import review_batch

    from guidang.pipeline import review
    from guidang.pipeline.run import ingest_batch
    from guidang.storage.catalogue import ItemRow

    ingest_batch(home, "demo", review_batch(tmp_path / "drop"))
    cat = Catalogue(home.db_url)
    with cat.session() as s:
        ids = {i.archival_code: i.id for i in s.scalars(select(ItemRow).order_by(ItemRow.id))}
    _, second, third = ids
    with cat.engine.connect() as conn:
        assert set(search_index.indexed(conn)) == {third}  # only the accepted one, at ingest
    review.override_item(home, cat, ids[second], "黑边仅遮挡页边空白处的批注，不影响正文", "web:archivist")
    with cat.engine.connect() as conn:
        assert set(search_index.indexed(conn)) == {second, third}
    review.correct_item(home, cat, ids[third], "title", "关于钱八档案的更正题名", "题名错字", "web:archivist")
    assert [(h.code, h.page) for h in search.find(cat, OFFICER, "钱八")] == [(third, 0)]
