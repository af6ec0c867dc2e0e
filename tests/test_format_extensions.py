"""Every delivered file's name is checked against what its bytes are (issue #16), office documents included:
real files (office-examples, and docx/xlsx/pptx/rtf that LibreOffice makes from them) identified by pygfried,
under their own names and under names that lie."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import corpus

from guidang.ingest.office import LibreOffice
from guidang.validators.formats import extension_fits, identify

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


def office(*parts: str) -> Path:
    return corpus("office", "office-examples", *parts)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("formats")
    lo = LibreOffice.find(tmp / "lo")
    odf = office("LibreOffice7-ODF-1.3")
    odt, ods, odp = (odf / f"LibreOffice{n}" for n in ("Writer_odt_1.3.odt", "Calc_ods_1.3.ods",
                                                         "Impress_odp_1.3.odp"))
    made = tmp / "made"
    return {
        ".doc": office("Old Word file", "NEWSSLID.DOC"), ".xls": office("Old Access", "Reviews.xls"),
        ".ppt": office("powerpoint4-mac", "ecdl paris.ppt"), ".odt": odt, ".ods": ods, ".odp": odp,
        ".docx": lo.convert(odt, made, "docx"), ".xlsx": lo.convert(ods, made, "xlsx"),
        ".pptx": lo.convert(odp, made, "pptx"), ".rtf": lo.convert(odt, made, "rtf"),
    }  # fmt: skip


def named(src: Path, suffix: str, tmp_path: Path) -> Path:
    out = tmp_path / f"材料{suffix}"
    shutil.copyfile(src, out)
    return out


def test_each_office_format_is_identified_and_fits_its_own_name(samples: dict[str, Path], tmp_path: Path) -> None:
    for suffix, src in samples.items():
        fid = identify(src)
        assert fid.identified, (suffix, fid)
        assert extension_fits(named(src, suffix, tmp_path), fid), (suffix, fid.mime)


@pytest.mark.parametrize(("real", "claimed"), [(".docx", ".pdf"), (".doc", ".xls"), (".xlsx", ".docx"),
                                                (".ods", ".odt"), (".pptx", ".ppt"), (".rtf", ".doc"),
                                                (".odp", ".ofd")])  # fmt: skip
def test_a_name_that_lies_about_an_office_file_does_not_fit(samples: dict[str, Path], tmp_path: Path, real: str,
                                                            claimed: str) -> None:
    src = samples[real]
    assert not extension_fits(named(src, claimed, tmp_path), identify(src))
