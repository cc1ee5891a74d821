"""The plugin's settings and credentials, read and checked once per extract."""

from __future__ import annotations

import codecs
from pathlib import Path

from attrs import frozen

from misbridge.plugin import (
    ConfigurationError,
    CredentialField,
    Dataset,
    ExtractContext,
    Secret,
    SettingField,
)

#: What spreadsheets can hold: no photos (an export has none) and no exam results (a
#: marksheet of grades is read as assessments).
DATASETS = (Dataset.YEARS, Dataset.STAFF, Dataset.STUDENTS, Dataset.GROUPS, Dataset.ASSESSMENTS)

__all__ = [
    "CREDENTIALS",
    "DATASETS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_CELL_CHARS",
    "DEFAULT_MAX_COLUMNS",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_MAX_ROWS",
    "FORMULA_POLICIES",
    "SETTINGS",
    "Limits",
    "SpreadsheetConfig",
]

MIS = "spreadsheet"

#: The same byte cap as a CommandReporter XML report: no school's export comes near it.
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: Excel's own limits (Microsoft, "Excel specifications and limits"): a sheet of more
#: rows or columns, or a cell of more characters, was not written by Excel or an MIS.
DEFAULT_MAX_ROWS = 1_048_576
DEFAULT_MAX_COLUMNS = 16_384
DEFAULT_MAX_CELL_CHARS = 32_767
#: Largest uncompressed/compressed ratio of one XLSX part above 1 MiB. Real sheets
#: compress 5 to 30 times; zip bombs compress hundreds to millions of times.
DEFAULT_MAX_RATIO = 200

FORMULA_POLICIES = ("refuse", "cached")

CREDENTIALS = (
    CredentialField(
        "password",
        "Password of the password-protected workbooks (leave empty if they have none)",
        env="MISBRIDGE_SPREADSHEET_PASSWORD",
        required=False,
    ),
)

SETTINGS = (
    SettingField(
        "path",
        "the folder holding the exported files (one file per report), or one workbook "
        "(.xlsx) whose sheets hold them",
        required=True,
        env="MISBRIDGE_SPREADSHEET_PATH",
    ),
    SettingField(
        "mapping",
        "the column mapping: a built-in name (misbridge, sims, arbor, bromcom; "
        "'misbridge spreadsheet mappings' lists them) or the path of a TOML mapping file",
        default="misbridge",
    ),
    SettingField(
        "encoding",
        "the text encoding of CSV files (utf-8, or cp1252 for 'CSV' saved by older Excel)",
        default="utf-8",
    ),
    SettingField(
        "formulas",
        "refuse: a formula cell refuses its file; cached: read the value Excel last "
        "calculated (never evaluated here)",
        default="refuse",
        choices=FORMULA_POLICIES,
    ),
    SettingField("term", "the term or result set of a marksheet that names none itself"),
    SettingField(
        "assessed_on",
        "the date (yyyy-mm-dd) of a marksheet's grades when the marksheet gives none",
    ),
    SettingField(
        "max_file_bytes",
        "largest file accepted, in bytes (for XLSX: compressed and uncompressed)",
        default=str(DEFAULT_MAX_BYTES),
        kind=int,
        minimum=1,
    ),
    SettingField(
        "max_rows", "most rows a sheet may have", default=str(DEFAULT_MAX_ROWS), kind=int, minimum=1
    ),
    SettingField(
        "max_columns",
        "most columns a sheet may have",
        default=str(DEFAULT_MAX_COLUMNS),
        kind=int,
        minimum=1,
    ),
    SettingField(
        "max_cell_chars",
        "most characters one cell may hold",
        default=str(DEFAULT_MAX_CELL_CHARS),
        kind=int,
        minimum=1,
    ),
)


@frozen
class Limits:
    """What a file may be before it is refused as hostile or broken."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS
    max_ratio: int = DEFAULT_MAX_RATIO
    max_members: int = 10_000


@frozen
class SpreadsheetConfig:
    path: Path
    mapping: str
    encoding: str
    formulas: str
    term: str | None
    assessed_on: str | None
    password: Secret | None
    limits: Limits

    @classmethod
    def from_context(cls, context: ExtractContext) -> SpreadsheetConfig:
        values = context.values
        raw_path = context.require_setting("path")
        path = Path(raw_path).expanduser()
        if not path.exists():
            raise ConfigurationError(
                f"spreadsheet: the path {raw_path!r} does not exist; give the folder the "
                "exports were saved to, or the workbook itself",
                setting="path",
            )
        encoding = (context.setting("encoding", "utf-8") or "utf-8").strip()
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigurationError(
                f"spreadsheet: the encoding {encoding!r} is not one Python knows; use utf-8 "
                "or cp1252",
                setting="encoding",
            ) from None
        return cls(
            path=path,
            mapping=context.setting("mapping", "misbridge") or "misbridge",
            encoding=encoding,
            formulas=str(values.get("formulas", "refuse")),
            term=context.setting("term"),
            assessed_on=context.setting("assessed_on"),
            password=context.credentials.get("password") or None,
            limits=Limits(
                max_bytes=int(values.get("max_file_bytes", DEFAULT_MAX_BYTES)),
                max_rows=int(values.get("max_rows", DEFAULT_MAX_ROWS)),
                max_columns=int(values.get("max_columns", DEFAULT_MAX_COLUMNS)),
                max_cell_chars=int(values.get("max_cell_chars", DEFAULT_MAX_CELL_CHARS)),
            ),
        )
