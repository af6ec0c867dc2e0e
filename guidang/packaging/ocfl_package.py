"""An archival package (packaging.aip) in the OCFL store: in, out, its manifests' digests, its fixity.

The store (:mod:`guidang.storage.ocfl_store`) keeps files, versions and inventories and knows no package
format; this module maps a package onto it. Every file goes in with the SHA-256 the package manifest
already holds (hash once); SM3 lives in the package's ``manifest-sm3.txt``, a content file of every version.
"""

from __future__ import annotations

import os
from pathlib import Path

from guidang.errors import InputError
from guidang.packaging import aip
from guidang.packaging.fixity import ALGORITHMS, Digests, digest_bytes, digest_file
from guidang.storage.ocfl_store import OcflStore, Source, StoredVersion, identifier_to_path


def package_sources(pkg: aip.Package) -> dict[str, Source]:
    """A package's files as store sources: payload by path (SHA-256 from the manifest), tag files as bytes."""
    sources = {rel: Source(sha256=d.sha256, path=pkg.path(rel), data=None) for rel, d in pkg.files.items()}
    for name in aip.TAG_FILES:
        data = pkg.path(name).read_bytes()
        sources[name] = Source(sha256=digest_bytes(data).sha256, path=None, data=data)
    return sources


def _package_for(store: OcflStore, package_dir: str | os.PathLike[str], code: object | None) -> aip.Package:
    pkg = aip.read_package(package_dir)
    if code is not None and str(code) != pkg.code:
        raise InputError(
            f"档案包的档号（{pkg.code}）与要求的档号（{code}）不一致",
            f"the package's archival code ({pkg.code}) differs from the one given ({code})",
        )
    identifier_to_path(pkg.code, store.separator)
    return pkg


def store_package(
    store: OcflStore,
    package_dir: str | os.PathLike[str],
    code: object | None = None,
    *,
    agent: str = "guidang",
    message: str = "归档 (archived)",
    move: bool = False,
) -> StoredVersion:
    """Add a package as a new object (v1). Raises ``ObjectExistsError`` if the 档号 is taken.

    The package is copied (``move=True`` renames its files instead, consuming it). While copying, each
    file's SHA-256 is checked against the manifest (the read happens anyway); SM3 is not recomputed.
    ``code`` defaults to the package's 档号 and must equal it.
    """
    pkg = _package_for(store, package_dir, code)
    return store.add_object(
        pkg.code, package_sources(pkg), package_digest=pkg.package_digest, agent=agent, message=message, move=move
    )


def add_package_version(
    store: OcflStore,
    code: object,
    package_dir: str | os.PathLike[str],
    *,
    agent: str,
    message: str,
    move: bool = False,
) -> StoredVersion:
    """Add a whole package as the next version of an existing object (only new content is stored)."""
    pkg = _package_for(store, package_dir, code)
    return store.new_version(
        pkg.code, package_sources(pkg), agent=agent, message=message, move=move, package_digest=pkg.package_digest
    )


def checkout_package(
    store: OcflStore, code: object, dest: str | os.PathLike[str], version: str | None = None
) -> aip.Package:
    """Copy a version of the object out as a package directory (``dest`` must not exist)."""
    return aip.read_package(store.checkout(code, dest, version))


def package_digests(store: OcflStore, code: object, version: str | None = None) -> dict[str, Digests]:
    """Payload path → digests, as recorded in the version's manifests (not recomputed)."""
    files = store.logical_files(code, version)
    manifests = {
        a: aip.parse_manifest(files[aip.manifest_name(a)].read_bytes(), aip.manifest_name(a)) for a in ALGORITHMS
    }
    return {
        p: Digests(sha256=manifests["sha256"][p], sm3=manifests["sm3"][p], size=files[p].stat().st_size)
        for p in manifests["sha256"]
    }


def verify_object(store: OcflStore, code: object, version: str | None = None) -> list[aip.Mismatch]:
    """Recompute SHA-256 and SM3 of a version's files and compare with its manifests."""
    files: dict[str, Path] = store.logical_files(code, version)
    recorded = package_digests(store, code, version)
    problems: list[aip.Mismatch] = []
    for rel, expected in recorded.items():
        if rel not in files:
            problems.append(aip.Mismatch(path=rel, problem="missing"))
            continue
        actual = digest_file(files[rel])
        for a in ALGORITHMS:
            if actual.of(a) != expected.of(a):
                problems.append(
                    aip.Mismatch(path=rel, problem="digest", algorithm=a, expected=expected.of(a), found=actual.of(a))
                )
    payload = {p for p in files if p not in aip.TAG_FILES}
    problems.extend(aip.Mismatch(path=p, problem="unlisted") for p in sorted(payload - set(recorded)))
    return problems
