"""The item stage: one item's PDF/A, package, DA/T 70 checks (stage GD) and its place, as one task.

After its pages are read, an item is one job (:class:`PackJob`) that :func:`pack_task` turns into its
outcome: assembled in a scratch folder of its own, then archived into the OCFL store, or kept whole in the
rejected area with its reasons. Only the batch's coordinator records the decision (``run``). Without a
broker the task runs in the coordinator's process (``page_pool.run_here``); with one, on a worker of the
item queue (``guidang.distributed``). A task run twice does no harm: the store adopts an object with the same
masters (``steps.archive``), a kept folder of the same batch is replaced (:func:`keep_rejected`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from guidang import names
from guidang.config import Settings
from guidang.models import ItemStatus
from guidang.pipeline.lookups import CatalogueDbLookups
from guidang.pipeline.outcome import ItemOutcome
from guidang.pipeline.steps import ItemWork, StoredFile, archive, assemble
from guidang.storage.catalogue import Catalogue
from guidang.validators.clamav import Scanner
from guidang.validators.dat70 import IntakeRegistration

OWNER_MARKER = ".guidang-batch"  # in a kept folder: the id of the batch that made it (see keep_rejected)


@dataclass(frozen=True)
class PackJob:
    """Everything one item task needs; picklable (it travels to a worker inside a task message)."""

    settings: Settings
    profile: str
    work: ItemWork
    work_root: Path  # the batch's scratch: each task makes a folder of its own under it
    received: dt.datetime
    registration: IntakeRegistration  # what intake registered, and whether the vendor's manifest covers it
    scanner: Scanner | None  # the coordinator's antivirus (a clamd address or a command) for DA/T 70 4-1, 4-2
    label: str  # the batch's folder name in the rejected area
    batch_id: int

    @property
    def code(self) -> str:
        return self.work.code


@dataclass(frozen=True)
class Packed:
    """An item task's result: the outcome to record and the files stored for the item."""

    outcome: ItemOutcome
    stored: list[StoredFile]


def pack_task(job: PackJob) -> Packed:
    """Assemble and check one item (unless an earlier step blocked it), then archive or keep it."""
    settings, work = job.settings, job.work
    job.work_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="item-", dir=job.work_root))  # never shared with another task
    try:
        if not work.blocked:
            cat = Catalogue(settings.db_url)
            try:
                assemble(settings, settings.profile(job.profile), work, scratch, job.received,
                         CatalogueDbLookups(cat), job.scanner, job.registration)
            finally:
                cat.close()
        object_id: str | None = None
        stored: list[StoredFile] = []
        if work.accepted:
            work, object_id, stored = archive(settings, work)
        if object_id is not None:
            return Packed(work.outcome(ItemStatus.ACCEPTED, object_id=object_id), stored)
        where = keep_rejected(settings, job.profile, job.label, work, job.batch_id)
        return Packed(work.outcome(ItemStatus.REJECTED, rejected_path=str(where)), [])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _own_folder(root: Path, base: Path, name: str, batch_id: int) -> Path:
    """A fresh folder ``base/name`` for this batch. A folder of that name made by this same batch (a
    run interrupted after keeping the item) is replaced; anything else is left alone and the next
    free ``name~N`` is used, so nothing guidang did not make in this batch is ever removed."""
    for n in range(1, 10_000):
        dest = names.child(base, name if n == 1 else f"{name}~{n}")
        if os.path.lexists(dest):
            marker = dest / OWNER_MARKER
            if dest.is_symlink() or marker.is_symlink() or not marker.is_file() \
                    or marker.read_text("utf-8", errors="replace").strip() != str(batch_id):
                continue
            names.remove_owned_tree(root, dest)
        dest.mkdir()
        (dest / OWNER_MARKER).write_text(f"{batch_id}\n", "utf-8")
        return dest
    raise FileExistsError(base / name)


def keep_rejected(settings: Settings, profile: str, batch_label: str, item: ItemWork,
                  batch_id: int) -> Path:
    """Copy the delivered files byte for byte, plus whatever was produced, and the reasons.

    The folder is named after the 档号 when that is a safe name, else after its stand-in (the
    档号 itself is in reasons.json); every path is proven to stay under the rejected area."""
    root = settings.rejected_root
    base = names.child(root, profile, batch_label)
    base.mkdir(parents=True, exist_ok=True)
    names.within(root, base)
    folder = names.component_or_stand_in(item.code, names.ARCHIVAL_CODE_MAX_BYTES)
    dest = _own_folder(root, base, folder, batch_id)
    delivered = dest / "delivered"
    delivered.mkdir()
    classified = any(r.check_id == "INTAKE-CLASSIFIED" for r in item.results)
    for page in [] if classified else item.item.pages:  # classified records are not copied (INTAKE-CLASSIFIED)
        target = names.within(delivered, delivered / page.relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(page.path, target)
    if item.package_dir is not None and item.package_dir.exists():
        shutil.copytree(item.package_dir, dest / "package")
    reasons = {"id": item.code, "results": [r.as_dict() for r in item.results]}
    (dest / "reasons.json").write_text(json.dumps(reasons, ensure_ascii=False, indent=2), "utf-8")
    return dest


