"""Worker-run requests at the hub: the outbox to the broker, claims under a lease, a
take-over after a worker dies, sealed credentials; and the shared rate limiter."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from misbridge.errors import ConfigurationError
from misbridge.hub import extracts, schema, workers
from misbridge.hub.client import IntegratorKey
from misbridge.hub.database import open_database, utcnow
from misbridge.hub.dispatch import Dispatcher
from misbridge.hub.errors import BadRequest, Conflict
from misbridge.hub.principals import User
from misbridge.hub.schools import create_school
from misbridge.hub.storage import FileStorage
from misbridge.worker.job import _credentials, load_key, new_key
from misbridge.worker.ratelimit import RateRule, RedisRateLimiter, parse_rule

LEASE = timedelta(seconds=60)


class Hub:
    def __init__(self, folder: Path) -> None:
        self.engine = open_database(f"sqlite:///{folder / 'hub.db'}")
        self.storage = FileStorage(folder / "uploads")
        self.key_file = folder / "workers.key"
        self.public = new_key(self.key_file)
        now = utcnow()
        self.worker = workers.create_worker(self.engine, now, None, "w1", self.public)
        self.school = create_school(
            self.engine, now, None, "Oak", "wonde", runner="worker", settings={"school_id": "A1"}
        )["id"]
        from misbridge.hub import accounts

        made = accounts.create_user(self.engine, now, None, "imp", ["import-data"])
        self.user = User(made["id"], "imp", frozenset({"import-data"}), None, "t", "api")
        accounts.set_public_key(self.engine, now, self.user, _public_b64())

    def start(self) -> str:
        request, _ = extracts.start_extract(self.engine, utcnow(), self.user, self.school, None)
        return str(request["id"])

    def principal(self, name: str = "w1") -> Any:
        from misbridge.hub.principals import Worker

        with self.engine.connect() as conn:
            row = conn.execute(sa.select(schema.worker).where(schema.worker.c.name == name)).one()
        return Worker(row.id, row.name)


def _public_b64() -> str:
    return IntegratorKey.generate().public_b64


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    return Hub(tmp_path)


def test_the_outbox_sends_each_request_once_and_again_only_when_its_worker_is_silent(
    hub: Hub,
) -> None:
    sent: list[tuple[str, str]] = []
    dispatcher = Dispatcher("", send=lambda r, m: sent.append((r, m)))
    request = hub.start()
    now = utcnow()
    assert dispatcher.run(hub.engine, now, LEASE) == 1
    assert dispatcher.run(hub.engine, now, LEASE) == 0  # dispatched: not sent twice
    assert sent == [(request, "wonde")]
    workers.claim_job(hub.engine, hub.storage, now, hub.principal(), request, LEASE)
    assert dispatcher.run(hub.engine, now + LEASE, LEASE) == 0  # lease just ended
    assert dispatcher.run(hub.engine, now + 3 * LEASE, LEASE) == 1  # silent: sent again


def test_an_agent_school_is_never_sent_to_the_broker(hub: Hub) -> None:
    sent: list[Any] = []
    sims = create_school(hub.engine, utcnow(), None, "Elm", "sims")["id"]
    extracts.start_extract(hub.engine, utcnow(), hub.user, sims, None)
    Dispatcher("", send=lambda r, m: sent.append(r)).run(hub.engine, utcnow(), LEASE)
    assert sent == []
    with pytest.raises(BadRequest, match="runs at the school"):
        create_school(hub.engine, utcnow(), None, "Ash", "sims", runner="worker")


def test_a_claim_holds_a_lease_that_a_later_delivery_may_take_over(hub: Hub) -> None:
    request = hub.start()
    now = utcnow()
    first = workers.claim_job(hub.engine, hub.storage, now, hub.principal(), request, LEASE)
    assert first["attempt"] == 1 and first["mis"] == "wonde"
    assert first["settings"] == {"school_id": "A1"}
    with pytest.raises(Conflict) as held:
        workers.claim_job(hub.engine, hub.storage, now, hub.principal(), request, LEASE)
    assert 50 < held.value.context["retry_after"] <= 60
    token = workers.worker_token(
        hub.engine, now, hub.principal(), request, timedelta(minutes=15), LEASE
    )["token"]
    later = now + LEASE + timedelta(seconds=1)  # the worker died: no status call since
    again = workers.claim_job(hub.engine, hub.storage, later, hub.principal(), request, LEASE)
    assert again["attempt"] == 2
    from misbridge.hub.accounts import authenticate
    from misbridge.hub.errors import Unauthorized

    with pytest.raises(Unauthorized):  # the first attempt's Integrator Token is revoked
        authenticate(hub.engine, later, token, via="api")


def test_a_done_request_is_nothing_to_do(hub: Hub) -> None:
    request = hub.start()
    now = utcnow()
    workers.claim_job(hub.engine, hub.storage, now, hub.principal(), request, LEASE)
    workers.fail_job(hub.engine, hub.storage, now, hub.principal(), request, "wrong token")
    with pytest.raises(Conflict) as done:
        workers.claim_job(hub.engine, hub.storage, now + 2 * LEASE, hub.principal(), request, LEASE)
    assert done.value.context["state"] == "failed"
    assert "retry_after" not in done.value.context


def test_credentials_are_sealed_to_the_workers_key_only(hub: Hub, tmp_path: Path) -> None:
    workers.set_credentials(hub.engine, utcnow(), None, hub.school, {"token": "s3cret-token"})
    with hub.engine.connect() as conn:
        stored = conn.execute(sa.select(schema.school_credentials)).one()
    assert "s3cret" not in stored.sealed
    request = hub.start()
    job = workers.claim_job(hub.engine, hub.storage, utcnow(), hub.principal(), request, LEASE)
    opened = _credentials(job, load_key(hub.key_file))
    assert opened["token"].reveal() == "s3cret-token"
    other = tmp_path / "other.key"
    new_key(other)
    with pytest.raises(ConfigurationError, match="does not hold"):
        _credentials(job, load_key(other))
    moved = {**job, "school_id": "sch_elsewhere"}  # sealed to one school: no other opens it
    with pytest.raises(ConfigurationError):
        _credentials(moved, load_key(hub.key_file))


def test_rate_rules_are_read_strictly() -> None:
    assert parse_rule("api.wonde.com=8/token") == RateRule("api.wonde.com", 8.0, True)
    assert parse_rule("127.0.0.1:8000=20") == RateRule("127.0.0.1:8000", 20.0, False)
    for bad in ("api.wonde.com", "x=0", "x=fast", "x=3/app"):
        with pytest.raises(ConfigurationError, match="HOST=REQUESTS_PER_SECOND"):
            parse_rule(bad)


async def test_limiters_sharing_redis_space_requests_and_honour_a_pause() -> None:
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.RedisError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    host = f"h{uuid.uuid4().hex[:8]}.test"
    rules = (RateRule(host, 20.0, per_token=True),)
    a = RedisRateLimiter("redis://127.0.0.1:6379/0", rules)
    b = RedisRateLimiter("redis://127.0.0.1:6379/0", rules)
    stamps: list[float] = []

    async def send(limiter: RedisRateLimiter, token: str) -> None:
        await limiter.acquire(host, token)
        stamps.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(send(a if n % 2 else b, "t1") for n in range(10)))
    assert time.monotonic() - started >= 0.4  # 10 slots 50 ms apart, across both
    gaps = [y - x for x, y in pairwise(sorted(stamps))]
    assert min(gaps) > 0.03
    quick = time.monotonic()
    await a.acquire(host, "t2")  # another application's token has its own budget
    assert time.monotonic() - quick < 0.05
    await b.pause(host, "t2", 0.5)  # a 429 with Retry-After: 0.5 s for every worker
    paused = time.monotonic()
    await a.acquire(host, "t2")
    assert time.monotonic() - paused >= 0.4
    await a.acquire("unlisted.example", "t1")  # no rule: no wait
    await a.aclose()
    await b.aclose()
