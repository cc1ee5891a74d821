"""A whole Wonde extract of the 2,000-pupil bench school, pinned to a digest.

Computed on the code before the per-school CPU work (issue 16), through the simulator:
paging, mapping, normalising, validating and the pipeline's bookkeeping must give exactly
the same records, errors and outcomes whatever is done to make them faster. A deliberate
change of output updates the literal here, with the reason in the commit.
"""

from __future__ import annotations

from misbridge.pipeline import DEFAULT_DATASETS
from misbridge.plugins import Plugins
from misbridge.testing.school import sample_school
from misbridge_wonde.simulator import WondeSimulator
from tests.digest import extract_digest

from .helpers import run_extract

#: bench/bench_wonde.py's school: 2,000 pupils, 150 staff, seed 0; the default datasets.
BENCH_SCHOOL_DIGEST = "3d5a944b69414aa8e77a26ff6318b676f170f59d0e5f38ddf81f2b1033d64457"


async def test_the_bench_school_extracts_to_the_pinned_digest(plugins: Plugins) -> None:
    school = sample_school(seed=0, students=2000, staff=150)
    sim = WondeSimulator(school)
    result = await run_extract(sim, plugins, datasets=DEFAULT_DATASETS)
    assert result.ok
    assert len(result.records) == 4
    assert extract_digest(result) == BENCH_SCHOOL_DIGEST
