"""HTTP ingest of cases (POST/GET /api/v1/cases): a business system's API token, the same pipeline as the
hot folder, idempotent by 办件编号, and the OpenAPI spec checked by schemathesis for a bounded number of examples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import corpus
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import func, select
from test_cases import ofd
from web_support import Desk

from guidang.storage.catalogue import ItemRow
from guidang.storage.ocfl_store import OcflStore
from guidang.web.app import create_app
from guidang.web.case_queue import CaseQueue

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
CASE = {"办件编号": "BJ-2024-API-0001", "事项名称": "食品经营许可", "申请人": "示例公司",
        "题名": "示例公司食品经营许可", "责任者": "示例市市场监督管理局", "日期": "20240305", "密级": "公开",
        "保管期限": "30年",
        "材料": [{"文件": "申请表.odt", "类别": "申请材料"}, {"文件": "证照.ofd", "类别": "结果材料"}]}  # fmt: skip


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Desk:
    return Desk.make(tmp_path, monkeypatch, roles=["system", "archivist"])


def post(client: TestClient, token: str, case: dict[str, Any], files: dict[str, bytes]) -> Any:
    parts = [("case", ("case.json", json.dumps(case, ensure_ascii=False).encode(), "application/json"))]
    parts += [("files", (name, data, "application/octet-stream")) for name, data in files.items()]
    # the default home has several profiles (scans and volumes), so the case names its inbox's profile
    return client.post("/api/v1/cases", files=parts, data={"profile": "demo"},
                       headers={"Authorization": f"Bearer {token}"})


def held(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> CaseQueue:
    """The app's case queue with its worker held back: posted cases stay queued until ``release``."""
    queue = desk.app.state.ctx.cases
    monkeypatch.setattr(queue, "start", lambda: None)
    return queue


def release(queue: CaseQueue) -> None:
    CaseQueue.start(queue)
    assert queue.drain(600)


def get(client: TestClient, token: str, number: str) -> Any:
    return client.get(f"/api/v1/cases/{number}", headers={"Authorization": f"Bearer {token}"})


def test_a_case_posted_twice_is_archived_once(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    token = desk.token("u-system")
    client = desk.anonymous()
    queue = held(desk, monkeypatch)
    odt = corpus("office", "office-examples", "LibreOffice7-ODF-1.3", "LibreOfficeWriter_odt_1.3.odt").read_bytes()
    files = {"申请表.odt": odt, "证照.ofd": ofd()}
    first = post(client, token, CASE, files)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "queued" and first.headers["location"] == "/api/v1/cases/BJ-2024-API-0001"
    assert get(client, token, "BJ-2024-API-0001").json()["status"] == "queued"
    # posted again while queued: the same content is not queued twice; other content is a conflict
    again = post(client, token, CASE, files)
    assert again.status_code == 202 and again.json()["status"] == "queued", again.text
    conflict = post(client, token, CASE, {**files, "证照.ofd": ofd("不予许可")})
    assert conflict.status_code == 409 and "处理中" in conflict.json()["message_zh"], conflict.text
    assert len(queue.entries()) == 1
    release(queue)
    status = get(client, token, "BJ-2024-API-0001")
    body = status.json()
    assert status.status_code == 200 and body["status"] == "accepted", body
    assert body["receipt"] and body["object"]
    assert {f["file"]: f["route"] for f in body["files"]} == {"申请表.odt": "office-to-pdfa", "证照.ofd": "ofd-kept"}
    # posted again once archived: the first result, and for other content a 409; never a second record
    again = post(client, token, CASE, files)
    assert again.status_code == 200 and again.json()["object"] == body["object"], again.text
    conflict = post(client, token, CASE, {**files, "证照.ofd": ofd("不予许可")})
    assert conflict.status_code == 409 and "已归档" in conflict.json()["message_zh"], conflict.text
    assert list(OcflStore(desk.settings.store_root).list_codes()) == [body["object"]]
    assert queue.entries() == []
    with desk.catalogue.session() as s:
        assert s.scalar(select(func.count()).select_from(ItemRow)) == 1
    assert get(client, token, "NO-SUCH").status_code == 404


def test_a_queued_case_survives_a_stop_of_the_web_app(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spool is the durable record: a case answered 202 and not yet run is run by the next start."""
    token = desk.token("u-system")
    queue = held(desk, monkeypatch)
    image = corpus("ocrmypdf-resources", "typewriter.png").read_bytes()
    case = {**CASE, "办件编号": "BJ-2024-API-0002", "材料": [{"文件": "证照.png", "类别": "结果材料"}]}
    assert post(desk.anonymous(), token, case, {"证照.png": image}).status_code == 202
    assert [e.case_number for e in queue.entries()] == ["BJ-2024-API-0002"]
    restarted = create_app(desk.settings, desk.catalogue)  # a new process's app over the same home
    with TestClient(restarted) as client:  # its start-up runs what the spool holds
        assert restarted.state.ctx.cases.drain(600)
        body = get(client, token, "BJ-2024-API-0002").json()
    assert body["status"] == "accepted" and body["files"][0]["route"] == "image-kept", (body["failed_checks"], body)
    assert queue.entries() == []


def test_a_rejected_case_answers_with_its_reasons(desk: Desk) -> None:
    """A business system learns why: the GET of a returned case carries each finding with its message."""
    token, client = desk.token("u-system"), desk.anonymous()
    encrypted = corpus("malformed-pdf", "pdfCabinetOfHorrors", "encryption_openpassword.pdf").read_bytes()
    case = {**CASE, "办件编号": "BJ-2024-API-0003",
            "材料": [{"文件": "加密.pdf", "类别": "申请材料"}, {"文件": "证照.ofd", "类别": "结果材料"}]}
    assert post(client, token, case, {"加密.pdf": encrypted, "证照.ofd": ofd()}).status_code == 202
    assert desk.app.state.ctx.cases.drain(600)
    body = get(client, token, "BJ-2024-API-0003").json()
    assert body["status"] == "rejected" and "CASE-NORMALISE" in body["failed_checks"], body
    refused = [p for p in body["problems"] if p["check"] == "CASE-NORMALISE" and p["status"] == "fail"]
    assert refused and "password" in refused[0]["message_en"] and "加密.pdf" in refused[0]["message_zh"], body


def test_a_case_without_its_number_is_refused(desk: Desk) -> None:
    case = {k: v for k, v in CASE.items() if k != "办件编号"}
    refused = post(desk.anonymous(), desk.token("u-system"), case, {})
    assert refused.status_code == 400 and "办件编号" in refused.json()["message_zh"], refused.text


def test_the_api_needs_a_token_with_ingest_submit(desk: Desk) -> None:
    client = desk.anonymous()
    assert post(client, "gdt_not-a-token", CASE, {}).status_code == 401
    # an archivist's token: signed in, but not a business system
    assert post(client, desk.token("u-archivist"), CASE, {}).status_code == 403


def test_unsafe_names_and_bad_json_are_400_and_leave_nothing(desk: Desk) -> None:
    token = desk.token("u-system")
    client = desk.anonymous()
    bad = post(client, token, CASE, {"../../evil.pdf": b"%PDF-1.4"})
    assert bad.status_code == 400 and bad.json()["error"], bad.text
    parts = [("case", ("case.json", b"{not json", "application/json"))]
    assert client.post("/api/v1/cases", files=parts, headers={"Authorization": f"Bearer {token}"}).status_code == 400
    assert not list(desk.settings.home.rglob("evil.pdf"))
    spool = desk.settings.work_root / "api" / "spool"
    assert not spool.exists() or not any(spool.iterdir())


def test_openapi_spec_holds_for_generated_requests(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis: every operation of the spec, 10 generated requests each; none is a server error, and every
    response documented in the spec matches it (the generated cases are queued, not run)."""
    held(desk, monkeypatch)
    headers = {"Authorization": f"Bearer {desk.token('u-system')}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", desk.app, headers=headers)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert {f"{o.method.upper()} {o.path}" for o in operations} == {"POST /api/v1/cases",
                                                                    "GET /api/v1/cases/{case_number}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @hsettings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, response.text
            assert response.status_code in (200, 202, 400, 404, 409, 422), response.status_code
            case.validate_response(response, checks=[response_schema_conformance])

        check()
