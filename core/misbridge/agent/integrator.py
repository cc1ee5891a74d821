"""The Integrator: the separate process that logs in to the MIS and extracts.

It is a separate process so that when it ends, everything it loaded (SIMS's DLLs and
files, the MIS session, the unsealed credentials) is released. It unseals the MIS
credentials from the vault itself; the agent never sees them.

:func:`start_integrator` is the one place that says what runs. Today that is the
``misbridge <mis> extract`` command, with the MIS settings the agent was configured
with at activation as its options.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["IntegratorProcess", "start_integrator", "started_reading", "stop_leftover"]

#: Exit codes of ``misbridge <mis> extract`` that mean the MIS login succeeded and an
#: extract folder was written: 0 every dataset complete, 3 partial success.
EXTRACTED = (0, 3)


def start_integrator(
    mis: str,
    settings: Mapping[str, str],
    credentials_school: str | None,
    datasets: Sequence[str],
    out: Path,
    log: Path,
) -> subprocess.Popen[bytes]:
    """Start the Integrator for one request: it writes the extract folder ``out``.

    Its output goes to ``log`` (owner-only), never to the agent's own log. It runs in a
    session of its own, so that the agent can stop it, and anything it started, at once.
    """
    # ``misbridge <mis> extract`` is a thin shell over ``misbridge.run`` (the one
    # sequence every caller uses), here without a store: the integrator syncs.
    misbridge = [sys.executable, "-m", "misbridge"]
    command = [*misbridge, "--log-json", mis, "extract", "--out", str(out)]
    if credentials_school:
        command += ["--school", credentials_school]
    for dataset in datasets:
        if dataset == "photos":
            command.append("--photos")
        elif dataset == "exam_results":
            command.append("--exam-results")
        else:
            command += ["--dataset", dataset]
    for name, value in sorted(settings.items()):
        command += [f"--{name.replace('_', '-')}", value]
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=os.name == "posix",
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
        )


class IntegratorProcess:
    """A running Integrator: wait for it, stop it."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self, grace: float = 10.0) -> int:
        """Stop it (and its children) if it still runs; its exit code."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                return self.process.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        return self.process.wait()


def _signal_group(pid: int, sig: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(pid, sig)
        else:  # pragma: no cover - Windows
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def started_reading(out: Path) -> bool:
    """True once the Integrator has written a record: the MIS login succeeded."""
    if not out.is_dir():
        return False
    return any(p.name.endswith((".jsonl.part", ".jsonl")) for p in out.iterdir())


def stop_leftover(pid: int, out: Path) -> bool:
    """Stop an Integrator a previous agent process started (it was killed or crashed).

    Only a process whose command line names this request's extract folder is touched,
    so a recycled process id is never signalled. False if none was running, and on
    systems without ``/proc`` (Windows), where the service wrapper stops the process
    tree with the service.
    """
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        argv = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    if os.fsencode(str(out)) not in argv:
        return False
    _signal_group(pid, signal.SIGTERM)
    return True
