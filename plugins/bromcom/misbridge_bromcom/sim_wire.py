"""Encoding simulator rows the way each Bromcom service sends them.

- Partner Data API 2.0: JSON, camelCase names, dates as ``"2012-03-04T00:00:00"``
  (bromcom-essentials-dotnet parses ``value[..19]``), flags as the row holds them
  ("Yes"/"No" or booleans).
- Legacy SOAP service: a .NET ``DataSet`` (an inline ``xs:schema`` then a
  ``diffgr:diffgram`` holding ``<NewDataSet><Table>...``), as ASMX services serialise
  one: a NULL column is left out of its row, a date is an ``xs:dateTime`` with the
  server's UK offset (``+01:00`` in summer), a boolean is ``true``/``false`` and bytes
  are base64.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "SOAP_NS",
    "dataset_xml",
    "json_value",
    "soap_envelope",
    "soap_fault",
    "uk_offset",
]

SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
TEMPURI = "http://tempuri.org/"


@functools.lru_cache(maxsize=4096)
def _json_date(value: date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value.strftime("%Y-%m-%dT00:00:00")


@functools.lru_cache(maxsize=4096)
def _xml_date(value: date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S") + uk_offset(value.date())
    return value.strftime("%Y-%m-%dT00:00:00") + uk_offset(value)


def json_value(value: Any) -> Any:
    if isinstance(value, date):
        return _json_date(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def uk_offset(day: date) -> str:
    """The UK's UTC offset at midnight on ``day`` (BST from the last Sunday of March,
    switched at 01:00 UTC, to the last Sunday of October, switched at 01:00 UTC)."""
    if _last_sunday(day.year, 3) < day <= _last_sunday(day.year, 10):
        return "+01:00"
    return "+00:00"


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return _xml_date(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return escape(str(value))


def _xs_type(values: Iterable[Any]) -> str:
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "xs:boolean"
        if isinstance(value, int):
            return "xs:int"
        if isinstance(value, date):
            return "xs:dateTime"
        if isinstance(value, bytes):
            return "xs:base64Binary"
        return "xs:string"
    return "xs:string"


def dataset_xml(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """A .NET DataSet as ASMX writes it inside a ``...Result`` element."""
    types = [_xs_type(row.get(c) for row in rows) for c in columns]
    # A column whose values mix ints and text (sample ids such as "S1000") is text.
    for i, c in enumerate(columns):
        if types[i] == "xs:int" and any(isinstance(row.get(c), str) for row in rows):
            types[i] = "xs:string"
    schema = "".join(
        f'<xs:element name="{c}" type="{t}" minOccurs="0" />'
        for c, t in zip(columns, types, strict=True)
    )
    parts = [
        '<xs:schema id="NewDataSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">'
        '<xs:element name="NewDataSet" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">'
        '<xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded">'
        f'<xs:element name="Table"><xs:complexType><xs:sequence>{schema}'
        "</xs:sequence></xs:complexType></xs:element>"
        "</xs:choice></xs:complexType></xs:element></xs:schema>"
        '<diffgr:diffgram xmlns:msdata="urn:schemas-microsoft-com:xml-msdata" '
        'xmlns:diffgr="urn:schemas-microsoft-com:xml-diffgram-v1">'
    ]
    if rows:
        parts.append('<NewDataSet xmlns="">')
        for n, row in enumerate(rows):
            parts.append(f'<Table diffgr:id="Table{n + 1}" msdata:rowOrder="{n}">')
            for c in columns:
                value = row.get(c)
                if value is not None:  # DBNull: the element is left out
                    parts.append(f"<{c}>{_xml_text(value)}</{c}>")
            parts.append("</Table>")
        parts.append("</NewDataSet>")
    parts.append("</diffgr:diffgram>")
    return "".join(parts)


def soap_envelope(operation: str, result_xml: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
        f'<{operation}Response xmlns="{TEMPURI}"><{operation}Result>{result_xml}'
        f"</{operation}Result></{operation}Response></soap:Body></soap:Envelope>"
    ).encode()


def soap_fault(reason: str, code: str = "soap:Receiver") -> bytes:
    """A SOAP 1.2 fault as ASMX sends it (with HTTP 500)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><soap:Fault>'
        f"<soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="en">{escape(reason)}</soap:Text></soap:Reason>'
        "<soap:Detail /></soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
