"""The shared normaliser: source records -> the model, with the field rules (docs/normalisation.md).

::

    from misbridge.normalise import Normaliser, NormaliseSettings, UsernamePolicy
    n = Normaliser(NormaliseSettings(username_policy=UsernamePolicy.DIRECTORY), mis="wonde")
    model, errors = n.normalise(Dataset.STUDENTS, source_student)

The rules and their reasons are documented in ``docs/normalisation.md``.
"""

from __future__ import annotations

from misbridge.normalise.dates import DateParseError, FlagParseError, parse_date, parse_flag
from misbridge.normalise.media import sniff_media_type
from misbridge.normalise.normaliser import Normalised, Normaliser
from misbridge.normalise.rebuild import to_source
from misbridge.normalise.settings import DEFAULT_GENDERS, NormaliseSettings, UsernamePolicy

__all__ = [
    "DEFAULT_GENDERS",
    "DateParseError",
    "FlagParseError",
    "NormaliseSettings",
    "Normalised",
    "Normaliser",
    "UsernamePolicy",
    "parse_date",
    "parse_flag",
    "sniff_media_type",
    "to_source",
]
