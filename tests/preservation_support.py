"""A small store of generated records for the preservation tests (audit, repair, backup, destruction)."""

from __future__ import annotations

from pathlib import Path

from test_aip_support import make_package

from guidang.config import Settings
from guidang.packaging.ocfl_package import store_package
from guidang.storage.catalogue import BatchRow, Catalogue, ItemRow
from guidang.storage.ocfl_store import OcflStore

CODES = tuple(f"Z109-WS·2011-Y-BGS-{n:04d}" for n in range(1, 6))


def make_home(tmp: Path, replica: bool = False, codes: tuple[str, ...] = CODES, db_url: str = "") -> Settings:
    """A working home whose store holds ``codes``, each registered as archived in the catalogue."""
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    text = f'database_url = "{db_url}"\n' if db_url else ""
    text += "[clamav]\nrequired = false\n"
    if replica:
        text += f'[preservation]\nreplica_root = "{tmp / "replica"}"\n'
    (home / "guidang.toml").write_text(text, "utf-8")
    settings = Settings(home=home)
    store = OcflStore(settings.store_root)
    cat = Catalogue(settings.db_url)
    with cat.session() as s:
        batch = BatchRow(profile="demo", vendor="v", name="b1", content_digest="0" * 64, status="done",
                         source_path=str(tmp))
        s.add(batch)
        for code in codes:
            pkg = make_package(tmp / "pkgs", code, name=code)
            store_package(store, pkg.root, code)
            batch.items.append(ItemRow(archival_code=code, title="t", status="accepted", object_id=code))
    return settings
