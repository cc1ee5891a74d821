"""The sample school, for tests: it lives in :mod:`misbridge.sample` (runtime code)."""

from __future__ import annotations

from misbridge.sample.school import (
    ASPECTS,
    MESSY_CASES,
    sample_school,
    upn_check_letter,
    with_new_ids,
)

__all__ = ["ASPECTS", "MESSY_CASES", "sample_school", "upn_check_letter", "with_new_ids"]
