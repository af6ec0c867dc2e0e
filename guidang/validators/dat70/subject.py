"""The subject every DA/T 70 check receives: the package, the context, the stage, and shared measurements."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from guidang.packaging.fixity import Digests, digest_file
from guidang.validators.dat70.context import Dat70Context
from guidang.validators.dat70.package import PackageView
from guidang.validators.dat70_options import Dat70Options
from guidang.validators.formats import FormatId, identify
from guidang.validators.result import Evidence
from guidang.validators.spec import Stage


@dataclass
class Dat70Subject:
    package: PackageView
    context: Dat70Context
    stage: Stage
    _digests: dict[str, Digests] = field(default_factory=dict)

    @property
    def options(self) -> Dat70Options:
        return self.context.options

    def digests(self, relpath: str) -> Digests:
        """SHA-256, SM3 and size of a package file, read once per run."""
        if relpath not in self._digests:
            self._digests[relpath] = digest_file(self.package.path(relpath))
        return self._digests[relpath]

    def digest(self, relpath: str, algorithm: str = "sha256") -> str:
        return self.digests(relpath).of(algorithm)

    def identify(self, relpath: str) -> FormatId:
        return identify(self.package.path(relpath))

    def path(self, relpath: str) -> Path:
        return self.package.path(relpath)


def ev(
    file: str | None = None, field: str | None = None, expected: object = None, found: object = None
) -> tuple[Evidence, ...]:
    """One piece of evidence, as the 1-tuple a Finding takes."""
    return (
        Evidence(
            file=file,
            field=field,
            expected=None if expected is None else str(expected),
            found=None if found is None else str(found),
        ),
    )
