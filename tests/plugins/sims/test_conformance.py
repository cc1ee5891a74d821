"""The shared conformance suite, run against the CommandReporter stand-in as a subprocess."""

from __future__ import annotations

from misbridge.testing.conformance import ConformanceSuite


class TestConformance(ConformanceSuite):
    mis = "sims"
    # Nothing the model holds is out of reach: the plugin ships its own report
    # definitions (docs/plugins/sims.md), so every field has a column. Photos are not
    # offered at all (MisInfo.datasets): CommandReporter's XML carries text columns and
    # mis-apis.md 4.1 records no way to export a photo through it.
    unsupported = frozenset()
