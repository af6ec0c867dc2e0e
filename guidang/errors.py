"""Exceptions that map to documented exit codes (see README, "Exit codes").

Each error carries a stable code and a message in Chinese and English, so the CLI can
print the user's language and scripts can match on the code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECKS_FAILED = 1  # `guidang check`: the checks ran and found failures
    CANNOT_RUN = 2  # the input could not be processed at all (unreadable batch, bad path)
    CONFIG = 3  # configuration missing or invalid
    MISSING_DEPENDENCY = 4  # an external tool (tesseract, clamd, …) is absent or too old
    STORAGE = 5  # the store or the catalogue database failed
    INTERNAL = 70  # a defect in guidang (sysexits EX_SOFTWARE); the traceback is in <home>/log/guidang-errors.log
    INTERRUPTED = 130


class GuidangError(Exception):
    """Base of all expected errors: carries an exit code and bilingual text."""

    exit_code = ExitCode.CANNOT_RUN
    code = "GUIDANG"

    def __init__(self, zh: str, en: str | None = None) -> None:
        super().__init__(en or zh)
        self.zh = zh
        self.en = en or zh

    def message(self, language: str = "zh") -> str:
        return self.en if language == "en" else self.zh


class InputError(GuidangError):
    exit_code = ExitCode.CANNOT_RUN
    code = "INPUT"


class MetadataError(InputError):
    """A record's metadata cannot be read or built (a catalogue value, a metadata XML)."""

    code = "METADATA"


class ConfigError(GuidangError):
    exit_code = ExitCode.CONFIG
    code = "CONFIG"


class MissingDependencyError(GuidangError):
    exit_code = ExitCode.MISSING_DEPENDENCY
    code = "DEPENDENCY"


class StorageError(GuidangError):
    exit_code = ExitCode.STORAGE
    code = "STORAGE"
