"""The Wonde session through the real HTTP code: hosts, paging safety, scopes, increments."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from misbridge.errors import ConfigurationError, SourceFormatError
from misbridge.model import Dataset
from misbridge.plugins import Plugins
from misbridge.result import OutcomeStatus
from misbridge.simulation import Fault, asgi_transport
from misbridge.source import SourceSchool
from misbridge_wonde.permissions import check
from misbridge_wonde.session import open_session
from misbridge_wonde.simulator import WondeSimulator, simulate
from tests.plugins.wonde.helpers import RecordingTransport, context_for, run_extract, transport_of

ASGI = Callable[..., Awaitable[None]]


def ids(result: Any, dataset: Dataset = Dataset.STUDENTS) -> list[str]:
    return sorted(r.mis_id for r in result.of(dataset))


# -- where the token goes ----------------------------------------------------------------------
async def test_the_school_region_decides_the_host(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school, region_domain="api-ap-southeast-2.wonde.com")
    recorder = transport_of(sim)
    result = await run_extract(sim, plugins, transport=recorder)
    assert result.ok and len(result.of(Dataset.STUDENTS)) == 38  # 2 pupils are rejected
    first, *rest = recorder.requests
    assert first.url.host == "api.wonde.invalid"  # the configured host: the school record
    assert {r.url.host for r in rest} == {"api-ap-southeast-2.wonde.com"}
    assert all(r.url.scheme == "https" for r in rest)


@pytest.mark.parametrize(
    "domain", ["evil.example.com", "api.wonde.com.evil.example", "169.254.169.254"]
)
async def test_a_region_outside_wonde_is_refused_before_the_token_goes(
    small_school: SourceSchool, plugins: Plugins, domain: str
) -> None:
    sim = simulate(small_school, region_domain=domain)
    recorder = transport_of(sim)
    with pytest.raises(SourceFormatError, match="not a Wonde API host"):
        await run_extract(sim, plugins, transport=recorder)
    assert recorder.hosts == {"api.wonde.invalid"}


def tampered(sim: WondeSimulator, change: Callable[[dict[str, Any]], None], match: str) -> ASGI:
    """The simulator, with one JSON answer whose URL contains ``match`` rewritten."""
    app = sim.app

    async def wrapper(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        target = scope["path"] + "?" + scope.get("query_string", b"").decode()
        if scope["type"] != "http" or match not in target:
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        start: dict[str, Any] = {}

        async def capture(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await app(scope, receive, capture)
        body = json.loads(b"".join(chunks))
        change(body)
        raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    return wrapper


async def test_a_next_link_to_another_host_is_refused(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)

    def off_host(body: dict[str, Any]) -> None:
        body["meta"]["pagination"]["next"] = "https://evil.example/v1.0/steal?page=2"

    recorder = RecordingTransport(asgi_transport(tampered(sim, off_host, "/students")))
    result = await run_extract(
        sim, plugins, transport=recorder, settings={"paging": "follow-next", "per_page": "10"}
    )
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.PARTIAL
    assert "refused to follow" in (outcome.message or "")
    assert recorder.hosts == {"api.wonde.invalid"}


async def test_more_without_next_is_an_error(small_school: SourceSchool, plugins: Plugins) -> None:
    sim = simulate(small_school)

    def broken(body: dict[str, Any]) -> None:
        body["meta"]["pagination"]["next"] = None
        body["meta"]["pagination"]["more"] = True

    result = await run_extract(
        sim,
        plugins,
        transport=asgi_transport(tampered(sim, broken, "/students")),
        settings={"paging": "cursor", "per_page": "10"},
    )
    outcome = result.outcomes[Dataset.STUDENTS]
    assert outcome.status is OutcomeStatus.PARTIAL
    assert "gives no 'next' link" in (outcome.message or "")


async def test_a_next_link_back_to_a_read_page_is_a_loop(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)

    def loop(body: dict[str, Any]) -> None:
        current = body["meta"]["pagination"]["next"]
        if current and "page=3" in current:
            body["meta"]["pagination"]["next"] = current.replace("page=3", "page=2")

    result = await run_extract(
        sim,
        plugins,
        transport=asgi_transport(tampered(sim, loop, "/students")),
        settings={"paging": "follow-next", "per_page": "10"},
    )
    assert "already read" in (result.outcomes[Dataset.STUDENTS].message or "")


# -- parallel paging stays correct when the school changes mid-read -----------------------------
def changing_during_read(sim: WondeSimulator, change: Callable[[], None]) -> ASGI:
    """Apply ``change`` right after the simulator answers ``/counts``."""
    app = sim.app

    async def wrapper(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await app(scope, receive, send)
        if scope["type"] == "http" and scope["path"].endswith("/counts"):
            change()

    return wrapper


async def test_a_record_deleted_mid_read_does_not_hide_another(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)
    expected = ids(await run_extract(sim, plugins))
    gone = "10000"  # on page 1, so every later offset page shifts by one
    transport = asgi_transport(
        changing_during_read(sim, lambda: sim.delete("students", gone, datetime.now(UTC)))
    )
    result = await run_extract(
        sim, plugins, transport=transport, settings={"paging": "parallel", "per_page": "10"}
    )
    assert result.ok
    assert ids(result) == [i for i in expected if i != gone]


async def test_a_record_gained_mid_read_is_read_too(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)
    expected = ids(await run_extract(sim, plugins))
    sim.delete("students", "10001", datetime.now(UTC))
    transport = asgi_transport(changing_during_read(sim, lambda: sim.restore("students", "10001")))
    result = await run_extract(
        sim, plugins, transport=transport, settings={"paging": "parallel", "per_page": "10"}
    )
    assert result.ok
    assert ids(result) == expected


async def test_a_smaller_server_page_size_is_followed(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school, max_per_page=7)
    result = await run_extract(sim, plugins, settings={"paging": "parallel", "per_page": "200"})
    assert result.ok and len(result.of(Dataset.STUDENTS)) == 38
    assert sim.requests == 1 + 1 + 6  # school, counts, then ceil(40 / 7) pages


# -- the school id and the token --------------------------------------------------------------
async def test_an_unapproved_school_is_a_configuration_error(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)
    with pytest.raises(ConfigurationError, match="misbridge wonde schools"):
        await run_extract(sim, plugins, settings={"school_id": "A0000000000"})


@pytest.mark.parametrize("bad", ["../../etc", "A1 B2", "a/b", ""])
async def test_a_school_id_that_is_not_an_id_is_refused(
    small_school: SourceSchool, plugins: Plugins, bad: str
) -> None:
    sim = simulate(small_school)
    with pytest.raises(ConfigurationError, match="school"):
        await run_extract(sim, plugins, settings={"school_id": bad})
    assert sim.requests == 0


async def test_the_token_never_appears_in_errors_or_logs(
    small_school: SourceSchool, plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = simulate(small_school, faults=[Fault("status", match="/students", status=503, times=9)])
    result = await run_extract(sim, plugins, settings={"per_page": "10"})
    assert not result.ok
    text = json.dumps(result.summary()) + repr(result.errors) + capsys.readouterr().out
    assert sim.token not in text


# -- permissions ------------------------------------------------------------------------------
async def test_check_names_missing_object_and_property_scopes(small_school: SourceSchool) -> None:
    sim = simulate(small_school, deny=[Dataset.STAFF], hidden={"students.contact_details"})
    session = await open_session(context_for(sim))
    try:
        checks = {c.dataset: c for c in await check(session, list(Dataset))}
    finally:
        await session.aclose()
    assert checks[Dataset.STAFF].missing == ("employees",)
    assert checks[Dataset.STUDENTS].missing == ("students.contact_details",)
    # Groups read staff memberships through the employees list: named there too.
    assert "employees" in checks[Dataset.GROUPS].missing
    assert checks[Dataset.YEARS].ok
    assert checks[Dataset.EXAM_RESULTS].notes
    assert sim.requests == 1 + 4  # the school, then one small probe per list


async def test_a_missing_property_scope_leaves_the_field_empty(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school, hidden={"students.contact_details"})
    result = await run_extract(sim, plugins)
    assert result.ok
    students = result.of(Dataset.STUDENTS)
    assert all(s.personal_email is None and s.home_address is None for s in students)  # type: ignore[union-attr]


# -- incremental extracts ---------------------------------------------------------------------
async def test_incremental_extract_asks_only_for_changes(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)
    auto = {"incremental": "auto"}
    first = await run_extract(sim, plugins, settings=auto)
    assert len(first.of(Dataset.STUDENTS)) == 38
    assert first.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    assert set(first.checkpoints) == {Dataset.STUDENTS}
    mark = first.checkpoints[Dataset.STUDENTS].at
    assert mark <= datetime.now(UTC) - timedelta(minutes=4)  # with the overlap

    sim.touch("students", "10005", datetime.now(UTC) + timedelta(minutes=1))
    recorder = transport_of(sim)
    second = await run_extract(
        sim, plugins, settings=auto, transport=recorder, checkpoints=first.checkpoints
    )
    assert ids(second) == ["10005"]
    outcome = second.outcomes[Dataset.STUDENTS]
    assert outcome.delta and not outcome.trusted  # the plugin says so, not --since
    listed = [r for r in recorder.requests if r.url.path.endswith("/students")]
    assert all("updated_after" in r.url.params for r in listed)
    assert all(r.url.params.get("cursor") for r in listed)  # counts do not apply to changes


async def test_a_delta_names_the_deleted_records(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)
    auto = {"incremental": "auto"}
    first = await run_extract(sim, plugins, settings=auto)
    sim.delete("students", "10006", datetime.now(UTC) + timedelta(minutes=1))
    recorder = transport_of(sim)
    second = await run_extract(
        sim, plugins, settings=auto, checkpoints=first.checkpoints, transport=recorder
    )
    (deleted,) = second.deletions[Dataset.STUDENTS]
    assert (deleted.record, deleted.mis_id) == ("Student", "10006")
    assert second.outcomes[Dataset.STUDENTS].deletions == 1
    assert second.outcomes[Dataset.STUDENTS].records == 0  # no student changed
    # Asked with Wonde's own filters: this dataset's type, changed since the checkpoint.
    (asked,) = [r.url.params for r in recorder.requests if r.url.path.endswith("/deletions")]
    mark = first.checkpoints[Dataset.STUDENTS].at
    assert asked["type"] == "student"
    assert asked["updated_after"] == mark.strftime("%Y-%m-%d %H:%M:%S")


async def test_no_checkpoint_for_a_dataset_that_failed(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school, faults=[Fault("status", match="/employees", status=503, times=9)])
    result = await run_extract(
        sim, plugins, settings={"incremental": "auto"}, datasets=(Dataset.STUDENTS, Dataset.STAFF)
    )
    assert result.outcomes[Dataset.STUDENTS].status is OutcomeStatus.COMPLETE
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
    assert set(result.checkpoints) == {Dataset.STUDENTS}


async def test_since_overrides_the_checkpoint_and_incremental_off_records_none(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school)
    sim.touch("students", "10002", datetime(2026, 10, 5, tzinfo=UTC))
    result = await run_extract(sim, plugins, since=datetime(2026, 10, 1, tzinfo=UTC))
    assert ids(result) == ["10002"]
    assert result.outcomes[Dataset.STUDENTS].delta
    assert result.checkpoints == {}


async def test_deletions_are_listed(small_school: SourceSchool) -> None:
    sim = simulate(small_school)
    sim.delete("students", "10006", datetime(2026, 10, 2, tzinfo=UTC))
    sim.delete("classes", "C7Ma1", datetime(2026, 10, 4, tzinfo=UTC))
    session = await open_session(context_for(sim))
    try:
        everything = [r async for batch in session.deletions(None) for r in batch]
        later = [
            r async for batch in session.deletions(datetime(2026, 10, 3, tzinfo=UTC)) for r in batch
        ]
    finally:
        await session.aclose()
    assert [(d["id"], d["type"], d["mis_id"]) for d in everything] == [
        ("10006", "student", "10006"),
        ("C7Ma1", "class", "C7Ma1"),
    ]
    assert [d["deleted_at"]["date"] for d in everything] == [
        "2026-10-02 00:00:00.000000",
        "2026-10-04 00:00:00.000000",
    ]
    assert all(d["restored_at"] is None for d in everything)
    assert [d["id"] for d in later] == ["C7Ma1"]


# -- concurrency --------------------------------------------------------------------------------
class InFlight(RecordingTransport):
    """Counts requests in flight at once."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.now = 0
        self.most = 0

    async def handle_async_request(self, request: Any) -> Any:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return await super().handle_async_request(request)
        finally:
            self.now -= 1


@pytest.mark.parametrize("pool", ["1", "3"])
async def test_pages_and_datasets_run_at_once_within_the_pool(
    small_school: SourceSchool, plugins: Plugins, pool: str
) -> None:
    sim = simulate(small_school, latency=0.02)
    counter = InFlight(sim.source().transport)
    result = await run_extract(
        sim,
        plugins,
        transport=counter,
        settings={"per_page": "5", "http_concurrency": pool},
        datasets=(Dataset.STUDENTS, Dataset.STAFF, Dataset.GROUPS),
    )
    assert result.ok
    assert counter.most == int(pool)  # as many as allowed, never more


async def test_follow_next_reads_one_page_at_a_time(
    small_school: SourceSchool, plugins: Plugins
) -> None:
    sim = simulate(small_school, latency=0.01)
    counter = InFlight(sim.source().transport)
    result = await run_extract(
        sim,
        plugins,
        transport=counter,
        settings={"paging": "follow-next", "per_page": "5"},
        concurrent_datasets=False,
        datasets=(Dataset.STUDENTS, Dataset.STAFF),
    )
    assert result.ok and counter.most == 1
    # the school, the counts (to check the lists against), 40 students in 8 pages, 5 staff in 1
    assert sim.requests == 1 + 1 + 8 + 1


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("http_concurrency", "many"),
        ("paging", "sideways"),
        ("per_page", "0"),
        ("incremental", "sometimes"),
        ("include_former_staff", "perhaps"),
    ],
)
async def test_bad_settings_are_configuration_errors(
    small_school: SourceSchool, plugins: Plugins, setting: str, value: str
) -> None:
    sim = simulate(small_school)
    with pytest.raises(ConfigurationError, match=setting.split("_")[0]):
        await run_extract(sim, plugins, settings={setting: value})
    assert sim.requests == 0
