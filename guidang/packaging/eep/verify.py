"""Verifying an EEP: the schema, each 编码数据 against its declared size, every 电子签名 and the 锁定签名."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from guidang.packaging.eep.document import (
    EepError,
    canonical,
    find,
    findall,
    load,
    q,
    schema_errors,
    text_of,
    xml_parser,
)
from guidang.packaging.signing import ALGORITHM_NAMES, SignatureError, is_trusted, verify


@dataclass(frozen=True, slots=True)
class Problem:
    zh: str
    en: str

    def message(self, language: str = "zh") -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    identifier: str  # 签名标识符, or "lock:<id>" for the 锁定签名
    algorithm: str  # OID
    signer: str
    valid: bool  # intact: the signature verifies with the certificate it carries
    trusted: bool = False  # that certificate is a trust anchor or issued by one ([signing] trusted_certificates)


@dataclass(frozen=True, slots=True)
class EepVerification:
    valid: bool
    signed: bool
    problems: tuple[Problem, ...]
    signatures: tuple[SignatureCheck, ...]
    warnings: tuple[Problem, ...] = ()  # e.g. intact, signer not trusted (untrusted_signer = "warn")


def _check_signature(
    owner: etree._Element, data: bytes, ident: str, trusted: Sequence[bytes], problems: list[Problem]
) -> SignatureCheck:
    oid = text_of(find(owner, "签名算法标识"))
    signer = text_of(find(owner, "签名人"))
    try:
        result = base64.b64decode(text_of(find(owner, "签名结果")), validate=False)
        cert = base64.b64decode(text_of(find(owner, "证书块/证书")), validate=False)
    except ValueError:  # binascii.Error, or a character outside ASCII (found by fuzzing)
        problems.append(Problem(f"签名 {ident} 的签名结果或证书不是有效的 Base64", f"signature {ident}: bad Base64"))
        return SignatureCheck(ident, oid, signer, False)
    if oid not in ALGORITHM_NAMES:
        problems.append(
            Problem(
                f"签名 {ident} 的签名算法标识不受支持：{oid}",
                f"signature {ident}: unsupported algorithm {oid}",
            )
        )
        return SignatureCheck(ident, oid, signer, False)
    try:
        ok = verify(data, result, cert, oid)
    except SignatureError as exc:
        problems.append(Problem(f"签名 {ident}：{exc.zh}", f"signature {ident}: {exc.en}"))
        return SignatureCheck(ident, oid, signer, False)
    if not ok:
        problems.append(
            Problem(
                f"签名 {ident} 验证失败：被签名的内容已被改动，或签名不是用该证书的私钥生成的",
                f"signature {ident} does not verify: the signed content changed or the key does not match",
            )
        )
    return SignatureCheck(ident, oid, signer, ok, is_trusted(cert, trusted))


def _untrusted(check: SignatureCheck) -> Problem:
    return Problem(
        f"签名 {check.identifier} 完好，但签名人（{check.signer or '未署名'}）不受信任：其证书不在受信任证书之列",
        f"signature {check.identifier} is intact, signer not trusted ({check.signer or 'unnamed'}): "
        "its certificate is not among the trusted certificates",
    )


def verify_eep(
    source: str | os.PathLike[str] | bytes,
    *,
    trusted_certificates: Sequence[bytes] = (),
    require_signature: bool = True,
    untrusted_signer: str = "warn",
) -> EepVerification:
    """Check an EEP: schema, sizes of the embedded files, every 电子签名 and the 锁定签名.

    ``trusted_certificates`` (DER) are the trust anchors: an intact signature whose certificate is
    neither one of them nor issued by one is "intact, signer not trusted", a warning, or a failure
    when ``untrusted_signer`` is "fail"; never plainly valid. An unsigned EEP is invalid when
    ``require_signature`` (the default), since nothing then proves it unchanged.
    """
    data = load(source)
    problems: list[Problem] = []
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        return EepVerification(
            False,
            False,
            (Problem(f"EEP 不是格式良好的 XML：{exc}", f"EEP is not well-formed XML: {exc}"),),
            (),
        )
    for err in schema_errors(data):
        problems.append(
            Problem(
                f"不符合 DA/T 48 模式（第 {err.line} 行）：{err.message}",
                f"not valid against the DA/T 48 schema (line {err.line}): {err.message}",
            )
        )
    data_by_id = {el.get("编码数据ID", ""): el for el in root.iter(q("编码数据"))}
    for enc in root.iter(q("编码")):
        _check_size(enc, data_by_id, problems)
    signed_obj = find(root, "被签名对象")
    checks: list[SignatureCheck] = []
    sigs = findall(root, "电子签名块/电子签名")
    if signed_obj is not None and sigs:
        content = canonical(signed_obj)
        by_id = {}
        for sig in sigs:
            ident = text_of(find(sig, "签名标识符"))
            by_id[ident] = sig
            checks.append(_check_signature(sig, content, ident, trusted_certificates, problems))
        for lock in findall(root, "锁定签名"):
            target = text_of(find(lock, "被锁定签名标识符"))
            if target not in by_id:
                problems.append(
                    Problem(
                        f"锁定签名指向不存在的签名 {target}",
                        f"lock signature refers to unknown signature {target}",
                    )
                )
                continue
            checks.append(
                _check_signature(lock, canonical(by_id[target]), f"lock:{target}", trusted_certificates, problems)
            )
        # a 修改型 package keeps each earlier layer whole in 原封装包, with that layer's own signatures
        for layer in root.iter(q("原封装包")):
            inner = find(layer, "被签名对象")
            if inner is None:
                continue
            for sig in findall(layer, "电子签名块/电子签名"):
                ident = text_of(find(sig, "签名标识符"))
                checks.append(_check_signature(sig, canonical(inner), ident, trusted_certificates, problems))
    elif require_signature:
        problems.append(Problem("EEP 未签名，无法证明未被改动", "the EEP is not signed; nothing proves it unchanged"))
    untrusted = [_untrusted(c) for c in checks if c.valid and not c.trusted]
    if untrusted_signer == "fail":
        problems += untrusted
    valid = not problems and all(c.valid for c in checks)
    warnings = tuple(untrusted) if untrusted_signer != "fail" else ()
    return EepVerification(valid, bool(sigs), tuple(problems), tuple(checks), warnings)


def referenced(payload: etree._Element, data_by_id: Mapping[str, etree._Element]) -> etree._Element:
    """The 编码数据 holding the bytes: itself, or what its 引用编码数据ID chain leads to."""
    seen: set[str] = set()
    while (ref := payload.get("引用编码数据ID")) and not (payload.text or "").strip():
        if ref in seen or ref not in data_by_id:
            raise EepError(f"引用编码数据ID 无法解析：{ref}", f"引用编码数据ID cannot be resolved: {ref}")
        seen.add(ref)
        payload = data_by_id[ref]
    return payload


def _check_size(enc: etree._Element, data_by_id: Mapping[str, etree._Element], problems: list[Problem]) -> None:
    name = text_of(find(enc, "电子属性/计算机文件名"))
    found = find(enc, "编码数据")
    if found is None:
        return
    try:
        payload = referenced(found, data_by_id)
    except EepError as exc:
        problems.append(Problem(f"文件 {name}：{exc.zh}", f"file {name}: {exc.en}"))
        return
    try:
        size = len(base64.b64decode("".join((payload.text or "").split()), validate=True))
    except ValueError:  # binascii.Error, or a character outside ASCII (found by fuzzing)
        problems.append(
            Problem(f"文件 {name} 的编码数据不是有效的 Base64", f"file {name}: 编码数据 is not valid Base64")
        )
        return
    declared = text_of(find(enc, "电子属性/计算机文件大小"))
    if declared != str(size):
        problems.append(
            Problem(
                f"文件 {name} 的大小与计算机文件大小不符（记录 {declared}，实际 {size}）",
                f"file {name}: size {size} differs from 计算机文件大小 {declared}",
            )
        )
