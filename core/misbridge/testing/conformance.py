"""The conformance suite every MIS plugin runs against its simulator.

Subclass :class:`ConformanceSuite` in the plugin's tests::

    from misbridge.plugin import ConformanceSuite

    class TestConformance(ConformanceSuite):
        mis = "wonde"
        # Fields Wonde's wire format cannot carry (its class and group members have no dates).
        unsupported = frozenset({"Membership.start", "Membership.end"})

It checks, through the plugin's real code and its simulator:

- *extract(simulate(school)) equals school*: every record of every dataset the plugin
  offers equals, field by field, what the shared normaliser and validator make of the
  sample school itself, for the sample school and for generated schools (hypothesis);
  ``unsupported`` names the ``"Type.field"`` values (or whole ``"Type"``) the vendor
  cannot carry, which are blanked on both sides;
- the same records are rejected, with the same error codes and fields;
- wrong credentials raise :class:`~misbridge.errors.AuthenticationError`;
- a dataset the account may not read is named by ``check_permissions`` and fails
  alone, while the other datasets complete;
- extract hooks stream: they return asynchronous iterators;
- HTTP plugins (``paged`` set): a *lying server* (a page with records dropped, an early
  empty last page, totals that disagree) on the first, a middle and the last page of
  the students list never gives a ``complete`` read with fewer records than the school
  holds; and *network faults* there (429 with Retry-After, 500, a connection reset,
  truncated JSON, an HTML page with 200, a slow answer) are recovered from with every
  record, or fail the dataset clearly: never a short read that looks whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misbridge.errors import AuthenticationError, RecordError
from misbridge.hooktypes import Simulator
from misbridge.model import Dataset
from misbridge.normalise import Normaliser, NormaliseSettings
from misbridge.pipeline import _Run, extract_async, prepare_context
from misbridge.plugins import Plugins, get_plugin_manager
from misbridge.result import ExtractResult, ModelRecord, OutcomeStatus
from misbridge.simulation import Fault
from misbridge.source import SourceSchool
from misbridge.testing.compare import blank_fields, diff_records
from misbridge.testing.school import sample_school
from misbridge.validate import Validator

__all__ = ["ConformanceSuite", "expected_result"]

#: The matrices' HTTP settings (every HTTP plugin offers them: misbridge.http.http_settings).
_FAST_HTTP = {
    "http_wait_initial": "0.01",
    "http_wait_max": "0.05",
    "http_request_deadline": "1",
}


def expected_result(
    mis: str, school: SourceSchool, datasets: Iterable[Dataset], profile: str = "roster"
) -> ExtractResult:
    """What the pipeline must produce for ``school``: its own records, normalised and
    validated by the same shared code, with no MIS in between."""
    run = _Run(
        mis,
        Normaliser(NormaliseSettings(), mis=mis),
        Validator(profile, mis=mis),
        sink=None,
        collect=True,
        on_record=None,
    )
    for dataset in datasets:
        for record in school.records(dataset):
            run.accept(dataset, record)
    return run.result


def _error_keys(errors: Iterable[RecordError], unsupported: frozenset[str]) -> set[tuple[Any, ...]]:
    hidden = {spec.partition(".")[2] for spec in unsupported if "." in spec}
    return {(e.dataset, e.mis_id, e.field, e.code) for e in errors if e.field not in hidden}


class ConformanceSuite:
    """Base class of a plugin's conformance tests (see the module docstring)."""

    mis: ClassVar[str]
    #: What the vendor cannot carry; by default what the plugin declares for these
    #: settings (``MisInfo.coverage``), so a plugin that forgets to declare a field it
    #: lacks fails the round trip.
    unsupported: ClassVar[frozenset[str] | None] = None
    #: Extra keyword arguments for the plugin's simulator factory.
    simulator_options: ClassVar[dict[str, Any]] = {}
    #: Extra settings for every extract (e.g. a mode switch).
    extra_settings: ClassVar[dict[str, str]] = {}
    #: How many generated schools to try, and the ranges of their sizes.
    generated_examples: ClassVar[int] = 4
    generated_students: ClassVar[tuple[int, int]] = (14, 60)
    generated_staff: ClassVar[tuple[int, int]] = (3, 12)
    #: Whether the plugin proves its reads whole (a vendor total, a closed document):
    #: then a round trip must end ``complete``, not merely ``unverified``.
    proves_complete: ClassVar[bool] = False
    #: HTTP plugins: a substring of the requests for the students list's pages and the
    #: settings that make a 30-pupil school take several of them; the lying-server and
    #: network-fault matrices aim at the first, a middle and the last page. None skips
    #: both (a plugin with no HTTP paging, such as SIMS).
    paged: ClassVar[tuple[str, dict[str, str]] | None] = None

    # -- helpers a subclass may override ----------------------------------------------------
    def plugin_manager(self) -> Plugins:
        return get_plugin_manager()

    def simulate(self, school: SourceSchool, **options: Any) -> Simulator:
        factory = self.plugin_manager().info(self.mis).simulator
        if factory is None:
            pytest.fail(f"the {self.mis} plugin has no simulator (MisInfo.simulator)")
        return factory(school, **{**self.simulator_options, **options})

    def datasets(self) -> tuple[Dataset, ...]:
        return self.plugin_manager().info(self.mis).datasets

    async def extract(
        self,
        simulator: Simulator,
        credentials: dict[str, str] | None = None,
        settings: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ExtractResult:
        source = simulator.source()
        return await extract_async(
            self.mis,
            settings={**source.settings, **self.extra_settings, **(settings or {})},
            credentials=credentials if credentials is not None else dict(source.credentials),
            transport=source.transport,
            datasets=kwargs.pop("datasets", self.datasets()),
            pm=kwargs.pop("pm", self.plugin_manager()),
            **kwargs,
        )

    def assert_round_trip(self, school: SourceSchool) -> None:
        simulator = self.simulate(school)
        try:
            actual = asyncio.run(self.extract(simulator))
        finally:
            simulator.close()
        datasets = self.datasets()
        expected = expected_result(self.mis, school, datasets)
        unsupported = self.lacking()
        dropped = {spec for spec in unsupported if "." not in spec}
        problems: list[str] = []
        for dataset in datasets:
            outcome = actual.outcomes[dataset]
            wanted = (
                (OutcomeStatus.COMPLETE,)
                if self.proves_complete
                else (OutcomeStatus.COMPLETE, OutcomeStatus.UNVERIFIED)
            )
            if outcome.status not in wanted or outcome.delta:
                problems.append(f"{dataset.value}: {outcome.status.value}: {outcome.message}")
                continue
            want = self._comparable(expected.of(dataset), dropped)
            got = self._comparable(actual.of(dataset), dropped)
            problems += [f"{dataset.value}: {line}" for line in diff_records(want, got)]
        want_errors = _error_keys(expected.errors, unsupported)
        got_errors = _error_keys(actual.errors, unsupported)
        missing = [f"error not reported: {key}" for key in sorted(want_errors - got_errors)]
        extra = [f"unexpected error: {key}" for key in sorted(got_errors - want_errors)]
        if problems or missing or extra:
            report = [
                f"{self.mis} does not round-trip the school: {len(problems)} record differences, "
                f"{len(missing)} errors not reported, {len(extra)} unexpected errors",
                *problems[:25],
                *missing[:10],
                *extra[:10],
            ]
            raise AssertionError("\n".join(report))

    def lacking(self) -> frozenset[str]:
        """What this plugin (in this suite's mode) does not carry."""
        if self.unsupported is not None:
            return self.unsupported
        info = self.plugin_manager().info(self.mis)
        return info.lacking(self.extra_settings)

    def _comparable(self, records: list[ModelRecord], dropped: set[str]) -> list[ModelRecord]:
        unsupported = self.lacking()
        return [blank_fields(r, unsupported) for r in records if type(r).__name__ not in dropped]

    # -- the tests ---------------------------------------------------------------------------
    def test_round_trip_sample_school(self) -> None:
        self.assert_round_trip(sample_school())

    def test_round_trip_generated_schools(self) -> None:
        # The property lives in an inner function so that each subclass (one per plugin
        # mode) runs its own hypothesis test rather than sharing one across executors.
        @settings(
            max_examples=self.generated_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            seed=st.integers(0, 2**16),
            students=st.integers(*self.generated_students),
            staff=st.integers(*self.generated_staff),
        )
        def round_trip(seed: int, students: int, staff: int) -> None:
            self.assert_round_trip(sample_school(seed=seed, students=students, staff=staff))

        round_trip()

    def test_wrong_credentials_are_refused(self) -> None:
        simulator = self.simulate(sample_school(students=20, staff=3))
        try:
            with pytest.raises(AuthenticationError) as raised:
                asyncio.run(
                    self.extract(simulator, credentials=dict(simulator.wrong_credentials()))
                )
        finally:
            simulator.close()
        for secret in simulator.wrong_credentials().values():
            if len(secret) >= 4:
                assert secret not in str(raised.value), "the error message shows a credential"

    def test_denied_dataset_is_named_and_fails_alone(self) -> None:
        simulator = self.simulate(sample_school(students=20, staff=3), deny=[Dataset.STAFF])
        try:
            checks = asyncio.run(self._check_permissions(simulator))
            result = asyncio.run(self.extract(simulator))
        finally:
            simulator.close()
        by_dataset = {c.dataset: c for c in checks}
        assert Dataset.STAFF in by_dataset and by_dataset[Dataset.STAFF].missing, (
            "check_permissions must name what the staff dataset is missing"
        )
        assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
        assert result.outcomes[Dataset.STUDENTS].status.read_to_end

    async def _check_permissions(self, simulator: Simulator) -> list[Any]:
        plugins = self.plugin_manager()
        hooks = plugins.for_mis(self.mis)
        source = simulator.source()
        context = prepare_context(
            plugins.info(self.mis),
            settings={**source.settings, **self.extra_settings},
            credentials=dict(source.credentials),
            transport=source.transport,
        )
        session = await hooks.authenticate(context)
        try:
            pending = hooks.check_permissions(session, context)
            assert pending is not None, f"{self.mis} does not implement check_permissions"
            return list(await pending)
        finally:
            await session.aclose()

    # -- lying servers and network faults ----------------------------------------------------
    def _paged_run(self, fault: Fault | None) -> tuple[ExtractResult, Simulator, int]:
        assert self.paged is not None
        match, settings = self.paged
        # Retries that take milliseconds and a short deadline, so that a slow answer is
        # given up and asked again quickly; the plugin's own limits still bound them.
        declared = {f.name for f in self.plugin_manager().info(self.mis).settings}
        settings = {**{k: v for k, v in _FAST_HTTP.items() if k in declared}, **settings}
        probe = Fault("delay", match=match, times=0)
        simulator = self.simulate(
            sample_school(students=30, staff=3), faults=[f for f in (fault, probe) if f]
        )
        try:
            result = asyncio.run(
                self.extract(
                    simulator,
                    datasets=[Dataset.STUDENTS],
                    settings=settings,
                )
            )
        finally:
            simulator.close()
        return result, simulator, simulator.app.seen(probe)

    def _pages(self) -> dict[str, int]:
        result, _, pages = self._paged_run(None)
        assert result.outcomes[Dataset.STUDENTS].status.read_to_end
        if pages < 1:
            pytest.fail(f"{self.mis}: no request matched {self.paged}: the matrix aims at nothing")
        return {"first": 0, "middle": pages // 2, "last": pages - 1}

    def _students(self, result: ExtractResult) -> set[str | None]:
        return {getattr(r, "mis_id", None) for r in result.of(Dataset.STUDENTS)}

    def test_a_lying_server_is_never_complete(self) -> None:
        if self.paged is None:
            pytest.skip(f"{self.mis} has no paged HTTP list to aim at")
        reference, _, _ = self._paged_run(None)
        held = self._students(reference)
        problems = []
        for position, skip in self._pages().items():
            for lie in ("drop", "empty", "miscount"):
                if lie == "miscount":
                    # Every total the vendor gives, five more than the truth.
                    fault = Fault(lie, times=10_000)
                else:
                    fault = Fault(lie, match=self.paged[0], skip=skip)
                result, _, _ = self._paged_run(fault)
                outcome = result.outcomes[Dataset.STUDENTS]
                got = self._students(result)
                if outcome.status is OutcomeStatus.COMPLETE and got != held:
                    problems.append(
                        f"{lie} on the {position} page: complete with {len(got)} of "
                        f"{len(held)} pupils"
                    )
        assert not problems, f"{self.mis}: " + "; ".join(problems)

    def test_network_faults_lose_nothing(self) -> None:
        if self.paged is None:
            pytest.skip(f"{self.mis} has no paged HTTP list to aim at")
        reference, _, _ = self._paged_run(None)
        held = self._students(reference)
        match = self.paged[0]
        faults = {
            "429": Fault.rate_limit(match=match, retry_after="0"),
            "500": Fault("status", match=match, status=500, body=b'{"error":"Server Error"}'),
            "reset": Fault("truncate", match=match),
            "truncated JSON": Fault("status", match=match, status=200, body=b'{"data": [{'),
            "HTML with 200": Fault("html", match=match),
            "slow answer": Fault("delay", match=match, seconds=2.0),
        }
        problems = []
        for position, skip in self._pages().items():
            for name, fault in faults.items():
                placed = Fault(
                    fault.kind,
                    match=fault.match,
                    skip=skip,
                    status=fault.status,
                    body=fault.body,
                    headers=fault.headers,
                    seconds=fault.seconds,
                )
                result, simulator, _ = self._paged_run(placed)
                outcome = result.outcomes[Dataset.STUDENTS]
                got = self._students(result)
                if simulator.app.faults_fired < 1:
                    problems.append(f"{name} on the {position} page never fired")
                elif outcome.status.read_to_end and got != held:
                    problems.append(
                        f"{name} on the {position} page: read to its end with {len(got)} "
                        f"of {len(held)} pupils"
                    )
                elif not outcome.status.read_to_end and not outcome.message:
                    problems.append(f"{name} on the {position} page failed without a message")
        assert not problems, f"{self.mis}: " + "; ".join(problems)

    def test_extract_hooks_stream(self) -> None:
        simulator = self.simulate(sample_school(students=20, staff=3))
        try:
            first = asyncio.run(self._first_student(simulator))
        finally:
            simulator.close()
        assert first is not None

    async def _first_student(self, simulator: Simulator) -> object:
        plugins = self.plugin_manager()
        hooks = plugins.for_mis(self.mis)
        source = simulator.source()
        context = prepare_context(
            plugins.info(self.mis),
            settings={**source.settings, **self.extra_settings},
            credentials=dict(source.credentials),
            transport=source.transport,
        )
        session = await hooks.authenticate(context)
        try:
            stream = hooks.extract(Dataset.STUDENTS, session, context)
            assert stream is not None
            assert isinstance(stream, AsyncIterator), "extract hooks must return async iterators"
            first = await anext(stream)
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()
            return first
        finally:
            await session.aclose()
