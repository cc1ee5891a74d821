"""Nightly schedules: slots spread evenly over the window, started once, missed runs
reported when the window closes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from misbridge.hub import accounts, schedules, schema
from misbridge.hub.client import IntegratorKey
from misbridge.hub.database import open_database
from misbridge.hub.errors import BadRequest
from misbridge.hub.principals import User
from misbridge.hub.schools import create_school
from misbridge.hub.settings import HubSettings

LONDON = ZoneInfo("Europe/London")
EVERYONE = User("u", "u", frozenset({"view"}), None, "t", "api")


@given(
    n=st.integers(1, 400),
    minutes=st.integers(10, 12 * 60),
)
def test_slots_are_spread_evenly_inside_the_window(n: int, minutes: int) -> None:
    opens = datetime(2027, 1, 11, 1, 0)
    closes = opens + timedelta(minutes=minutes)
    found = schedules.slots([f"sch_{i:04d}" for i in range(n)], opens, closes)
    times = sorted(found.values())
    assert len(times) == n
    assert opens < times[0] and times[-1] < opens + (closes - opens) * schedules.SPREAD
    if n > 1:
        gaps = {round((b - a).total_seconds(), 3) for a, b in pairwise(times)}
        assert max(gaps) - min(gaps) <= 0.002  # even: the same gap throughout


def test_a_window_past_midnight_is_one_night() -> None:
    opens, closes = schedules.night_window("23:00", "03:00", date(2027, 1, 11), LONDON)
    assert closes - opens == timedelta(hours=4)
    summer = schedules.night_window("01:00", "05:00", date(2027, 7, 11), LONDON)
    assert summer[0] == datetime(2027, 7, 11, 0, 0)  # British Summer Time: 01:00 is 00:00 UTC


@pytest.fixture
def hub(tmp_path: Path) -> tuple[sa.Engine, list[str]]:
    engine = open_database(f"sqlite:///{tmp_path / 'hub.db'}")
    now = datetime(2027, 1, 10, 12, 0)
    made = accounts.create_user(engine, now, None, "nightly", ["import-data"])
    user = User(made["id"], "nightly", frozenset({"import-data"}), None, "t", "api")
    accounts.set_public_key(engine, now, user, IntegratorKey.generate().public_b64)
    ids = [create_school(engine, now, None, f"School {n}", "sims")["id"] for n in range(4)]
    return engine, ids


def test_each_school_starts_once_at_its_slot_and_late_ones_are_missed(
    hub: tuple[sa.Engine, list[str]],
) -> None:
    engine, ids = hub
    settings = HubSettings(database_url="sqlite://")
    made = schedules.create_schedule(
        engine, datetime(2027, 1, 10, 12), None, "trust", "nightly", ids, "01:00-05:00"
    )
    night = date(2027, 1, 11)  # January: London is on UTC
    schedules.run_schedules(engine, datetime(2027, 1, 11, 0, 59), settings)
    assert schedules.schedule_runs(engine, EVERYONE, made["id"]) == []  # not open yet
    # 01:00-05:00, slots over 3 h: 01:22:30, 02:07:30, 02:52:30, 03:37:30.
    done = schedules.run_schedules(engine, datetime(2027, 1, 11, 2, 10), settings)
    assert done["started"] == 2
    runs = {r["school_id"]: r for r in schedules.schedule_runs(engine, EVERYONE, made["id"])}
    assert sorted(r["state"] for r in runs.values()) == ["due", "due", "started", "started"]
    assert all(r["night"] == night.isoformat() for r in runs.values())
    again = schedules.run_schedules(engine, datetime(2027, 1, 11, 2, 11), settings)
    assert again["started"] == 0  # started once a night, however often the sweeper runs
    with engine.begin() as conn:  # the first school's extract is ready
        first = sorted(ids)[0]
        request = runs[first]["request_id"]
        conn.execute(
            schema.extract_request.update()
            .where(schema.extract_request.c.id == request)
            .values(state="ready")
        )
    # The hub was down from 02:11 until after the window closed.
    late = schedules.run_schedules(engine, datetime(2027, 1, 11, 5, 30), settings)
    assert late == {"started": 0, "missed": 3, "ready": 1}
    final = {r["school_id"]: r for r in schedules.schedule_runs(engine, EVERYONE, made["id"])}
    assert final[first]["state"] == "ready"
    missed = [r for r in final.values() if r["state"] == "missed"]
    assert sorted(r["detail"].split(":")[0] for r in missed) == [
        "never started",
        "never started",
        "not ready when the window closed (pending)",
    ]
    with engine.connect() as conn:
        audited = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.audit)
            .where(schema.audit.c.action == "schedule.missed")
        ).scalar_one()
    assert audited == 3
    assert len(schedules.schedule_runs(engine, EVERYONE, made["id"], state="missed")) == 3


def test_a_schedule_is_checked(hub: tuple[sa.Engine, list[str]]) -> None:
    engine, ids = hub
    now = datetime(2027, 1, 10, 12)
    with pytest.raises(BadRequest, match="two local times"):
        schedules.create_schedule(engine, now, None, "x", "nightly", ids, "1am-5am")
    with pytest.raises(BadRequest, match="same time"):
        schedules.create_schedule(engine, now, None, "x", "nightly", ids, "01:00-01:00")
    restricted = User("v", "v", frozenset({"view"}), frozenset({ids[0]}), "t", "api")
    made = schedules.create_schedule(engine, now, None, "y", "nightly", ids, "01:00-05:00")
    (seen,) = schedules.list_schedules(engine, restricted)
    assert seen["id"] == made["id"] and seen["schools"] == [ids[0]]  # only their school
