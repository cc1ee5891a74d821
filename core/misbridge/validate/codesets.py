"""DfE code sets, as versioned data shipped in the package (``data/*.json``).

A new CBDS release means a new data file, not a code change.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from attrs import frozen

__all__ = ["SEN_CODES", "EthnicityCodes", "ethnicity_codes"]

#: SEN provision (school census): E = EHC plan, K = SEN support, N = no SEN.
SEN_CODES = frozenset({"E", "K", "N"})


@frozen
class EthnicityCodes:
    version: str
    main: frozenset[str]
    #: each extended code with the main code it rolls up to
    extended: dict[str, str]
    all: frozenset[str]

    def main_code(self, code: str) -> str | None:
        """The main code a main or extended code rolls up to; ``None`` if unknown."""
        if code in self.main:
            return code
        return self.extended.get(code)


@cache
def ethnicity_codes() -> EthnicityCodes:
    raw: dict[str, Any] = json.loads(
        resources.files("misbridge.validate").joinpath("data/ethnicity.json").read_text("utf-8")
    )
    main = frozenset(raw["main"])
    extended = dict(raw["extended"])
    unknown = set(extended.values()) - main
    if unknown:
        raise ValueError(f"ethnicity data: extended codes roll up to unknown main codes {unknown}")
    return EthnicityCodes(raw["version"], main, extended, main | frozenset(extended))
