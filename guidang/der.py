"""A minimal DER reader: enough for CMS SignedData (PDF signatures) and to take the public key
out of an X.509 certificate (EEP signatures). One reader for both; it raises ValueError on
anything malformed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Der:
    tag: int
    content: bytes
    raw: bytes  # header + content

    def children(self) -> list[Der]:
        out, pos = [], 0
        while pos < len(self.content):
            node, pos = read_der(self.content, pos)
            out.append(node)
        return out


def read_der(buf: bytes, pos: int = 0) -> tuple[Der, int]:
    """The DER element at ``pos`` and the position after it."""
    start = pos
    if pos + 2 > len(buf):
        raise ValueError("DER value truncated")
    tag = buf[pos]
    pos += 1
    length = buf[pos]
    pos += 1
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(buf):
            raise ValueError("unsupported DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(buf):
        raise ValueError("DER value runs past the end")
    return Der(tag, buf[pos:end], buf[start:end]), end


def oid_text(node: Der) -> str:
    if node.tag != 0x06 or not node.content:
        raise ValueError("not an OID")
    b = node.content
    parts = [b[0] // 40, b[0] % 40]
    value = 0
    for byte in b[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def subject_public_key_info(certificate_der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of an X.509 certificate (RFC 5280 4.1)."""
    cert, _ = read_der(certificate_der)
    if cert.tag != 0x30:
        raise ValueError("not a SEQUENCE")
    tbs = cert.children()[0]
    if tbs.tag != 0x30:
        raise ValueError("no tbsCertificate")
    fields = tbs.children()
    if fields and fields[0].tag == 0xA0:  # [0] version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    spki = fields[5]
    if spki.tag != 0x30:
        raise ValueError("no subjectPublicKeyInfo")
    return spki.raw
