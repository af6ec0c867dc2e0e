"""Builders shared by the AIP, OCFL and EEP tests: a small package made in memory (no OCR needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from guidang.packaging.aip import Package, build_package
from guidang.packaging.archival_code import builtin_rule, parse
from guidang.packaging.metadata import (
    Action,
    ArchivalCodeMeta,
    ComputerFile,
    ContentDescription,
    DigitisationAttributes,
    ElectronicAttributes,
    FormalCharacteristics,
    ProcessEvent,
    Provenance,
    RecordEntity,
    RecordMetadata,
    StorageLocation,
)
from guidang.packaging.metadata_xml import to_xml

CODE = "Z109-WS·2011-Y-BGS-0001"
RECEIVED = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.UTC)


def sources(tmp: Path, code: str = CODE) -> dict[str, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    pdf = tmp / "in.pdf"
    pdf.write_bytes(b"%PDF-1.7\n% guidang test\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    text = tmp / "in.txt"
    text.write_text("关于办理营业执照的申请\n第二页\n", encoding="utf-8")
    out = {"pdf": pdf, "text": text}
    for i in (1, 2):
        m = tmp / f"{code}-{i:04d}.tif"
        m.write_bytes(b"II*\x00" + bytes([i]) * 5000)
        out[f"m{i}"] = m
    return out


def metadata_for(code: str, src: dict[str, Path], creator: str = "张三") -> RecordMetadata:
    parsed = parse(code, builtin_rule("dat22"))
    files = [
        ComputerFile(
            role="主文档",
            electronic=ElectronicAttributes(
                format_info="格式名称：PDF/A-2b，MIME媒体类型：application/pdf",
                file_name=f"{code}.pdf",
                file_size=src["pdf"].stat().st_size,
                creating_application="guidang",
            ),
        ),
        *(
            ComputerFile(
                role="附属文档",
                electronic=ElectronicAttributes(file_name=src[k].name, file_size=src[k].stat().st_size),
                digitisation=DigitisationAttributes(
                    object_form="纸质文件", resolution="300dpi", colour_mode="灰度", compression="LZW"
                ),
            )
            for k in ("m1", "m2")
        ),
    ]
    return RecordMetadata(
        record=RecordEntity(
            provenance=Provenance(
                archive_name="某市档案馆", fonds_name="某市政务服务中心", unit_name="某市政务服务中心"
            ),
            e_record_number=code,
            archival_code=ArchivalCodeMeta.from_code(parsed),
            content=ContentDescription(
                title="关于办理营业执照的申请", creators=(creator,), date="2011-03-04", classification="公开"
            ),
            form=FormalCharacteristics(page_count=2),
            files=tuple(files),
            storage=StorageLocation(offline_ids=("无",)),
        ),
        events=(ProcessEvent(action=Action.RECEIVED, time=RECEIVED, agent="某扫描公司", agent_type="单位"),),
    )


def make_package(tmp: Path, code: str = CODE, name: str = "pkg") -> Package:
    src = sources(tmp / f"src-{name}", code)
    return build_package(
        tmp / name,
        code=code,
        pdf=src["pdf"],
        text=src["text"],
        masters=[src["m1"], src["m2"]],
        metadata_xml=to_xml(metadata_for(code, src)),
    )
