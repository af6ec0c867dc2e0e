"""HTTP ingest for business systems: ``POST /api/v1/cases`` (multipart: case.json + files), ``GET
/api/v1/cases/{case_number}``, and the OpenAPI spec of these routes.

A business system signs in with its API token (an account with the ``system`` role: ``ingest.submit``).
The upload is written into a fresh folder (every name proven safe by :mod:`guidang.names`) and goes through
the same pipeline as a case dropped in the hot folder (:func:`guidang.pipeline.cases.ingest_case`).
Idempotent by 办件编号: the same case posted again returns the first result (200); the same 办件编号 with
other content is a 409 with the reason, and never a second record.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from guidang import names
from guidang.config import Settings
from guidang.errors import InputError
from guidang.models import ItemStatus
from guidang.pipeline.case_file import CASE_FILES, MAX_CASE_JSON_BYTES
from guidang.pipeline.cases import ingest_case
from guidang.storage.catalogue import ItemRow
from guidang.web.audit import record
from guidang.web.auth import Principal, require
from guidang.web.context import web_context

router = APIRouter(prefix="/api/v1", tags=["ingest-api"])
CHUNK = 1024 * 1024


class FileResult(BaseModel):
    file: str
    kind: str
    format: str
    puid: str
    mime: str
    route: str
    disposition: str
    signed: bool


class CaseResult(BaseModel):
    """What became of a case: its 档号 (``id``), status, the archived object, and each file's path."""

    case_number: str | None
    id: str | None
    status: str
    object: str | None
    failed_checks: list[str]
    problems: list[dict[str, Any]]
    files: list[FileResult]
    receipt: str | None


class ApiError(BaseModel):
    error: str
    message_zh: str
    message_en: str


def _profile(settings: Settings, given: str | None) -> str:
    if given:
        settings.profile(given)  # an unknown profile is a 400 with its reason
        return given
    cases = [name for name, p in settings.profiles.items() if p.intake == "cases"]
    if len(cases) == 1:
        return cases[0]
    if len(settings.profiles) == 1:
        return next(iter(settings.profiles))
    raise InputError(
        "请用 profile 字段指定收件档案（有多个可选）", "name the profile in the 'profile' field (there are several)"
    )


def _save(upload: UploadFile, dest: Path, limit: int) -> int:
    written = 0
    with dest.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise InputError(
                    f"上传文件超过上限 {limit} 字节", f"the upload is larger than the limit of {limit} bytes"
                )
            out.write(chunk)
    return written


def _stage(settings: Settings, profile: str, case: UploadFile, files: list[UploadFile]) -> Path:
    """The upload as a case folder under work/api/; names are data until proven safe."""
    raw = case.file.read(MAX_CASE_JSON_BYTES + 1)
    if len(raw) > MAX_CASE_JSON_BYTES:
        raise InputError("办件描述文件过大", "the case description is too large")
    try:
        parsed = json.loads(raw.decode("utf-8-sig"))
        number = parsed.get("办件编号") or parsed.get("case_number")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise InputError(
            f"case.json 不是有效的 JSON 对象：{exc}", f"case.json is not a valid JSON object: {exc}"
        ) from exc
    folder = names.component_or_stand_in(str(number or "case"))
    root = settings.work_root / "api" / uuid.uuid4().hex
    case_dir = names.child(root, folder)
    case_dir.mkdir(parents=True)
    try:
        (case_dir / CASE_FILES[0]).write_bytes(raw)
        budget = settings.profile(profile).limits.max_batch_bytes
        for upload in files:
            name = names.component(upload.filename or "")
            if name in CASE_FILES or name == "READY" or (case_dir / name).exists():
                raise InputError(f"文件名重复或保留：{name}", f"a file name given twice or reserved: {name}")
            budget -= _save(upload, names.child(case_dir, name), budget)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)  # a refused upload leaves nothing behind
        raise
    return case_dir


def _result(item: dict[str, Any], receipt: str | None) -> CaseResult:
    files = [FileResult(**{k: f[k] for k in FileResult.model_fields}) for f in item.get("files", [])]
    return CaseResult(case_number=item.get("case_number"), id=item.get("id"), status=item["status"],
                      object=item.get("object"), failed_checks=item.get("failed_checks", []),
                      problems=item.get("problems", []), files=files, receipt=receipt)


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseResult,
    responses={200: {"model": CaseResult, "description": "posted before: the first result"},
               400: {"model": ApiError}, 409: {"model": ApiError}},
)  # fmt: skip
def submit_case(
    request: Request,
    principal: Annotated[Principal, Depends(require("ingest.submit"))],
    case: Annotated[UploadFile, File(description="case.json: the case (办件) description")],
    files: Annotated[list[UploadFile] | None, File(description="the case's files")] = None,
    profile: Annotated[str | None, Form()] = None,
) -> Response:
    ctx = web_context(request)
    settings = ctx.settings
    name = _profile(settings, profile)
    case_dir = _stage(settings, name, case, files or [])
    try:
        outcome = ingest_case(settings, name, case_dir)
    finally:
        shutil.rmtree(case_dir.parent, ignore_errors=True)
    items: list[dict[str, Any]] = outcome.as_dict()["items"]  # type: ignore[assignment]
    item = items[0]
    receipt = outcome.receipt_paths[0] if outcome.receipt_paths else None
    with ctx.catalogue.session() as s:
        record(s, principal, "case.received", str(item.get("case_number") or ""), batch_id=outcome.batch_id,
               status=item["status"], object=item.get("object"))
    if "CASE-REPEAT" in item.get("failed_checks", []):
        repeat = next(p for p in item["problems"] if p["check"] == "CASE-REPEAT")
        return JSONResponse({"error": "conflict", "message_zh": repeat["message_zh"],
                             "message_en": repeat["message_en"]}, status_code=409)
    if item["status"] == ItemStatus.DUPLICATE:
        first = _latest(ctx.catalogue, str(item.get("case_number")))
        body = first if first is not None else _result(item, receipt)
        return JSONResponse(body.model_dump(), status_code=200)
    return JSONResponse(_result(item, receipt).model_dump(), status_code=201)


def _latest(catalogue: Any, case_number: str) -> CaseResult | None:
    """The first archived result of a case (else its latest), as recorded."""
    with catalogue.session() as s:
        query = select(ItemRow).where(ItemRow.case_number == case_number, ItemRow.status != ItemStatus.DUPLICATE)
        rows = list(s.scalars(query.order_by(ItemRow.id)))
        if not rows:
            return None
        item = next((i for i in rows if i.status == ItemStatus.ACCEPTED), rows[-1])
        receipt = item.batch.receipt_path
        files: list[dict[str, Any]] = []
        if receipt and Path(receipt).is_file():
            data = json.loads(Path(receipt).read_text("utf-8"))
            files = (data.get("items") or [{}])[0].get("files", [])
        return _result({"case_number": case_number, "id": item.archival_code or None, "status": item.status,
                        "object": item.object_id, "failed_checks": list(item.failed_checks or []),
                        "problems": [], "files": files}, receipt)


@router.get("/cases/{case_number}", response_model=CaseResult, responses={404: {"model": ApiError}})
def case_status(
    request: Request,
    case_number: str,
    principal: Annotated[Principal, Depends(require("ingest.submit"))],
) -> Response:
    found = _latest(web_context(request).catalogue, case_number)
    if found is None:
        return JSONResponse({"error": "not_found", "message_zh": f"没有办件 {case_number}",
                             "message_en": f"no case {case_number}"}, status_code=404)
    return JSONResponse(found.model_dump())


@router.get("/openapi.json", include_in_schema=False)
def openapi_spec(principal: Annotated[Principal, Depends(require("ingest.submit"))]) -> Response:
    """The OpenAPI spec of the ingest API (the app itself publishes none: its /docs pages load scripts)."""
    return JSONResponse(openapi())


def openapi() -> dict[str, Any]:
    return get_openapi(title="guidang ingest API", version="1", routes=router.routes,
                       description="在线归档接口 / online filing of cases (办件) from business systems")
