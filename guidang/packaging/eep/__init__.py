"""EEP (电子文件封装包, DA/T 48-2009) export, verification and import of an archived record.

One module per idea: :mod:`.document` (namespace, fixed texts, schema, element helpers), :mod:`.export`
(:func:`~.export.build_eep`, :func:`~.export.export_eep`), :mod:`.verify` (:func:`~.verify.verify_eep`) and
:mod:`.reader` (:func:`~.reader.import_eep`, :func:`~.reader.write_package`). Callers import from those modules.

Export (:func:`~.export.export_eep`) writes one 原始型 EEP for the head version of a stored object:

* 文件实体 from the DA/T 46 metadata (``metadata/metadata.xml``); multi-valued DA/T 46 fields that
  DA/T 48 allows only once (责任者, 主送, 抄送, 关键词, 人名) are joined with "；";
* 文件数据: one 文档 per package folder, each file one 编码 with its bytes in Base64 (RFC 2045, 76
  characters a line) in 编码数据: 文档 ``content`` (主文档: PDF/A and OCR text), ``masters`` (附属文档:
  page images) and ``metadata`` (附属文档: the DA/T 46 XML and the check report), so that an import
  gives back every file of the package byte for byte and the metadata exactly;
* 业务实体块 / 机构人员实体块 from the record's 业务实体 events, plus one 封装 event for the export.

Signing, when a :class:`~guidang.packaging.signing.Signer` is given: the 被签名对象 element is
canonicalised with W3C Exclusive XML Canonicalization 1.0 without comments (exc-c14n; the result does
not depend on the ancestors, so a 被签名对象 re-wrapped in a 修改型 package's 原封装包 still verifies)
and the UTF-8 bytes are signed (SM2 with SM3, OID 1.2.156.10197.1.501, DER (r, s), signer ID
1234567812345678; or RSA PKCS#1 v1.5 with SHA-256, OID 1.2.840.113549.1.1.11). A 锁定签名 signs the
exc-c14n of the 电子签名 element it locks (签名结果 included). The rule is written into 签名规则.
Whitespace is fixed before signing (the document is indented first and written without re-indenting),
so the bytes verified are the bytes signed. Note: C14N orders attributes by name, so 引用编码数据ID would
precede 编码数据ID, unlike the order the DA/T 48 XSD annotation describes; an original package has only
编码数据ID, so the two agree for what guidang writes.

With ``modified=True`` the EEP is 修改型: one layer per OCFL version, each earlier layer kept whole
(with its signature) in 原封装包, unchanged files referenced by 引用编码数据ID instead of repeated.

Verification (:func:`~.verify.verify_eep`) checks the project XSD, each 编码数据 against its 计算机文件大小,
every 电子签名 (of every layer) and the 锁定签名; import (:func:`~.reader.import_eep`) verifies, then returns
the latest layer's metadata and files.
"""
