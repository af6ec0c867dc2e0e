"""Builders shared by the AIP, OCFL and EEP tests: a small package made in memory (no OCR needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from guidang.packaging.aip import Package, ProcessEvent, build_package

CODE = "Z109-WS·2011-Y-BGS-0001"

METADATA_XML = """<?xml version="1.0" encoding="UTF-8"?>
<文件实体 xmlns="http://guidang.example/dat46">
  <聚合层次>文件</聚合层次>
  <来源><立档单位名称>某市政务服务中心</立档单位名称></来源>
  <档号><全宗号>Z109</全宗号><年度>2011</年度><保管期限>永久</保管期限><机构或问题>BGS</机构或问题><室编件号>1</室编件号></档号>
  <内容描述><题名>关于办理营业执照的申请</题名><责任者>张三</责任者><日期>2011-03-04</日期><密级>公开</密级></内容描述>
  <形式特征><文件组合类型>单件</文件组合类型><页数>2</页数></形式特征>
</文件实体>
""".encode()


def sources(tmp: Path, code: str = CODE) -> dict[str, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    pdf = tmp / "in.pdf"
    pdf.write_bytes(b"%PDF-1.7\n% guidang test\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    text = tmp / "in.txt"
    text.write_text("关于办理营业执照的申请\n第二页\n", encoding="utf-8")
    masters = []
    for i in (1, 2):
        m = tmp / f"{code}-{i:04d}.tif"
        m.write_bytes(b"II*\x00" + bytes([i]) * 5000)
        masters.append(m)
    return {"pdf": pdf, "text": text, "m1": masters[0], "m2": masters[1]}


def make_package(tmp: Path, code: str = CODE, name: str = "pkg") -> Package:
    src = sources(tmp / f"src-{name}", code)
    event = ProcessEvent(
        action="接收",
        time=dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.UTC),
        agent="某扫描公司",
        description="批次 B001 接收",
    )
    return build_package(
        tmp / name,
        code=code,
        pdf=src["pdf"],
        text=src["text"],
        masters=[src["m1"], src["m2"]],
        metadata_xml=METADATA_XML,
        history=[event],
    )
