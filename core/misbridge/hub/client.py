"""The integrator's side: start an extract, wait, retrieve it, check it, acknowledge it.

::

    key = IntegratorKey.generate()            # keep key.private_pem() safe; register once
    hub = IntegratorClient("https://hub.example.org", token="mbu_...")
    hub.register_key(key)
    request = hub.start_extract(school_id)
    hub.wait(request["id"], until=("ready", "failed"))
    folder = hub.retrieve(request["id"], key, Path("tonight"))   # download, verify, open,
                                                                  # unpack, then acknowledge

:meth:`IntegratorClient.retrieve` acknowledges only after the download's SHA-256
matched and the envelope opened; a failure anywhere before leaves the upload on the
hub, to be retrieved again.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from misbridge.agent.hubclient import check_hub_url
from misbridge.errors import MisbridgeError
from misbridge.hub.envelope import EnvelopeError, open_envelope, unpack_archive
from misbridge.hub.protocol import API, HEADER_RETRIEVAL_KEY
from misbridge.vault.keys import key_id

__all__ = ["IntegratorClient", "IntegratorKey", "RetrievalError"]


class RetrievalError(MisbridgeError):
    """A retrieval that did not complete; the upload stays on the hub."""


class IntegratorKey:
    """The X25519 key pair extracts are sealed to; the private half stays with you."""

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self.private_key = private_key

    @classmethod
    def generate(cls) -> IntegratorKey:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> IntegratorKey:
        loaded = serialization.load_pem_private_key(pem, password=password)
        if not isinstance(loaded, X25519PrivateKey):
            raise RetrievalError("that is not an X25519 private key")
        return cls(loaded)

    def private_pem(self, password: bytes) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )

    @property
    def public_b64(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode("ascii")

    @property
    def kid(self) -> str:
        return key_id(self.private_key.public_key())


class IntegratorClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        verify: str | bool = True,
        timeout: float = 60.0,
    ) -> None:
        self.url = check_hub_url(url)
        self._client = httpx.Client(
            base_url=self.url + API,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "misbridge-integrator"},
            follow_redirects=False,
            trust_env=False,
            verify=verify,
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> IntegratorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                message = response.json().get("message")
            except ValueError:
                message = None
            raise RetrievalError(
                f"the hub refused {response.request.method} {response.request.url.path}: "
                f"{message or f'HTTP {response.status_code}'}",
                status=response.status_code,
            )
        return response.json() if response.content else None

    def register_key(self, key: IntegratorKey) -> str:
        body = self._json(self._client.put("/me/public-key", json={"public_key": key.public_b64}))
        return str(body["kid"])

    def set_webhook(self, url: str | None) -> None:
        self._json(self._client.put("/me/webhook", json={"url": url}))

    def schools(self) -> list[dict[str, Any]]:
        return list(self._json(self._client.get("/schools")))

    def start_extract(self, school_id: str, datasets: list[str] | None = None) -> dict[str, Any]:
        body = {"datasets": datasets} if datasets else {}
        result: dict[str, Any] = self._json(
            self._client.post(f"/schools/{school_id}/extracts", json=body)
        )
        return result

    def request(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json(self._client.get(f"/extracts/{request_id}"))
        return result

    def errors(self, request_id: str) -> list[dict[str, Any]]:
        return list(self._json(self._client.get(f"/extracts/{request_id}/errors")))

    def wait(
        self, request_id: str, until: tuple[str, ...] = ("ready", "failed"), timeout: float = 600
    ) -> dict[str, Any]:
        """Follow the request (long polls) until it reaches one of ``until``."""
        deadline = time.monotonic() + timeout
        found = self.request(request_id)
        while found["state"] not in until:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RetrievalError(
                    f"request {request_id} is still {found['state']} after {timeout:.0f} s"
                )
            params: dict[str, Any] = {"wait": min(30.0, left), "state": found["state"]}
            found = self._json(
                self._client.get(f"/extracts/{request_id}", params=params, timeout=left + 30)
            )
        return found

    def retrieval_key(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            self._client.post(f"/extracts/{request_id}/retrieval-key")
        )
        return result

    def download(self, request_id: str, retrieval_key: str, target: Path) -> str:
        """Download the sealed extract to ``target``; its SHA-256 (checked against the hub's)."""
        hasher = hashlib.sha256()
        headers = {HEADER_RETRIEVAL_KEY: retrieval_key}
        with self._client.stream("GET", f"/extracts/{request_id}/download", headers=headers) as r:
            if r.status_code >= 400:
                r.read()
                self._json(r)
            expected = r.headers.get("X-Content-SHA256", "")
            with target.open("wb") as handle:
                for block in r.iter_bytes():
                    hasher.update(block)
                    handle.write(block)
        got = hasher.hexdigest()
        if got != expected:
            raise RetrievalError(
                "the download does not match the hub's SHA-256 (cut short?): not acknowledged; "
                "download again"
            )
        return got

    def acknowledge(self, request_id: str, retrieval_key: str, sha256: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            self._client.post(
                f"/extracts/{request_id}/ack",
                json={"sha256": sha256},
                headers={HEADER_RETRIEVAL_KEY: retrieval_key},
            )
        )
        return result

    def retrieve(
        self, request_id: str, key: IntegratorKey, folder: Path, retrieval_key: str | None = None
    ) -> Path:
        """Download, verify, decrypt and unpack into ``folder``; then acknowledge."""
        found = self.request(request_id)
        key_to_use = retrieval_key or self.retrieval_key(request_id)["retrieval_key"]
        with tempfile.TemporaryDirectory(prefix="misbridge-retrieve-") as scratch:
            sealed, clear = Path(scratch) / "sealed.bin", Path(scratch) / "extract.tar.gz"
            sha256 = self.download(request_id, key_to_use, sealed)
            try:
                with sealed.open("rb") as source, clear.open("wb") as target:
                    open_envelope(
                        source,
                        target,
                        key.private_key,
                        request_id=request_id,
                        school_id=found["school_id"],
                        kid=key.kid,
                    )
                with clear.open("rb") as source:
                    unpack_archive(source, folder)
            except EnvelopeError as exc:
                raise RetrievalError(f"{exc.message}: not acknowledged") from None
        self.acknowledge(request_id, key_to_use, sha256)
        return folder
