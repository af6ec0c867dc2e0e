"""Fixity inside files and packages: PDF signatures and OFD seal digests (1-1), EEP schema and signatures
(1-15, 1-16). Keys and certificates are generated here, never committed."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from guidang.packaging.signing import load_signer
from guidang.validators.dat70 import Dat70Context, run_dat70
from guidang.validators.file_checks import check_file
from guidang.validators.result import Status
from guidang.validators.signatures import SigStatus, ofd_signature_problems, ofd_signatures, pdf_signatures

sys.path.insert(0, str(Path(__file__).parent / "data" / "dat70"))
import make_fixtures as mf


@pytest.fixture(scope="module")
def key_and_cert() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "测试档案馆")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert


# -- PDF signatures -----------------------------------------------------------------------------------------
PLACEHOLDER = 9_999_999_999


def signed_pdf(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bytes:
    """A one-page PDF with a CMS (adbe.pkcs7.detached) signature over its whole ByteRange."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    sig = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Sig,
            Filter=pikepdf.Name("/Adobe.PPKLite"),
            SubFilter=pikepdf.Name("/adbe.pkcs7.detached"),
            ByteRange=pikepdf.Array([0, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER]),
            Contents=pikepdf.String(b"\0" * 4096),
        )
    )
    field = pdf.make_indirect(
        pikepdf.Dictionary(
            FT=pikepdf.Name.Sig,
            T=pikepdf.String("签名1"),
            V=sig,
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            Rect=pikepdf.Array([0, 0, 0, 0]),
            P=pdf.pages[0].obj,
        )
    )
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]), SigFlags=3)
    buf = io.BytesIO()
    pdf.save(buf, object_stream_mode=pikepdf.ObjectStreamMode.disable, compress_streams=False)
    data = bytearray(buf.getvalue())
    contents = re.search(rb"/Contents <(0+)>", data)
    assert contents is not None
    a, b = contents.start(1) - 1, contents.end(1) + 1
    ranges = f"[ 0 {a} {b} {len(data) - b} ]".encode()
    old = re.search(rb"/ByteRange \[[^\]]*\]", data)
    assert old is not None
    field_text = b"/ByteRange " + ranges
    data[old.start() : old.end()] = field_text.ljust(old.end() - old.start())
    signed = bytes(data[:a]) + bytes(data[b:])
    cms = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(signed)
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )
    hexed = cms.hex().encode().ljust(b - a - 2, b"0")
    data[a + 1 : b - 1] = hexed
    return bytes(data)


def test_valid_pdf_signature_is_verified(
    key_and_cert: tuple[rsa.RSAPrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    f = tmp_path / "signed.pdf"
    f.write_bytes(signed_pdf(*key_and_cert))
    anchor = key_and_cert[1].public_bytes(serialization.Encoding.DER)
    (sig,) = pdf_signatures(f, trusted=(anchor,))
    assert sig.status is SigStatus.VALID, sig
    (sig,) = pdf_signatures(f)  # the certificate the file carries proves nothing by itself
    assert sig.status is SigStatus.UNTRUSTED and "signer not trusted" in sig.detail, sig


def test_an_untrusted_pdf_signer_warns_or_fails_1_1_by_policy(
    key_and_cert: tuple[rsa.RSAPrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    root = mf.build(tmp_path / mf.CODE, mf.Spec(masters=[(f"{mf.CODE}-0001.pdf", signed_pdf(*key_and_cert))]))
    anchor = key_and_cert[1].public_bytes(serialization.Encoding.DER)

    def one_one(**kw: object) -> list[tuple[Status, str]]:
        report = run_dat70(root, "GD", Dat70Context(sender=mf.sender_of(root), **kw))  # type: ignore[arg-type]
        return [(r.status, r.message_en) for r in report.by_id("GD-1-1") if "signature" in r.message_en]

    [(status, message)] = one_one()
    assert status is Status.WARN and "intact, signer not trusted" in message
    assert [s for s, _ in one_one(untrusted_signer="fail")] == [Status.FAIL]
    assert one_one(trusted_certificates=(anchor,)) == []  # a trusted signer: nothing to report


def test_changed_signed_pdf_is_invalid(
    key_and_cert: tuple[rsa.RSAPrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    data = bytearray(signed_pdf(*key_and_cert))
    at = data.index(b"/MediaBox [ 0 0 612 792 ]") + len(b"/MediaBox [ 0 0 6")
    data[at] = ord("9")  # the page is now 692 wide: covered by the signature
    f = tmp_path / "changed.pdf"
    f.write_bytes(bytes(data))
    (sig,) = pdf_signatures(f)
    assert sig.status is SigStatus.INVALID and "messageDigest" in sig.detail


def test_signature_with_another_key_is_invalid(
    key_and_cert: tuple[rsa.RSAPrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    _, cert = key_and_cert
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # signed with another key but carrying the certificate: the digest matches, the value does not verify
    f = tmp_path / "forged.pdf"
    f.write_bytes(signed_pdf(other, cert))
    (sig,) = pdf_signatures(f)
    assert sig.status is SigStatus.INVALID


def test_signed_pdf_in_a_package_trips_1_1(
    key_and_cert: tuple[rsa.RSAPrivateKey, x509.Certificate], tmp_path: Path
) -> None:
    key, cert = key_and_cert
    data = bytearray(signed_pdf(key, cert))
    at = data.index(b"/MediaBox [ 0 0 612 792 ]") + len(b"/MediaBox [ 0 0 6")
    data[at] = ord("9")
    root = mf.build(tmp_path / mf.CODE, mf.Spec(masters=[(f"{mf.CODE}-0001.pdf", bytes(data))]))
    report = run_dat70(root, "GD", Dat70Context(sender=mf.sender_of(root)))
    findings = [r for r in report.by_id("GD-1-1") if r.status is Status.FAIL]
    assert findings and "签名" in findings[0].message_zh


# -- OFD seal digests ---------------------------------------------------------------------------------------
OFD_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def sealed_ofd(
    document: bytes = b'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>',
    digest_of: bytes | None = None,
) -> bytes:
    check_value = base64.b64encode(
        hashlib.new("sm3", digest_of if digest_of is not None else document).digest()
    ).decode()
    files = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {OFD_NS} Version="1.0"><ofd:DocBody>'
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot><ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>"
        "</ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": document,
        "Doc_0/Signs/Signatures.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signatures {OFD_NS}>'
        '<ofd:Signature ID="1" Type="Seal" BaseLoc="Sign_0/Signature.xml"/></ofd:Signatures>',
        "Doc_0/Signs/Sign_0/Signature.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signature {OFD_NS}>'
        '<ofd:SignedInfo><ofd:References CheckMethod="1.2.156.10197.1.401">'
        f'<ofd:Reference FileRef="/Doc_0/Document.xml"><ofd:CheckValue>{check_value}</ofd:CheckValue></ofd:Reference>'
        "</ofd:References></ofd:SignedInfo><ofd:SignedValue>SignedValue.dat</ofd:SignedValue></ofd:Signature>",
        "Doc_0/Signs/Sign_0/SignedValue.dat": b"\x30\x00",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def test_ofd_seal_digests(tmp_path: Path) -> None:
    good = tmp_path / "good.ofd"
    good.write_bytes(sealed_ofd())
    assert ofd_signature_problems(good) == []
    assert ofd_signatures(good) == ["Doc_0/Signs/Sign_0/Signature.xml"]
    results = {r.check_id: r for r in check_file(good).results}
    assert results["FILE-FORMAT"].status is Status.PASS
    # digests match, but the SM2 signature value is not verified: said so, never a pass
    assert results["FILE-OFD"].status is Status.WARN and "not verified" in results["FILE-OFD"].message_en
    package = mf.build(tmp_path / mf.CODE, mf.Spec(masters=[(f"{mf.CODE}-0001.ofd", sealed_ofd())]))
    one_one = run_dat70(package, "GD", Dat70Context(sender=mf.sender_of(package))).by_id("GD-1-1")
    assert any(r.status is Status.WARN and "could not be verified" in r.message_en for r in one_one), one_one
    bad = tmp_path / "bad.ofd"
    bad.write_bytes(sealed_ofd(digest_of=b"something else"))
    (problem,) = ofd_signature_problems(bad)
    assert "sm3" in problem and "Doc_0/Document.xml" in problem
    assert Status.FAIL in {r.status for r in check_file(bad).results if r.check_id == "FILE-OFD"}


# -- EEP (1-15, 1-16) ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eeps(
    tmp_path_factory: pytest.TempPathFactory, key_and_cert: tuple[rsa.RSAPrivateKey, x509.Certificate]
) -> dict[str, Path]:
    from guidang.packaging import aip
    from guidang.packaging.eep.export import build_eep
    from guidang.packaging.metadata import StorageLocation
    from guidang.packaging.metadata_xml import from_xml

    key, cert = key_and_cert
    signer = load_signer(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        cert.public_bytes(serialization.Encoding.PEM),
        name="测试档案馆",
    )
    folder = tmp_path_factory.mktemp("eep")
    root = mf._stored(folder / mf.CODE)
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).as_posix() not in aip.TAG_FILES
    }
    meta = from_xml(files[aip.METADATA_XML])
    # DA/T 48 requires 脱机载体编号; an archive that exports EEPs records the carrier
    record = meta.record.model_copy(update={"storage": StorageLocation(offline_ids=("光盘-2024-001",))})
    meta = meta.model_copy(update={"record": record})
    signed = build_eep(code=mf.CODE, metadata=meta, files=files, creator_unit="某市档案局", signer=signer)
    unsigned = build_eep(code=mf.CODE, metadata=meta, files=files, creator_unit="某市档案局")
    out = {"package": root, "cert": folder / "signer.der"}
    out["cert"].write_bytes(cert.public_bytes(serialization.Encoding.DER))
    for name, data in {
        "signed": signed,
        "unsigned": unsigned,
        "tampered": signed.replace(mf.TITLE.encode(), ("改" + mf.TITLE[1:]).encode(), 1),
        "no_version": re.sub(
            rb"<(\w+:)?\xe7\x89\x88\xe6\x9c\xac>2009</(\w+:)?\xe7\x89\x88\xe6\x9c\xac>", b"", signed, count=1
        ),
    }.items():
        (folder / f"{name}.xml").write_bytes(data)
        out[name] = folder / f"{name}.xml"
    return out


def _run_bc(eeps: dict[str, Path], which: str, trusted: bool = True, **kw: object) -> dict[str, set[Status]]:
    root = eeps["package"]
    anchors = (eeps["cert"].read_bytes(),) if trusted else ()
    ctx = replace(mf._bc_context(root, Dat70Context()), eeps=(eeps[which],), trusted_certificates=anchors, **kw)
    report = run_dat70(root, "BC", ctx)
    return {n: {r.status for r in report.by_id(f"BC-{n}")} for n in ("1-15", "1-16")}


def test_eep_signed_and_valid(eeps: dict[str, Path]) -> None:
    assert _run_bc(eeps, "signed") == {"1-15": {Status.PASS}, "1-16": {Status.PASS}}


def test_eep_signed_by_an_untrusted_signer_is_never_plainly_valid(eeps: dict[str, Path]) -> None:
    assert _run_bc(eeps, "signed", trusted=False)["1-16"] == {Status.WARN}
    assert _run_bc(eeps, "signed", trusted=False, untrusted_signer="fail")["1-16"] == {Status.FAIL}


def test_eep_unsigned(eeps: dict[str, Path]) -> None:
    assert _run_bc(eeps, "unsigned") == {"1-15": {Status.PASS}, "1-16": {Status.FAIL}}


def test_eep_tampered_signature_fails(eeps: dict[str, Path]) -> None:
    assert _run_bc(eeps, "tampered") == {"1-15": {Status.PASS}, "1-16": {Status.FAIL}}


def test_eep_schema_invalid(eeps: dict[str, Path]) -> None:
    assert _run_bc(eeps, "no_version")["1-15"] == {Status.FAIL}


def test_no_eep_is_not_applicable(eeps: dict[str, Path]) -> None:
    root = eeps["package"]
    report = run_dat70(root, "BC", mf._bc_context(root, Dat70Context()))
    for n in ("1-15", "1-16"):
        (r,) = report.by_id(f"BC-{n}")
        assert r.status is Status.NOT_APPLICABLE and "不适用" in r.message_zh
