"""TLS contexts shared by every client of a process.

httpx builds a new ``ssl.create_default_context()`` for each client, loading the whole
CA bundle each time: about 60 ms of CPU per school, more than a whole page's JSON, and
paid even for a plain-http simulator. A context is safe to share (it holds settings and
trusted roots, no connection state), so each verify setting gets one, built on first use.

Certificates are verified by default (certifi's bundle, as httpx does with
``trust_env=False``); ``verify`` may name a CA bundle file or folder instead. A client of
a plain-http URL never makes a TLS connection (links and redirects to another scheme are
refused), so it gets a context with no trusted roots at all: cheap to build, and any
use of it would fail verification rather than connect unchecked.
"""

from __future__ import annotations

import os
import ssl
import threading

__all__ = ["no_tls_context", "tls_context"]

_lock = threading.Lock()
_contexts: dict[bool | str, ssl.SSLContext] = {}


def _build(verify: bool | str) -> ssl.SSLContext:
    if verify is True:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def tls_context(verify: bool | str = True) -> ssl.SSLContext:
    """The process's context for ``verify``: True (the default: certifi's roots), a CA
    bundle's path, or False (no verification, for a caller that asks for it outright)."""
    context = _contexts.get(verify)
    if context is None:
        with _lock:
            context = _contexts.get(verify)
            if context is None:
                context = _contexts[verify] = _build(verify)
    return context


_NO_TLS: list[ssl.SSLContext] = []


def no_tls_context() -> ssl.SSLContext:
    """For a plain-http client: no trusted roots, hostnames and certificates required."""
    if not _NO_TLS:
        with _lock:
            if not _NO_TLS:
                # PROTOCOL_TLS_CLIENT verifies by default; with no roots loaded nothing passes.
                _NO_TLS.append(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    return _NO_TLS[0]
