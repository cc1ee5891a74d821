"""Start-up cost of a fresh process: the library import, the plugin manager, the CLI.

    python bench/bench_startup.py [--repeat 7] [--json]

Every figure is taken in a new interpreter (nothing cached in ``sys.modules``), run
``--repeat`` times; the median is printed, with the smallest and largest. In-process
steps are timed inside the child with ``time.process_time()`` (CPU) and
``time.perf_counter()`` (wall); whole commands are timed from outside, wall by
``perf_counter`` and CPU by the children's ``getrusage`` (user + system). ``python -c
pass`` is the interpreter's own floor, included in every command's figure. An untimed
run of each step first writes the ``.pyc`` files, which an installed package has.

The last lines list which heavy libraries (the store's SQLAlchemy and Alembic, the
vault's cryptography, the hub's FastAPI, Celery, openpyxl, Arbor's graphql-core, httpx)
and which simulator modules each step left in ``sys.modules``: a library caller and the
command line should import those only when a command uses them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

HEAVY = ("sqlalchemy", "alembic", "cryptography", "fastapi", "celery", "openpyxl", "graphql")
HEAVY_REPORTED = (*HEAVY, "httpx")

#: The child's report: which heavy packages and simulator modules are loaded.
_LOADED = """
def _loaded():
    import sys
    heavy = [m for m in {heavy!r} if m in sys.modules]
    sims = sorted(
        m for m in sys.modules
        if m.startswith("misbridge") and ("simulat" in m or ".sim_" in m)
    )
    return heavy, sims
"""

#: (label, code run first and not timed, code timed).
STEPS: tuple[tuple[str, str, str], ...] = (
    ("import misbridge", "", "import misbridge"),
    (
        "import misbridge.pipeline (after misbridge)",
        "import misbridge",
        "import misbridge.pipeline",
    ),
    (
        "get_plugin_manager() (after misbridge)",
        "import misbridge",
        "misbridge.get_plugin_manager()",
    ),
    (
        "get_plugin_manager() + pipeline import",
        "import misbridge",
        "misbridge.get_plugin_manager()\nimport misbridge.pipeline",
    ),
    (
        "all three from a bare interpreter",
        "",
        "import misbridge\nmisbridge.get_plugin_manager()\nimport misbridge.pipeline",
    ),
)


def _child_code(setup: str, timed: str) -> str:
    # At module level, not in a function: ``import misbridge.pipeline`` in a function
    # would bind a local ``misbridge``.
    return (
        "import json, time\n"
        + _LOADED.format(heavy=HEAVY_REPORTED)
        + setup
        + "\nc0, w0 = time.process_time(), time.perf_counter()\n"
        + timed
        + "\nc1, w1 = time.process_time(), time.perf_counter()\n"
        + "heavy, sims = _loaded()\n"
        + "print(json.dumps({'cpu': c1 - c0, 'wall': w1 - w0, 'heavy': heavy, 'sims': sims}))\n"
    )


def _run(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU of one child process, and its standard output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return wall, cpu, done.stdout


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _cli_argv(args: Sequence[str]) -> list[str]:
    script = shutil.which("misbridge", path=os.path.dirname(sys.executable))
    return [script, *args] if script else [sys.executable, "-m", "misbridge", *args]


def _cli_loaded(args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Which heavy modules the command line loads for ``args`` (run in a child)."""
    code = (
        "import atexit, json, sys\n"
        + _LOADED.format(heavy=HEAVY_REPORTED)
        + "atexit.register(lambda: print('LOADED ' + json.dumps(_loaded()), file=sys.stderr))\n"
        + f"sys.argv = ['misbridge', *{list(args)!r}]\n"
        + "from misbridge.cli import main\n"
        + "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED "))
    heavy, sims = json.loads(line.removeprefix("LOADED "))
    return {"heavy": heavy, "sims": sims}


def measure(repeat: int) -> dict[str, Any]:
    # Bytecode is written (an installed package has its .pyc files; a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 and no __pycache__ compiles every module on every run).
    env = {**os.environ}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    report: dict[str, Any] = {"repeat": repeat, "load": os.getloadavg(), "steps": {}}
    for label, setup, timed in STEPS:
        cpu: list[float] = []
        wall: list[float] = []
        last: dict[str, Any] = {}
        _run([sys.executable, "-c", _child_code(setup, timed)], env)  # untimed: the .pyc files
        for _ in range(repeat):
            _, _, out = _run([sys.executable, "-c", _child_code(setup, timed)], env)
            last = json.loads(out.strip().splitlines()[-1])
            cpu.append(last["cpu"])
            wall.append(last["wall"])
        report["steps"][label] = {
            "cpu": _summary(cpu),
            "wall": _summary(wall),
            "heavy": last["heavy"],
            "sims": last["sims"],
        }
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "misbridge --version": _cli_argv(["--version"]),
        "misbridge --help": _cli_argv(["--help"]),
        "misbridge plugins": _cli_argv(["plugins"]),
    }
    report["commands"] = {}
    for label, argv in commands.items():
        cpu, wall = [], []
        _run(argv, env)
        for _ in range(repeat):
            w, c, _ = _run(argv, env)
            wall.append(w)
            cpu.append(c)
        entry: dict[str, Any] = {"cpu": _summary(cpu), "wall": _summary(wall)}
        if label.startswith("misbridge "):
            entry.update(_cli_loaded(argv[-1:] if argv[-1] != "misbridge" else [], env))
        report["commands"][label] = entry
    return report


def _row(label: str, entry: dict[str, Any]) -> str:
    cpu, wall = entry["cpu"], entry["wall"]
    return (
        f"{label:<46} {cpu['median']:7.3f} ({cpu['min']:.3f}-{cpu['max']:.3f})"
        f" {wall['median']:7.3f} ({wall['min']:.3f}-{wall['max']:.3f})"
    )


def print_report(report: dict[str, Any]) -> None:
    load = ", ".join(f"{x:.2f}" for x in report["load"])
    print(f"fresh processes, median of {report['repeat']} (min-max); load average {load}")
    print(f"{'step (in the child)':<46} {'CPU s':>21} {'wall s':>21}")
    for label, entry in report["steps"].items():
        print(_row(label, entry))
    print(f"\n{'command (whole process)':<46} {'CPU s':>21} {'wall s':>21}")
    for label, entry in report["commands"].items():
        print(_row(label, entry))
    print("\nheavy modules in sys.modules afterwards:")
    for group in ("steps", "commands"):
        for label, entry in report[group].items():
            if "heavy" not in entry:
                continue
            heavy = ", ".join(entry["heavy"]) or "none"
            sims = ", ".join(entry["sims"]) or "none"
            print(f"  {label}: {heavy}; simulator modules: {sims}")
    after_pm = report["steps"]["get_plugin_manager() + pipeline import"]
    print("\nafter get_plugin_manager() + pipeline import:")
    for name in HEAVY_REPORTED:
        print(f"  {name:<13} {'loaded' if name in after_pm['heavy'] else 'not loaded'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    args = parser.parse_args()
    report = measure(args.repeat)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
