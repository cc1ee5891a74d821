"""A stand-in for Bromcom, serving one sample school (shipped code: demo, bench, tests).

It speaks, on one ASGI app (so one loopback port serves all three hosts):

- the Partner Data API 2.0: ``GET /v2/<Entity>?schoolId=<n>&entityFilter=<sql>{page:N}``
  with ``ApplicationId``/``ApplicationSecret`` headers, ``{"success": true, "data": [...]}``
  envelopes, 0-based pages of ``page_size`` rows, 403 for an entity the school has not
  ticked, 401 for wrong application credentials, 400 for a filter it cannot read;
- ``ImageDisplay.ashx?EncID=<photoId>`` with the same headers: the photo's bytes;
- the legacy SOAP 1.2 service ``TPReadonlyDataService.asmx`` (``getEntityDataBySchoolID``
  and ``findEntitiesBySchoolID``) answering .NET DataSets, or SOAP faults for wrong
  credentials, unticked entities and filters over the 20-term limit.

Pupils have a person id distinct from their student id (``person_ids``), and text goes
out padded with trailing spaces (``pad``), as public clients of the Partner API show.
What no public source settles is an option here and a setting in the plugin: page size,
filter-term limits, the wording of SOAP faults, every unknown wire name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

import structlog

from misbridge.plugin import (
    ASGIApp,
    Dataset,
    Fault,
    HttpSimulator,
    SourceSchool,
)
from misbridge_bromcom.filters import DEFAULT_MAX_TERMS
from misbridge_bromcom.schema import Mode, Vocabulary, parse_overrides
from misbridge_bromcom.settings import DEFAULT_PAGE_SIZE
from misbridge_bromcom.sim_app import SimulatorApp, Tables
from misbridge_bromcom.sim_data import build_data

__all__ = ["DENIED_ENTITIES", "BromcomSimulator", "simulate"]

log = structlog.get_logger()

#: The entities a denied dataset loses: the ones holding that dataset's own records.
DENIED_ENTITIES: dict[Dataset, tuple[str, ...]] = {
    Dataset.YEARS: ("years",),
    Dataset.STAFF: ("staff",),
    Dataset.STUDENTS: ("students",),
    Dataset.GROUPS: ("associates", "executives"),
    Dataset.PHOTOS: ("photos",),
    Dataset.EXAM_RESULTS: ("results",),
}

APPLICATION_ID = "misbridge-sim-app"
APPLICATION_SECRET = "sim-secret-7c1e94b2d0"  # noqa: S105 (the simulator's own)
USERNAME = "misbridge.thirdparty"
PASSWORD = "sim-password-4fd2a1"  # noqa: S105 (the simulator's own)
AUTH_FAULT = (
    "Server was unable to process request. ---> Login failed: the username or password "
    "is incorrect."
)
DENIED_FAULT = (
    "Server was unable to process request. ---> The entity '{entity}' is not enabled "
    "for this third party user."
)


def _school_number(school: SourceSchool) -> int:
    digits = re.sub(r"\D", "", school.mis_id)
    return int(digits) if digits else 1001


class BromcomSimulator(HttpSimulator):
    """See the module docstring (``MisInfo.simulator``)."""

    in_process_url = "http://bromcom.simulator"

    def __init__(
        self,
        school: SourceSchool,
        *,
        latency: float = 0.0,
        deny: Collection[Dataset] = (),
        faults: Sequence[Fault] = (),
        page_size: int = DEFAULT_PAGE_SIZE,
        max_filter_terms: int | None = None,
        soap_max_filter_terms: int | None = DEFAULT_MAX_TERMS,
        wire_names: Mapping[str, str] | str | None = None,
        student_email_type: str = "H",
        noise: bool = True,
        auth_fault: str = AUTH_FAULT,
        denied_fault: str = DENIED_FAULT,
        school_id: int | None = None,
        person_ids: bool = True,
        pad: bool = True,
    ) -> None:
        super().__init__(school, latency=latency, deny=deny, faults=faults)
        self.school_id = school_id if school_id is not None else _school_number(school)
        overrides = parse_overrides(wire_names) if isinstance(wire_names, str) else wire_names
        self.wire_names = dict(overrides or {})
        self.page_size = page_size
        data = build_data(
            school,
            school_id=self.school_id,
            student_email_type=student_email_type,
            noise=noise,
            person_ids=person_ids,
        )
        denied = {e for d in self.deny for e in DENIED_ENTITIES[d]}
        tables = Tables(
            data.tables, {mode: Vocabulary(mode, self.wire_names) for mode in Mode}, pad
        )
        self._inner = SimulatorApp(
            tables=tables,
            images=data.images,
            school_id=self.school_id,
            denied=frozenset(denied),
            page_size=page_size,
            max_terms={Mode.PARTNER: max_filter_terms, Mode.SOAP: soap_max_filter_terms},
            application=(APPLICATION_ID, APPLICATION_SECRET),
            login=(USERNAME, PASSWORD),
            auth_fault=auth_fault,
            denied_fault=denied_fault,
        )

    def asgi(self) -> ASGIApp:
        return self._inner.asgi

    @property
    def calls(self) -> list[str]:
        """``"METHOD entity"`` for every request the app answered (for tests)."""
        return self._inner.calls

    def leavers_since(self) -> date:
        """The start of the school's current (latest) academic year."""
        starts = [y.start for y in self.school.academic_years if isinstance(y.start, date)]
        return max(starts) if starts else date(2000, 9, 1)

    def settings(self, base_url: str | None) -> dict[str, str]:
        root = (base_url or self.in_process_url).rstrip("/")
        settings = {
            "school_id": str(self.school_id),
            "application_id": APPLICATION_ID,
            "base_url": root,
            "photo_url": f"{root}/Nucleus/Framework/Components/Controls/ImageDisplay.ashx",
            "soap_url": f"{root}/Nucleus/WebServices/ThirdParty/TPReadonlyDataService.asmx",
            "page_size": str(self.page_size),
            "leavers_since": self.leavers_since().isoformat(),
        }
        if self.wire_names:
            settings["wire_names"] = ",".join(f"{k}={v}" for k, v in self.wire_names.items())
        return settings

    def credentials(self) -> dict[str, str]:
        return {
            "application_secret": APPLICATION_SECRET,
            "username": USERNAME,
            "password": PASSWORD,
        }

    def wrong_credentials(self) -> Mapping[str, str]:
        return {
            "application_secret": "not-the-secret-9d3f",
            "username": USERNAME,
            "password": "not-the-password-2b8c",
        }


def simulate(school: SourceSchool, **options: Any) -> BromcomSimulator:
    """The simulator, for callers that name the factory (``MisInfo.simulator`` is the
    package's own, which imports this module on first use)."""
    return BromcomSimulator(school, **options)
