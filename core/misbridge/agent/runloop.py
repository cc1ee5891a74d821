"""``misbridge agent run``: the service loop.

Outbound only: the agent long-polls the hub (the hub holds each poll ~50 s) and does
each request it is given, one at a time. When the hub cannot be reached, or refuses,
it waits with exponential backoff and full jitter (so that a thousand schools do not
all reconnect in the same second after a hub restart) and tries again, for ever; a
revoked agent token stops the loop with a clear message instead.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

import structlog

from misbridge.agent.config import AgentConfig
from misbridge.agent.hubclient import AgentHub, HubRefused, HubUnreachable
from misbridge.agent.journal import Journal
from misbridge.agent.worker import Worker
from misbridge.errors import ConfigurationError, MisbridgeError

__all__ = ["Backoff", "RunLoop"]

log = structlog.get_logger()


class Backoff:
    """Full-jitter exponential backoff: a random wait in [0, min(cap, base * 2^n)]."""

    def __init__(self, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.failures = 0
        self.rng = rng or random.Random()

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.failures = 0


class RunLoop:
    def __init__(
        self,
        config: AgentConfig,
        hub: AgentHub,
        journal: Journal,
        *,
        wait: float = 50.0,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.hub = hub
        self.journal = journal
        self.wait = wait
        self.backoff = backoff or Backoff()
        self.stopping = threading.Event()
        self.sleep = sleep or self._sleep
        self.worker = Worker(config, hub, journal)

    def _sleep(self, seconds: float) -> None:
        self.stopping.wait(seconds)

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def install_signals(self) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            log.info("agent.stopping", signal=signum)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self, *, once: bool = False) -> None:
        """Poll and work until stopped (``once``: until one poll answered)."""
        log.info("agent.started", hub=self.config.hub_url, school=self.config.school_id)
        while not self.stopping.is_set():
            try:
                # What a previous process, or a hub outage, left half-done comes first.
                for entry in self.journal.unfinished():
                    outcome = self.worker.resume(entry)
                    log.info("agent.job.resumed", request=entry["request_id"], outcome=outcome)
                jobs = self.hub.jobs(self.wait)
                self.backoff.reset()
                for job in jobs:
                    if self.stopping.is_set():
                        break
                    outcome = self.worker.handle(job)
                    log.info("agent.job.done", request=job["request_id"], outcome=outcome)
                if once:
                    return
            except HubRefused as refused:
                if refused.status == 401:
                    raise ConfigurationError(
                        "the hub no longer accepts this agent's token (the agent was "
                        "replaced or revoked): activate it again with a new code"
                    ) from None
                self._pause("refused", refused.status)
            except HubUnreachable as exc:
                self._pause("unreachable", type(exc).__name__)
            except MisbridgeError as exc:
                self._pause("error", type(exc).__name__)
        log.info("agent.stopped")

    def _pause(self, why: str, detail: object) -> None:
        delay = self.backoff.next()
        log.warning("agent.hub_problem", reason=why, detail=detail, retry_in=round(delay, 1))
        self.sleep(delay)
        time.sleep(0)  # let a signal handler run between attempts
