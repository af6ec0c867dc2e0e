"""DA/T 70 1-15 (EEP valid against DA/T 48) and 1-16 (EEP signatures valid), stage BC.

The EEPs of a package are the ones the context names (exports kept beside the store) plus any
XML file in the package whose root is 电子文件封装包. Without an EEP the items do not apply and say
so. Schema and signature rules are packaging.eep's: the project XSD, exclusive C14N of 被签名对象,
SM2-SM3 or RSA-SHA256, and the 锁定签名.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from guidang import safexml
from guidang.validators.dat70.subject import Dat70Subject, ev
from guidang.validators.registry import check
from guidang.validators.result import Finding, Status

EEP_ROOT = "电子文件封装包"


def eep_files(s: Dat70Subject) -> list[tuple[str, Path]]:
    found = [(str(p), p) for p in s.context.eeps]
    for relpath in s.package.files:
        if relpath.lower().endswith(".xml"):
            with s.path(relpath).open("rb") as f:
                head = f.read(4096)
            if EEP_ROOT.encode("utf-8") in head:
                found.append((relpath, s.path(relpath)))
    return found


def _none(s: Dat70Subject) -> Iterator[Finding]:
    if not eep_files(s):
        yield Finding(Status.NOT_APPLICABLE, "no_eep", evidence=ev(field="EEP", found="none"))


@check("1-15")
def eep_schema_valid(s: Dat70Subject) -> Iterator[Finding]:
    from guidang.packaging.eep import document

    yield from _none(s)
    for shown, path in eep_files(s):
        try:
            doc = etree.parse(str(path), safexml.parser(huge=True))
        except (etree.XMLSyntaxError, OSError) as exc:
            yield Finding(Status.FAIL, "unreadable", {"file": shown, "detail": str(exc)}, ev(shown, found=str(exc)))
            continue
        xsd = document.schema()
        if xsd.validate(doc):
            continue
        errors: Any = xsd.error_log  # lxml-stubs do not declare _ErrorLog iterable
        for err in list(errors)[:20]:
            yield Finding(
                Status.FAIL,
                "invalid",
                {"file": shown, "line": err.line, "detail": err.message},
                ev(shown, f"line {err.line}", "DA/T 48 schema", err.message),
            )


@check("1-16")
def eep_signature_valid(s: Dat70Subject) -> Iterator[Finding]:
    from guidang.packaging.eep.verify import verify_eep

    yield from _none(s)
    for shown, path in eep_files(s):
        result = verify_eep(path.read_bytes(), require_signature=False,
                                trusted_certificates=s.context.trusted_certificates)
        if not result.signed:
            yield Finding(Status.FAIL, "unsigned", {"file": shown}, ev(shown, "电子签名块", "signed", "none"))
            continue
        for sig in result.signatures:
            if sig.valid and not sig.trusted:
                yield Finding(
                    Status.FAIL if s.context.untrusted_signer == "fail" else Status.WARN,
                    "untrusted",
                    {"file": shown, "name": sig.identifier},
                    ev(shown, f"签名 {sig.identifier}", "trusted signer", "intact, signer not trusted"),
                )
            if sig.valid:
                continue
            detail = next((p.zh for p in result.problems if sig.identifier.removeprefix("lock:") in p.zh), "")
            yield Finding(
                Status.FAIL,
                "invalid",
                {"file": shown, "detail": detail or sig.identifier},
                ev(shown, f"签名 {sig.identifier}", "valid", detail or "invalid"),
            )
