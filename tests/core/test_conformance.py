"""The conformance suite passes for a faithful plugin and fails for a lossy one."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from misbridge.plugins import Plugins, get_plugin_manager
from misbridge.testing.conformance import ConformanceSuite
from misbridge.testing.school import sample_school

from .toy_mis import ToyPlugin


class TestToyConformance(ConformanceSuite):
    mis = "toy"
    corrupt: ClassVar[str | None] = None
    proves_complete = True  # the toy envelope carries the list's total
    paged = ("/data/students", {})
    simulator_options: ClassVar[dict[str, Any]] = {"page_size": 10}
    trusting: ClassVar[bool] = False

    def plugin_manager(self) -> Plugins:
        return get_plugin_manager(
            load_entrypoints=False,
            plugins=[("toy", ToyPlugin(self.corrupt, trusting=self.trusting))],
        )


class _LossyToy(TestToyConformance):
    __test__ = False


@pytest.mark.parametrize(
    ("field", "shows"),
    [
        # Without a date of birth the roster profile rejects the pupils: they go missing
        # and the plugin's extract reports errors the school itself does not have.
        ("date_of_birth", "'date_of_birth', 'MB"),
        ("telephones", "home_telephone: expected '01632"),
        ("upn", "upn: expected"),
    ],
)
def test_the_suite_fails_when_a_plugin_drops_a_field(field: str, shows: str) -> None:
    lossy = type("Lossy", (_LossyToy,), {"corrupt": field})()
    with pytest.raises(AssertionError) as raised:
        lossy.assert_round_trip(sample_school(students=30, staff=4))
    assert shows in str(raised.value)


def test_the_suite_accepts_declared_unsupported_fields() -> None:
    lossy = type(
        "Lossy", (_LossyToy,), {"corrupt": "upn", "unsupported": frozenset({"Student.upn"})}
    )()
    lossy.assert_round_trip(sample_school(students=30, staff=4))


def test_the_lying_server_matrix_fails_a_plugin_that_never_checks_totals() -> None:
    careless = type("Careless", (_LossyToy,), {"trusting": True})()
    with pytest.raises(AssertionError, match="complete with"):
        careless.test_a_lying_server_is_never_complete()
