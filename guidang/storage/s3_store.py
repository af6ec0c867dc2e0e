"""A WORM copy of the store in an S3-compatible bucket with Object Lock (boto3).

The bucket mirrors the OCFL layout: an object's files are keys ``<prefix><object path>/<path in object>``,
so the copy can be browsed without guidang like the store. Every key is written with an Object Lock
retention (mode and retain-until date, decided above from the record's 保管期限) and, in a dispute, a legal
hold. The bucket must have Object Lock enabled, which also turns versioning on: writing a key again (the
root inventory after a correction) makes a new object version, the old one stays, locked; nothing is
overwritten. A delete of a locked version is refused by the server, not by guidang.

Tested against moto's standalone server on loopback (a stand-in: no S3 server is packaged for Debian);
docs/storage.md says what was and was not shown with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guidang.errors import MissingDependencyError, StorageError
from guidang.storage.object_audit import Defect
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.options import S3Options

COMPLIANCE = "COMPLIANCE"
GOVERNANCE = "GOVERNANCE"


@dataclass(frozen=True, slots=True)
class Lock:
    """The retention an object's keys carry: mode and date (None: no retention, e.g. a term that has ended)."""

    mode: str | None
    until: dt.datetime | None
    legal_hold: bool = False

    def describe(self) -> str:
        if self.mode is None or self.until is None:
            return "no retention" + (", legal hold" if self.legal_hold else "")
        return f"{self.mode} until {self.until.date().isoformat()}" + (", legal hold" if self.legal_hold else "")


@dataclass(frozen=True, slots=True)
class KeyState:
    key: str
    version_id: str | None
    sha256: str | None  # recomputed from the bytes read
    mode: str | None
    until: dt.datetime | None
    legal_hold: bool


def _client(opts: S3Options) -> Any:
    try:
        import boto3
    except ImportError as exc:  # pragma: no cover - boto3 is a dependency
        raise MissingDependencyError("未安装 boto3，无法使用 S3 存储",
                                     "boto3 is not installed: no S3 back end") from exc
    return boto3.client("s3", endpoint_url=opts.endpoint_url or None, region_name=opts.region)


class S3LockedStore:
    """The bucket holding the WORM copy; ``client`` is a boto3 S3 client."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_options(cls, opts: S3Options) -> S3LockedStore:
        return cls(_client(opts), opts.bucket, opts.prefix)

    def _error(self, exc: Exception, what: str) -> StorageError:
        return StorageError(f"S3 存储（{self.bucket}）{what}失败：{exc}",
                            f"S3 bucket {self.bucket}: {what} failed: {exc}")

    def ensure_bucket(self) -> None:
        """Create the bucket with Object Lock if missing; refuse one without Object Lock."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=True)
        try:
            conf = self.client.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        except ClientError as exc:
            raise StorageError(f"S3 存储桶 {self.bucket} 未启用对象锁定（Object Lock），不能作为保存副本",
                               f"bucket {self.bucket} has no Object Lock; it cannot hold the WORM copy") from exc
        if conf.get("ObjectLockEnabled") != "Enabled":
            raise StorageError(f"S3 存储桶 {self.bucket} 未启用对象锁定", f"bucket {self.bucket} has no Object Lock")

    def key(self, store: OcflStore, code: str, rel: str) -> str:
        return f"{self.prefix}{store.object_path(code).relative_to(store.root).as_posix()}/{rel}"

    def put_object(self, store: OcflStore, code: str, digests: Mapping[str, str], lock: Lock) -> int:
        """Copy the object's files (``digests``: path in object → SHA-256) to the bucket, each under ``lock``.
        A key already holding the same SHA-256 is not written again; a changed one (the root inventory after a
        correction) becomes a new object version. Returns the number of keys written."""
        from botocore.exceptions import BotoCoreError, ClientError

        written = 0
        folder = store.object_path(code)
        for rel, sha256 in sorted(digests.items()):
            key = self.key(store, code, rel)
            if self._stored_sha256(key) == sha256:
                continue  # the same bytes are there (content files never change; inventories do)
            args: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Metadata": {"sha256": sha256},
                                    "ChecksumAlgorithm": "SHA256"}
            if lock.mode and lock.until:
                args |= {"ObjectLockMode": lock.mode, "ObjectLockRetainUntilDate": lock.until}
            if lock.legal_hold:
                args["ObjectLockLegalHoldStatus"] = "ON"
            try:
                with (folder / rel).open("rb") as fh:
                    self.client.put_object(Body=fh, **args)
            except (BotoCoreError, ClientError, OSError) as exc:
                raise self._error(exc, f"写入 {key} / writing {key}") from exc
            written += 1
        return written

    def _stored_sha256(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            return str(self.client.head_object(Bucket=self.bucket, Key=key).get("Metadata", {}).get("sha256"))
        except ClientError:
            return None

    def keys(self, store: OcflStore, code: str) -> Iterator[str]:
        prefix = self.key(store, code, "")
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield str(entry["Key"])

    def state(self, key: str) -> KeyState | None:
        """The current version of ``key``: its bytes' SHA-256 (streamed) and its lock; None if absent."""
        from botocore.exceptions import ClientError

        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        h = hashlib.sha256()
        for chunk in got["Body"].iter_chunks(1 << 20):
            h.update(chunk)
        hold = False
        version = got.get("VersionId")
        try:
            answer = self.client.get_object_legal_hold(Bucket=self.bucket, Key=key, VersionId=version)
            hold = answer.get("LegalHold", {}).get("Status") == "ON"
        except ClientError:
            hold = False
        return KeyState(key, version, h.hexdigest(), got.get("ObjectLockMode"), got.get("ObjectLockRetainUntilDate"),
                        hold)

    def audit(self, store: OcflStore, code: str, digests: Mapping[str, str], lock: Lock
              ) -> tuple[list[Defect], list[Defect]]:
        """(fixity defects, lock defects) of the bucket's copy of ``code`` against ``digests`` and ``lock``."""
        fixity: list[Defect] = []
        locks: list[Defect] = []
        expected_keys = {self.key(store, code, rel): rel for rel in digests}
        for key, rel in sorted(expected_keys.items()):
            st = self.state(key)
            if st is None:
                fixity.append(Defect("missing_file", f"s3://{self.bucket}/{key}", digests[rel], None, "sha256"))
                continue
            if st.sha256 != digests[rel]:
                fixity.append(Defect("digest_mismatch", f"s3://{self.bucket}/{key}", digests[rel], st.sha256,
                                     "sha256"))
            where = f"s3://{self.bucket}/{key}"
            if lock.mode and lock.until:
                if st.mode is None or st.until is None:
                    locks.append(Defect("not_locked", where, lock.describe(), "none"))
                elif st.mode != lock.mode:
                    locks.append(Defect("wrong_mode", where, lock.mode, st.mode))
                elif st.until < lock.until - dt.timedelta(days=1):
                    locks.append(Defect("too_short", where, lock.until.date().isoformat(), st.until.date().isoformat()))
            if lock.legal_hold and not st.legal_hold:
                locks.append(Defect("not_locked", where, "legal hold", "none"))
        fixity += [Defect("extra_file", f"s3://{self.bucket}/{k}", None, "present")
                   for k in sorted(set(self.keys(store, code)) - set(expected_keys))]
        return fixity, locks

    def set_legal_hold(self, store: OcflStore, code: str, on: bool) -> int:
        """Put (or lift) a legal hold on the current version of every key of the object."""
        n = 0
        for key in self.keys(store, code):
            self.client.put_object_legal_hold(Bucket=self.bucket, Key=key, LegalHold={"Status": "ON" if on else "OFF"})
            n += 1
        return n

    def delete_object(self, store: OcflStore, code: str) -> None:
        """Delete every version of the object's keys (destruction); the server refuses locked versions, and the
        refusal is raised as a :class:`StorageError` (nothing guidang could delete is left half-deleted: the
        lock is checked first, see :meth:`locked`)."""
        from botocore.exceptions import ClientError

        prefix = self.key(store, code, "")
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                try:
                    self.client.delete_object(Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"])
                except ClientError as exc:
                    raise StorageError(f"S3 拒绝删除 {v['Key']}（对象锁定）：{exc}",
                                       f"S3 refused to delete {v['Key']} (object lock): {exc}") from exc

    def locked(self, store: OcflStore, code: str, now: dt.datetime) -> str | None:
        """Why the object cannot be deleted now (a retention not yet ended, a legal hold), or None."""
        from botocore.exceptions import ClientError

        prefix = self.key(store, code, "")
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            for v in page.get("Versions", []):
                head = self.client.head_object(Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"])
                until = head.get("ObjectLockRetainUntilDate")
                if until is not None and until > now:
                    return f"{v['Key']}: {head.get('ObjectLockMode')} until {until.date().isoformat()}"
                try:
                    answer = self.client.get_object_legal_hold(Bucket=self.bucket, Key=v["Key"],
                                                               VersionId=v["VersionId"])
                    hold = answer.get("LegalHold", {}).get("Status", "OFF")
                except ClientError:
                    hold = "OFF"
                if hold == "ON":
                    return f"{v['Key']}: legal hold"
        return None


def object_digests(store: OcflStore, code: str) -> dict[str, str]:
    """Path in object → SHA-256 of every file of the object as stored: content files from the inventory's
    manifest, the OCFL files (declaration, inventories, sidecars) hashed now."""
    import json

    folder = store.object_path(code)
    inventory = json.loads((folder / "inventory.json").read_bytes())
    content = {p: str(d) for d, paths in inventory["manifest"].items() for p in paths}
    out: dict[str, str] = {}
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            rel = (Path(dirpath) / name).relative_to(folder).as_posix()
            out[rel] = content.get(rel) or hashlib.sha256((folder / rel).read_bytes()).hexdigest()
    return out
