"""Signatures for EEP export: SM2 with SM3 (GB/T 32918, GB/T 35276) or RSA with SHA-256.

SM2 comes from ``tongsuopy`` (Tongsuo, OpenSSL 3 fork with the national algorithms; ``cryptography``
has SM3 but no SM2), RSA from ``cryptography``. SM2 signatures are DER-encoded (r, s), computed over
SM3(Z_A ‖ M) with the default signer ID ``1234567812345678`` of GB/T 32918 / GB/T 35276, so that
``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678`` and Java/BouncyCastle
verify them unchanged.

Keys are configured as PEM files (``[signing]`` in guidang.toml); the certificate (PEM or DER) is
embedded in the EEP's 证书块 and the signature is verified against the key in that certificate.
Whether the certificate itself is trusted is decided against the configured trust anchors
(``[signing] trusted_certificates``, :func:`is_trusted`): a signature by anyone else is intact at
best, never plainly valid.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from pydantic import BaseModel, Field

from guidang.der import subject_public_key_info
from guidang.errors import ConfigError, InputError

SM2_SM3_OID = "1.2.156.10197.1.501"  # SM2 signature with SM3 (GM/T 0006)
RSA_SHA256_OID = "1.2.840.113549.1.1.11"  # sha256WithRSAEncryption (RFC 8017)
SM2_DEFAULT_ID = b"1234567812345678"
ALGORITHM_NAMES = {SM2_SM3_OID: "SM2-SM3", RSA_SHA256_OID: "RSA-SHA256"}


class SignatureError(InputError):
    code = "SIGNATURE"


class SigningOptions(BaseModel):
    """``[signing]``: the key that signs exported EEPs (none configured: EEPs are exported unsigned)."""

    key: Path | None = None  # PEM private key (SM2 or RSA), PKCS#8 or traditional
    certificate: Path | None = None  # PEM or DER X.509 certificate of that key
    signer: str = ""  # 签名人 written into the EEP
    password_env: str = ""  # name of an environment variable holding the key's password, if encrypted
    # certificates (PEM or DER files) whose holders, or whose directly issued certificates, are trusted
    # signers of EEPs and PDFs; a signature by anyone else is "intact, signer not trusted", never valid
    trusted_certificates: list[Path] = Field(default_factory=list)
    # what an intact signature by an untrusted signer is: "warn" (reported) or "fail" (verification fails)
    untrusted_signer: Literal["warn", "fail"] = "warn"


@dataclass(frozen=True)
class Signer:
    """A private key with its certificate; :meth:`sign` returns the raw signature bytes."""

    algorithm_oid: str
    certificate: bytes  # DER
    name: str
    _key: Any = field(repr=False)

    def sign(self, data: bytes) -> bytes:
        if self.algorithm_oid == SM2_SM3_OID:
            from tongsuopy.crypto import hashes as ts_hashes
            from tongsuopy.crypto.asymciphers import ec as ts_ec

            return bytes(self._key.sign(data, ts_ec.ECDSA(ts_hashes.SM3())))
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return bytes(self._key.sign(data, padding.PKCS1v15(), hashes.SHA256()))


def _pem_or_der_certificate(data: bytes) -> bytes:
    text = data.strip()
    if not text.startswith(b"-----BEGIN CERTIFICATE-----"):
        return data
    body = text.split(b"-----BEGIN CERTIFICATE-----", 1)[1].split(b"-----END CERTIFICATE-----", 1)[0]
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except binascii.Error as exc:
        raise SignatureError("证书 PEM 内容不是有效的 Base64", "certificate PEM body is not valid Base64") from exc


def load_signer(key_pem: bytes, certificate: bytes, *, name: str = "", password: bytes | None = None) -> Signer:
    """A signer from a PEM private key (SM2 or RSA) and its certificate (PEM or DER).

    Raises :class:`SignatureError` when the key cannot be read or does not match the certificate.
    """
    cert_der = _pem_or_der_certificate(certificate)
    spki = certificate_public_key(cert_der)
    key: Any = _load_sm2(key_pem, password)
    oid = SM2_SM3_OID
    if key is not None:
        from tongsuopy.crypto import serialization as ts_ser

        public = key.public_key().public_bytes(ts_ser.Encoding.DER, ts_ser.PublicFormat.SubjectPublicKeyInfo)
    if key is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        try:
            candidate = serialization.load_pem_private_key(key_pem, password)
        except (ValueError, TypeError) as exc:
            raise SignatureError(f"私钥无法读取：{exc}", f"the private key cannot be read: {exc}") from exc
        if not isinstance(candidate, rsa.RSAPrivateKey):
            raise SignatureError("私钥类型不受支持：只支持 SM2 或 RSA", "unsupported private key type: SM2 or RSA only")
        key, oid = candidate, RSA_SHA256_OID
        public = candidate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if public != spki:
        raise SignatureError("私钥与证书不匹配", "the private key does not match the certificate")
    return Signer(algorithm_oid=oid, certificate=cert_der, name=name, _key=key)


def _load_sm2(key_pem: bytes, password: bytes | None) -> Any:
    """The key if tongsuopy reads it as an SM2 key, else None (RSA keys are left to ``cryptography``)."""
    from tongsuopy.crypto import serialization as ts_ser
    from tongsuopy.crypto.asymciphers import ec as ts_ec

    try:
        candidate = ts_ser.load_pem_private_key(key_pem, password)
    except Exception:  # tongsuopy raises ValueError, TypeError or its own UnsupportedAlgorithm
        return None
    if isinstance(candidate, ts_ec.EllipticCurvePrivateKey) and candidate.curve.name == "SM2":
        return candidate
    return None


def signer_from_options(options: SigningOptions, home: Path | None = None) -> Signer | None:
    """The configured signer, or None when no key is configured (relative paths: from ``home``)."""
    if options.key is None:
        return None
    if options.certificate is None:
        raise ConfigError(
            "配置了签名私钥但没有证书（signing.certificate）",
            "signing.key is set but signing.certificate is not",
        )
    password = os.environ.get(options.password_env, "").encode() if options.password_env else None
    try:
        key_pem = (home / options.key if home else options.key).read_bytes()
        cert = (home / options.certificate if home else options.certificate).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"无法读取签名密钥或证书：{exc}", f"cannot read the signing key or certificate: {exc}"
        ) from exc
    return load_signer(key_pem, cert, name=options.signer, password=password or None)


def verify(data: bytes, signature: bytes, certificate_der: bytes, algorithm_oid: str) -> bool:
    """True if ``signature`` over ``data`` verifies with the certificate's public key."""
    spki = certificate_public_key(certificate_der)
    if algorithm_oid == SM2_SM3_OID:
        from tongsuopy.crypto import hashes as ts_hashes
        from tongsuopy.crypto import serialization as ts_ser
        from tongsuopy.crypto.asymciphers import ec as ts_ec
        from tongsuopy.crypto.exceptions import InvalidSignature as TsInvalid

        try:
            ts_key: Any = ts_ser.load_der_public_key(spki)
            ts_key.verify(signature, data, ts_ec.ECDSA(ts_hashes.SM3()))
        except (TsInvalid, ValueError, TypeError):
            return False
        return True
    if algorithm_oid == RSA_SHA256_OID:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        try:
            key = serialization.load_der_public_key(spki)
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True
    raise SignatureError(f"不支持的签名算法标识：{algorithm_oid}", f"unsupported signature algorithm: {algorithm_oid}")


def certificate_public_key(certificate_der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of an X.509 certificate (RFC 5280 4.1)."""
    try:
        return subject_public_key_info(certificate_der)
    except (ValueError, IndexError) as exc:
        raise SignatureError(
            f"证书无法解析（不是 DER 编码的 X.509 证书）：{exc}",
            f"the certificate cannot be parsed (not a DER X.509 certificate): {exc}",
        ) from exc


# -- trust anchors -------------------------------------------------------------------------------------
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)


def load_certificates(paths: Sequence[Path], home: Path | None = None) -> tuple[bytes, ...]:
    """The trusted certificates (``[signing] trusted_certificates``), PEM or DER, as DER.

    A PEM file may hold several certificates; relative paths are taken from ``home``."""
    out: list[bytes] = []
    for path in paths:
        full = home / path if home is not None and not path.is_absolute() else path
        try:
            data = full.read_bytes()
        except OSError as exc:
            raise ConfigError(f"无法读取受信任证书 {full}：{exc}",
                              f"cannot read trusted certificate {full}: {exc}") from exc
        try:
            for der in [_pem_or_der_certificate(pem) for pem in _PEM_CERT.findall(data)] or [data]:
                certificate_public_key(der)  # refused now, not at the first signature it should judge
                out.append(der)
        except SignatureError as exc:
            raise ConfigError(f"受信任证书 {full} 无效：{exc.zh}",
                              f"trusted certificate {full} is invalid: {exc.en}") from exc
    return tuple(out)


def is_trusted(certificate_der: bytes, anchors: Sequence[bytes]) -> bool:
    """True when the certificate is one of ``anchors`` or was issued (signed) directly by one.

    Issuance is verified for RSA and ECDSA issuers (``cryptography``); an SM2-issued certificate is
    trusted only when it is itself configured (cryptography has no SM2)."""
    if certificate_der in anchors:
        return True
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        return False
    for anchor in anchors:
        try:
            cert.verify_directly_issued_by(x509.load_der_x509_certificate(anchor))
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return True
    return False
