"""Fixity inside files (DA/T 70 1-1, 1-10): PDF signatures, OFD signature digests, embedded creation times.

PDF: every signature field's ``/ByteRange`` must be sane (start at 0, leave out exactly the
``/Contents`` hex string) and the digest of the covered bytes must equal the ``messageDigest``
signed attribute of the CMS signature. The signature value itself is verified when the
``cryptography`` package is importable and the algorithm is RSA or ECDSA; SM2 signatures
(GB/T 38540 seals) cannot be verified here and are reported as unverified, never as valid.

OFD (GB/T 33190): each ``Signature.xml`` lists the files it protects with a digest
(``CheckValue``, algorithm ``CheckMethod``); every one is recomputed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import posixpath
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pikepdf
from lxml import etree

from guidang import safexml
from guidang.der import oid_text, read_der
from guidang.packaging.signing import is_trusted

CST = dt.timezone(dt.timedelta(hours=8), "CST")

DIGEST_OIDS = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "1.2.156.10197.1.401": "sm3",
    "1.2.840.113549.2.5": "md5",
}
OFD_METHODS = {
    **DIGEST_OIDS,
    "SM3": "sm3",
    "SHA1": "sha1",
    "SHA256": "sha256",
    "SHA-256": "sha256",
    "MD5": "md5",
}
MESSAGE_DIGEST_OID = "1.2.840.113549.1.9.4"


class SigStatus(StrEnum):
    VALID = "valid"  # intact, and made by a trusted signer ([signing] trusted_certificates)
    UNTRUSTED = "untrusted"  # intact, but the signer's certificate is not trusted
    INVALID = "invalid"
    UNVERIFIED = "unverified"  # the signed digest matches; the signature value could not be checked


@dataclass(frozen=True)
class PdfSignature:
    name: str
    status: SigStatus
    detail: str


@dataclass(frozen=True)
class SignerInfo:
    digest_algorithm: str
    message_digest: bytes | None
    signed_attrs: bytes | None  # DER of the attributes re-tagged as SET (what is signed)
    signature_algorithm: str
    signature: bytes
    certificates: tuple[bytes, ...]


def parse_cms(data: bytes) -> SignerInfo:
    content_info, _ = read_der(data)
    kids = content_info.children()
    if oid_text(kids[0]) != "1.2.840.113549.1.7.2":
        raise ValueError("not a CMS SignedData")
    signed_data = kids[1].children()[0].children()
    certs: tuple[bytes, ...] = ()
    signer_infos = signed_data[-1]
    for node in signed_data[3:-1]:
        if node.tag == 0xA0:
            certs = tuple(c.raw for c in node.children())
    si = signer_infos.children()[0].children()
    idx = 2
    digest_alg = oid_text(si[idx].children()[0])
    idx += 1
    message_digest = signed_attrs = None
    if si[idx].tag == 0xA0:
        signed_attrs = b"\x31" + si[idx].raw[1:]
        for attr in si[idx].children():
            parts = attr.children()
            if oid_text(parts[0]) == MESSAGE_DIGEST_OID:
                message_digest = parts[1].children()[0].content
        idx += 1
    sig_alg = oid_text(si[idx].children()[0])
    signature = si[idx + 1].content
    return SignerInfo(DIGEST_OIDS.get(digest_alg, digest_alg), message_digest, signed_attrs, sig_alg, signature, certs)


def _verify_value(info: SignerInfo, trusted: Sequence[bytes]) -> tuple[SigStatus, str]:
    """Verify the signature over the signed attributes with the signer certificate (RSA / ECDSA),
    then whether that certificate is trusted (a certificate the file carries proves nothing alone)."""
    try:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    except ImportError:
        return SigStatus.UNVERIFIED, "no cryptography library to verify the signature value"
    if info.signed_attrs is None or not info.certificates:
        return SigStatus.UNVERIFIED, "no signed attributes or no certificate in the signature"
    algorithms = {
        "sha1": hashes.SHA1(),
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    algorithm = algorithms.get(info.digest_algorithm)
    if algorithm is None:
        return SigStatus.UNVERIFIED, f"digest algorithm {info.digest_algorithm} not verifiable here"
    for der in info.certificates:
        key = x509.load_der_x509_certificate(der).public_key()
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(info.signature, info.signed_attrs, padding.PKCS1v15(), algorithm)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(info.signature, info.signed_attrs, ec.ECDSA(algorithm))
            else:
                continue
        except InvalidSignature:
            continue
        if is_trusted(der, trusted):
            return SigStatus.VALID, "signature value verified; the signer's certificate is trusted"
        subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
        return SigStatus.UNTRUSTED, f"intact, signer not trusted ({subject})"
    return SigStatus.INVALID, "the signature value does not verify with any embedded certificate"


def pdf_signatures(path: Path, trusted: Sequence[bytes] = ()) -> list[PdfSignature]:
    """Every signature of a PDF, checked against the ``trusted`` certificates (DER); an unreadable
    PDF has none (its structure is another check)."""
    try:
        pdf = pikepdf.open(path)
    except (pikepdf.PdfError, OSError):
        return []
    with pdf:
        fields = list(_signature_fields(pdf))
        if not fields:
            return []
        data = path.read_bytes()
        return [_check_signature(name, value, data, trusted) for name, value in fields]


def _signature_fields(pdf: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Dictionary]]:
    acroform = pdf.Root.get("/AcroForm")
    if not isinstance(acroform, pikepdf.Dictionary):
        return
    stack = list(acroform.get("/Fields", pikepdf.Array()))
    seen: set[tuple[int, int]] = set()
    while stack:
        field = stack.pop()
        if not isinstance(field, pikepdf.Dictionary):
            continue
        if field.is_indirect:
            if field.objgen in seen:
                continue
            seen.add(field.objgen)
        stack.extend(field.get("/Kids", pikepdf.Array()))
        value = field.get("/V")
        if field.get("/FT") == pikepdf.Name.Sig and isinstance(value, pikepdf.Dictionary):
            yield str(field.get("/T", "signature")), value


def _check_signature(name: str, value: pikepdf.Dictionary, data: bytes, trusted: Sequence[bytes]) -> PdfSignature:
    try:
        br = [int(x) for x in value.get("/ByteRange", pikepdf.Array())]
    except (TypeError, ValueError):
        br = []
    if len(br) != 4 or br[0] != 0 or min(br) < 0:
        return PdfSignature(name, SigStatus.INVALID, f"malformed /ByteRange {br}")
    a, b, c, d = br
    if c < a + b or c + d > len(data):
        return PdfSignature(name, SigStatus.INVALID, f"/ByteRange {br} does not fit the file ({len(data)} bytes)")
    gap = data[a + b : c].strip()
    if not (gap.startswith(b"<") and gap.endswith(b">")):
        return PdfSignature(name, SigStatus.INVALID, "the bytes left out by /ByteRange are not the /Contents string")
    try:
        cms = binascii.unhexlify(re.sub(rb"\s", b"", gap[1:-1]))
    except binascii.Error:
        return PdfSignature(name, SigStatus.INVALID, "/Contents is not a hex string")
    signed = data[a : a + b] + data[c : c + d]
    subfilter = str(value.get("/SubFilter", ""))
    if subfilter == "/adbe.x509.rsa_sha1":
        return PdfSignature(name, SigStatus.UNVERIFIED, "adbe.x509.rsa_sha1 (PKCS#1) signature: digest not in CMS")
    try:
        info = parse_cms(read_der(cms)[0].raw)  # /Contents is zero-padded after the DER value
    except (ValueError, IndexError) as exc:
        return PdfSignature(name, SigStatus.INVALID, f"signature is not a readable CMS SignedData: {exc}")
    if info.message_digest is None:
        return PdfSignature(name, SigStatus.UNVERIFIED, "CMS without signed attributes (no messageDigest)")
    try:
        computed = hashlib.new(info.digest_algorithm, signed).digest()
    except ValueError:
        return PdfSignature(name, SigStatus.UNVERIFIED, f"unknown digest algorithm {info.digest_algorithm}")
    if computed != info.message_digest:
        return PdfSignature(
            name,
            SigStatus.INVALID,
            f"{info.digest_algorithm} digest of the signed bytes differs from messageDigest",
        )
    covered = c + d == len(data)
    status, detail = _verify_value(info, trusted)
    if status in (SigStatus.VALID, SigStatus.UNTRUSTED) and not covered:
        return PdfSignature(
            name, SigStatus.UNVERIFIED, "valid, but the file was changed after signing (later revision)"
        )
    return PdfSignature(name, status, detail)


# -- OFD -----------------------------------------------------------------------------------------------
def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _xml(z: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(z.read(name), safexml.parser())


def _resolve(base_dir: str, ref: str) -> str:
    ref = ref.strip()
    joined = ref.lstrip("/") if ref.startswith("/") else posixpath.join(base_dir, ref)
    return posixpath.normpath(joined)


def ofd_signature_problems(path: Path) -> list[str]:
    """Problems with the digests of every signature/seal in an OFD (empty: all verified or none)."""
    return _ofd_walk(path)[0]


def ofd_signatures(path: Path) -> list[str]:
    """The signatures/seals of an OFD (their Signature.xml paths). Their signature values (SM2,
    GB/T 38540) are not verified here: a caller reports them unverified, as PDF SM2 signatures are."""
    return _ofd_walk(path)[1]


def _ofd_walk(path: Path) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    found: list[str] = []
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "OFD.xml" not in names:
                return ["OFD.xml missing: not an OFD package"], []
            for sig_list in (e.text or "" for e in _xml(z, "OFD.xml").iter() if _local(e.tag) == "Signatures"):
                list_path = _resolve("", sig_list)
                if list_path not in names:
                    problems.append(f"{list_path} (signature list) missing")
                    continue
                base = posixpath.dirname(list_path)
                for sig in (e for e in _xml(z, list_path).iter() if _local(e.tag) == "Signature"):
                    sig_path = _resolve(base, sig.get("BaseLoc", ""))
                    found.append(sig_path)
                    problems.extend(_ofd_signature(z, names, sig_path))
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, etree.XMLSyntaxError) as exc:
        # RuntimeError: zipfile refuses encrypted members; unverifiable is not verified
        problems.append(f"cannot read the OFD signatures: {exc}")
    return problems, found


def _ofd_signature(z: zipfile.ZipFile, names: set[str], sig_path: str) -> list[str]:
    if sig_path not in names:
        return [f"{sig_path} (signature) missing"]
    root = _xml(z, sig_path)
    base = posixpath.dirname(sig_path)
    problems = []
    for refs in (e for e in root.iter() if _local(e.tag) == "References"):
        method = refs.get("CheckMethod", "1.2.156.10197.1.401")
        algorithm = OFD_METHODS.get(method.strip(), OFD_METHODS.get(method.strip().upper()))
        if algorithm is None:
            problems.append(f"{sig_path}: unknown CheckMethod {method}")
            continue
        for ref in (e for e in refs if _local(e.tag) == "Reference"):
            target = _resolve("", ref.get("FileRef", ""))
            values = [c.text or "" for c in ref if _local(c.tag) == "CheckValue"]
            if target not in names:
                problems.append(f"{sig_path}: protected file {target} missing")
                continue
            try:
                recorded = base64.b64decode("".join(values[0].split()), validate=True) if values else b""
            except binascii.Error:
                problems.append(f"{sig_path}: CheckValue of {target} is not base64")
                continue
            if hashlib.new(algorithm, z.read(target)).digest() != recorded:
                problems.append(f"{sig_path}: {algorithm} digest of {target} does not match its CheckValue")
    for sv in (e for e in root.iter() if _local(e.tag) == "SignedValue"):
        value_path = _resolve(base, sv.text or "")
        if value_path not in names:
            problems.append(f"{sig_path}: signed value {value_path} missing")
    return problems


# -- creation time -------------------------------------------------------------------------------------
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([+\-Z])?(\d{2})?'?(\d{2})?'?")


def parse_pdf_date(text: str) -> dt.datetime | None:
    m = _PDF_DATE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s = (
        int(x) if x else default for x, default in zip(m.groups()[:6], (0, 1, 1, 0, 0, 0), strict=True)
    )
    sign, oh, om = m.group(7), m.group(8), m.group(9)
    tz: dt.tzinfo = CST
    if sign == "Z":
        tz = dt.UTC
    elif sign in ("+", "-") and oh:
        delta = dt.timedelta(hours=int(oh), minutes=int(om or 0))
        tz = dt.timezone(delta if sign == "+" else -delta)
    try:
        return dt.datetime(y, mo, d, h, mi, s, tzinfo=tz)
    except ValueError:
        return None


def embedded_creation_time(path: Path) -> dt.datetime | None:
    """The creation time a file records about itself: PDF /CreationDate, TIFF/JPEG EXIF DateTime."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        try:
            with pikepdf.open(path) as pdf:
                raw = pdf.docinfo.get("/CreationDate") if pdf.trailer.get("/Info") is not None else None
                return parse_pdf_date(str(raw)) if raw is not None else None
        except (pikepdf.PdfError, OSError):
            return None
    if suffix in (".tif", ".tiff", ".jpg", ".jpeg"):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as im:
                exif = im.getexif()
                text = exif.get_ifd(0x8769).get(36867) or exif.get(306)
        except (UnidentifiedImageError, OSError, ValueError):
            return None
        if not text:
            return None
        try:
            return dt.datetime.strptime(str(text).strip("\0 "), "%Y:%m:%d %H:%M:%S").replace(tzinfo=CST)
        except ValueError:
            return None
    return None
