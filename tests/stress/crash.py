"""The crash test: run ``guidang watch`` on a stream of deliveries, SIGKILL the watcher and its
workers at random moments, restart, and prove at the end that nothing was lost or duplicated.

    python -m stress.crash --home /tmp/crash --kills 200 --deliveries 60   (from tests/)

Deliveries are drawn from a seed: distinct batches, byte-identical re-deliveries under the
same name (must be recognised as duplicates), same-name deliveries with different content
(a new delivery whose items the store refuses), batches without a catalogue (rejected whole),
and batches holding a symlink, a FIFO and a traversal name (those rejected, the rest archived).
Each delivery is copied file by file into the inbox and its READY marker written last.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from zips import zip_folder

from guidang.hotfolders.state import FINAL, IN_FLIGHT, ClaimRow, Stage, open_catalogue
from guidang.models import BatchStatus, ItemStatus
from guidang.packaging.ocfl_package import package_digests
from guidang.samples.batch import make_batch
from guidang.storage.catalogue import BatchRow, Catalogue, ItemRow
from guidang.storage.ocfl_store import OcflStore

PROFILE = "crash"
DPI = 200  # the DA/T 31 minimum: Tesseract reads it, and it halves the OCR time of 300 dpi
GUIDANG = str(Path(sys.executable).parent / "guidang")


@dataclasses.dataclass(frozen=True)
class Delivery:
    name: str  # folder name in the inbox
    template: Path  # what is copied
    kind: str  # new | duplicate | changed | no_catalogue | unsafe
    after: str | None = None  # deliver only once this name's first delivery is decided


@dataclasses.dataclass
class Report:
    deliveries: int = 0
    kills: Counter[str] = dataclasses.field(default_factory=Counter)
    restarts: int = 0
    files: int = 0
    in_store: int = 0
    in_rejected: int = 0
    lost: list[str] = dataclasses.field(default_factory=list)
    duplicated: list[str] = dataclasses.field(default_factory=list)
    partial: list[str] = dataclasses.field(default_factory=list)
    disagreements: list[str] = dataclasses.field(default_factory=list)
    survivors: list[str] = dataclasses.field(default_factory=list)  # processes of the run still alive at its end
    objects: int = 0
    items_accepted: int = 0
    items_rejected: int = 0
    claims: Counter[str] = dataclasses.field(default_factory=Counter)
    batch_status: Counter[str] = dataclasses.field(default_factory=Counter)
    attempts_max: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.partial or self.disagreements or self.survivors)

    def as_dict(self) -> dict[str, object]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d.update({k: dict(v) for k, v in d.items() if isinstance(v, Counter)})
        d["kills_total"] = sum(self.kills.values())
        d["ok"] = self.ok
        return d


def write_config(home: Path, workers: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "guidang.toml").write_text(
        f"""
[ocr]
jobs = 1
[watch]
workers = {workers}
poll_seconds = 0.3
rescan_seconds = 3
retry_seconds = 0
# the kills are the test, not the batches: they must not use up a batch's crash allowance
# (the limit itself is tested in tests/test_hotfolders_service.py); errors keep their limit
max_crashes = 100000
max_errors = 2
stop_grace_seconds = 0
[profiles.{PROFILE}]
quiet_seconds = 2  # zipped deliveries are taken once stable this long
vendor = "压力测试扫描公司"
accept_test_signatures = true  # the test clamd holds test signatures only: 4-2 warns instead of failing
archive_name = "示例市档案馆"
fonds_name = "示例市政务服务中心"
unit_name = "示例市政务服务中心"
""",
        "utf-8",
    )


def make_templates(root: Path, count: int, seed: int) -> list[Delivery]:
    """The stream of deliveries, in order (templates are written once, copied per delivery)."""
    rng = random.Random(seed)
    deliveries: list[Delivery] = []
    root.mkdir(parents=True, exist_ok=True)
    number = 1
    for i in range(count):
        name = f"B{i:03d}"
        roll = rng.random()
        template = root / f"t{i:03d}"
        template.mkdir()
        if roll < 0.12 and deliveries:
            earlier = rng.choice([d for d in deliveries if d.kind == "new"] or deliveries)
            deliveries.append(Delivery(earlier.name, earlier.template, "duplicate", after=earlier.name))
            continue
        if roll < 0.22 and any(d.kind == "new" for d in deliveries):
            earlier = rng.choice([d for d in deliveries if d.kind == "new"])
            numbers = root / f"{earlier.template.parent.name}.json"
            first = int(json.loads(numbers.read_text())["first"])
            make_batch(
                template,
                items=1,
                page_counts=[1],
                seed=seed * 1000 + i,
                first_number=first,
                batch_id=earlier.name,
                write_truth=False,
            )
            deliveries.append(Delivery(earlier.name, template / earlier.name, "changed", after=earlier.name))
            continue
        items = rng.choice([1, 1, 2])
        make_batch(
            template,
            items=items,
            page_counts=[1] * items,
            seed=seed * 1000 + i,
            first_number=number,
            batch_id=name,
            write_truth=False,
        )
        (root / f"t{i:03d}.json").write_text(json.dumps({"first": number}))
        batch = template / name
        number += items
        kind = "new"
        if roll > 0.94:
            for catalogue in batch.glob("catalogue.csv"):
                catalogue.unlink()
            kind = "no_catalogue"
        elif roll > 0.86:
            item = next(p for p in sorted(batch.iterdir()) if p.is_dir())
            os.symlink("/etc/passwd", item / "link.tif")
            (item / "..\\..\\escape.tif").write_bytes(b"II*\x00traversal")
            kind = "unsafe"  # the FIFO is made at delivery (a copy cannot carry one)
        elif roll > 0.78:
            kind = "zipped"  # delivered as B0nn.zip, GBK names, copied slowly (taken once stable)
        deliveries.append(Delivery(name, batch, kind))
    return deliveries


def _page_digests(batch: Path) -> dict[str, str]:
    return {
        str(src.relative_to(batch)): hashlib.sha256(src.read_bytes()).hexdigest()
        for src in sorted(batch.rglob("*"))
        if src.is_file() and not src.is_symlink() and src.parent != batch and src.suffix in (".tif", ".jpg")
        and "\\" not in src.name
    }


def deliver_zip(inbox: Path, d: Delivery, rng: random.Random) -> dict[str, str]:
    """Zip the batch folder as Windows does (GBK names) and copy the zip in slowly, in chunks."""
    staging = d.template.parent.parent / f"{d.template.parent.name}.zip"
    if not staging.exists():
        zip_folder(d.template.parent, staging)
    data = staging.read_bytes()
    with (inbox / f"{d.name}.zip").open("wb") as out:
        for start in range(0, len(data), 1 << 16):
            out.write(data[start : start + (1 << 16)])
            out.flush()
            time.sleep(rng.uniform(0, 0.05))
    return _page_digests(d.template)


def deliver(inbox: Path, d: Delivery, rng: random.Random) -> dict[str, str]:
    """Copy a delivery file by file, READY last; return relpath -> SHA-256 of its page files."""
    if d.kind == "zipped":
        return deliver_zip(inbox, d, rng)
    dest = inbox / d.name
    pages: dict[str, str] = {}
    for src in sorted(d.template.rglob("*")):
        rel = src.relative_to(d.template)
        if rel.name == "READY":
            continue
        target = dest / rel
        if src.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(src), target)
        elif src.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            if len(rel.parts) > 1 and src.suffix in (".tif", ".jpg") and "\\" not in rel.name:
                pages[str(rel)] = hashlib.sha256(src.read_bytes()).hexdigest()
            time.sleep(rng.uniform(0, 0.02))
    if d.kind == "unsafe":
        item = next(p for p in sorted(dest.iterdir()) if p.is_dir())
        os.mkfifo(item / "pipe.tif")
    (dest / "READY").write_text("")
    return pages


class Feeder(threading.Thread):
    """Drops the deliveries into the inbox, the n-th once ``due(n)`` says so (the kill schedule has
    reached it), so that the deliveries, not only the kills, are spread over the whole run."""

    def __init__(self, home: Path, deliveries: list[Delivery], seed: int, pace: float,
                 due: Callable[[int], bool]) -> None:
        super().__init__(daemon=True)
        self.home, self.deliveries, self.pace, self.due = home, deliveries, pace, due
        self.rng = random.Random(seed + 1)
        self.delivered: list[tuple[Delivery, dict[str, str]]] = []
        self.error: BaseException | None = None
        self._cat: Catalogue | None = None

    def _decided(self, name: str) -> bool:
        if self._cat is None:
            self._cat = open_catalogue(f"sqlite:///{self.home / 'catalogue.db'}")
        with self._cat.session() as s:
            rows = list(s.scalars(select(ClaimRow).where(ClaimRow.name == name)))
        return (
            bool(rows)
            and all(r.stage in (*FINAL, Stage.ABANDONED) and (r.settled or r.stage == Stage.ABANDONED) for r in rows)
            and any(r.stage in FINAL for r in rows)
        )

    def _may_deliver(self, inbox: Path, d: Delivery) -> bool:
        """Not while the same name is still in the inbox, nor a re-delivery before its first is decided."""
        in_inbox = (inbox / d.name).exists() or (inbox / f"{d.name}.zip").exists()
        return not in_inbox and not (d.after and not self._decided(d.after))

    def run(self) -> None:
        """Deliver in order, except that a re-delivery waits for its first delivery to be decided
        (without holding up the others)."""
        inbox = self.home / "inbox" / PROFILE
        pending = list(self.deliveries)
        try:
            while pending:
                due = self.due(len(self.delivered))
                d = next((d for d in pending if self._may_deliver(inbox, d)), None) if due else None
                if d is None:
                    time.sleep(0.2)
                    continue
                pending.remove(d)
                self.delivered.append((d, deliver(inbox, d, self.rng)))
                time.sleep(self.rng.uniform(0, self.pace))
        except BaseException as exc:  # reported by the main thread
            self.error = exc


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def descendants(pid: int) -> list[int]:
    out, stack = [], children(pid)
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(children(p))
    return out


def _victim(watcher: int, kind: str, rng: random.Random) -> int | None:
    if kind == "watcher":
        return watcher
    workers = children(watcher)
    if kind == "worker":
        return rng.choice(workers) if workers else None
    deeper = [p for p in descendants(watcher) if p not in workers]
    return rng.choice(deeper) if deeper else None


def processes_of(home: Path) -> list[str]:
    """Live processes started for this run's home (every guidang process inherits GUIDANG_HOME):
    pid and command line. Found by their environment, so nothing of another run is counted."""
    mine = f"GUIDANG_HOME={home}".encode()
    out = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if mine not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # ended meanwhile, or not ours to read
        if state != "Z" and int(entry.name) != os.getpid():
            out.append(f"{entry.name} {command}")
    return sorted(out)


def survivors(home: Path, wait: float = 30.0) -> list[str]:
    """What of the run is still alive once every watcher has stopped, after ``wait`` seconds for
    processes that were just signalled to go."""
    end = time.monotonic() + wait
    while (left := processes_of(home)) and time.monotonic() < end:
        time.sleep(0.5)
    return left


def start_watch(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen([GUIDANG, "-v", "watch"], env=env, stdout=fh, stderr=subprocess.STDOUT)


def settle_down(home: Path, env: dict[str, str], log: Path, timeout: float) -> None:
    """Let one watcher run undisturbed until the inbox is empty and nothing is in flight."""
    proc = start_watch(env, log)
    cat = open_catalogue(f"sqlite:///{home / 'catalogue.db'}")
    inbox = home / "inbox" / PROFILE
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            with cat.session() as s:
                flying = list(s.scalars(select(ClaimRow).where(ClaimRow.stage.in_([str(x) for x in IN_FLIGHT]))))
            if not flying and not any(inbox.iterdir()):
                return
            time.sleep(0.5)
        raise AssertionError("the watcher did not drain the inbox in time")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


def run(
    home: Path,
    *,
    deliveries: int,
    kills: int,
    seed: int,
    workers: int,
    clamd: Path | None,
    pace: float = 1.0,
    interval: tuple[float, float] = (0.3, 2.0),
) -> Report:
    started = time.monotonic()
    rng = random.Random(seed)
    write_config(home, workers)
    env = dict(os.environ, GUIDANG_HOME=str(home))
    if clamd is not None:
        env["GUIDANG_CLAMAV__SOCKET"] = str(clamd)
    (home / "inbox" / PROFILE).mkdir(parents=True, exist_ok=True)
    plan = make_templates(home.parent / f"{home.name}-templates", deliveries, seed)
    report = Report(deliveries=len(plan))
    log = home / "watch.log"
    feeder = Feeder(home, plan, seed, pace, due=lambda n: sum(report.kills.values()) >= n * kills // len(plan))
    feeder.start()
    watcher = start_watch(env, log)
    while sum(report.kills.values()) < kills or feeder.is_alive():
        # short pauses hit claims, start-ups and intake; long ones let batches reach the store
        time.sleep(rng.uniform(*interval) if rng.random() < 0.6 else rng.uniform(interval[1], 7 * interval[1]))
        if watcher.poll() is not None:  # it stopped by itself: that is a failure of the watcher
            raise AssertionError(f"guidang watch exited with {watcher.returncode}; see {log}")
        if sum(report.kills.values()) >= kills:
            continue
        kind = rng.choices(["watcher", "worker", "worker child"], weights=[30, 55, 15])[0]
        victim = _victim(watcher.pid, kind, rng)
        if victim is None:
            continue  # nothing of that kind is running right now: wait for the next moment
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            continue
        report.kills[kind] += 1
        if kind == "watcher":
            watcher.wait()
            watcher = start_watch(env, log)
            report.restarts += 1
    watcher.send_signal(signal.SIGTERM)
    watcher.wait(timeout=120)
    if feeder.error is not None:
        raise feeder.error
    settle_down(home, env, log, timeout=600)
    report.survivors = survivors(home)
    verify(home, feeder.delivered, report)
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(home: Path, delivered: list[tuple[Delivery, dict[str, str]]], report: Report) -> None:
    store = OcflStore(home / "store", create=False)
    validation = store.validate()
    if not validation.valid:
        report.partial.extend(m for m in validation.messages if m.startswith("E"))
    codes = list(store.list_codes())
    report.objects = len(codes)
    stored: Counter[str] = Counter()
    for code in codes:
        versions = [v.version for v in store.versions(code)]
        if versions != ["v1"]:
            report.duplicated.append(f"{code}: versions {versions}")
        for rel, d in package_digests(store, code).items():
            if rel.startswith("masters/"):
                stored[d.sha256] += 1
    report.duplicated.extend(f"master {sha} stored {n} times" for sha, n in stored.items() if n > 1)
    rejected: set[str] = set()
    for path in (home / "rejected").rglob("*"):
        if path.is_file() and not path.is_symlink() and path.name != "reasons.json":
            holder = next((p for p in path.parents if (p / "reasons.json").is_file()), None)
            if holder is not None and holder.is_relative_to(home / "rejected"):
                rejected.add(_sha(path))
    for d, pages in delivered:
        for rel, sha in pages.items():
            report.files += 1
            if sha in stored:
                report.in_store += 1
            elif sha in rejected:
                report.in_rejected += 1
            else:
                report.lost.append(f"{d.name} ({d.kind}): {rel}")
    _verify_db(home, store, set(codes), report)


def _verify_db(home: Path, store: OcflStore, codes: set[str], report: Report) -> None:
    cat = open_catalogue(f"sqlite:///{home / 'catalogue.db'}")
    with cat.session() as s:
        claims = list(s.scalars(select(ClaimRow)))
        items = list(s.scalars(select(ItemRow)))
        batches = list(s.scalars(select(BatchRow)))
    for c in claims:
        report.claims[c.stage] += 1
        report.attempts_max = max(report.attempts_max, c.attempts)
        if c.stage in IN_FLIGHT:
            report.disagreements.append(f"claim {c.id} still {c.stage}")
        if c.stage in FINAL and not (c.settled and c.final_path and Path(c.final_path).exists()):
            report.disagreements.append(f"claim {c.id} {c.stage} not settled at {c.final_path}")
        if c.stage == Stage.REJECTED and not (Path(c.final_path or "") / "reasons.json").is_file():
            report.disagreements.append(f"claim {c.id} rejected without reasons.json")
    left = [p for p in (home / "processing" / PROFILE).iterdir() if p.name != ".locks"]
    report.disagreements.extend(f"left in processing: {p}" for p in left)
    report.disagreements.extend(f"left in inbox: {p}" for p in (home / "inbox" / PROFILE).iterdir())
    accepted = {i.object_id for i in items if i.status == ItemStatus.ACCEPTED}
    report.items_accepted = sum(1 for i in items if i.status == ItemStatus.ACCEPTED)
    report.items_rejected = sum(1 for i in items if i.status == ItemStatus.REJECTED)
    report.disagreements.extend(f"item row says {o} is stored; it is not" for o in accepted - codes if o)
    report.disagreements.extend(f"object {c} in the store has no accepted item row" for c in codes - accepted)
    for i in items:
        if i.status == ItemStatus.REJECTED and not (i.rejected_path and Path(i.rejected_path).is_dir()):
            report.disagreements.append(f"item {i.id} rejected, but {i.rejected_path} is missing")
    for b in batches:
        report.batch_status[b.status] += 1
        if b.status not in (BatchStatus.DONE, BatchStatus.DUPLICATE, BatchStatus.FAILED):
            report.disagreements.append(f"batch {b.id} ({b.name}) left {b.status}")
    # the n-th delivery of a name says so in its receipt (a retried claim is not a new delivery)
    by_id = {b.id: b for b in batches}
    seen: Counter[str] = Counter()
    for c in claims:
        if c.stage == Stage.ABANDONED or c.batch_id is None:
            continue
        seen[c.name] += 1
        if by_id[c.batch_id].delivery != seen[c.name]:
            report.disagreements.append(
                f"claim {c.id} ({c.name}) is delivery {seen[c.name]}; its batch row says {by_id[c.batch_id].delivery}"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--deliveries", type=int, default=60)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clamd", type=Path)
    args = ap.parse_args()
    report = run(
        args.home,
        deliveries=args.deliveries,
        kills=args.kills,
        seed=args.seed,
        workers=args.workers,
        clamd=args.clamd,
    )
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
