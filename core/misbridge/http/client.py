"""The HTTP client itself: one httpx client per MIS host, the policy applied to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson
import stamina
import structlog

from misbridge.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    SourceError,
    SourceFormatError,
    SourceUnavailableError,
)
from misbridge.http.policy import RETRY_STATUSES, HttpPolicy, parse_retry_after
from misbridge.http.ratelimit import fingerprint, rate_limiter
from misbridge.http.tls import no_tls_context, tls_context

__all__ = ["MisHttpClient"]

log = structlog.get_logger()


def _host(url: httpx.URL) -> str:
    return f"{url.host}:{url.port}" if url.port else str(url.host)


def _connect_problem(exc: BaseException) -> str | None:
    """ "the host name is unknown" or "the connection was refused", if that is why."""
    import socket

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, socket.gaierror):
            return "the host name is unknown (DNS)"
        if isinstance(seen, ConnectionRefusedError):
            return "the connection was refused (nothing listens there)"
        seen = seen.__cause__ or seen.__context__
    return None


class _Retryable(Exception):
    """A failure worth another attempt; ``wait`` overrides the backoff when set."""

    def __init__(self, error: SourceError, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


class MisHttpClient:
    """An httpx client bound to one MIS host, with :class:`HttpPolicy` applied.

    ``requests_sent`` counts every attempt (retries included), for tests and benchmarks.
    ``verify`` is how an https server's certificate is checked: True (the default:
    certifi's roots), a CA bundle's path, or False (no check, only when asked outright);
    the TLS context is shared by every client with the same setting
    (:mod:`misbridge.http.tls`).
    """

    def __init__(
        self,
        mis: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: HttpPolicy | None = None,
        allowed_hosts: frozenset[str] | None = None,
        verify: bool | str = True,
    ) -> None:
        self.mis = mis
        self.policy = policy or HttpPolicy()
        base = httpx.URL(base_url)
        if base.scheme not in ("https", "http") or not base.host:
            raise SourceFormatError(f"{mis}: base URL must be an http(s) URL", mis=mis)
        self.allowed_hosts = (allowed_hosts or frozenset()) | {base.host}
        # A given transport (a simulator's, a test's) makes its own connections, if any.
        context = None
        if transport is None:
            context = tls_context(verify) if base.scheme == "https" else no_tls_context()
        self._client = httpx.AsyncClient(
            base_url=base,
            headers=dict(headers or {}),
            auth=auth,
            transport=transport,
            verify=context if context is not None else True,
            timeout=httpx.Timeout(self.policy.timeout),
            limits=httpx.Limits(
                max_connections=self.policy.concurrency,
                max_keepalive_connections=self.policy.concurrency,
            ),
            follow_redirects=False,
            trust_env=False,
        )
        self._slots = asyncio.Semaphore(self.policy.concurrency)
        self.requests_sent = 0
        self._limiter = rate_limiter.get()
        self._token = fingerprint(dict(headers or {}), auth) if self._limiter else ""

    async def __aenter__(self) -> MisHttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def check_url(self, url: str | httpx.URL) -> httpx.URL:
        """The absolute URL of ``url``, refused if it points off the allowed hosts."""
        target = (
            self._client.base_url.join(url) if not str(url).startswith("http") else httpx.URL(url)
        )
        if target.host not in self.allowed_hosts or target.scheme != self._client.base_url.scheme:
            raise SourceFormatError(
                f"{self.mis}: refused to follow a link to {target.scheme}://{target.host}, "
                "which is not the MIS host; the answer may have been tampered with",
                mis=self.mis,
                host=target.host,
            )
        return target

    async def get_json(self, url: str | httpx.URL, params: Mapping[str, Any] | None = None) -> Any:
        _, _, data = await self._send("GET", url, params=params, parse_json=True)
        return data

    async def get_json_or_error(
        self,
        url: str | httpx.URL,
        params: Mapping[str, Any] | None = None,
        *,
        errors: frozenset[int] = frozenset({404, 422}),
    ) -> tuple[int, Any]:
        """GET JSON; an answer whose status is in ``errors`` is handed back with its
        decoded body (neither raised nor retried), for APIs whose error bodies say what
        is wrong (Arbor's ``{"response": {"errors": [...]}}``). The caller decides what
        of that body may go into a message."""
        response, _, data = await self._send(
            "GET", url, params=params, allow=set(errors), parse_json=True
        )
        return response.status_code, data

    async def post_json(self, url: str | httpx.URL, payload: Any) -> Any:
        """POST for reads that are safe to repeat (a GraphQL query): retried like a GET."""
        _, _, data = await self._send("POST", url, json_body=payload, parse_json=True)
        return data

    async def post_bytes(
        self,
        url: str | httpx.URL,
        content: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        keep: Callable[[httpx.Response, bytes], bool] | None = None,
        expect_media: str | None = None,
        decode: Callable[[bytes], Any] | None = None,
    ) -> tuple[int, bytes, Any]:
        """POST a body for a read that is safe to repeat (a SOAP query): retried like a GET.

        Returns the status, the body and ``decode(body)`` (None without ``decode`` or for
        a non-200 answer). ``keep(response, body)`` returning True hands an error answer
        back as it is, neither raised nor retried: for protocols that carry their own
        errors in the body (a SOAP fault comes with HTTP 500). A 200 answer whose media
        type lacks ``expect_media`` (a maintenance page), or that ``decode`` rejects with
        ``ValueError`` (a body cut short), is an outage and is retried, as for JSON.
        """
        response, body, data = await self._send(
            "POST",
            url,
            content=content,
            headers=headers,
            keep=keep,
            expect_media=expect_media,
            decode=decode,
        )
        return response.status_code, body, data

    async def get_bytes(
        self, url: str | httpx.URL, *, missing_ok: bool = False
    ) -> tuple[bytes, str | None] | None:
        """Raw bytes and media type; None for a 404 when ``missing_ok``."""
        response, body, _ = await self._send("GET", url, allow={404} if missing_ok else None)
        if response.status_code == 404:
            return None
        return body, response.headers.get("content-type")

    async def _send(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        allow: set[int] | None = None,
        parse_json: bool = False,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        keep: Callable[[httpx.Response, bytes], bool] | None = None,
        expect_media: str | None = None,
        decode: Callable[[bytes], Any] | None = None,
    ) -> tuple[httpx.Response, bytes, Any]:
        """Send one logical request with retries: the final response, body and JSON."""
        target = self.check_url(url)
        policy = self.policy

        def backoff(exc: Exception) -> bool | float:
            if not isinstance(exc, _Retryable):
                return False
            return exc.wait if exc.wait is not None else True

        try:
            async for attempt in stamina.retry_context(
                on=backoff,
                attempts=policy.attempts,
                timeout=None,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
                wait_jitter=policy.wait_initial,
            ):
                with attempt:
                    response, body = await self._attempt(
                        method, target, params, json_body, allow, content, headers, keep
                    )
                    data = self._decode_json(response, body) if parse_json else None
                    if expect_media is not None and response.status_code == 200:
                        self._check_media(response, expect_media)
                    if decode is not None and response.status_code == 200:
                        data = self._decode_with(decode, response, body)
                    return response, body, data
        except _Retryable as exc:
            raise exc.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        target: httpx.URL,
        params: Mapping[str, Any] | None,
        json_body: Any,
        allow: set[int] | None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        keep: Callable[[httpx.Response, bytes], bool] | None = None,
    ) -> tuple[httpx.Response, bytes]:
        path = target.path
        async with self._slots:
            if self._limiter is not None:
                await self._limiter.acquire(_host(target), self._token)
            self.requests_sent += 1
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.policy.request_deadline):
                    request = self._client.build_request(
                        method,
                        target,
                        params=params,
                        json=json_body,
                        content=content,
                        headers=headers,
                    )
                    response = await self._client.send(request, stream=True)
                    try:
                        body = await self._read_capped(response)
                    finally:
                        await response.aclose()
            except TimeoutError:
                raise _Retryable(
                    SourceUnavailableError(
                        f"{self.mis}: {method} {path} took longer than "
                        f"{self.policy.request_deadline:g}s and was abandoned",
                        mis=self.mis,
                        path=path,
                    )
                ) from None
            except httpx.ConnectError as exc:
                problem = _connect_problem(exc)
                if problem is not None:
                    # A host that does not exist or refuses the connection will not
                    # change its mind in the next minutes: say so now, not after retries.
                    raise SourceUnavailableError(
                        f"{self.mis}: cannot connect to {target.host}"
                        f"{f':{target.port}' if target.port else ''}: {problem}; check the "
                        "base URL (the MIS's address), this machine's network and its "
                        "firewall or proxy",
                        mis=self.mis,
                        host=target.host,
                    ) from None
                raise _Retryable(
                    SourceUnavailableError(
                        f"{self.mis}: {method} {path} on {target.host} failed: could not "
                        "connect; check the network",
                        mis=self.mis,
                        path=path,
                    )
                ) from None
            except httpx.TransportError as exc:
                raise _Retryable(
                    SourceUnavailableError(
                        f"{self.mis}: {method} {path} failed: {type(exc).__name__}",
                        mis=self.mis,
                        path=path,
                    )
                ) from None
        status = response.status_code
        log.debug(
            "http.response",
            mis=self.mis,
            method=method,
            path=path,
            status=status,
            seconds=round(time.monotonic() - started, 3),
        )
        if (allow and status in allow) or (keep is not None and keep(response, body)):
            return response, body
        if status in RETRY_STATUSES:
            if status == 429 and self._limiter is not None:
                wait = parse_retry_after(response.headers.get("retry-after"))
                await self._limiter.pause(_host(target), self._token, wait or 1.0)
            self._raise_retryable(method, path, response)
        if status == 401:
            raise AuthenticationError(
                f"{self.mis}: the MIS refused the credentials (HTTP 401 on {path}); "
                "check the token or password stored for this MIS",
                mis=self.mis,
                path=path,
            )
        if status == 403:
            raise PermissionDeniedError(
                f"{self.mis}: access denied to {path} (HTTP 403); "
                "the school has not granted this data to the application",
                missing=(path,),
                mis=self.mis,
                path=path,
            )
        if status >= 400:
            raise SourceFormatError(
                f"{self.mis}: {method} {path} answered HTTP {status}",
                mis=self.mis,
                path=path,
                status=status,
            )
        if 300 <= status < 400:
            raise SourceFormatError(
                f"{self.mis}: {method} {path} answered a redirect (HTTP {status}); "
                "redirects are not followed, check the base URL",
                mis=self.mis,
                path=path,
            )
        return response, body

    def _raise_retryable(self, method: str, path: str, response: httpx.Response) -> None:
        status = response.status_code
        wait = parse_retry_after(response.headers.get("retry-after"))
        if wait is not None and wait > self.policy.max_retry_after:
            raise RateLimitedError(
                f"{self.mis}: the MIS asked us to wait {wait:.0f}s before retrying {path}, "
                f"more than the {self.policy.max_retry_after:.0f}s allowed; run the extract "
                "later or raise http_max_retry_after",
                retry_after=wait,
                mis=self.mis,
                path=path,
            )
        log.info("http.retry", mis=self.mis, path=path, status=status, retry_after=wait)
        error: SourceError
        if status == 429:
            error = RateLimitedError(
                f"{self.mis}: still rate limited on {path} after "
                f"{self.policy.attempts} attempts; run the extract later",
                retry_after=wait,
                mis=self.mis,
                path=path,
            )
        else:
            error = SourceUnavailableError(
                f"{self.mis}: {method} {path} still failing with HTTP {status} after "
                f"{self.policy.attempts} attempts; the MIS may be down, try again later",
                mis=self.mis,
                path=path,
                status=status,
            )
        raise _Retryable(error, wait)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.policy.max_body_bytes:
                raise SourceFormatError(
                    f"{self.mis}: answer from {response.request.url.path} is larger than "
                    f"{self.policy.max_body_bytes} bytes and was refused",
                    mis=self.mis,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode_with(
        self, decode: Callable[[bytes], Any], response: httpx.Response, body: bytes
    ) -> Any:
        try:
            return decode(body)
        except ValueError:
            path = response.request.url.path
            raise _Retryable(
                SourceUnavailableError(
                    f"{self.mis}: {path} answered a body that could not be read (cut short?); "
                    "nothing was read, try again later",
                    mis=self.mis,
                    path=path,
                )
            ) from None

    def _check_media(self, response: httpx.Response, expected: str) -> None:
        media = response.headers.get("content-type", "")
        if expected not in media:
            path = response.request.url.path
            raise _Retryable(
                SourceUnavailableError(
                    f"{self.mis}: {path} answered {media or 'no content type'} instead of "
                    f"{expected} (a maintenance page?); nothing was read, try again later",
                    mis=self.mis,
                    path=path,
                )
            )

    def _decode_json(self, response: httpx.Response, body: bytes) -> Any:
        path = response.request.url.path
        media = response.headers.get("content-type", "")
        try:
            if "json" not in media:
                raise ValueError(media)
            return orjson.loads(body)
        except ValueError:
            # A maintenance page with status 200 is an outage, not an empty school.
            raise _Retryable(
                SourceUnavailableError(
                    f"{self.mis}: {path} answered {media or 'no content type'} instead of JSON "
                    "(a maintenance page?); nothing was read, try again later",
                    mis=self.mis,
                    path=path,
                )
            ) from None
