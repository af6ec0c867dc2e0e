"""Zip files as vendors' Windows machines make them, for the zipped-batch tests."""

from __future__ import annotations

import zipfile
from pathlib import Path


class GbkName(zipfile.ZipInfo):
    """A member whose name is written in GBK without the UTF-8 flag (Windows' 压缩 does this)."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def zip_folder(folder: Path, dest: Path, *, gbk: bool = True) -> Path:
    """Zip ``folder``'s contents (names relative to it, like 'Send to > Compressed folder' on one batch)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                info = GbkName(name) if gbk else zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return dest
