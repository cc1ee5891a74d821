"""The simulator base: what every plugin's stand-in for its vendor shares.

A simulator serves one :class:`~misbridge.source.SourceSchool` the way the vendor would,
so that the plugin's real code reads it. ``MisInfo.simulator`` is usually the simulator
class itself; the core (conformance suite, ``misbridge demo``, ``misbridge <mis>
simulate``, benchmarks) calls it as::

    simulator = Simulator(school, latency=0.0, deny=[Dataset.STAFF], faults=[...], **options)
    with simulator.serve() as source:      # loopback port or in-process; closed after
        source.settings, source.credentials, source.transport

Two bases:

- :class:`HttpSimulator`: a web API. Write :meth:`~HttpSimulator.asgi` (the vendor's
  routes) and :meth:`~BaseSimulator.settings` (what reaches the given base URL); the
  base wraps the app in :class:`~misbridge.simulation.FaultInjector` (``latency`` and
  ``faults``), counts requests, gives an in-process transport (tests) or serves a
  loopback port (demo, benchmarks).
- :class:`LocalSimulator`: files or a program (a report export, a stand-in
  executable), written in a private temporary folder that :meth:`close` removes.

Every simulator takes ``deny``: the datasets the simulated account may not read, which
the simulator refuses the way the vendor does (a 403, a missing permission, an export
left out), so that the conformance suite sees ``check_permissions`` name what is
missing and the denied dataset fail alone. :meth:`~BaseSimulator.wrong_credentials`
gives credentials the simulator refuses, for the authentication test.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from misbridge.hooktypes import SimulatedSource
from misbridge.model import Dataset
from misbridge.simulation.faults import ASGIApp, Fault, FaultInjector
from misbridge.simulation.serving import asgi_transport, reachable
from misbridge.source import SourceSchool

__all__ = ["BaseSimulator", "HttpSimulator", "LocalSimulator"]


class BaseSimulator:
    """See the module docstring. Subclasses call ``super().__init__`` first."""

    def __init__(
        self,
        school: SourceSchool,
        *,
        latency: float = 0.0,
        deny: Collection[Dataset | str] = (),
        faults: Sequence[Fault] = (),
    ) -> None:
        self.school = school
        self.latency = latency
        #: The datasets the simulated account may not read.
        self.deny: frozenset[Dataset] = frozenset(Dataset(d) for d in deny)
        self.faults: tuple[Fault, ...] = tuple(faults)

    # -- what a subclass writes ---------------------------------------------------------------
    def settings(self, base_url: str | None) -> dict[str, str]:
        """The plugin settings that reach this simulator (at ``base_url``, if served)."""
        raise NotImplementedError(f"{type(self).__name__}.settings")

    def credentials(self) -> dict[str, str]:
        """Credentials the simulator accepts."""
        raise NotImplementedError(f"{type(self).__name__}.credentials")

    def wrong_credentials(self) -> Mapping[str, str]:
        """Credentials the simulator refuses, for the authentication test."""
        raise NotImplementedError(f"{type(self).__name__}.wrong_credentials")

    # -- the Simulator protocol ---------------------------------------------------------------
    @property
    def app(self) -> Any:
        """The ASGI app (HTTP simulators), or None."""
        return None

    @property
    def requests(self) -> int:
        """How many requests (or program runs, or files) the simulator has answered."""
        raise NotImplementedError(f"{type(self).__name__}.requests")

    def source(self, base_url: str | None = None) -> SimulatedSource:
        """Settings and credentials that reach this simulator (in-process if no URL)."""
        return SimulatedSource(self.settings(base_url), self.credentials())

    @contextlib.contextmanager
    def serve(self, port: int = 0) -> Iterator[SimulatedSource]:
        """The simulator reachable as a real one would be (a loopback port for HTTP), and
        closed afterwards."""
        try:
            with reachable(self, port=port) as source:
                yield source
        finally:
            self.close()

    def close(self) -> None:
        """Release what the simulator holds (files, a folder); nothing by default."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class HttpSimulator(BaseSimulator):
    """A simulated web API (see the module docstring)."""

    #: The base URL an in-process source names. A ``.invalid`` host never resolves, so
    #: a credential meant for the simulator can never reach a real host by mistake.
    in_process_url: ClassVar[str] = "https://simulator.invalid"

    _injector: FaultInjector | None = None

    def asgi(self) -> ASGIApp:
        """The vendor's routes as an ASGI app, built once, on first use."""
        raise NotImplementedError(f"{type(self).__name__}.asgi")

    @property
    def app(self) -> FaultInjector:
        """The app with latency and faults injected (:class:`FaultInjector`)."""
        if self._injector is None:
            self._injector = FaultInjector(
                self.asgi(), latency=self.latency, faults=list(self.faults)
            )
        return self._injector

    @property
    def requests(self) -> int:
        return self.app.requests

    def source(self, base_url: str | None = None) -> SimulatedSource:
        if base_url is None:
            settings = self.settings(self.in_process_url)
            return SimulatedSource(settings, self.credentials(), asgi_transport(self.app))
        return SimulatedSource(self.settings(base_url.rstrip("/")), self.credentials())


class LocalSimulator(BaseSimulator):
    """A simulator made of files or a program, in a private temporary folder."""

    _folder: Path | None = None

    @property
    def folder(self) -> Path:
        """The simulator's own temporary folder, made on first use."""
        if self._folder is None:
            self._folder = Path(
                tempfile.mkdtemp(prefix=f"misbridge-{type(self).__name__.lower()}-")
            )
        return self._folder

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
