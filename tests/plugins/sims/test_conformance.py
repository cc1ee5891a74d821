"""The shared conformance suite, run against the CommandReporter stand-in as a subprocess."""

from __future__ import annotations

from typing import Any, ClassVar

from misbridge.testing.conformance import ConformanceSuite


class TestConformance(ConformanceSuite):
    """CommandReporter's standard output, photos from the photo reports' picture column."""

    mis = "sims"
    # Nothing the model holds is out of reach: the plugin ships its own report
    # definitions (docs/plugins/sims.md), so every field has a column, photos included
    # (every simulated pupil has the "Photograph Student" consent).
    unsupported = frozenset()


class TestConformanceFileAndPhotoFolder(ConformanceSuite):
    """The other routes: /OUTPUT files, and photos from a folder named by Person ID (a
    SIMS version whose report designer has no photo field)."""

    mis = "sims"
    unsupported = frozenset()
    simulator_options: ClassVar[dict[str, Any]] = {"photo_folder": "person_id"}
    extra_settings: ClassVar[dict[str, str]] = {"output": "file"}
    generated_examples = 2
