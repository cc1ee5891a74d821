"""The SIMS simulator: the CommandReporter stand-in, installed as an executable.

``simulator(school)`` writes, in a private temporary folder, the school as JSON, the
stand-in's account configuration and a small executable wrapper that runs
``python -m misbridge_sims.standin`` with them. ``.source()`` points the plugin's
``reporter`` setting at that wrapper, so the plugin runs it exactly as it would run
CommandReporter.exe: as a real subprocess, through its real code.

Options beyond the shared ones (``latency``, ``deny``, ``faults``) are
:class:`~misbridge_sims.standin.Account` fields (``trusted``, ``groups``, ``lines``,
``reports``, ``denied_style``, ``date_format``, ``error_exit_code``, the encodings,
``photo_column``, ``consents``...). ``photo_folder="admission_number"`` (or
``"person_id"``) exports the school's photos to a folder named that way, as a school
without a Photo field in its report designer does, and points the plugin at it.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from misbridge.plugin import (
    Dataset,
    Fault,
    LocalSimulator,
    SimulatedSource,
    SourceSchool,
    dumps_school,
)
from misbridge_sims.render import report_rows
from misbridge_sims.reports import (
    BASIC,
    CURRICULAR_MANAGER,
    EXAMS_OFFICER,
    PERSON_PHOTO,
    PERSONNEL_OFFICER,
    REGISTRATION,
    REPORTS,
    SCHOOL_ADMINISTRATOR,
    reports_for,
)

__all__ = ["DENY_PERMISSION", "SimsSimulator", "simulator"]

USER = "misbridge-sync"

#: What a denied dataset's reports say is missing: a permission only that report needs
#: (denying the whole "School Administrator" group would also deny students).
DENY_PERMISSION: dict[str, str] = {
    "academic_years": SCHOOL_ADMINISTRATOR,
    "year_groups": SCHOOL_ADMINISTRATOR,
    "staff": PERSONNEL_OFFICER,
    "students": BASIC,
    "classes": CURRICULAR_MANAGER,
    "pastoral": REGISTRATION,
    "exam_results": EXAMS_OFFICER,
    "student_photos": PERSON_PHOTO,
    "staff_photos": PERSON_PHOTO,
}

#: Photo file types by their signature, for the exported photo folder.
_EXTENSIONS = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG", ".png"), (b"GIF8", ".gif"))


def _fault_json(fault: Fault) -> dict[str, Any]:
    # HTTP fault kinds map onto what can go wrong with a process: "status" -> a report
    # error, "delay" -> a slow run, "truncate" -> output cut short, "html" -> not XML.
    return {
        "kind": fault.kind,
        "match": fault.match,
        "skip": fault.skip,
        "times": fault.times,
        "seconds": fault.seconds,
    }


class SimsSimulator(LocalSimulator):
    """A stand-in CommandReporter for one school. ``app`` is None: it is a program."""

    def __init__(
        self,
        school: SourceSchool,
        *,
        latency: float = 0.0,
        deny: Collection[Dataset] = (),
        faults: Sequence[Fault] = (),
        **options: Any,
    ) -> None:
        super().__init__(school, latency=latency, deny=deny, faults=faults)
        self.password = options.pop("password", None) or secrets.token_urlsafe(12)
        self.photo_names: str | None = options.pop("photo_folder", None)
        if self.photo_names is not None:
            self._export_photos(self.photo_names)
            options.setdefault("photo_column", False)
        self.state = self.folder / "state"
        self.state.mkdir()
        (self.folder / "school.json").write_text(dumps_school(school), encoding="utf-8")
        account: dict[str, Any] = {"users": {USER: self.password}, "latency": latency}
        denied = {
            report.name(options.get("report_prefix", "misbridge ")): DENY_PERMISSION[report.key]
            for dataset in self.deny
            for report in reports_for(dataset)
        }
        account["deny_reports"] = {**options.pop("deny_reports", {}), **denied}
        account["faults"] = [*options.pop("fault_specs", []), *(_fault_json(f) for f in faults)]
        account.update(options)
        self.configure(**account)
        self.reporter = self._write_wrapper()

    @property
    def requests(self) -> int:
        """How many times the stand-in was run."""
        runs = self.state / "runs"
        return sum(1 for _ in runs.iterdir()) if runs.is_dir() else 0

    def switches(self) -> list[set[str]]:
        """The switch names (never values) of each run so far, in run order."""
        runs = self.state / "runs"
        files = sorted(runs.glob("run.*"), key=lambda p: int(p.suffix[1:])) if runs.is_dir() else []
        return [set(p.read_text(encoding="utf-8").split()) for p in files]

    def configure(self, **changes: Any) -> None:
        """Change the simulated account (e.g. ``groups=[...]``) for the next runs."""
        path = self.folder / "account.json"
        current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        current.update(changes)
        path.write_text(json.dumps(current), encoding="utf-8")
        self._render(str(current.get("date_format", "iso")))

    def _render(self, date_format: str) -> None:
        # The stand-in starts once per report; rendering the school here once, rather
        # than loading and rendering it in every run, keeps each run short.
        cache = self.folder / "rendered"
        cache.mkdir(exist_ok=True)
        for report in REPORTS:
            target = cache / f"{report.key}.{date_format}.json"
            if not target.exists():
                rows = list(report_rows(report, self.school, date_format))
                target.write_text(json.dumps(rows), encoding="utf-8")

    def _write_wrapper(self) -> Path:
        env = {
            "MISBRIDGE_STANDIN_SCHOOL": str(self.folder / "school.json"),
            "MISBRIDGE_STANDIN_CONFIG": str(self.folder / "account.json"),
            "MISBRIDGE_STANDIN_STATE": str(self.state),
            "MISBRIDGE_STANDIN_RENDERED": str(self.folder / "rendered"),
        }
        if os.name == "nt":  # pragma: no cover - the project runs its tests on POSIX
            path = self.folder / "CommandReporter.cmd"
            lines = ["@echo off", *(f'set "{k}={v}"' for k, v in env.items())]
            lines.append(f'"{sys.executable}" -m misbridge_sims.standin %*')
            path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
            return path
        path = self.folder / "CommandReporter"
        exports = "".join(f"export {k}={_sh(v)}\n" for k, v in env.items())
        # exec: the wrapper becomes the stand-in, so ending it ends the stand-in.
        path.write_text(
            f'#!/bin/sh\n{exports}exec {_sh(sys.executable)} -m misbridge_sims.standin "$@"\n',
            encoding="utf-8",
        )
        path.chmod(stat.S_IRWXU)
        return path

    @property
    def photos(self) -> Path:
        """The exported photo folder (with ``photo_folder``)."""
        return self.folder / "photos"

    def _export_photos(self, names: str) -> None:
        # Named like a school's photo export: pupils by admission number (staff by staff
        # code) or everyone by SIMS Person ID.
        students = {s.mis_id: s.admission_number for s in self.school.students}
        staff = {s.mis_id: s.staff_code for s in self.school.staff}
        self.photos.mkdir()
        for photo in self.school.photos:
            person = photo.person_mis_id
            stem: str | None = person
            if names == "admission_number":
                stem = students[person] if person in students else staff.get(person)
            if not stem:
                continue
            ext = next((e for sig, e in _EXTENSIONS if photo.data.startswith(sig)), ".bin")
            (self.photos / f"{stem}{ext}").write_bytes(photo.data)

    def settings(self, base_url: str | None = None) -> dict[str, str]:
        del base_url  # a program, not a server
        settings = {"reporter": str(self.reporter)}
        if self.photo_names is not None:
            settings |= {"photo_folder": str(self.photos), "photo_names": self.photo_names}
        return settings

    def credentials(self) -> dict[str, str]:
        return {"user": USER, "password": self.password}

    def trusted_source(self) -> SimulatedSource:
        return SimulatedSource(settings=self.settings(), credentials={})

    def wrong_credentials(self) -> Mapping[str, str]:
        return {"user": USER, "password": self.password + "-wrong"}


def _sh(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def simulator(school: SourceSchool, **options: Any) -> SimsSimulator:
    """The simulator, for callers that name the factory."""
    return SimsSimulator(school, **options)
