"""EEP (DA/T 48-2009): export → verify → import, both schemas, SM2/RSA signatures with OpenSSL as oracle."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import corpus
from lxml import etree
from test_aip_support import CODE, make_package

from guidang.cli.eep import eep_group, export_eep_command, verify_eep_command
from guidang.packaging import aip
from guidang.packaging.eep.document import EepError, canonical, schema
from guidang.packaging.eep.export import build_eep, export_eep
from guidang.packaging.eep.reader import import_eep, write_package
from guidang.packaging.eep.verify import verify_eep
from guidang.packaging.metadata_xml import from_xml
from guidang.packaging.ocfl_package import store_package
from guidang.packaging.signing import RSA_SHA256_OID, SM2_SM3_OID, SignatureError, Signer, load_signer
from guidang.pipeline.corrections import correct_metadata
from guidang.storage.ocfl_store import OcflStore

NS = "{http://www.saac.gov.cn/standards/ERM/encapsulation}"
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command line (OpenSSL 3) is not installed")


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, check=False)


def _sm2_verify(folder: Path, data: str, signature: str) -> subprocess.CompletedProcess[str]:
    """OpenSSL 3 verifies an SM2/SM3 signature with the public key in ``folder/pub.pem`` and the
    GB/T 32918 default user ID."""
    return _openssl("pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest", "sm3",
                    "-pkeyopt", "distid:1234567812345678", "-in", data, "-sigfile", signature, cwd=folder)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SM2 and RSA keys with self-signed certificates, made here by OpenSSL (never committed)."""
    if OPENSSL is None:
        pytest.skip("the openssl command line (OpenSSL 3) is not installed")
    d = tmp_path_factory.mktemp("keys")
    for args in (
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", "sm2.pem"],
        [
            "req",
            "-new",
            "-x509",
            "-key",
            "sm2.pem",
            "-sm3",
            "-sigopt",
            "distid:1234567812345678",
            "-subj",
            "/CN=guidang SM2 test",
            "-days",
            "2",
            "-out",
            "sm2.crt",
        ],
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", "sm2b.pem"],
        [
            "req",
            "-new",
            "-x509",
            "-key",
            "sm2b.pem",
            "-sm3",
            "-sigopt",
            "distid:1234567812345678",
            "-subj",
            "/CN=guidang other",
            "-days",
            "2",
            "-out",
            "sm2b.crt",
        ],
        ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem"],
        [
            "req",
            "-new",
            "-x509",
            "-key",
            "rsa.pem",
            "-sha256",
            "-subj",
            "/CN=guidang RSA test",
            "-days",
            "2",
            "-out",
            "rsa.crt",
        ],
    ):
        done = _openssl(*args, cwd=d)
        assert done.returncode == 0, done.stderr
    return d


def _signer(keys: Path, name: str, who: str = "王档案员") -> Signer:
    return load_signer((keys / f"{name}.pem").read_bytes(), (keys / f"{name}.crt").read_bytes(), name=who)


@pytest.fixture
def store(tmp_path: Path) -> OcflStore:
    s = OcflStore(tmp_path / "store")
    pkg = make_package(tmp_path)
    aip.add_checks_report(pkg.root, {"results": [{"id": "GD-1-14", "status": "pass"}]})
    store_package(s, pkg.root)
    return s


def _stored_payload(store: OcflStore) -> dict[str, bytes]:
    return {rel: p.read_bytes() for rel, p in store.logical_files(CODE).items() if rel not in aip.TAG_FILES}


def test_export_verify_import_round_trip_sm2(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    out = export_eep(store, CODE, tmp_path / "eep.xml", _signer(keys, "sm2"))
    data = out.read_bytes()
    doc = etree.fromstring(data)
    # valid against the project's schema and against the independent public transcription
    assert schema().validate(doc), schema().error_log
    public = etree.XMLSchema(etree.parse(str(corpus("dat48") / "eep-dat48-2009.xsd")))
    assert public.validate(doc), public.error_log
    result = verify_eep(out)
    assert result.valid and result.signed, result.problems
    assert [(s.identifier, s.algorithm, s.valid) for s in result.signatures] == [
        ("S1", SM2_SM3_OID, True),
        ("lock:S1", SM2_SM3_OID, True),
    ]
    imported = import_eep(out, require_signature=True)
    assert imported.code == CODE
    assert imported.files == _stored_payload(store)  # every file byte for byte
    assert imported.metadata == from_xml(store.read_file(CODE, aip.METADATA_XML))  # the same record
    # the EEP's own DA/T 48 elements carry the same description (checked field by field)
    mine, theirs = imported.entity_metadata.record, imported.metadata.record
    assert mine.content == theirs.content and mine.provenance == theirs.provenance
    assert mine.archival_code is not None and theirs.archival_code is not None
    assert mine.archival_code.model_dump(exclude={"rule"}) == theirs.archival_code.model_dump(exclude={"rule"})
    assert mine.storage == theirs.storage and mine.form == theirs.form
    assert [e.action for e in imported.entity_metadata.events] == [
        *[e.action for e in imported.metadata.events],
        "封装",
    ]
    # the import rebuilds a package that verifies and matches the store byte for byte
    pkg = write_package(imported, tmp_path / "again")
    assert aip.verify_package(pkg.root) == []
    assert {rel: pkg.path(rel).read_bytes() for rel in pkg.files} == imported.files
    # files are Base64 in 编码数据 and the 反编码关键字 restores the extension
    encs = doc.findall(f".//{NS}编码")
    assert {e.findtext(f"{NS}反编码关键字") for e in encs} == {"pdf", "txt", "tif", "xml", "json"}


@needs_openssl
def test_openssl_verifies_the_sm2_signature_and_the_lock(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    """An oracle independent of tongsuopy: OpenSSL 3 with the GB/T 32918 default user ID."""
    data = export_eep(store, CODE, tmp_path / "eep.xml", _signer(keys, "sm2")).read_bytes()
    doc = etree.fromstring(data)
    signed = doc.find(f"{NS}被签名对象")
    sig = doc.find(f"{NS}电子签名块/{NS}电子签名")
    lock = doc.find(f"{NS}锁定签名")
    assert signed is not None and sig is not None and lock is not None
    cert = base64.b64decode(sig.findtext(f"{NS}证书块/{NS}证书") or "")
    (tmp_path / "cert.der").write_bytes(cert)
    assert (
        _openssl(
            "x509", "-inform", "DER", "-in", "cert.der", "-pubkey", "-noout", "-out", "pub.pem", cwd=tmp_path
        ).returncode
        == 0
    )
    for element, payload, name in ((sig, canonical(signed), "s1"), (lock, canonical(sig), "lock")):
        (tmp_path / f"{name}.bin").write_bytes(payload)
        (tmp_path / f"{name}.sig").write_bytes(base64.b64decode(element.findtext(f"{NS}签名结果") or ""))
        done = _sm2_verify(tmp_path, f"{name}.bin", f"{name}.sig")
        assert done.returncode == 0 and "Successfully" in done.stdout, done.stdout + done.stderr
        tampered = payload.replace("关于办理".encode(), "关于撤销".encode()) if name == "s1" else payload + b" "
        (tmp_path / f"{name}.bin").write_bytes(tampered)
        done = _sm2_verify(tmp_path, f"{name}.bin", f"{name}.sig")
        assert done.returncode != 0


def _tamper_encoded_byte(data: bytes) -> bytes:
    doc = etree.fromstring(data)
    enc = next(e for e in doc.iter(f"{NS}编码数据"))
    text = enc.text or ""
    i = 10
    enc.text = text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


def test_tampered_encoded_data_fails(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    data = export_eep(store, CODE, tmp_path / "eep.xml", _signer(keys, "sm2")).read_bytes()
    bad = _tamper_encoded_byte(data)
    result = verify_eep(bad)
    assert not result.valid
    assert [s.valid for s in result.signatures] == [False, True]  # the lock covers the 电子签名, not the data
    assert any("S1" in p.en for p in result.problems)
    with pytest.raises(EepError, match="verification failed"):
        import_eep(bad)


def test_tampered_metadata_field_fails(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    data = export_eep(store, CODE, tmp_path / "eep.xml", _signer(keys, "sm2")).read_bytes()
    bad = data.replace("<密级>公开</密级>".encode(), "<密级>秘密</密级>".encode())
    assert bad != data
    assert not verify_eep(bad).valid
    # a changed 签名时间 breaks the lock signature only
    doc = etree.fromstring(data)
    t = doc.find(f"{NS}电子签名块/{NS}电子签名/{NS}签名时间")
    assert t is not None
    t.text = "2001-01-01T00:00:00+00:00"
    result = verify_eep(etree.tostring(doc, xml_declaration=True, encoding="UTF-8"))
    assert [s.valid for s in result.signatures] == [True, False]


def test_rsa_sha256_alternative_verified_by_openssl(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    data = export_eep(store, CODE, tmp_path / "eep.xml", _signer(keys, "rsa")).read_bytes()
    result = verify_eep(data)
    assert result.valid and {s.algorithm for s in result.signatures} == {RSA_SHA256_OID}
    doc = etree.fromstring(data)
    signed, sig = doc.find(f"{NS}被签名对象"), doc.find(f"{NS}电子签名块/{NS}电子签名")
    assert signed is not None and sig is not None
    (tmp_path / "data.bin").write_bytes(canonical(signed))
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(sig.findtext(f"{NS}签名结果") or ""))
    assert (
        _openssl("x509", "-in", str(keys / "rsa.crt"), "-pubkey", "-noout", "-out", "pub.pem", cwd=tmp_path).returncode
        == 0
    )
    done = _openssl("dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin", "data.bin", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not verify_eep(_tamper_encoded_byte(data)).valid


def test_lock_signature_by_another_party_and_certificate_pinning(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    owner, archive = _signer(keys, "sm2"), _signer(keys, "sm2b", "档案馆")
    data = export_eep(store, CODE, tmp_path / "eep.xml", owner, lock_signer=archive).read_bytes()
    nobody = verify_eep(data)  # no trust anchors: intact, but no signer is trusted
    assert nobody.valid and len(nobody.warnings) == 2 and not any(s.trusted for s in nobody.signatures)
    both = verify_eep(data, trusted_certificates=[owner.certificate, archive.certificate])
    assert both.valid and not both.warnings and all(s.trusted for s in both.signatures)
    pinned = verify_eep(data, trusted_certificates=[owner.certificate])
    assert [(s.valid, s.trusted) for s in pinned.signatures] == [(True, True), (True, False)]
    assert pinned.valid and ["signer not trusted" in w.en and "lock:S1" in w.en for w in pinned.warnings] == [True]
    strict = verify_eep(data, trusted_certificates=[owner.certificate], untrusted_signer="fail")
    assert not strict.valid and any("signer not trusted" in p.en for p in strict.problems)


def test_unsigned_export(store: OcflStore, tmp_path: Path) -> None:
    out = export_eep(store, CODE, tmp_path / "eep.xml")
    doc = etree.fromstring(out.read_bytes())
    public = etree.XMLSchema(etree.parse(str(corpus("dat48") / "eep-dat48-2009.xsd")))
    assert public.validate(doc) and schema().validate(doc)
    assert not verify_eep(out).valid  # nothing proves an unsigned EEP unchanged
    assert verify_eep(out, require_signature=False).valid
    imported = import_eep(out)
    assert imported.files == _stored_payload(store)
    with pytest.raises(EepError):
        import_eep(out, require_signature=True)


def test_metadata_missing_what_dat48_requires_is_a_clear_error(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    meta = from_xml(pkg.path(aip.METADATA_XML).read_bytes())
    bare = meta.model_copy(update={"record": meta.record.model_copy(update={"storage": None})})
    files = {rel: pkg.path(rel).read_bytes() for rel in pkg.files}
    with pytest.raises(EepError) as info:
        build_eep(code=CODE, metadata=bare, files=files, creator_unit="某市档案馆")
    assert "脱机载体编号" in info.value.zh


def test_corrected_record_exports_its_history(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    meta = from_xml(store.read_file(CODE, aip.METADATA_XML))
    meta = meta.model_copy(update={"record": meta.record.model_copy(update={"notes": ("原件有水渍",)})})
    correct_metadata(store, CODE, meta, agent="王档案员", reason="补附注")
    imported = import_eep(export_eep(store, CODE, tmp_path / "v2.xml", _signer(keys, "sm2")))
    assert imported.metadata.record.notes == ("原件有水渍",)
    assert [e.action for e in imported.metadata.events] == ["接收", "修改"]
    v1 = import_eep(export_eep(store, CODE, tmp_path / "v1.xml", version="v1"))
    assert v1.metadata.record.notes == ()


def test_mismatched_key_and_certificate_are_refused(keys: Path) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        load_signer((keys / "sm2.pem").read_bytes(), (keys / "sm2b.crt").read_bytes())
    with pytest.raises(SignatureError):
        load_signer(b"not a key", (keys / "sm2.crt").read_bytes())


def test_not_xml_and_unsafe_names(store: OcflStore, tmp_path: Path) -> None:
    assert not verify_eep(b"<broken").valid
    with pytest.raises(EepError):
        import_eep(tmp_path / "absent.xml")
    data = export_eep(store, CODE, tmp_path / "eep.xml").read_bytes()
    evil = data.replace(f"<计算机文件名>{CODE}.txt<".encode(), "<计算机文件名>../../evil.txt<".encode())
    assert evil != data
    with pytest.raises(EepError, match="unsafe"):
        import_eep(evil)
    twice = data.replace(f"<计算机文件名>{CODE}.txt<".encode(), f"<计算机文件名>{CODE}.pdf<".encode())
    with pytest.raises(EepError, match="duplicate"):
        import_eep(twice)


def test_cli_commands(store: OcflStore, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = store.root.parent
    (home / "guidang.toml").write_text(
        f'[signing]\nkey = "{keys / "sm2.pem"}"\ncertificate = "{keys / "sm2.crt"}"\nsigner = "王档案员"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    runner = CliRunner()
    done = runner.invoke(export_eep_command, [CODE, "-o", str(tmp_path / "cli.xml")])
    assert done.exit_code == 0, done.output
    assert "SM2-SM3" in done.output
    assert runner.invoke(verify_eep_command, [str(tmp_path / "cli.xml")]).exit_code == 0
    done = runner.invoke(export_eep_command, [CODE, "-o", str(tmp_path / "m.xml"), "--modified", "--unsigned"])
    assert done.exit_code == 0 and "unsigned" in done.output
    assert runner.invoke(verify_eep_command, [str(tmp_path / "m.xml"), "--allow-unsigned"]).exit_code == 0
    (tmp_path / "bad.xml").write_bytes(_tamper_encoded_byte((tmp_path / "cli.xml").read_bytes()))
    assert runner.invoke(verify_eep_command, [str(tmp_path / "bad.xml")]).exit_code == 1
    missing = runner.invoke(export_eep_command, ["Z109-WS·2011-Y-BGS-0999", "-o", str(tmp_path / "x.xml")])
    assert missing.exit_code == 2 and "Z109-WS·2011-Y-BGS-0999" in missing.output


def test_cli_import_verifies_unpacks_and_reports(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    """`guidang eep import FILE -o DIR`: the record rebuilt as a package that verifies; a bad EEP writes nothing."""
    eep = export_eep(store, CODE, tmp_path / "eep.xml", _signer(keys, "sm2"))
    runner = CliRunner()
    done = runner.invoke(eep_group, ["import", str(eep), "-o", str(tmp_path / "imported"), "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert summary["archival_code"] == CODE
    assert summary["title"] == from_xml(store.read_file(CODE, aip.METADATA_XML)).record.content.title
    assert summary["files"] == {rel: len(data) for rel, data in sorted(_stored_payload(store).items())}
    assert [s["valid"] for s in summary["signatures"]] == [True, True]
    assert aip.verify_package(tmp_path / "imported") == []
    text = runner.invoke(eep_group, ["import", str(eep)])
    assert text.exit_code == 0 and CODE in text.output and "pdf" in text.output
    (tmp_path / "bad.xml").write_bytes(_tamper_encoded_byte(eep.read_bytes()))
    bad = runner.invoke(eep_group, ["import", str(tmp_path / "bad.xml"), "-o", str(tmp_path / "bad")])
    assert bad.exit_code == 1 and not (tmp_path / "bad").exists()
    unsigned = export_eep(store, CODE, tmp_path / "unsigned.xml")
    assert runner.invoke(eep_group, ["import", str(unsigned)]).exit_code == 1  # a signature is required ...
    assert runner.invoke(eep_group, ["import", str(unsigned), "--allow-unsigned"]).exit_code == 0  # ... unless told


def test_modified_eep_keeps_every_version_signed(store: OcflStore, keys: Path, tmp_path: Path) -> None:
    """修改型: v1 is the signed 原始型 core, v2 a layer with the correction; unchanged data is referenced."""
    meta = from_xml(store.read_file(CODE, aip.METADATA_XML))
    meta = meta.model_copy(update={"record": meta.record.model_copy(update={"notes": ("原件有水渍",)})})
    correct_metadata(store, CODE, meta, agent="王档案员", reason="补附注")
    original = export_eep(store, CODE, tmp_path / "v2-original.xml", _signer(keys, "sm2")).read_bytes()
    out = export_eep(store, CODE, tmp_path / "v2-modified.xml", _signer(keys, "sm2"), modified=True)
    data = out.read_bytes()
    doc = etree.fromstring(data)
    public = etree.XMLSchema(etree.parse(str(corpus("dat48") / "eep-dat48-2009.xsd")))
    assert schema().validate(doc) and public.validate(doc), public.error_log
    assert doc.findtext(f"{NS}被签名对象/{NS}封装包类型") == "修改型"
    inner = doc.find(f"{NS}被签名对象/{NS}修改封装内容/{NS}原封装包/{NS}被签名对象")
    assert inner is not None and inner.findtext(f"{NS}封装包类型") == "原始型"
    # unchanged masters, PDF and text are referenced, not repeated: the file is barely larger than one copy
    refs = [e for e in doc.iter(f"{NS}编码数据") if e.get("引用编码数据ID")]
    assert len(refs) >= 4 and len(data) < 1.5 * len(original)
    result = verify_eep(data)
    assert result.valid, result.problems
    assert sorted(s.identifier for s in result.signatures) == ["S1", "lock:v2-S1", "v2-S1"]
    imported = import_eep(data, require_signature=True)
    assert imported.files == _stored_payload(store)  # the head version, byte for byte
    assert imported.metadata == from_xml(store.read_file(CODE, aip.METADATA_XML))
    # the inner (v1) layer is still the v1 record and still verifies on its own (OpenSSL oracle)
    assert "原件有水渍".encode() not in canonical(inner)
    sig = doc.find(f"{NS}被签名对象/{NS}修改封装内容/{NS}原封装包/{NS}电子签名块/{NS}电子签名")
    assert sig is not None
    (tmp_path / "inner.bin").write_bytes(canonical(inner))
    (tmp_path / "inner.sig").write_bytes(base64.b64decode(sig.findtext(f"{NS}签名结果") or ""))
    assert (
        _openssl("x509", "-in", str(keys / "sm2.crt"), "-pubkey", "-noout", "-out", "pub.pem", cwd=tmp_path).returncode
        == 0
    )
    done = _sm2_verify(tmp_path, "inner.bin", "inner.sig")
    assert done.returncode == 0, done.stdout + done.stderr
    # tampering with the kept original layer breaks its signature and the outer one
    bad = data.replace("<密级>公开</密级>".encode(), "<密级>秘密</密级>".encode(), 1)
    assert bad != data
    checked = verify_eep(bad)
    assert not checked.valid
    assert {s.identifier for s in checked.signatures if not s.valid} == {"S1", "v2-S1"}


def test_an_archived_record_without_an_offline_copy_is_refused_naming_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline archives records with no 存储位置 (no offline copy exists yet): export-eep says what
    is missing and how to register a copy, and writes nothing (it never invents a carrier id)."""
    from guidang.packaging.metadata_xml import to_xml

    pkg = make_package(tmp_path)
    meta = from_xml(pkg.path(aip.METADATA_XML).read_bytes())
    archived = meta.model_copy(update={"record": meta.record.model_copy(update={"storage": None})})
    aip.replace_files(pkg.root, {aip.METADATA_XML: to_xml(archived)})
    home = tmp_path / "home"
    store_package(OcflStore(home / "store"), pkg.root)
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    out = tmp_path / "eep.xml"
    zh = CliRunner().invoke(export_eep_command, [CODE, "-o", str(out)])
    assert zh.exit_code == 2 and "没有登记脱机备份载体" in zh.output and "guidang backup --carrier" in zh.output
    monkeypatch.setenv("GUIDANG_LANGUAGE", "en")
    en = CliRunner().invoke(export_eep_command, [CODE, "-o", str(out)])
    assert en.exit_code == 2 and "no registered offline copy" in en.output and "backup --carrier" in en.output
    assert not out.exists() and not list(tmp_path.glob(".eep.xml.*"))


def _rsa_ca_and_leaf(d: Path) -> None:
    """An RSA CA and a leaf it issued (made here by OpenSSL, never committed)."""
    for args in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.pem", "-out", "ca.crt", "-days", "2",
         "-subj", "/CN=guidang test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.pem", "-out", "leaf.csr", "-subj", "/CN=leaf"],
        ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.pem", "-CAcreateserial", "-days", "2",
         "-out", "leaf.crt"],
    ):
        done = _openssl(*args, cwd=d)
        assert done.returncode == 0, done.stderr


def test_verify_eep_judges_signers_against_the_configured_trust_anchors(
    store: OcflStore, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rsa_ca_and_leaf(tmp_path)
    leaf = _signer(tmp_path, "leaf")
    eep = export_eep(store, CODE, tmp_path / "leaf.xml", leaf)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    config = home / "guidang.toml"
    runner = CliRunner()

    done = runner.invoke(verify_eep_command, [str(eep)])  # nothing configured: never plainly valid
    assert done.exit_code == 0 and "intact, signer not trusted" in done.output and "EEP verified" not in done.output
    config.write_text(f'[signing]\ntrusted_certificates = ["{tmp_path / "ca.crt"}"]\n', "utf-8")
    done = runner.invoke(verify_eep_command, [str(eep)])  # issued by the configured CA
    assert done.exit_code == 0 and "通过 ok" in done.output and "EEP verified" in done.output, done.output
    config.write_text(f'[signing]\ntrusted_certificates = ["{keys / "sm2.crt"}"]\nuntrusted_signer = "fail"\n',
                      "utf-8")
    done = runner.invoke(verify_eep_command, [str(eep)])  # someone else's anchor, and the policy fails it
    assert done.exit_code == 1 and "signer not trusted" in done.output
    config.write_text('[signing]\ntrusted_certificates = ["absent.crt"]\n', "utf-8")
    assert runner.invoke(verify_eep_command, [str(eep)]).exit_code == 3


def test_a_payload_with_characters_outside_ascii_is_a_problem_not_a_crash() -> None:
    """Found by fuzzing (tests/data/fuzz/eep/crash-non-ascii-base64-payload.xml): base64 raised a
    plain ValueError, not binascii.Error, and verify_eep ended in a traceback."""
    data = (Path(__file__).parent / "data" / "fuzz" / "eep" / "crash-non-ascii-base64-payload.xml").read_bytes()
    result = verify_eep(data, require_signature=False)
    assert not result.valid and any("Base64" in p.en for p in result.problems)


def test_an_action_time_that_is_not_iso_8601_is_refused_not_a_crash() -> None:
    """Found by fuzzing (tests/data/fuzz/eep/crash-action-time-not-iso-8601.xml): schema-valid,
    yet import_eep ended in ValueError."""
    data = (Path(__file__).parent / "data" / "fuzz" / "eep" / "crash-action-time-not-iso-8601.xml").read_bytes()
    with pytest.raises(EepError) as info:
        import_eep(data)
    assert "202,6-11-25" in info.value.en
