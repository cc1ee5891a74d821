"""The school record as Wonde's ``/schools`` lists serve it, with its ``region``."""

from __future__ import annotations

from typing import Any

from misbridge.plugin import SourceSchool

__all__ = ["school_json"]


def school_json(school: SourceSchool, domain: str) -> dict[str, Any]:
    la, estab = (school.laestab[:3], school.laestab[3:]) if school.laestab else (None, None)
    return {
        "id": school.mis_id,
        "name": school.name,
        "establishment_number": estab,
        "urn": int(school.urn) if school.urn and school.urn.isdigit() else school.urn,
        "phase_of_education": "SECONDARY",
        "la_code": la,
        "timezone": "Europe/London",
        "mis": "SIMS",
        "address": None,
        "extended": {"allows_writeback": False, "has_timetables": True},
        "region": {
            "code": "GBR",
            "domain": domain,
            "school_url": f"https://{domain}/v1.0/schools/{school.mis_id}",
            "identifiers": {"urn": school.urn, "la_code": la, "establishment_number": estab},
        },
    }
