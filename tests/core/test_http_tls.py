"""TLS for the MIS client: one shared context per verify setting, verification on."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from misbridge.errors import SourceUnavailableError
from misbridge.http import HttpPolicy, MisHttpClient
from misbridge.http import tls as tls_module

FAST = HttpPolicy(attempts=1, request_deadline=5.0)


def _context_of(client: MisHttpClient) -> ssl.SSLContext:
    return client._client._transport._pool._ssl_context  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def fresh_contexts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """No context built yet in this process; every create_default_context noted."""
    monkeypatch.setattr(tls_module, "_contexts", {})
    built: list[object] = []
    real = ssl.create_default_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(kwargs.get("cafile") or kwargs.get("capath"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tls_module.ssl, "create_default_context", counting)
    yield built


async def test_https_clients_share_one_verifying_context(fresh_contexts: list[object]) -> None:
    clients = [MisHttpClient("test", f"https://mis{n}.example") for n in range(3)]
    try:
        contexts = {id(_context_of(c)) for c in clients}
        assert len(contexts) == 1
        assert len(fresh_contexts) == 1  # the CA bundle was loaded once
        context = _context_of(clients[0])
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname
        assert context.get_ca_certs()  # certifi's roots
    finally:
        for client in clients:
            await client.aclose()


async def test_a_plain_http_client_builds_no_tls_context(fresh_contexts: list[object]) -> None:
    client = MisHttpClient("test", "http://127.0.0.1:9")
    try:
        assert fresh_contexts == []
        context = _context_of(client)
        # Never used (no link may leave http); if it were, nothing would pass.
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname
        assert context.get_ca_certs() == []
    finally:
        await client.aclose()


async def test_a_ca_bundle_gets_its_own_shared_context(
    fresh_contexts: list[object], tmp_path: Path
) -> None:
    cert, _ = _self_signed(tmp_path)
    first = MisHttpClient("test", "https://mis.example", verify=str(cert))
    second = MisHttpClient("test", "https://other.example", verify=str(cert))
    default = MisHttpClient("test", "https://mis.example")
    try:
        assert _context_of(first) is _context_of(second)
        assert _context_of(first) is not _context_of(default)
        assert len(fresh_contexts) == 2  # the bundle given, then the default roots
        assert fresh_contexts[0] == str(cert)
        assert len(_context_of(first).get_ca_certs()) == 1
    finally:
        for client in (first, second, default):
            await client.aclose()


# -- verification honoured against a real TLS server on loopback ------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """An https server on loopback with a self-signed certificate: (base URL, cert)."""
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    body = b'{"ok": true}'

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError):
            pass  # a client that refused our certificate
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"https://localhost:{port}", cert


async def test_an_untrusted_certificate_is_refused_by_default(
    tls_server: tuple[str, Path],
) -> None:
    url, _ = tls_server
    async with MisHttpClient("test", url, policy=FAST) as client:
        with pytest.raises(SourceUnavailableError):
            await client.get_json("/")


async def test_a_given_ca_bundle_is_trusted(tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server
    async with MisHttpClient("test", url, policy=FAST, verify=str(cert)) as client:
        assert await client.get_json("/") == {"ok": True}
