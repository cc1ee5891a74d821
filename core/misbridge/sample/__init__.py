"""The built-in sample school: a deterministic, realistic school that ``misbridge demo``
and every simulator serve (names, valid UPNs, years, forms, houses, classes, dated
memberships, staff, and the messy cases a real MIS holds). Runtime code, not the test
kit: shipped commands may use it; ``misbridge.testing`` re-exports it for tests."""

from __future__ import annotations

from misbridge.sample.school import sample_school

__all__ = ["sample_school"]
