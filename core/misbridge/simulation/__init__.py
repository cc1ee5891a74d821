"""Simulators: every plugin's stand-in for its vendor, and what they share.

- :mod:`~misbridge.simulation.base`: :class:`HttpSimulator` and :class:`LocalSimulator`,
  the bases every simulator is written on (serving, fault injection, request counts,
  wrong credentials, ``deny``);
- :mod:`~misbridge.simulation.faults`: :class:`Fault` and :class:`FaultInjector`
  (latency, vendor errors, cut bodies, maintenance pages, lying pages);
- :mod:`~misbridge.simulation.serving`: in-process transports and loopback serving.
"""

from __future__ import annotations

from misbridge.simulation.base import BaseSimulator, HttpSimulator, LocalSimulator
from misbridge.simulation.faults import MAINTENANCE_PAGE, ASGIApp, Fault, FaultInjector
from misbridge.simulation.serving import asgi_transport, reachable, serve_loopback

__all__ = [
    "MAINTENANCE_PAGE",
    "ASGIApp",
    "BaseSimulator",
    "Fault",
    "FaultInjector",
    "HttpSimulator",
    "LocalSimulator",
    "asgi_transport",
    "reachable",
    "serve_loopback",
]
