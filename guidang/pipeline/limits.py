"""Per-batch limits on what a vendor may deliver (profile key ``limits``). A batch beyond a limit is
refused with a message that names the limit, before the work that the limit bounds is done.

Each default's source is in docs/security.md ("Limits"): the measurement in bench/bench_catalogue.py
for rows, the page size of a 600 dpi colour A4 scan for bytes, OOXML's own structure for the
catalogue's parts.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from guidang.safexml import OoxmlLimits

MiB = 1 << 20
GiB = 1 << 30


class BatchLimits(BaseModel):
    """What one delivered batch may hold."""

    # catalogue rows (件): 24-62 ms of bookkeeping per row, linear (bench/bench_catalogue.py), so at
    # most about 5 minutes at the limit before any image is read; docs/security.md
    max_rows: int = Field(default=5_000, ge=1)
    # files in the batch (pages of all items, plus catalogue, manifest, READY)
    max_files: int = Field(default=200_000, ge=1)
    # pages (files) of one item
    max_pages_per_item: int = Field(default=5_000, ge=1)
    # bytes of all files of the batch: 5,000 A4 pages at 600 dpi in uncompressed 24-bit colour
    max_batch_bytes: int = Field(default=512 * GiB, ge=1)
    # the catalogue file itself (CSV or XLSX, as delivered)
    max_catalogue_bytes: int = Field(default=64 * MiB, ge=1)
    # an XLSX catalogue's zip parts: how many, how large once inflated, how compressible
    max_xlsx_members: int = Field(default=1_000, ge=1)
    max_xlsx_part_bytes: int = Field(default=256 * MiB, ge=1)
    max_xlsx_total_bytes: int = Field(default=512 * MiB, ge=1)
    max_xlsx_ratio: float = Field(default=200.0, gt=1)
    # lines of a vendor's manifest (one per file, so tied to max_files)
    max_manifest_lines: int = Field(default=200_000, ge=1)

    def ooxml(self) -> OoxmlLimits:
        return OoxmlLimits(self.max_xlsx_members, self.max_xlsx_part_bytes, self.max_xlsx_total_bytes,
                           self.max_xlsx_ratio)
