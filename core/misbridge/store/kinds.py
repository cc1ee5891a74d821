"""How each model class maps onto its table: columns, identity and natural keys.

Two sorts of entity:

- *identified* kinds (academic years, year groups, staff, students, groups) carry an
  MIS id: the ``mis_id`` table maps it to the internal id, and after a switch of MIS
  they are matched again by their natural keys;
- *dependent* kinds (memberships, photos, exam results, assessments) have no MIS id:
  they are identified by the internal ids they point at plus a few of their fields
  (``key_columns``), so they follow their person or group through any change of MIS.
"""

from __future__ import annotations

import enum
import operator
import types
import typing
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from hashlib import blake2b
from typing import Any

import attrs
import sqlalchemy as sa
from attrs import Factory, field, frozen

from misbridge.convert import to_plain
from misbridge.model import (
    AcademicYear,
    Assessment,
    Dataset,
    ExamResult,
    Group,
    Membership,
    Photo,
    StaffMember,
    Student,
    YearGroup,
)
from misbridge.store import schema
from misbridge.store.plan import FieldChange

__all__ = [
    "IDENT_SEP",
    "KINDS",
    "KINDS_BY_MODEL",
    "KINDS_BY_NAME",
    "Kind",
    "digest_getter",
    "digest_of",
    "fold",
    "fold_accents",
    "has_nul",
    "key_text",
]

Values = Mapping[str, Any]
NaturalKeys = Callable[[Values], list[tuple[str, tuple[Any, ...]]]]


def fold(text: object) -> str | None:
    """A name as compared between MIS: NFC, case-folded, single spaces."""
    if not isinstance(text, str):
        return None
    folded = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return folded or None


def fold_accents(text: object) -> str | None:
    """:func:`fold`, with accents dropped too ("Zoë" and "Zoe" are one name): how staff
    names are compared between two MIS, one of which may not keep accents."""
    if not isinstance(text, str):
        return None
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return fold(bare)


_SCALARS = frozenset({str, bool, int, float, type(None), date})
_LIFECYCLE = frozenset(
    {
        "id",
        "school",
        "enabled",
        "created_at",
        "changed_at",
        "disabled_at",
        "purged_at",
        "digest",
        "ident",
    }
)
#: Joins the parts of a dependent record's identity (a control character no MIS sends).
IDENT_SEP = "\x1f"


def _plain(value: object) -> object:
    """A model value as its column holds it (nested values become JSON data)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    return to_plain(value)


def has_nul(value: object) -> bool:
    """Whether a value (or anything inside it) holds a NUL character, which PostgreSQL
    cannot store in text."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            if "\x00" in item:
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
    return False


def key_text(value: object) -> str:
    """One part of an identity (dates as ISO text, nothing as the empty text)."""
    return "" if value is None else str(value)


@frozen
class Kind:
    name: str
    dataset: Dataset
    model: type
    table: sa.Table
    #: (model attribute, column) pairs copied from a record into its row.
    fields: tuple[tuple[str, str], ...]
    #: Dependent kinds: the references that identify a row (internal ids and codes) ...
    ref_columns: tuple[str, ...] = ()
    #: ... and the fields that complete its identity.
    key_fields: tuple[str, ...] = ()
    #: Identified kinds: the natural keys, strongest first, as (name, key) pairs.
    natural_keys: NaturalKeys | None = None
    #: Columns retention erases (the personal data).
    personal: tuple[str, ...] = ()
    has_account: bool = False
    _get: Callable[[object], tuple[Any, ...]] = field(
        init=False,
        repr=False,
        default=Factory(lambda self: _getter(a for a, _ in self.fields), takes_self=True),
    )
    #: :meth:`extract` (the bare attribute getter when every field is a scalar).
    extractor: Callable[[object], tuple[Any, ...]] = field(
        init=False, repr=False, default=Factory(lambda self: self._extractor(), takes_self=True)
    )
    #: The columns ``fields`` fill, in order.
    field_columns: tuple[str, ...] = field(
        init=False, default=Factory(lambda self: tuple(c for _, c in self.fields), takes_self=True)
    )
    #: Dependent kinds: every column of the identity, references first.
    key_columns: tuple[str, ...] = field(
        init=False,
        default=Factory(lambda self: (*self.ref_columns, *self.key_fields), takes_self=True),
    )
    _key_get: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(
        init=False,
        repr=False,
        default=Factory(lambda self: _item_getter(self.key_columns), takes_self=True),
    )
    #: The columns compared to find updates (identity columns never "change").
    diff_columns: tuple[str, ...] = field(
        init=False,
        default=Factory(
            lambda self: tuple(c for c in self.field_columns if c not in self.key_fields),
            takes_self=True,
        ),
    )
    #: Every data column of the table (references included; lifecycle not).
    columns: tuple[str, ...] = field(
        init=False,
        default=Factory(
            lambda self: tuple(c.name for c in self.table.columns if c.name not in _LIFECYCLE),
            takes_self=True,
        ),
    )

    @property
    def identified(self) -> bool:
        return self.natural_keys is not None

    def extract(self, record: object) -> tuple[Any, ...]:
        """The record's field values, in ``field_columns`` order, as columns hold them."""
        return self.extractor(record)

    def _extractor(self) -> Callable[[object], tuple[Any, ...]]:
        get = self._get
        hints = typing.get_type_hints(self.model)
        if all(_scalar_type(hints[attr]) for attr, _ in self.fields):
            return get
        return lambda record: tuple(v if type(v) in _SCALARS else _plain(v) for v in get(record))

    def values(self, record: object) -> dict[str, Any]:
        return dict(zip(self.field_columns, self.extract(record), strict=True))

    def diff(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, FieldChange]:
        """Old and new value of every data column that differs."""
        return {
            c: FieldChange(old.get(c), new[c]) for c in self.diff_columns if old.get(c) != new[c]
        }

    def digest(self, values: Mapping[str, Any]) -> str:
        """The fingerprint of a record's data, stored with its row."""
        return digest_of(tuple(values[c] for c in self.diff_columns))

    def ident(self, values: Mapping[str, Any]) -> str:
        """A dependent record's identity as stored in its row's ``ident`` column."""
        # key_text inlined: one call per new dependent row of an apply.
        return IDENT_SEP.join(["" if v is None else str(v) for v in self._key_get(values)])

    def split_ident(self, ident: str) -> dict[str, str]:
        return dict(zip(self.key_columns, ident.split(IDENT_SEP), strict=False))

    def namespace(self, record_or_values: object) -> str:
        """The id space of an identified record in the ``mis_id`` table."""
        if self.name != "group":
            return self.name
        kind = (
            record_or_values.get("kind")
            if isinstance(record_or_values, Mapping)
            else _plain(record_or_values.kind)  # type: ignore[attr-defined]
        )
        return f"group.{kind}"


def _scalar_type(hint: object) -> bool:
    args = (
        typing.get_args(hint) if typing.get_origin(hint) in (types.UnionType, typing.Union) else ()
    )
    return all(a in _SCALARS for a in args) if args else hint in _SCALARS


def _getter(attrs: Iterable[str]) -> Callable[[object], tuple[Any, ...]]:
    names = tuple(attrs)
    get = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda record: (get(record),)
    return get


def _item_getter(keys: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The values at ``keys`` of a mapping, always as a tuple."""
    if not keys:
        return lambda values: ()
    get = operator.itemgetter(*keys)
    if len(keys) == 1:
        return lambda values: (get(values),)
    return get


def digest_of(data: Iterable[Any]) -> str:
    """The fingerprint of column values, stored with the row.

    Computed only from values a record gave (never from values read back), so both
    sides of a comparison went through the same code; a change of representation in a
    later version shows as a difference, then a full comparison, never as a miss.
    Columns are typed, so ``str`` tells values of one column apart (None is NUL).
    """
    text = IDENT_SEP.join(["\x00" if v is None else str(v) for v in data])
    return blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def digest_getter(positions: Sequence[int]) -> Callable[[Sequence[Any]], str]:
    """``digest_of`` the values at ``positions`` of a row, fast for one position (a
    membership's end date: tens of thousands a night)."""
    if len(positions) != 1:
        return lambda data: digest_of([data[i] for i in positions])
    (only,) = positions

    def one(data: Sequence[Any]) -> str:
        value = data[only]
        text = "\x00" if value is None else str(value)
        return blake2b(text.encode("utf-8"), digest_size=16).hexdigest()

    return one


def _student_keys(v: Values) -> list[tuple[str, tuple[Any, ...]]]:
    keys: list[tuple[str, tuple[Any, ...]]] = []
    upn = v.get("upn")
    if isinstance(upn, str) and upn.strip():
        keys.append(("UPN", (upn.strip().upper(),)))
    # Legal names are what every MIS holds; preferred names differ between systems.
    forename = fold(v.get("legal_forename") or v.get("preferred_forename"))
    surname = fold(v.get("legal_surname") or v.get("preferred_surname"))
    if forename and surname and v.get("date_of_birth") is not None:
        keys.append(("name and date of birth", (forename, surname, v["date_of_birth"])))
    return keys


def _staff_keys(v: Values) -> list[tuple[str, tuple[Any, ...]]]:
    # Staff match by name, as a switched MIS's staff must (the title is not part of it);
    # the work email and then the staff code only break a tie between namesakes.
    forename, surname = fold_accents(v.get("forename")), fold_accents(v.get("surname"))
    if not (forename and surname):
        return []
    keys: list[tuple[str, tuple[Any, ...]]] = [("name", (forename, surname))]
    email, code = fold(v.get("work_email")), fold(v.get("staff_code"))
    if email:
        keys.append(("work email", (forename, surname, email)))
    if code:
        keys.append(("staff code", (forename, surname, code)))
    return keys


def _name_key(v: Values) -> list[tuple[str, tuple[Any, ...]]]:
    name = fold(v.get("name"))
    return [("name", (name,))] if name else []


def _year_group_keys(v: Values) -> list[tuple[str, tuple[Any, ...]]]:
    code = fold(v.get("code"))
    return [("NC year", (code,))] if code else _name_key(v)


def _group_keys(v: Values) -> list[tuple[str, tuple[Any, ...]]]:
    name = fold_accents(v.get("name"))
    return [("name", (v.get("kind"), name))] if name else []


# The roster fields a student row stores, in the model's order: everything but the MIS id
# (kept per source in mis_id) and the account fields (username, contact preference),
# which the store sets itself under the account rules.
_STUDENT_FIELDS = tuple(
    f.name
    for f in attrs.fields(Student)
    if f.name not in ("mis_id", "email_preference", "username")
)
_STAFF_FIELDS = ("title", "forename", "surname", "gender", "work_email", "staff_code")

KINDS: tuple[Kind, ...] = (
    Kind(
        "academic_year",
        Dataset.YEARS,
        AcademicYear,
        schema.academic_year,
        (("name", "name"), ("start", "start_date"), ("end", "end_date")),
        natural_keys=_name_key,
    ),
    Kind(
        "year_group",
        Dataset.YEARS,
        YearGroup,
        schema.year_group,
        (("name", "name"), ("code", "code"), ("start", "start_date"), ("end", "end_date")),
        natural_keys=_year_group_keys,
    ),
    Kind(
        "staff",
        Dataset.STAFF,
        StaffMember,
        schema.staff,
        tuple((f, f) for f in _STAFF_FIELDS),
        natural_keys=_staff_keys,
        personal=_STAFF_FIELDS,
        has_account=True,
    ),
    Kind(
        "student",
        Dataset.STUDENTS,
        Student,
        schema.student,
        tuple((f, f) for f in _STUDENT_FIELDS),
        natural_keys=_student_keys,
        personal=_STUDENT_FIELDS,
        has_account=True,
    ),
    Kind(
        "group",
        Dataset.GROUPS,
        Group,
        schema.roster_group,
        (("name", "name"), ("kind", "kind"), ("subject", "subject"), ("code", "code")),
        natural_keys=_group_keys,
    ),
    Kind(
        "membership",
        Dataset.GROUPS,
        Membership,
        schema.membership,
        # A membership is a person in a group in a role: its dates are data, so that a
        # source that carries none (Wonde) neither ends nor restarts a dated one.
        (("start", "start_date"), ("end", "end_date")),
        ref_columns=("group_kind", "group_id", "person_id", "role"),
    ),
    Kind(
        "photo",
        Dataset.PHOTOS,
        Photo,
        schema.photo,
        (("media_type", "media_type"), ("sha256", "sha256")),
        ref_columns=("person_id", "role"),
        personal=("media_type", "sha256", "data"),
    ),
    Kind(
        "exam_result",
        Dataset.EXAM_RESULTS,
        ExamResult,
        schema.exam_result,
        (
            ("series", "series"),
            ("qualification", "qualification"),
            ("subject", "subject"),
            ("grade", "grade"),
            ("result_date", "result_date"),
        ),
        ref_columns=("student_id",),
        key_fields=("series", "qualification", "subject"),
        personal=("series", "qualification", "subject", "grade", "result_date"),
    ),
    Kind(
        "assessment",
        Dataset.ASSESSMENTS,
        Assessment,
        schema.assessment,
        (
            ("subject", "subject"),
            ("aspect", "aspect"),
            ("grade_type", "grade_type"),
            ("term", "term"),
            ("result", "result"),
            ("result_date", "result_date"),
        ),
        ref_columns=("student_id",),
        # A pupil's grade is one per column and term: a new value for it is an update.
        key_fields=("subject", "aspect", "grade_type", "term"),
        personal=("subject", "aspect", "grade_type", "term", "result", "result_date"),
    ),
)

KINDS_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
KINDS_BY_MODEL: dict[type, Kind] = {k.model: k for k in KINDS}
