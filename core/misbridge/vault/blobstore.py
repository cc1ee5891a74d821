"""Where sealed blobs live: a local folder (default) or an HTTP endpoint.

Only sealed blobs ever reach a blob store; the private key never leaves this machine, so
a remote store (the model: credentials held by a cloud service that cannot read
them) learns nothing but which MIS and school have credentials.

The HTTP protocol is deliberately small, so any object store or tiny service can host it
(``<base>`` is the configured URL, ``<name>`` e.g. ``wonde-123456.sealed``)::

    GET    <base>/           -> 200 {"blobs": ["<name>", ...]}
    GET    <base>/<name>     -> 200 <blob bytes> | 404
    PUT    <base>/<name>     -> 200 | 201 | 204       (body: the blob)
    DELETE <base>/<name>     -> 200 | 204 | 404

An optional bearer token (``MISBRIDGE_VAULT_TOKEN``) goes in the Authorization header.
Plain ``http://`` is refused except to the loopback interface.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

import httpx
import stamina

from misbridge.hooktypes import Secret
from misbridge.vault.errors import VaultStoreError
from misbridge.vault.files import make_private_dir, read_private, remove_private, write_private
from misbridge.vault.sealing import parse_blob_name

__all__ = ["BlobStore", "FileBlobStore", "HttpBlobStore"]

#: A blob is at most MAX_BLOB_BYTES; a listing of many names stays well under this.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


@runtime_checkable
class BlobStore(Protocol):
    """Keeps sealed blobs by name. Implementations never see a plaintext."""

    def describe(self) -> str: ...

    def get(self, name: str) -> bytes | None: ...

    def put(self, name: str, data: bytes) -> None: ...

    def delete(self, name: str) -> bool: ...

    def names(self) -> list[str]: ...


def _check_name(name: str) -> str:
    if parse_blob_name(name) is None:
        raise VaultStoreError(f"{name!r} is not a sealed-blob name the vault uses")
    return name


class FileBlobStore:
    """Sealed blobs as owner-only files in a folder (``home()/credentials/``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"the folder {self.path}"

    def get(self, name: str) -> bytes | None:
        return read_private(self.path / _check_name(name), "sealed credentials file")

    def put(self, name: str, data: bytes) -> None:
        make_private_dir(self.path)
        write_private(self.path / _check_name(name), data)

    def delete(self, name: str) -> bool:
        return remove_private(self.path / _check_name(name))

    def names(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if parse_blob_name(p.name))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Retry(Exception):
    """A transient answer from the store (5xx, 429 or a transport error)."""


class HttpBlobStore:
    """Sealed blobs on an HTTP endpoint (see the module docstring for the protocol)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: Secret | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        attempts: int = 4,
    ) -> None:
        url = httpx.URL(base_url.rstrip("/") + "/")
        if url.scheme not in ("https", "http") or not url.host:
            raise VaultStoreError(f"the blob store URL {base_url!r} is not an http(s) URL")
        if url.scheme == "http" and not _is_loopback(url.host):
            raise VaultStoreError(
                f"the blob store URL {base_url!r} uses plain http; use https (plain http is "
                "only accepted to this machine's loopback interface)"
            )
        self.base_url = url
        self.attempts = attempts
        self._token = token
        self._transport = transport
        self._timeout = timeout

    def describe(self) -> str:
        return f"the HTTP blob store {self.base_url}"

    def _client(self) -> httpx.Client:
        # One short-lived client per operation: the vault makes a handful of calls per
        # run, and nothing is left open for a long-lived process to leak.
        token = self._token
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token.reveal()}"} if token else {},
            transport=self._transport,
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            trust_env=False,
        )

    @contextmanager
    def _failures(self, action: str) -> Iterator[None]:
        try:
            yield
        except (_Retry, httpx.HTTPError) as exc:
            reason = str(exc) if isinstance(exc, _Retry) else type(exc).__name__
            raise VaultStoreError(
                f"the HTTP blob store {self.base_url} could not {action} ({reason}); check "
                "the URL, the network and MISBRIDGE_VAULT_TOKEN, then try again",
                url=str(self.base_url),
            ) from None

    def _send(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """One request with retries on transient failures: (status, capped body)."""
        for attempt in stamina.retry_context(
            on=(_Retry, httpx.TransportError), attempts=self.attempts, wait_initial=0.2
        ):
            with attempt, self._client() as client:
                return self._once(client, method, path, body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self, client: httpx.Client, method: str, path: str, body: bytes | None
    ) -> tuple[int, bytes]:
        request = client.build_request(
            method,
            path,
            content=body,
            headers={"Content-Type": "application/json"} if body is not None else None,
        )
        response = client.send(request, stream=True)
        try:
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retry(f"HTTP {response.status_code}")
            size = 0
            chunks: list[bytes] = []
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise VaultStoreError(
                        f"the HTTP blob store {self.base_url} answered more than "
                        f"{MAX_ANSWER_BYTES} bytes; refused"
                    )
                chunks.append(chunk)
        finally:
            response.close()
        return response.status_code, b"".join(chunks)

    def _refused(self, status: int, action: str) -> VaultStoreError:
        hint = " (check MISBRIDGE_VAULT_TOKEN)" if status in (401, 403) else ""
        return VaultStoreError(
            f"the HTTP blob store {self.base_url} refused to {action}: HTTP {status}{hint}",
            url=str(self.base_url),
            status=status,
        )

    def get(self, name: str) -> bytes | None:
        with self._failures(f"send {name}"):
            status, body = self._send("GET", _check_name(name))
        if status == 404:
            return None
        if status != 200:
            raise self._refused(status, f"send {name}")
        return body

    def put(self, name: str, data: bytes) -> None:
        with self._failures(f"store {name}"):
            status, _ = self._send("PUT", _check_name(name), data)
        if status not in (200, 201, 204):
            raise self._refused(status, f"store {name}")

    def delete(self, name: str) -> bool:
        with self._failures(f"delete {name}"):
            status, _ = self._send("DELETE", _check_name(name))
        if status == 404:
            return False
        if status not in (200, 204):
            raise self._refused(status, f"delete {name}")
        return True

    def names(self) -> list[str]:
        with self._failures("list its blobs"):
            status, body = self._send("GET", "")
        if status != 200:
            raise self._refused(status, "list its blobs")
        try:
            listed = json.loads(body)["blobs"]
        except (ValueError, KeyError, TypeError):
            raise VaultStoreError(
                f"the HTTP blob store {self.base_url} answered its listing in an unknown form"
            ) from None
        if not isinstance(listed, list):
            raise VaultStoreError(f"the HTTP blob store {self.base_url} listing is not a list")
        return sorted(str(n) for n in listed if parse_blob_name(str(n)))
