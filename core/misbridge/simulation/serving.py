"""Serving a simulator's ASGI app: in-process for tests, on a loopback port otherwise.

In-process (``httpx.ASGITransport``) the plugin's real HTTP code runs with no socket;
on a loopback port (the demo, ``misbridge <mis> simulate``, the benchmarks) it runs as
it would against the vendor.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx

from misbridge.simulation.faults import ASGIApp

if TYPE_CHECKING:
    from misbridge.hooktypes import SimulatedSource, Simulator

__all__ = ["asgi_transport", "reachable", "serve_loopback"]


def asgi_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """An in-process transport to ``app``: the client's real code runs, no socket."""
    return httpx.ASGITransport(app=app, raise_app_exceptions=False)


@contextlib.contextmanager
def serve_loopback(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` on a loopback port (a free one unless ``port`` is given) in a
    background thread; yields its base URL."""
    import uvicorn

    if not port:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"simulator:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the simulator did not start on the loopback interface")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def reachable(simulator: Simulator, port: int = 0) -> Iterator[SimulatedSource]:
    """``simulator`` reachable as its vendor would be: an HTTP simulator on a loopback
    port, a program or file simulator where it is; its settings and credentials."""
    if simulator.app is None:
        yield simulator.source()
        return
    with serve_loopback(simulator.app, port=port) as url:
        yield simulator.source(url)
