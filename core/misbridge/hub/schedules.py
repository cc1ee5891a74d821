"""Nightly schedules: each school of a schedule started once a night, inside a window.

A schedule names schools (a school, a trust, an integrator's whole estate) and a window
in the hub's ``schedule_timezone`` (``01:00-05:00``; one that ends before it starts runs
past midnight). Each night its schools get slots spread evenly over the first part of
the window, ``(i + 1/2) / n`` of the way through it, in an order fixed by the school ids
(so a school keeps its slot from night to night), leaving the window's last quarter for
the runs to finish: the load on vendors and workers is even, never a burst at 01:00.

At its slot a school's extract is started as the schedule's user, exactly as Start
Extract would (an agent hears of it, or a worker task is sent). When the window ends,
every slot whose extract is not ready is reported **missed** (never started because
the hub was down, or still running): an audit entry and a warning in the hub's log,
and ``GET /schedules/{id}/runs?state=missed``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog

from misbridge.hub import schema
from misbridge.hub.database import reader, writer
from misbridge.hub.errors import BadRequest, Conflict, HubError, NotFound
from misbridge.hub.principals import Principal, User, audit
from misbridge.hub.schools import check_datasets
from misbridge.hub.settings import HubSettings
from misbridge.hub.tokens import new_id

__all__ = [
    "create_schedule",
    "list_schedules",
    "night_window",
    "run_schedules",
    "schedule_runs",
    "slots",
]

log = structlog.get_logger()
S, SR, R = schema.schedule, schema.schedule_run, schema.extract_request
_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
#: Slots are spread over this share of the window; the rest is for finishing.
SPREAD = 0.75


def _parse_window(window: str) -> tuple[str, str]:
    match = _WINDOW.fullmatch(window.strip())
    if match is None:
        raise BadRequest(f'a window is two local times, "01:00-05:00", not {window[:20]!r}')
    start, end = window.strip().split("-")
    if start == end:
        raise BadRequest("a window must not start and end at the same time")
    return start, end


def _at(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def night_window(start: str, end: str, night: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The window of ``night`` (the date it starts on) as naive UTC times."""
    opens = datetime.combine(night, _at(start), zone)
    closes = datetime.combine(night, _at(end), zone)
    if closes <= opens:
        closes += timedelta(days=1)  # past midnight
    return _utc(opens), _utc(closes)


def _utc(moment: datetime) -> datetime:
    from datetime import UTC

    return moment.astimezone(UTC).replace(tzinfo=None)


def slots(
    school_ids: list[str], opens: datetime, closes: datetime, spread: float = SPREAD
) -> dict[str, datetime]:
    """Each school's start in the window: evenly spread, in school-id order."""
    ordered = sorted(set(school_ids))
    span = (closes - opens) * min(spread, 1.0)
    n = len(ordered)
    return {school: opens + span * ((i + 0.5) / n) for i, school in enumerate(ordered)}


def create_schedule(
    engine: sa.Engine,
    now: datetime,
    actor: Principal | None,
    name: str,
    user_name: str,
    school_ids: list[str],
    window: str,
    datasets: list[str] | None = None,
) -> dict[str, Any]:
    start, end = _parse_window(window)
    if not name.strip() or len(name) > 128:
        raise BadRequest("a schedule needs a name (up to 128 characters)")
    chosen = check_datasets(datasets) if datasets else None
    schedule_id = new_id("nsc")
    with writer(engine) as conn:
        user = conn.execute(sa.select(schema.users).where(schema.users.c.name == user_name)).first()
        if user is None:
            raise NotFound(f"no user {user_name}")
        if "import-data" not in user.permissions:
            raise BadRequest(f"user {user_name} may not start extracts (needs import-data)")
        known = {
            r.id
            for r in conn.execute(
                sa.select(schema.school.c.id).where(schema.school.c.id.in_(school_ids))
            )
        }
        unknown = sorted(set(school_ids) - known)
        if unknown:
            raise NotFound(f"no school {', '.join(unknown[:5])}")
        conn.execute(
            S.insert().values(
                id=schedule_id,
                name=name.strip(),
                user_id=user.id,
                school_ids=sorted(set(school_ids)),
                window_start=start,
                window_end=end,
                datasets=chosen,
                created_at=now,
            )
        )
        audit(
            conn,
            now,
            actor,
            "schedule.create",
            detail={"schedule": schedule_id, "schools": len(known), "window": f"{start}-{end}"},
        )
    return {
        "id": schedule_id,
        "name": name.strip(),
        "window": f"{start}-{end}",
        "schools": len(known),
    }


def list_schedules(engine: sa.Engine, user: User) -> list[dict[str, Any]]:
    """The schedules that reach one of ``user``'s schools, showing only those schools."""
    with reader(engine) as conn:
        rows = conn.execute(sa.select(S).order_by(S.c.name)).all()
    found = []
    for r in rows:
        mine = [s for s in r.school_ids if user.sees(s)]
        if mine:
            found.append(
                {
                    "id": r.id,
                    "name": r.name,
                    "window": f"{r.window_start}-{r.window_end}",
                    "schools": mine,
                    "datasets": r.datasets,
                    "enabled": r.disabled_at is None,
                }
            )
    return found


def schedule_runs(
    engine: sa.Engine, user: User, schedule_id: str, *, state: str | None = None
) -> list[dict[str, Any]]:
    """Each of ``user``'s schools' slots in the schedule, newest night first."""
    query = sa.select(SR).where(SR.c.schedule_id == schedule_id)
    if state is not None:
        query = query.where(SR.c.state == state)
    with reader(engine) as conn:
        rows = [
            r
            for r in conn.execute(query.order_by(SR.c.night.desc(), SR.c.due_at))
            if user.sees(r.school_id)
        ]
    return [
        {
            "school_id": r.school_id,
            "night": r.night.isoformat(),
            "due_at": r.due_at,
            "window_end_at": r.window_end_at,
            "request_id": r.request_id,
            "state": r.state,
            "detail": r.detail,
        }
        for r in rows
    ]


def _nights(now_local: datetime) -> list[date]:
    today = now_local.date()
    return [today - timedelta(days=1), today]


def run_schedules(engine: sa.Engine, now: datetime, settings: HubSettings) -> dict[str, int]:
    """One round: plan tonight's slots, start the due ones, settle ended windows."""
    from datetime import UTC

    zone = ZoneInfo(settings.schedule_timezone)
    local = now.replace(tzinfo=UTC).astimezone(zone)
    done = {"started": 0, "missed": 0, "ready": 0}
    with reader(engine) as conn:
        active = conn.execute(sa.select(S).where(S.c.disabled_at.is_(None))).all()
    for schedule in active:
        for night in _nights(local):
            opens, closes = night_window(schedule.window_start, schedule.window_end, night, zone)
            if opens <= now < closes:
                spread = settings.schedule_spread
                _plan_night(engine, now, schedule, night, opens, closes, spread)
        done["started"] += _start_due(engine, now, schedule)
        settled = _settle(engine, now, schedule)
        done["missed"] += settled["missed"]
        done["ready"] += settled["ready"]
    return done


def _plan_night(
    engine: sa.Engine,
    now: datetime,
    schedule: Any,
    night: date,
    opens: datetime,
    closes: datetime,
    spread: float,
) -> None:
    with writer(engine) as conn:
        have = {
            r.school_id
            for r in conn.execute(
                sa.select(SR.c.school_id).where(
                    SR.c.schedule_id == schedule.id, SR.c.night == night
                )
            )
        }
        rows = [
            {
                "schedule_id": schedule.id,
                "school_id": school,
                "night": night,
                "due_at": due,
                "window_end_at": closes,
                "state": "due",
                "updated_at": now,
            }
            for school, due in slots(list(schedule.school_ids), opens, closes, spread).items()
            if school not in have
        ]
        if rows:
            conn.execute(SR.insert(), rows)


def _user(conn: sa.Connection, user_id: str) -> User:
    row = conn.execute(sa.select(schema.users).where(schema.users.c.id == user_id)).one()
    schools = [
        s
        for (s,) in conn.execute(
            sa.select(schema.user_school.c.school_id).where(schema.user_school.c.user_id == user_id)
        )
    ]
    return User(
        id=row.id,
        name=row.name,
        permissions=frozenset(row.permissions),
        schools=None if row.all_schools else frozenset(schools),
        token_id="schedule",  # noqa: S106 - not a secret: no token acts here
        via="api",
    )


def _start_due(engine: sa.Engine, now: datetime, schedule: Any) -> int:
    from misbridge.hub.extracts import start_extract

    with reader(engine) as conn:
        due = conn.execute(
            sa.select(SR).where(
                SR.c.schedule_id == schedule.id,
                SR.c.state == "due",
                SR.c.due_at <= now,
                SR.c.window_end_at > now,
            )
        ).all()
        user = _user(conn, schedule.user_id) if due else None
    started = 0
    for slot in due:
        assert user is not None
        try:
            request, _joined = start_extract(engine, now, user, slot.school_id, schedule.datasets)
            state, detail, request_id = "started", None, request["id"]
        except Conflict as exc:
            state, detail = "started", "joined the extract already running"
            request_id = exc.context.get("request_id")
        except HubError as exc:
            state, detail, request_id = "failed", exc.message[:300], None
        with writer(engine) as conn:
            conn.execute(
                SR.update()
                .where(
                    SR.c.schedule_id == schedule.id,
                    SR.c.school_id == slot.school_id,
                    SR.c.night == slot.night,
                )
                .values(state=state, detail=detail, request_id=request_id, updated_at=now)
            )
        started += state == "started"
    return started


def _settle(engine: sa.Engine, now: datetime, schedule: Any) -> dict[str, int]:
    """Slots whose extract is ready are "ready"; at the window's end the rest are missed."""
    done = {"missed": 0, "ready": 0}
    with writer(engine) as conn:
        open_slots = conn.execute(
            sa.select(SR, R.c.state.label("request_state"))
            .outerjoin(R, R.c.id == SR.c.request_id)
            .where(SR.c.schedule_id == schedule.id, SR.c.state.in_(("due", "started")))
        ).all()
        for slot in open_slots:
            key = (
                (SR.c.schedule_id == schedule.id)
                & (SR.c.school_id == slot.school_id)
                & (SR.c.night == slot.night)
            )
            if slot.request_state in ("ready", "acknowledged"):
                conn.execute(SR.update().where(key).values(state="ready", updated_at=now))
                done["ready"] += 1
            elif slot.request_state == "failed":
                conn.execute(SR.update().where(key).values(state="failed", updated_at=now))
            elif now >= slot.window_end_at:
                why = (
                    "never started: the hub was not running during its slot"
                    if slot.state == "due"
                    else f"not ready when the window closed ({slot.request_state})"
                )
                conn.execute(
                    SR.update().where(key).values(state="missed", detail=why, updated_at=now)
                )
                audit(
                    conn,
                    now,
                    None,
                    "schedule.missed",
                    "missed",
                    school_id=slot.school_id,
                    request_id=slot.request_id,
                    detail={"schedule": schedule.id, "night": slot.night.isoformat(), "why": why},
                )
                log.warning(
                    "hub.schedule.missed",
                    schedule=schedule.id,
                    school=slot.school_id,
                    night=slot.night.isoformat(),
                    why=why,
                )
                done["missed"] += 1
    return done
