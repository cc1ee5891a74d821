"""The legacy Third Party Read Only Data Service client (docs.bromcom.com partner-api-integration).

SOAP 1.2 to ``TPReadonlyDataService.asmx``, namespace ``http://tempuri.org/``; each call
carries the school id and the per-school Bromcom user name and password, which live in
:class:`Secret` values and are only revealed into the request body. Answers are .NET
DataSets (``<NewDataSet><Table><Col>...``), parsed with defusedxml so that a hostile or
broken answer cannot expand entities or reach the network. A NULL column is simply
absent from its ``<Table>`` row.

A SOAP fault comes with HTTP 500. Faults that mean "wrong login" or "entity not ticked"
(recognised by the ``soap_auth_fault`` / ``soap_denied_fault`` patterns, as Bromcom's
wording is not documented) are final; any other fault is a server error and is retried
by the shared client like any other 500.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
import httpx
from defusedxml import DefusedXmlException

from misbridge.plugin import AuthenticationError, MisHttpClient, Secret, SourceFormatError
from misbridge_bromcom.partner import denied
from misbridge_bromcom.settings import BromcomConfig

__all__ = ["SoapApi", "parse_dataset"]

Row = dict[str, Any]

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TEMPURI = "http://tempuri.org/"


def parse_dataset(result: Element) -> list[Row]:
    """The rows of the DataSet inside a ``...Result`` element (text values, NULLs absent)."""
    rows: list[Row] = []
    for dataset in result.iter("NewDataSet"):
        for table in dataset:
            if table.tag == "Table":
                rows.append({child.tag: child.text or "" for child in table})
    return rows


def _read(body: bytes, what: str) -> Element:
    """Parse an answer. Malformed XML (a body cut short) raises ValueError, which the
    shared client retries; XML that tries entity expansion or external references is
    refused outright."""
    try:
        return SafeET.fromstring(body)  # type: ignore[no-any-return]
    except DefusedXmlException:
        raise SourceFormatError(
            f"bromcom: the legacy service answered {what} with XML we cannot read "
            "(it declares entities or external references, which are refused)",
            mis="bromcom",
            entity=what,
        ) from None
    except SafeET.ParseError as exc:
        raise ValueError(str(exc)) from None


def _fault_reason(root: Element) -> str | None:
    fault = root.find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    if fault is None:
        return None
    text = fault.find(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text")
    return (text.text if text is not None else None) or "unspecified fault"


class SoapApi:
    """One school's legacy-service connection."""

    def __init__(
        self,
        config: BromcomConfig,
        username: Secret,
        password: Secret,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.config = config
        url = config.soap_url
        self.path = url.raw_path.decode("ascii")
        self.http = MisHttpClient(
            "bromcom",
            str(url.copy_with(raw_path=b"/")),
            transport=transport,
            policy=config.policy,
        )
        self._username = username
        self._password = password
        self._auth = re.compile(config.auth_fault)
        self._denied = re.compile(config.denied_fault)

    async def aclose(self) -> None:
        await self.http.aclose()

    def _envelope(self, operation: str, args: list[tuple[str, str]]) -> bytes:
        inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in args)
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<soap12:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap12="{SOAP12}">'
            f'<soap12:Body><{operation} xmlns="{TEMPURI}">{inner}</{operation}>'
            "</soap12:Body></soap12:Envelope>"
        ).encode()

    def _final_fault(self, response: httpx.Response, body: bytes) -> bool:
        if response.status_code != 500 or b"Fault" not in body:
            return False
        try:
            reason = _fault_reason(SafeET.fromstring(body))
        except (SafeET.ParseError, DefusedXmlException):
            return False
        return reason is not None and bool(self._auth.search(reason) or self._denied.search(reason))

    async def call(self, operation: str, entity: str | None, entity_filter: str) -> Element:
        """Call one operation; the ``...Result`` element of its answer."""
        args = [("schoolID", self.config.school_id)]
        if entity is not None:
            args += [("entityName", entity), ("entityFilter", entity_filter)]
        # Revealed only here, into the body of a request to the configured host.
        args += [("username", self._username.reveal()), ("password", self._password.reveal())]
        media = f'application/soap+xml; charset=utf-8; action="{TEMPURI}{operation}"'
        what = entity or operation
        status, body, root = await self.http.post_bytes(
            self.path,
            self._envelope(operation, args),
            headers={"Content-Type": media},
            keep=self._final_fault,
            expect_media="xml",
            decode=lambda body: _read(body, what),
        )
        if root is None:  # a fault kept as final (status 500): read it here
            root = _read(body, what)
        reason = _fault_reason(root)
        if reason is not None or status != 200:
            raise self._fault_error(reason or f"HTTP {status}", entity)
        path = f"{{{SOAP12}}}Body/{{{TEMPURI}}}{operation}Response/{{{TEMPURI}}}{operation}Result"
        result = root.find(path)
        if result is None:
            raise SourceFormatError(
                f"bromcom: the legacy service's answer to {what} holds no {operation}Result",
                mis="bromcom",
                entity=what,
            )
        return result  # type: ignore[no-any-return]

    def _fault_error(self, reason: str, entity: str | None) -> Exception:
        if self._auth.search(reason):
            return AuthenticationError(
                "bromcom: the legacy service refused the Bromcom user name and password for "
                f"school {self.config.school_id}; check them (they are the third-party MIS "
                "user's, asked for at each run) and that --school-id is that user's school",
                mis="bromcom",
            )
        if self._denied.search(reason):
            return denied(entity or "findEntitiesBySchoolID")
        return SourceFormatError(
            f"bromcom: the legacy service reported a fault for {entity or 'the request'}: "
            f"{reason[:200]}",
            mis="bromcom",
            entity=entity,
        )

    async def pages(self, entity: str, entity_filter: str) -> AsyncIterator[list[Row]]:
        """The legacy service answers a whole entity at once: one page."""
        yield parse_dataset(await self.call("getEntityDataBySchoolID", entity, entity_filter))

    async def granted(self) -> set[str]:
        """The entity names ticked for this user (``findEntitiesBySchoolID``)."""
        result = await self.call("findEntitiesBySchoolID", None, "")
        name = self.config.vocab.field("granted", "name")
        # Bromcom pads text with trailing spaces.
        return {row[name].strip() for row in parse_dataset(result) if row.get(name, "").strip()}
