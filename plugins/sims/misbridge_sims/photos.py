"""Photos: pupils' and staff's profile pictures, from a report column or an exported folder.

Two routes, as schools have them:

- the **photo column** of the "Student Photos" and "Staff Photos" reports, where the
  SIMS version's report designer offers a photo field (binary in XML is base64, as
  .NET writes it);
- a **folder of exported photos** (``photo_folder``), named by admission number (staff:
  staff code) or by Person ID (``photo_names``); the reports then only say whose file
  is whose, and carry the consent. See :mod:`misbridge_sims.photofolder`.

A pupil's photo is only taken with the parental consent ``photo_consent_type``
("Photograph Student") among their Parental Consent values, unless ``photo_consent`` is
``ignore``. A pupil without it is left out before their photo is read. When no pupil at
all has that consent, the report does not carry it (the school does not record it, or
SIMS withheld the column): no pupil photo is taken and the dataset says so, rather than
taking every picture on a guess.

Photos refused for what they are (too large, a symbolic link, several files for one
person, not base64) are named together when the dataset ends, which then stops as
partial; a picture that is not a JPEG, PNG or GIF reaches the normaliser, which reports
it against the person (MB6001).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing

import structlog

from misbridge.plugin import Dataset, Role, SourceFormatError, SourcePhoto
from misbridge_sims.merge import Entity
from misbridge_sims.photofolder import PhotoFolder
from misbridge_sims.reports import CONSENT_CAPTION, PERSON_PHOTO, PHOTO_CAPTION, reports_for
from misbridge_sims.session import ReportStats, SimsSession
from misbridge_sims.settings import PhotoConfig

__all__ = ["photos"]

log = structlog.get_logger()

_CONSENT_SPLIT = re.compile(r"[,;\r\n]+")
_MAX_NAMED = 10


def _consents(entity: Entity) -> set[str]:
    """A pupil's parental consents: one per row of the Consent record set, or several in
    one value ("Internet Access, Photograph Student")."""
    found: set[str] = set()
    for row in entity.subs.get("Consent", ()):
        for item in _CONSENT_SPLIT.split(row.get(CONSENT_CAPTION, "")):
            if item.strip():
                found.add(" ".join(item.split()).casefold())
    return found


class _Run:
    """One photos extract: counts, refusals and the consent decision."""

    def __init__(self, session: SimsSession) -> None:
        self.config: PhotoConfig = session.config.photos
        self.folder = (
            PhotoFolder(self.config.folder, self.config.max_bytes) if self.config.folder else None
        )
        self.consent = self.config.consent_type.casefold()
        self.refused: list[str] = []
        self.pupils = self.consenting = self.any_consent = self.withheld = self.found = 0

    def allowed(self, entity: Entity) -> bool:
        self.pupils += 1
        if self.config.consent == "ignore":
            return True
        given = _consents(entity)
        self.any_consent += bool(given)
        if self.consent in given:
            self.consenting += 1
            return True
        self.withheld += 1
        return False

    def picture(self, entity: Entity, role: Role, report: str) -> bytes | None:
        if self.folder is not None:
            return self._from_folder(entity, role)
        value = entity.main.get(PHOTO_CAPTION)
        if not value:
            return None
        try:
            data = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            self.refused.append(
                f"person {entity.key} ('{PHOTO_CAPTION}' of {report} is not base64)"
            )
            return None
        if len(data) > self.config.max_bytes:
            self.refused.append(
                f"person {entity.key} ({len(data):,} bytes, over the "
                f"{self.config.max_bytes:,}-byte cap max_photo_bytes)"
            )
            return None
        return data

    def _from_folder(self, entity: Entity, role: Role) -> bytes | None:
        assert self.folder is not None
        if self.config.names == "person_id":
            key: str | None = entity.key
        else:
            key = entity.main.get("Adno" if role is Role.STUDENT else "Staff Code")
        found = self.folder.take(key) if key else None
        if found is None:
            return None
        if found.refused is not None:
            self.refused.append(f"person {entity.key} (file {found.name!r}: {found.refused})")
            return None
        return found.data

    def finish(self, student_report: str) -> None:
        """Raise what the dataset must not end quietly with (see the module docstring)."""
        problems: list[str] = []
        if self.config.consent == "honour" and self.pupils and not self.consenting:
            carried = "" if self.any_consent else " (no pupil has any parental consent)"
            problems.append(
                f"none of {self.pupils:,} pupils in '{student_report}' has the parental "
                f"consent '{self.config.consent_type}'{carried}, so no pupil photo was "
                "taken; record that consent in SIMS (or set photo_consent_type to the name "
                "your school uses), or set photo_consent to 'ignore' if the school has "
                "photo consent on other grounds"
            )
        if self.refused:
            more = len(self.refused) - _MAX_NAMED
            listed = "; ".join(self.refused[:_MAX_NAMED]) + (f"; and {more} more" if more else "")
            problems.append(
                f"{len(self.refused):,} photos were refused and not taken: {listed}; "
                "replace them, then extract again"
            )
        if not problems and not self.found and self.folder is None and self.pupils:
            problems.append(
                f"no record of the photo reports has a '{PHOTO_CAPTION}': if this SIMS "
                "version's report designer has no photo field, export the photos to a "
                "folder and set --photo-folder; otherwise check the account holds "
                f"'{PERSON_PHOTO}'"
            )
        if problems:
            raise SourceFormatError("sims photos: " + "; ".join(problems), dataset="photos")


async def photos(session: SimsSession) -> AsyncGenerator[SourcePhoto, None]:
    """Every photo the account may read and consent allows, pupils' then staff's."""
    run = _Run(session)
    student_report = ""
    for report in reports_for(Dataset.PHOTOS):
        name = session.report_name(report)
        role = Role.STUDENT if report.key == "student_photos" else Role.STAFF
        if role is Role.STUDENT:
            student_report = name
        async with aclosing(session.entities(report, ReportStats(name))) as stream:
            async for entity in stream:
                if role is Role.STUDENT and not run.allowed(entity):
                    continue
                data = run.picture(entity, role, name)
                if data is not None:
                    run.found += 1
                    yield SourcePhoto(entity.key, role, data, None)
    if run.folder is not None:
        unmatched = sum(1 for _ in run.folder.unmatched())
        log.info(
            "sims.photos.folder", unmatched_files=unmatched, other_files=run.folder.other_files
        )
    log.info(
        "sims.photos.read",
        photos=run.found,
        pupils=run.pupils,
        withheld_without_consent=run.withheld,
        refused=len(run.refused),
    )
    run.finish(student_report)
