"""Which DA/T 46 metadata elements are mandatory, and under which condition: data, with each rule's source.

STANDARDS §4.2: the union of GOXDA 必选, the DA/T 48 XSD's minOccurs=1 and GB/T 18894-2016 6.2.2, plus the
scan attributes of a digitised record (DA/T 31). Paths are those of
:data:`guidang.packaging.metadata.ELEMENTS_BY_PATH`; DA/T 70 items 2-3 and 2-4 check them on a package.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    """An element that must be present (any of ``paths``), always or under a named condition."""

    paths: tuple[str, ...]
    source: str
    condition: str | None = None  # None = always; else one of CONDITIONS

    @property
    def label(self) -> str:
        return " 或 ".join(p.rsplit("/", 1)[-1] for p in self.paths)


CONDITIONS = {
    "digitised": "数字化副本（纸质档案扫描件）/ digitised copy of paper",
    "born_digital": "原生电子文件（业务系统在线归档）/ born digital, filed online from a business system",
    "signed": "带电子签名 / record carries an electronic signature",
    "offline": "存于脱机载体 / kept on offline carriers",
    "org_class": "按机构（问题）分类的全宗 / fonds classified by organisation or subject",
    "numbered": "文件本身有发文字号 / the document bears a number",
    "file_level": "聚合层次为文件 / a record at the file (件) level",
    "volume_level": "聚合层次为案卷 / a volume (案卷) record",
}

_R = "文件实体/"
_DOC = "DA/T 48 XSD minOccurs=1"
_GOX = "DA/T 46 必选 (GOXDA)"
_GBT = "GB/T 18894-2016 6.2.2"
MANDATORY_ELEMENTS: tuple[Requirement, ...] = (
    Requirement((f"{_R}聚合层次",), _DOC),
    Requirement((f"{_R}来源/立档单位名称",), f"{_GOX}; {_DOC}"),
    Requirement((f"{_R}电子文件号",), _DOC),
    Requirement((f"{_R}档号/年度",), f"{_GOX}; {_DOC}"),
    Requirement((f"{_R}档号/保管期限",), f"{_GOX}; {_DOC}; {_GBT}"),
    Requirement((f"{_R}档号/室编件号", f"{_R}档号/馆编件号"), _DOC, "file_level"),
    # a volume is numbered by its 案卷号 (DA/T 13; its documents by 件号 in their own records: docs/volumes.md)
    Requirement((f"{_R}档号/室编案卷号", f"{_R}档号/馆编案卷号"), "DA/T 46 M15/M16; DA/T 13-2022 按卷", "volume_level"),
    Requirement((f"{_R}档号/机构或问题",), _GBT, "org_class"),
    Requirement((f"{_R}内容描述/题名",), f"{_GOX}; {_DOC}; {_GBT}"),
    Requirement((f"{_R}内容描述/文件编号",), _GBT, "numbered"),
    Requirement((f"{_R}内容描述/责任者",), f"{_DOC}; {_GBT}"),
    Requirement((f"{_R}内容描述/日期",), f"{_GOX}; {_DOC}; {_GBT}"),
    Requirement((f"{_R}内容描述/密级",), f"{_GOX}; {_DOC}; {_GBT}"),
    Requirement((f"{_R}形式特征/文件组合类型",), _DOC),
    Requirement((f"{_R}计算机文件/电子属性/格式信息",), _GBT),
    Requirement((f"{_R}计算机文件/电子属性/计算机文件名",), f"{_DOC}; {_GBT}"),
    Requirement((f"{_R}计算机文件/电子属性/计算机文件大小",), f"{_DOC}; {_GBT}"),
    Requirement((f"{_R}计算机文件/电子属性/文档创建程序",), _GBT),
    # a born-digital record names the system it was formed in (GB/T 18894-2016 5, 8.2.3: online filing from
    # business systems; DA/T 92-2022 8.1.4), as scans name their digitisation
    Requirement((f"{_R}计算机文件/电子属性/信息系统描述",), "DA/T 46 M51; GB/T 18894-2016 8.2.3", "born_digital"),
    Requirement((f"{_R}计算机文件/数字化属性/数字化对象形态",), "DA/T 31-2017; STANDARDS §4.2", "digitised"),
    Requirement((f"{_R}计算机文件/数字化属性/扫描分辨率",), f"{_DOC}; DA/T 31-2017", "digitised"),
    Requirement((f"{_R}计算机文件/数字化属性/扫描色彩模式",), f"{_DOC}; DA/T 31-2017", "digitised"),
    Requirement((f"{_R}计算机文件/数字化属性/图像压缩方案",), "DA/T 31-2017; STANDARDS §4.2", "digitised"),
    Requirement((f"{_R}电子签名/签名规则",), _DOC, "signed"),
    Requirement((f"{_R}电子签名/签名结果",), _DOC, "signed"),
    Requirement((f"{_R}电子签名/证书",), _DOC, "signed"),
    Requirement((f"{_R}电子签名/签名算法标识",), _DOC, "signed"),
    Requirement((f"{_R}存储位置/脱机载体编号",), f"{_GOX}; {_DOC}", "offline"),
    Requirement(("业务实体块/业务实体/业务状态",), _DOC),
    Requirement(("业务实体块/业务实体/业务行为",), f"{_DOC}; {_GBT}"),
    Requirement(("业务实体块/业务实体/行为时间",), f"{_DOC}; {_GBT}"),
    Requirement(("业务实体块/业务实体/机构人员名称",), f"{_DOC}; {_GBT}"),
)
