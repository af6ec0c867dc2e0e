"""Corrections of archived records (the review desk will call these): policy above the store.

A metadata correction is a new OCFL version holding the corrected ``metadata/metadata.xml`` and refreshed
manifests; every other file is carried over. The rules: a reason is required, the process history
(业务实体) is append-only, the 档号 cannot change (a new 档号 is a new object), and a 修改 event naming the
agent and the reason is appended.
"""

from __future__ import annotations

import datetime as dt

from guidang.errors import InputError
from guidang.packaging import aip
from guidang.packaging.fixity import ALGORITHMS, digest_bytes
from guidang.packaging.metadata import Action, AgentType, RecordMetadata
from guidang.packaging.metadata import ProcessEvent as MetadataEvent
from guidang.packaging.metadata_xml import from_xml, to_xml
from guidang.packaging.ocfl_package import package_digests
from guidang.pipeline import indexing
from guidang.storage.catalogue import Catalogue
from guidang.storage.ocfl_store import OcflStore, Source, StoredVersion


def correct_metadata(
    store: OcflStore,
    code: object,
    metadata: RecordMetadata | bytes,
    *,
    agent: str,
    reason: str,
    agent_type: AgentType = "个人",
    catalogue: Catalogue | None = None,
) -> StoredVersion:
    """Store corrected descriptive metadata as a new version, with the change in the history.

    ``metadata`` is the corrected record (model or XML valid against the project XSD). Its 业务实体 events
    must be the stored ones; a 修改 event naming the agent and the reason is appended. With ``catalogue``
    the search index is brought in step with the new version.
    """
    code = str(code)
    if not reason.strip():
        raise InputError("更正元数据必须说明理由", "a metadata correction needs a reason")
    corrected = metadata if isinstance(metadata, RecordMetadata) else from_xml(metadata)
    current = from_xml(store.read_file(code, aip.METADATA_XML))
    if corrected.events != current.events:
        raise InputError(
            "更正不能改动已有的处理历史（业务实体），只能追加",
            "a correction cannot change the recorded process history (业务实体); it is append-only",
        )
    if corrected == current:
        raise InputError(
            "更正后的元数据与现有版本相同，未产生新版本",
            "the corrected metadata equals the current one; no new version written",
        )
    stated = corrected.record.archival_code.code if corrected.record.archival_code else code
    if stated != code:
        raise InputError(
            f"更正不能改变档号（{code} → {stated}）；改档号应另建对象",
            f"a correction cannot change the archival code ({code} → {stated})",
        )
    event = MetadataEvent(
        action=Action.CORRECTED,
        time=dt.datetime.now(dt.UTC).replace(microsecond=0),
        agent=agent,
        agent_type=agent_type,
        description=reason,
    )
    xml = to_xml(corrected.with_event(event))
    recorded = package_digests(store, code)
    recorded[aip.METADATA_XML] = digest_bytes(xml)
    tag_files = aip.tag_files_bytes(recorded)
    state = store.head_state(code)
    sources = {
        logical: Source(sha256=state[logical], path=path, data=None)
        for logical, path in store.logical_files(code).items()
    }
    for rel, data in {aip.METADATA_XML: xml, **tag_files}.items():
        sources[rel] = Source(sha256=digest_bytes(data).sha256, path=None, data=data)
    package_digest = {a: digest_bytes(tag_files[aip.manifest_name(a)]).of(a) for a in ALGORITHMS}
    stored = store.new_version(code, sources, agent=agent, message=f"修改元数据：{reason}",
                               package_digest=package_digest)
    if catalogue is not None:
        indexing.keep_in_step(catalogue, store, code)
    return stored
