"""What the normaliser's rules share: its settings, caches and error helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from misbridge.errorcodes import record_error
from misbridge.errors import RecordError, Severity
from misbridge.model import (
    Deletion,
    SenStatus,
)
from misbridge.normalise.dates import DateParseError, FlagParseError, parse_date, parse_flag
from misbridge.normalise.rules import (
    match_gender,
)
from misbridge.normalise.settings import NormaliseSettings, UsernamePolicy
from misbridge.result import ModelRecord

__all__ = ["Normalised", "NormaliserBase"]

Normalised = tuple[ModelRecord | Deletion | None, list[RecordError]]

#: Most distinct date texts a Normaliser remembers (a few hundred KB at most).
_CACHE_LIMIT = 50_000


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


class NormaliserBase:
    """The state every rule reads (see :class:`~misbridge.normalise.Normaliser`)."""

    def __init__(
        self,
        settings: NormaliseSettings | None = None,
        *,
        mis: str | None = None,
        mis_title: str | None = None,
    ) -> None:
        self.settings = settings or NormaliseSettings()
        self.mis = mis
        self._title = mis_title
        self._genders = self.settings.genders
        self._by_directory = self.settings.username_policy is UsernamePolicy.DIRECTORY
        self._dates: dict[str, date] = {}
        self._sen_cache: dict[tuple[object, object, object] | None, SenStatus] = {}
        # The configured genders under the spellings MIS send most (as given, upper,
        # lower, title case), so that the common case is one dict lookup.
        self._fast_genders: dict[str, str] = {}
        for key, name in self._genders.items():
            for spelling in (key, key.upper(), key.lower(), key.title(), name):
                self._fast_genders.setdefault(spelling, name)
        self._dispatch: dict[type, Callable[[Any, str], Normalised]] = self._handlers()

    # -- error helpers -------------------------------------------------------------

    def _handlers(self) -> dict[type, Callable[[Any, str], Normalised]]:
        """Each source record type's rule (the subclass gives them)."""
        raise NotImplementedError

    def _error(
        self,
        code: str,
        record: object,
        dataset: str,
        field: str | None = None,
        severity: Severity | None = None,
        **details: object,
    ) -> RecordError:
        return record_error(
            code,
            record,
            dataset=dataset,
            mis=self.mis,
            title=self._title,
            field=field,
            severity=severity,
            **details,
        )

    def _date(
        self,
        value: object,
        record: object,
        dataset: str,
        field: str,
        what: str,
        errors: list[RecordError],
    ) -> date | None:
        if value is None or type(value) is date:
            return value
        # Dates repeat a great deal within a school (admission days, birthdays), and
        # string parsing is the costly part: remember each text's date for this run.
        key = value if type(value) is str else None
        if key is None and type(value) is dict:
            key = value.get("date")
        if type(key) is str:
            known = self._dates.get(key)
            if known is not None:
                return known
        try:
            parsed = parse_date(value)
        except DateParseError:
            errors.append(self._error("MB3001", record, dataset, field, what=what))
            return None
        if parsed is not None and type(key) is str and len(self._dates) < _CACHE_LIMIT:
            self._dates[key] = parsed
        return parsed

    def _flag(
        self, value: object, record: object, dataset: str, field: str, errors: list[RecordError]
    ) -> bool | None:
        if value is None or value is True or value is False:
            return value
        try:
            return parse_flag(value)
        except FlagParseError:
            what = field.replace("_", " ").upper() if len(field) <= 3 else field.replace("_", " ")
            errors.append(self._error("MB4040", record, dataset, field, what=what))
            return None

    def _gender(
        self, value: str | None, record: object, dataset: str, errors: list[RecordError]
    ) -> str | None:
        gender, recognised = match_gender(value, self._genders)
        if not recognised:
            errors.append(self._error("MB4001", record, dataset))
        return gender

    def _no_id(self, record: object, dataset: str, what: str) -> Normalised:
        return None, [self._error("MB1001", record, dataset, what=what)]
