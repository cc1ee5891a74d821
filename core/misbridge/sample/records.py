"""The sample school's exam results, assessments and photos."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import date, timedelta

from misbridge.model import Role
from misbridge.sample import names
from misbridge.source import (
    SourceAssessment,
    SourceExamResult,
    SourcePhoto,
    SourceStaff,
    SourceStudent,
)

__all__ = ["ASPECTS", "RecordsMaker"]


#: The marksheet the sample school's assessments come from, when asked for: per subject,
#: the grade types recorded this term (as a SIMS-style aspect "English Working At").
ASPECTS: tuple[tuple[str, str], ...] = (
    ("English", "Working At"),
    ("English", "Target"),
    ("Maths", "Working At"),
    ("Maths", "Target"),
    ("Science", "Working At"),
    ("Science", "Predicted"),
)


def _png(seed: int) -> bytes:
    """A tiny valid 2x2 PNG whose colour depends on ``seed``."""
    colour = bytes(((seed * 53) % 256, (seed * 97) % 256, (seed * 193) % 256))
    raw = b"".join(b"\x00" + colour * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class RecordsMaker:
    """Results, marksheet grades and photos for the pupils and staff already made."""

    rng: random.Random
    year: int
    ay_start: date
    students: list[SourceStudent]
    staff: list[SourceStaff]
    results: list[SourceExamResult]
    photos: list[SourcePhoto]

    def make_results(self) -> None:
        grades = ("9", "8", "7", "6", "5", "4", "3")
        for s in self.students:
            if s.year_group != "12":
                continue
            for code, subject in names.MAIN_SUBJECTS[: 3 + int(s.mis_id) % 3]:
                self.results.append(
                    SourceExamResult(
                        student_mis_id=s.mis_id,
                        series=f"Summer {self.year}",
                        qualification="GCSE",
                        subject=subject,
                        grade=self.rng.choice(grades),
                        result_date=date(self.year, 8, 20),
                    )
                )
                del code

    def make_assessments(self, seed: int) -> list[SourceAssessment]:
        # Its own random stream: asking for assessments changes nothing else in the school.
        rng = random.Random(seed * 7919 + 14)
        grades = [f"{g}{s}" for g in range(1, 10) for s in ("-", "", "+")]
        term = f"{self.year}/{self.year + 1} Autumn"
        when = self.ay_start + timedelta(days=60)
        made: list[SourceAssessment] = []
        for s in self.students:
            if s.year_group not in ("7", "8", "9", "10", "11"):
                continue
            for subject, kind in ASPECTS:
                if rng.random() < 0.04:
                    continue  # a blank cell: no grade entered for this pupil
                made.append(
                    SourceAssessment(
                        student_mis_id=s.mis_id,
                        aspect=f"{subject} {kind}",
                        result=rng.choice(grades),
                        grade_type=kind,
                        subject=subject,
                        term=term,
                        result_date=when,
                    )
                )
        return made

    def make_photos(self) -> None:
        for n, s in enumerate(self.students[:6]):
            self.photos.append(SourcePhoto(s.mis_id, Role.STUDENT, _png(n), "image/png"))
        for n, st in enumerate(self.staff[:2]):
            self.photos.append(SourcePhoto(st.mis_id, Role.STAFF, _png(100 + n), "image/png"))
