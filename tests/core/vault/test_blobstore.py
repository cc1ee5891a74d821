"""The HTTP blob store: sealed blobs live remotely, the private key stays here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from misbridge.errors import ConfigurationError
from misbridge.simulation import Fault, FaultInjector, serve_loopback
from misbridge.vault import (
    HttpBlobStore,
    Vault,
    VaultStoreError,
    activate,
    decommission,
    list_credentials,
    remove_credentials,
    rotate_keys,
    seal_credentials,
    unseal_credentials,
)

TOKEN = "vault-bearer-7c1e"


class BlobServer:
    """A minimal remote blob store following the documented protocol."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.auth_seen: list[str | None] = []
        routes = [
            Route("/vault/", self.listing, methods=["GET"]),
            Route("/vault/{name}", self.one, methods=["GET", "PUT", "DELETE"]),
        ]
        self.injector = FaultInjector(Starlette(routes=routes))

    def authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization")
        self.auth_seen.append(header)
        return header == f"Bearer {TOKEN}"

    async def listing(self, request: Request) -> Response:
        if not self.authorised(request):
            return Response(status_code=401)
        return JSONResponse({"blobs": sorted(self.blobs)})

    async def one(self, request: Request) -> Response:
        if not self.authorised(request):
            return Response(status_code=401)
        name = request.path_params["name"]
        if request.method == "PUT":
            self.blobs[name] = await request.body()
            return Response(status_code=204)
        if name not in self.blobs:
            return Response(status_code=404)
        if request.method == "DELETE":
            del self.blobs[name]
            return Response(status_code=204)
        return Response(self.blobs[name], media_type="application/json")


@pytest.fixture
def server() -> Iterator[tuple[BlobServer, str]]:
    blob_server = BlobServer()
    with serve_loopback(blob_server.injector) as base:
        yield blob_server, f"{base}/vault"


@pytest.fixture
def remote(
    server: tuple[BlobServer, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[BlobServer, str]:
    monkeypatch.setenv("MISBRIDGE_VAULT_TOKEN", TOKEN)
    activate(passphrase_store="file", blob_store=server[1])
    return server


def test_sealed_blob_lives_remotely_and_key_stays_local(
    remote: tuple[BlobServer, str], home: Path
) -> None:
    srv, _ = remote
    seal_credentials("wonde", {"token": "remote-canary-88"}, school="100001")
    assert list(srv.blobs) == ["wonde-100001.sealed"]
    assert b"remote-canary-88" not in srv.blobs["wonde-100001.sealed"]
    assert not (home / "credentials").exists()
    assert all(b"PRIVATE KEY" not in blob for blob in srv.blobs.values())
    assert unseal_credentials("wonde", "100001")["token"].reveal() == "remote-canary-88"  # type: ignore[index]
    assert set(srv.auth_seen) == {f"Bearer {TOKEN}"}
    assert [(e.mis, e.school) for e in list_credentials()] == [("wonde", "100001")]


def test_remote_store_cannot_swap_in_its_own_blob(remote: tuple[BlobServer, str]) -> None:
    """A compromised store replaying school A's blob as school B's is refused."""
    srv, _ = remote
    seal_credentials("wonde", {"token": "a"}, school="100001")
    srv.blobs["wonde-100002.sealed"] = srv.blobs["wonde-100001.sealed"]
    with pytest.raises(ConfigurationError, match="could not be unsealed"):
        unseal_credentials("wonde", "100002")


def test_transient_failures_are_retried(remote: tuple[BlobServer, str]) -> None:
    srv, _ = remote
    seal_credentials("wonde", {"token": "t"})
    srv.injector.add(Fault("status", match="wonde.sealed", status=503, times=2))
    assert unseal_credentials("wonde") is not None
    assert srv.injector.faults_fired == 2


def test_store_down_is_a_clear_configuration_error(remote: tuple[BlobServer, str]) -> None:
    srv, _url = remote
    seal_credentials("wonde", {"token": "t"})
    srv.injector.add(Fault("status", match="wonde.sealed", status=503, times=10))
    with pytest.raises(ConfigurationError, match=r"could not send wonde.sealed \(HTTP 503\)"):
        unseal_credentials("wonde")


def test_wrong_token_is_named(
    remote: tuple[BlobServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISBRIDGE_VAULT_TOKEN", "wrong")
    with pytest.raises(ConfigurationError, match=r"HTTP 401.*MISBRIDGE_VAULT_TOKEN") as caught:
        unseal_credentials("wonde")
    assert "wrong" not in str(caught.value)


def test_rotation_and_decommission_reach_the_remote_store(
    remote: tuple[BlobServer, str], home: Path
) -> None:
    srv, _ = remote
    seal_credentials("wonde", {"token": "t"}, school="100001")
    seal_credentials("arbor", {"password": "p"})
    report = rotate_keys()
    assert sorted(report.resealed) == ["arbor.sealed", "wonde-100001.sealed"]
    assert unseal_credentials("arbor")["password"].reveal() == "p"  # type: ignore[index]
    assert remove_credentials("arbor") is True and "arbor.sealed" not in srv.blobs
    done = decommission()
    assert srv.blobs == {} and not home.exists()
    assert [(a.mis, a.school) for a in done.accounts] == [("wonde", "100001")]


@pytest.mark.parametrize(
    "url",
    ["http://vault.example.org/blobs", "ftp://vault.example.org/", "file:///etc/", "https://"],
)
def test_insecure_or_odd_urls_refused(url: str) -> None:
    with pytest.raises(VaultStoreError):
        HttpBlobStore(url)


def test_activation_checks_the_store_is_reachable(home: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403)

    with pytest.raises(VaultStoreError, match="HTTP 403"):
        activate(
            passphrase_store="file",
            blob_store="https://vault.example.org/v",
            transport=httpx.MockTransport(refuse),
        )
    assert Vault().active_kid() is None


def test_oversized_answer_refused() -> None:
    def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (5 * 1024 * 1024))

    store = HttpBlobStore("https://vault.example.org/v", transport=httpx.MockTransport(huge))
    with pytest.raises(VaultStoreError, match="more than"):
        store.get("wonde.sealed")


def test_names_that_could_escape_the_store_path_are_refused() -> None:
    store = HttpBlobStore(
        "https://vault.example.org/v",
        transport=httpx.MockTransport(lambda request: httpx.Response(500)),
    )
    for name in ("../admin", "wonde/../../x.sealed", "x", "%2e%2e.sealed"):
        with pytest.raises(VaultStoreError, match="not a sealed-blob name"):
            store.get(name)
