"""LibreOffice, headless: office documents (Word/WPS/Excel/PowerPoint/ODF) to PDF, and the fonts they ask for.

One user-profile directory per worker process (LibreOffice refuses to share one between running
instances), a version probe, a time limit, and a fontconfig file that adds the archive's own font
folder (government documents use 仿宋_GB2312, 方正小标宋, 楷体, which Debian lacks) to the system's.

The font check reads the fonts a document's text is set in from its flat-ODF form (any office format
LibreOffice reads is first saved as flat ODF): a font that is neither installed nor in the archive's
folder would be substituted in the PDF, so the conversion goes to review instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from guidang import safexml
from guidang.errors import GuidangError

# the LibreOffice export filter of each document family, and its flat-ODF form
FAMILIES = {
    "writer": ("writer_pdf_Export", "fodt"),
    "calc": ("calc_pdf_Export", "fods"),
    "impress": ("impress_pdf_Export", "fodp"),
    "draw": ("draw_pdf_Export", "fodg"),
}
SUFFIX_FAMILY = {
    ".doc": "writer", ".docx": "writer", ".wps": "writer", ".odt": "writer", ".rtf": "writer", ".fodt": "writer",
    ".xls": "calc", ".xlsx": "calc", ".et": "calc", ".ods": "calc", ".fods": "calc",
    ".ppt": "impress", ".pptx": "impress", ".dps": "impress", ".odp": "impress", ".fodp": "impress",
    ".odg": "draw",
}  # fmt: skip
CONVERT_TIMEOUT_S = 300  # one document; a hung conversion is killed and the file goes to review

_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_SVG = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
# the style attributes naming a font, and the script the font is for (None: any text)
_FONT_REFS = {f"{{{_STYLE}}}font-name": None, f"{{{_STYLE}}}font-name-asian": "asian",
              f"{{{_STYLE}}}font-name-complex": "complex"}  # fmt: skip
# which characters a script-specific font is used for (ODF 1.3 §20.2 style:font-name-asian/-complex)
_SCRIPTS = {
    "asian": re.compile(
        r"[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]"
    ),
    "complex": re.compile(
        r"[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\ufb1d-\ufdff\ufe70-\ufeff]"
    ),
}
# fonts drawn with another that has the same metrics, so the layout does not change: the metric aliases
# of fontconfig (conf.d/30-metric-aliases.conf: Liberation for Arial, Helvetica, Times, Courier), and
# LibreOffice's own replacement of the Symbol and Wingdings fonts by the OpenSymbol font it ships
METRIC_EQUIVALENTS = {
    "arial": "liberation sans", "helvetica": "liberation sans", "arimo": "liberation sans",
    "times new roman": "liberation serif", "times": "liberation serif", "tinos": "liberation serif",
    "courier new": "liberation mono", "courier": "liberation mono", "cousine": "liberation mono",
    "arial narrow": "liberation sans narrow", "helvetica narrow": "liberation sans narrow",
    "symbol": "opensymbol", "wingdings": "opensymbol",
}  # fmt: skip


class OfficeError(GuidangError):
    """LibreOffice is missing, failed, or produced nothing."""

    code = "OFFICE"


@dataclass(frozen=True)
class LibreOffice:
    """How to run LibreOffice for one worker: the binary, the worker's profile, the extra font folders."""

    binary: str
    profile_dir: Path
    font_dirs: tuple[Path, ...] = ()

    @classmethod
    def find(cls, work_dir: Path, font_dirs: tuple[Path, ...] = ()) -> LibreOffice:
        binary = shutil.which("soffice") or shutil.which("libreoffice")
        if binary is None:
            raise OfficeError(
                "未安装 LibreOffice（soffice），无法转换办公文档",
                "LibreOffice (soffice) is not installed: office documents cannot be converted",
            )
        return cls(binary, work_dir / f"lo-profile-{os.getpid()}", tuple(font_dirs))

    def version(self) -> str:
        done = subprocess.run([self.binary, "--version"], capture_output=True, text=True, timeout=60, check=False)
        return done.stdout.strip() or done.stderr.strip()

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["HOME"] = str(self.profile_dir)  # nothing of LibreOffice's lands in the service's home
        if self.font_dirs:
            env["FONTCONFIG_FILE"] = str(self._fonts_conf())
        return env

    def _fonts_conf(self) -> Path:
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        conf = self.profile_dir / "fonts.conf"
        dirs = "".join(f"<dir>{_xml_text(str(d))}</dir>" for d in self.font_dirs)
        conf.write_text(
            '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
            f"<fontconfig><include ignore_missing=\"yes\">/etc/fonts/fonts.conf</include>{dirs}</fontconfig>",
            "utf-8",
        )
        return conf

    def convert(self, source: Path, out_dir: Path, target: str) -> Path:
        """``source`` converted to ``target`` (a suffix with an optional ``:filter:options``) in ``out_dir``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            self.binary,
            f"-env:UserInstallation={(self.profile_dir / 'user').as_uri()}",
            "--headless", "--norestore", "--nolockcheck", "--nodefault",
            "--convert-to", target, "--outdir", str(out_dir), str(source),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, env=self.env(), timeout=CONVERT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise OfficeError(
                f"LibreOffice 转换超时（{CONVERT_TIMEOUT_S} 秒）", f"LibreOffice timed out ({CONVERT_TIMEOUT_S} s)"
            ) from exc
        out = out_dir / f"{source.stem}.{target.split(':', 1)[0]}"
        if not out.is_file() or out.stat().st_size == 0:
            detail = (done.stderr or done.stdout).strip()[-300:]
            raise OfficeError(
                f"LibreOffice 未能转换该文件：{detail}", f"LibreOffice could not convert the file: {detail}"
            )
        return out

    def to_pdf(self, source: Path, out_dir: Path) -> Path:
        """A PDF/A-2 export (LibreOffice's own PDF/A option; verified by the caller)."""
        export, _ = FAMILIES[family_of(source)]
        options = (
            '{"SelectPdfVersion":{"type":"long","value":"2"},"EmbedStandardFonts":{"type":"boolean","value":true}}'
        )
        return self.convert(source, out_dir, f"pdf:{export}:{options}")

    def to_flat_odf(self, source: Path, out_dir: Path) -> Path:
        return self.convert(source, out_dir, FAMILIES[family_of(source)][1])

    def available_families(self) -> frozenset[str]:
        return _families(tuple(str(d) for d in self.font_dirs))


def family_of(path: Path) -> str:
    family = SUFFIX_FAMILY.get(path.suffix.lower())
    if family is None:
        raise OfficeError(f"不是可转换的办公文档：{path.name}", f"not an office document it can convert: {path.name}")
    return family


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@lru_cache(maxsize=8)
def _families(font_dirs: tuple[str, ...]) -> frozenset[str]:
    """Every font family name fontconfig knows (installed fonts plus the given folders), lower-cased."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return frozenset()
    names: set[str] = set()
    done = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=60, check=False)
    for line in done.stdout.splitlines():
        names.update(n.strip().lower() for n in line.split(","))
    for folder in font_dirs:  # fonts in the archive's folder, which fc-list only sees with the config above
        for f in Path(folder).rglob("*"):
            if f.suffix.lower() in (".ttf", ".otf", ".ttc"):
                names.update(_font_file_families(f))
    return frozenset(n for n in names if n)


def _font_file_families(path: Path) -> set[str]:
    from fontTools.ttLib import TTCollection, TTFont

    try:
        fonts = TTCollection(str(path)).fonts if path.suffix.lower() == ".ttc" else [TTFont(str(path), lazy=True)]
    except Exception:  # an unreadable font file in the archive's folder names no family
        return set()
    found = set()
    for font in fonts:
        for rec in font["name"].names:
            if rec.nameID in (1, 4, 16):
                try:
                    found.add(rec.toUnicode().strip().lower())
                except UnicodeDecodeError:
                    continue
    return found


def used_fonts(flat_odf: Path) -> frozenset[str]:
    """The font families the document's styles set text in (declared font faces that a style uses)."""
    root = etree.parse(str(flat_odf), safexml.parser()).getroot()
    faces = {
        str(f.get(f"{{{_STYLE}}}name")): str(f.get(f"{{{_SVG}}}font-family", f.get(f"{{{_STYLE}}}name")))
        for f in root.iter(f"{{{_STYLE}}}font-face")
    }
    body = root.find(f"{{{_OFFICE}}}body")
    text = "".join(str(x) for x in body.itertext()) if body is not None else ""
    scripts = {name for name, chars in _SCRIPTS.items() if chars.search(text)}
    used: set[str] = set()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr, script in _FONT_REFS.items():
            name = el.get(attr)
            if name and (script is None or script in scripts):
                used.add(faces.get(name, name))
    return frozenset(re.sub(r"^['\"]|['\"]$", "", u).strip() for u in used if u.strip())


def missing_fonts(used: frozenset[str], available: frozenset[str]) -> list[str]:
    """The fonts a document uses that neither the machine nor the archive's font folder has."""
    missing = []
    for name in sorted(used):
        key = name.lower()
        if key in available or METRIC_EQUIVALENTS.get(key, "") in available:
            continue
        missing.append(name)
    return missing
