"""The agent's calls to its hub: outbound HTTPS only, nothing ever listens at the school.

- The hub URL must be https; plain http is accepted only to the loopback interface.
- Redirects are not followed, environment proxies and ``.netrc`` are ignored unless
  asked for, so no token can be sent anywhere but the hub.
- The long poll's read timeout is the hold plus a margin, so a dead connection is
  noticed, never waited on forever.

Every refusal becomes :class:`HubRefused` with the hub's status and message; transport
failures become :class:`HubUnreachable`. Neither carries a token.
"""

from __future__ import annotations

from typing import Any

import httpx

from misbridge._version import __version__
from misbridge.errors import ConfigurationError, SourceUnavailableError
from misbridge.hooktypes import Secret
from misbridge.hub.protocol import API, HEADER_OFFSET, content_digest, is_loopback

__all__ = ["AgentHub", "HubRefused", "HubUnreachable", "check_hub_url"]

USER_AGENT = f"misbridge-agent/{__version__}"


class HubUnreachable(SourceUnavailableError):
    """The hub could not be reached (or answered 5xx); try again later."""


class HubRefused(SourceUnavailableError):
    """The hub answered with a refusal (4xx)."""

    def __init__(self, message: str, status: int, body: dict[str, Any]) -> None:
        super().__init__(message, status=status)
        self.status = status
        self.body = body


def check_hub_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise ConfigurationError(f"{url[:80]!r} is not a hub URL") from None
    loopback = is_loopback(parsed.host)
    if parsed.scheme == "https" or (parsed.scheme == "http" and loopback):
        return str(parsed).rstrip("/")
    raise ConfigurationError(
        f"the hub URL must be https (plain http only to this machine's loopback): {url[:80]}"
    )


class AgentHub:
    """One hub, called with one bearer token at a time."""

    def __init__(
        self,
        url: str,
        token: Secret | None = None,
        *,
        ca_file: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = check_hub_url(url)
        self.token = token
        self._client = httpx.Client(
            base_url=self.url + API,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            verify=ca_file if ca_file else True,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Misbridge-Agent-Version": __version__},
        )

    def close(self) -> None:
        self._client.close()

    def _headers(self, token: Secret | None) -> dict[str, str]:
        chosen = token or self.token
        return {"Authorization": f"Bearer {chosen.reveal()}"} if chosen else {}

    def call(
        self,
        method: str,
        path: str,
        *,
        token: Secret | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        try:
            response = self._client.request(
                method,
                path,
                json=json,
                params=params,
                content=content,
                headers={**self._headers(token), **(headers or {})},
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise HubUnreachable(
                f"the hub at {self.url} could not be reached ({type(exc).__name__})"
            ) from None
        if response.status_code >= 500:
            raise HubUnreachable(f"the hub answered HTTP {response.status_code}; retrying later")
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if response.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            raise HubRefused(
                f"the hub refused {method} {path.split('?')[0]}: "
                f"{message or f'HTTP {response.status_code}'}",
                response.status_code,
                body if isinstance(body, dict) else {},
            )
        return body

    # -- the agent's own calls ------------------------------------------------------

    def activate(self, code: str, public_key: str, hostname: str | None) -> dict[str, Any]:
        body = {"code": code, "public_key": public_key, "version": __version__}
        if hostname:
            body["hostname"] = hostname
        result: dict[str, Any] = self.call("POST", "/agent/activate", json=body)
        return result

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/agent/me")
        return result

    def jobs(self, wait: float) -> list[dict[str, Any]]:
        body = self.call("GET", "/agent/jobs", params={"wait": wait}, timeout=wait + 20.0)
        return list(body.get("jobs", []))

    def job(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/agent/jobs/{request_id}")
        return result

    def claim(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/agent/jobs/{request_id}/claim")
        return result

    def integrator_token(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/agent/jobs/{request_id}/token")
        return result

    def fail_claimed(self, request_id: str, reason: str) -> None:
        self.call("POST", f"/agent/jobs/{request_id}/fail", json={"reason": reason[:2000]})

    def history(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/agent/history").get("requests", []))

    def purge(self, school_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/agent/purge", json={"confirm": school_id})
        return result

    # -- with the Integrator Token --------------------------------------------------

    def status(self, token: Secret, request_id: str, detail: str) -> None:
        self.call("POST", f"/runs/{request_id}/status", token=token, json={"detail": detail})

    def fail(self, token: Secret, request_id: str, reason: str) -> None:
        self.call("POST", f"/runs/{request_id}/fail", token=token, json={"reason": reason[:2000]})

    def put_errors(
        self, token: Secret, request_id: str, rows: list[dict[str, Any]], summary: dict[str, Any]
    ) -> int:
        body = self.call(
            "PUT",
            f"/runs/{request_id}/errors",
            token=token,
            json={"errors": rows, "summary": summary},
        )
        return int(body.get("stored", 0))

    def begin_upload(self, token: Secret, request_id: str, size: int, sha256: str) -> Any:
        return self.call(
            "POST", f"/runs/{request_id}/upload", token=token, json={"size": size, "sha256": sha256}
        )

    def upload_status(self, token: Secret, request_id: str) -> Any:
        return self.call("GET", f"/runs/{request_id}/upload", token=token)

    def send_chunk(self, token: Secret, request_id: str, offset: int, data: bytes) -> Any:
        return self.call(
            "PATCH",
            f"/runs/{request_id}/upload",
            token=token,
            content=data,
            headers={
                HEADER_OFFSET: str(offset),
                "Content-Digest": content_digest(data),
                "Content-Type": "application/offset+octet-stream",
            },
            timeout=120.0,
        )

    def complete(self, token: Secret, request_id: str, datasets: list[str]) -> Any:
        return self.call(
            "POST",
            f"/runs/{request_id}/upload/complete",
            token=token,
            json={"datasets": datasets},
        )
