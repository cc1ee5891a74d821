"""The five ways a school's accounts were changed wrongly without any approval, each as a
user meets it: ``misbridge.run`` against an MIS simulator, into a store (SQLite and
PostgreSQL). Each of these failed before the completeness proofs, core checkpoints,
field provenance, the cumulative guard and membership identity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve

from misbridge.jobs import RunResult, SchoolConfig, run
from misbridge.model import Dataset
from misbridge.plugins import get_plugin_manager
from misbridge.result import OutcomeStatus
from misbridge.sample import sample_school
from misbridge.simulation import Fault
from misbridge.source import SourceSchool
from misbridge.store import open_store
from tests.core.store.factory import rows

PM = get_plugin_manager()


def simulate(mis: str, school: SourceSchool, **options: Any) -> Any:
    factory = PM.info(mis).simulator
    assert factory is not None
    return factory(school, **options)


def night(sim: Any, mis: str, store_url: str, out: Path, **settings: str) -> RunResult:
    """One nightly run of ``misbridge.run`` for the school ``sim`` serves."""
    source = sim.source()
    config = SchoolConfig(
        name="hollowfield",
        mis=mis,
        settings={**source.settings, **settings},
        store=store_url,
        out=out,
    )
    return run(config, credentials=dict(source.credentials), transport=source.transport, pm=PM)


def enabled_students(store_url: str) -> dict[str, bool]:
    with open_store(store_url) as store:
        return {r["admission_number"]: r["enabled"] for r in rows(store, "student")}


# -- 1. a changes-only read is never treated as a full read ---------------------------------
def test_a_delta_night_disables_only_what_the_vendor_names_deleted(
    store_url: str, tmp_path: Path
) -> None:
    school = sample_school(students=60, staff=6)
    sim = simulate("wonde", school)
    auto = {"incremental": "auto"}
    first = night(sim, "wonde", store_url, tmp_path / "n1", **auto)
    assert first.exit_code == 0 and first.applied
    before = enabled_students(store_url)
    assert sum(before.values()) >= len(before) - 2  # only the sample school's leavers off
    # 92% of the pupils change during the day: the next night reads only them.
    changed = [s.mis_id for s in school.students][: int(len(school.students) * 0.92)]
    later = datetime.now(UTC) + timedelta(minutes=1)
    for mis_id in changed:
        sim.touch("students", mis_id, later)
    second = night(sim, "wonde", store_url, tmp_path / "n2", **auto)
    outcome = second.outcomes[Dataset.STUDENTS]
    assert outcome.delta and not outcome.trusted
    assert outcome.records < len(school.students)
    assert second.exit_code == 0 and second.applied
    assert enabled_students(store_url) == before  # the unchanged 8% are still there
    # One pupil is deleted in the MIS: the next delta names them, and only them.
    gone = school.students[1]
    sim.delete("students", gone.mis_id, datetime.now(UTC) + timedelta(minutes=2))
    third = night(sim, "wonde", store_url, tmp_path / "n3", **auto)
    assert third.outcomes[Dataset.STUDENTS].deletions == 1
    after = enabled_students(store_url)
    assert {a for a, on in after.items() if on != before[a]} == {gone.admission_number}
    assert after[gone.admission_number] is False


# -- 2. a short but well-formed page is never "complete" -------------------------------------
@pytest.mark.parametrize("paging", ["cursor", "follow-next", "parallel"])
def test_a_page_short_of_the_count_disables_no_one(
    store_url: str, tmp_path: Path, paging: str
) -> None:
    school = sample_school(students=60, staff=6)
    settings = {"paging": paging, "per_page": "20"}
    assert night(simulate("wonde", school), "wonde", store_url, tmp_path / "a", **settings).ok
    before = enabled_students(store_url)
    # The server drops half of the last page of pupils, well-formed (every time it is
    # asked, so that even a re-read cannot make up for it).
    lying = simulate("wonde", school, faults=[Fault("drop", match="/students", skip=2, times=99)])
    result = night(lying, "wonde", store_url, tmp_path / "b", **settings)
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.PARTIAL, outcome
    assert "counts" in (outcome.message or "")
    assert result.exit_code == 3
    assert enabled_students(store_url) == before


# -- 3. a poorer MIS never blanks what a richer one filled in -------------------------------
def test_a_poorer_source_keeps_addresses_and_sen_dates(store_url: str, tmp_path: Path) -> None:
    school = sample_school(students=60, staff=6)
    assert night(simulate("sims", school), "sims", store_url, tmp_path / "sims").exit_code == 0
    with open_store(store_url) as store:
        before = {r["admission_number"]: r for r in rows(store, "student")}
    addresses = {a for a, r in before.items() if r["home_address"] is not None}
    dated_sen = {a for a, r in before.items() if any(s.get("start") for s in r["sen"] or [])}
    assert addresses and dated_sen
    # Bromcom's partner view carries no pupil address and no SEN dates.
    bromcom = night(simulate("bromcom", school), "bromcom", store_url, tmp_path / "bromcom")
    assert bromcom.exit_code == 0 and bromcom.applied
    with open_store(store_url) as store:
        after = {r["admission_number"]: r for r in rows(store, "student")}
    assert len(after) == len(before)  # matched, not duplicated
    assert {a for a, r in after.items() if r["home_address"] is not None} == addresses
    for admission in dated_sen:
        assert after[admission]["sen"] == before[admission]["sen"], admission


# -- 4. slow bleeding is noticed --------------------------------------------------------------
def test_nights_of_small_disables_add_up_to_an_approval(store_url: str, tmp_path: Path) -> None:
    school = sample_school(students=60, staff=6)
    assert night(simulate("wonde", school), "wonde", store_url, tmp_path / "0").ok
    pupils = list(school.students)
    refused = None
    for n in range(1, 5):
        # Each night 9% of the school is gone: under the nightly 10%.
        pupils = pupils[: len(pupils) - max(1, int(len(school.students) * 0.09))]
        result = night(
            simulate("wonde", evolve(school, students=tuple(pupils))),
            "wonde",
            store_url,
            tmp_path / str(n),
        )
        if result.refused:
            refused = (n, result)
            break
        assert result.applied
    assert refused is not None, "four nights of 9% went through without an approval"
    n, result = refused
    assert n >= 2  # each night alone was within its limit
    assert result.exit_code == 4
    assert "since the last approved plan" in (result.refusal or "")
    assert result.sync is not None
    assert {b.reason for b in result.sync.breaches if b.kind == "student"} == {"cumulative"}


# -- 5. a change of MIS keeps membership history and staff ----------------------------------
def test_sims_to_wonde_and_back_keeps_every_membership_and_its_dates(
    store_url: str, tmp_path: Path
) -> None:
    school = sample_school(students=60, staff=6)

    def memberships() -> dict[str, tuple[Any, Any, bool]]:
        with open_store(store_url) as store:
            return {
                r["id"]: (r["start_date"], r["end_date"], r["enabled"])
                for r in rows(store, "membership")
            }

    assert night(simulate("sims", school), "sims", store_url, tmp_path / "1").exit_code == 0
    dated = memberships()
    assert any(start is not None for start, _, _ in dated.values())
    wonde = night(simulate("wonde", school), "wonde", store_url, tmp_path / "2")
    assert wonde.exit_code == 0 and wonde.applied  # not refused: nothing ended or restarted
    counts = wonde.sync.counts["groups"] if wonde.sync else {}
    assert counts.get("memberships_ended", 0) == counts.get("memberships_started", 0) == 0
    assert memberships() == dated  # Wonde carries no dates: they are kept
    back = night(simulate("sims", school), "sims", store_url, tmp_path / "3")
    assert back.exit_code == 0
    assert memberships() == dated


def test_staff_are_matched_by_name_when_their_email_changed(store_url: str, tmp_path: Path) -> None:
    from misbridge.source import SourceEmail

    school = sample_school(students=30, staff=6)
    assert night(simulate("sims", school), "sims", store_url, tmp_path / "1").exit_code == 0
    with open_store(store_url) as store:
        staff_before = {r["id"] for r in rows(store, "staff")}
        store.switch_mis()
    # The school moves to Wonde and, at the same time, to a new email domain.
    moved = evolve(
        school,
        staff=tuple(
            evolve(
                s,
                emails=tuple(
                    evolve(e, address=e.address.split("@")[0] + "@new.example") for e in s.emails
                ),
            )
            if s.emails
            else evolve(s, emails=(SourceEmail("W", f"{s.mis_id}@new.example", primary=True),))
            for s in school.staff
        ),
    )
    result = night(simulate("wonde", moved), "wonde", store_url, tmp_path / "2")
    assert result.exit_code == 0, result.refusal
    with open_store(store_url) as store:
        staff_after = rows(store, "staff")
    assert {r["id"] for r in staff_after} == staff_before  # matched, none created
    assert all(r["enabled"] for r in staff_after)
