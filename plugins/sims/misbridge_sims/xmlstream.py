"""A streaming, hostile-input-safe reader of CommandReporter's ``SuperStarReport`` XML.

Safety comes from defusedxml's parser (``forbid_dtd``, ``forbid_entities``,
``forbid_external``: a DOCTYPE is refused at once, so billion laughs, quadratic
blow-up, external entities and external DTDs never expand or fetch anything) plus caps
defusedxml does not have, each refused the moment it is crossed:

- the input's bytes (``max_report_bytes``);
- nesting depth (expat parses a 100,000-deep document happily);
- distinct element names: expat, pyexpat and the name cache each keep every distinct
  name, so 300 MB of distinct tags grew 3.6 GB before this cap;
- characters per value (a photo column has its own, larger cap): one 300 MB value grew
  600 MB as its pieces were joined;
- bytes of one unfinished token (a start tag, an attribute, a comment): expat keeps the
  whole token and rescans it on every chunk, so a 50 MB tag name took 20 s and 200 MB.

The bytes pass through :class:`~misbridge_sims.encoding.ReportDecoder` first, which
checks they are in the encoding taken (the declaration, or the console's code page) and
hands expat UTF-8.

No tree is built: a parser *target* turns each ``<Record>`` into a flat dict the moment
it closes, so memory holds one record at a time whatever the report's size.

Element names are column captions encoded by .NET ``XmlConvert.EncodeName``
(``Legal_x0020_Surname``); :func:`decode_name` turns them back. A root of
``<CommandReporterError>`` is CommandReporter's way of failing: its text is kept for
:mod:`misbridge_sims.errors` to classify.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from misbridge.plugin import SourceFormatError
from misbridge_sims.encoding import ReportDecoder

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NAMES",
    "DEFAULT_MAX_TOKEN_BYTES",
    "DEFAULT_MAX_VALUE_CHARS",
    "ERROR_ROOT",
    "REPORT_ROOT",
    "Record",
    "ReportParser",
    "decode_name",
]

REPORT_ROOT = "SuperStarReport"
ERROR_ROOT = "CommandReporterError"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: SuperStarReport / Record / Column is three deep; allow a little for wrappers.
DEFAULT_MAX_DEPTH = 16
#: Distinct element names in one report; the plugin's largest report has 32 columns.
DEFAULT_MAX_NAMES = 512
#: Characters in one value; an address block is a few hundred.
DEFAULT_MAX_VALUE_CHARS = 64 * 1024
#: Bytes of one unfinished token; a report's longest tag is a few dozen.
DEFAULT_MAX_TOKEN_BYTES = 64 * 1024
_MAX_ERROR_CHARS = 4000

Record = Mapping[str, str]

# XmlConvert.EncodeName writes _xHHHH_ (and _xHHHHHHHH_ beyond the BMP). ESS's own guide
# shows "My_X0020Name" (capital X, no closing underscore), so that spelling is read too.
_ENCODED = re.compile(r"_x([0-9A-Fa-f]{8})_|_[xX]([0-9A-Fa-f]{4})_?")


@lru_cache(maxsize=4096)
def decode_name(name: str) -> str:
    """The column caption for an element name: ``Legal_x0020_Surname`` -> ``Legal Surname``."""
    if "_" not in name:
        return name

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        try:
            return chr(code)
        except (ValueError, OverflowError):
            return match.group(0)

    return _ENCODED.sub(char, name)


def _local(tag: str) -> str:
    # Namespaced names arrive as "{uri}name" (ElementTree) or "uri}name" (expat).
    return tag.rpartition("}")[2] if "}" in tag else tag


class _Target:
    """Parser target: builds flat records, enforces the depth cap, keeps no tree.

    Column elements (depth 3 inside a ``<Record>``) are nearly every event, so they take
    the first branch of each handler; everything else goes the careful way.
    """

    def __init__(
        self,
        source: str,
        max_depth: int,
        max_names: int,
        max_chars: int,
        value_caps: Mapping[str, int],
    ) -> None:
        self.source = source
        self.max_depth = max(max_depth, 3)
        self.max_names = max_names
        self.max_chars = max_chars
        self.value_caps = value_caps
        self.cap = max_chars  # of the column being read
        self.chars = 0
        self.depth = 0
        self.root: str | None = None
        self.records: list[dict[str, str]] = []
        self.record: dict[str, str] | None = None
        self.column: str | None = None
        self.text: list[str] = []
        self.error_text: list[str] = []
        self.error_chars = 0
        self.names: dict[str, str] = {}
        self.other_names: set[str] = set()
        self.count = 0  # records finished

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        depth = self.depth = self.depth + 1
        if depth == 3 and self.record is not None:
            name = self.names.get(tag)
            if name is None:
                name = self._new_name(tag)
            self.column = name
            self.text = []
            self.chars = 0
            self.cap = self.value_caps.get(name, self.max_chars)
            return
        if tag not in self.other_names:
            self._count(tag)
            self.other_names.add(tag)
        if depth > self.max_depth:
            raise SourceFormatError(
                f"{self.source}: the XML nests deeper than {self.max_depth} levels; a "
                "CommandReporter report is three levels deep, so this is not a report",
                source=self.source,
            )
        name = _local(tag)
        if depth == 1:
            if name not in (REPORT_ROOT, ERROR_ROOT):
                raise SourceFormatError(
                    f"{self.source}: the XML root is <{name[:60]}>, not <{REPORT_ROOT}> or "
                    f"<{ERROR_ROOT}>; is this a CommandReporter XML report?",
                    source=self.source,
                )
            self.root = name
        elif depth == 2 and name == "Record" and self.root == REPORT_ROOT:
            self.record = {}

    def _new_name(self, tag: str) -> str:
        self._count(tag)
        name = self.names[tag] = decode_name(_local(tag))
        return name

    def _count(self, tag: str) -> None:
        if len(self.names) + len(self.other_names) >= self.max_names:
            raise SourceFormatError(
                f"{self.source}: the report has more than {self.max_names:,} distinct element "
                f"names (the last was <{tag[:40]}>); a CommandReporter report has one per "
                "column, so this is not one of misbridge's reports",
                source=self.source,
            )
        if len(tag) > 1024:
            raise SourceFormatError(
                f"{self.source}: an element name is {len(tag):,} characters long; a report's "
                "column captions are short, so this is not a CommandReporter report",
                source=self.source,
            )

    def data(self, text: str) -> None:
        if self.column is not None:
            self.text.append(text)
            self.chars += len(text)
            if self.chars > self.cap:
                raise SourceFormatError(
                    f"{self.source}: a value of column '{self.column[:60]}' is longer than "
                    f"{self.cap:,} characters (record {self.count + 1}); "
                    "no column of misbridge's reports holds that much, so the report was "
                    "refused",
                    source=self.source,
                )
        elif self.root == ERROR_ROOT and self.error_chars < _MAX_ERROR_CHARS:
            self.error_text.append(text)
            self.error_chars += len(text)

    def end(self, tag: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if depth == 3:
            if self.column is not None and self.record is not None:
                # Captions are unique within a report (SIMS refuses duplicates), so a
                # repeat is not a column we know: keep the first value.
                text = self.text
                self.record.setdefault(self.column, text[0] if len(text) == 1 else "".join(text))
                self.column = None
        elif depth == 2 and self.record is not None:
            self.records.append(self.record)
            self.record = None
            self.count += 1

    def close(self) -> None:
        return None


class ReportParser:
    """Push parser for one report: :meth:`feed` bytes, get the records completed so far.

    ``source`` names the report (or file) in every error. Raises
    :class:`~misbridge.errors.SourceFormatError` for hostile or malformed input.
    """

    def __init__(
        self,
        source: str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_names: int = DEFAULT_MAX_NAMES,
        max_value_chars: int = DEFAULT_MAX_VALUE_CHARS,
        value_caps: Mapping[str, int] | None = None,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        decoder: ReportDecoder | None = None,
    ) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.max_token_bytes = max_token_bytes
        self.bytes = 0
        self._fed = 0  # UTF-8 bytes handed to expat
        self._decoder = decoder or ReportDecoder(source, hint=FILE_ENCODING_HINT)
        self._target = _Target(
            source, max_depth, max_names, max_value_chars, dict(value_caps or {})
        )
        # The encoding is fixed to UTF-8 (the decoder's output): expat then ignores the
        # declaration, so no unknown encoding name reaches it.
        self._parser = DefusedXMLParser(
            target=self._target,
            encoding="utf-8",
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        expat = self._expat = getattr(self._parser, "parser", None)
        if expat is not None:
            # defusedxml has installed its DTD and entity guards on the expat parser; the
            # element events go straight to our target instead of through ElementTree's
            # pure-Python adapter, which doubled the cost per element.
            expat.buffer_text = True
            expat.StartElementHandler = self._target.start
            expat.EndElementHandler = self._target.end
            expat.CharacterDataHandler = self._target.data
        self._closed = False

    @property
    def root(self) -> str | None:
        return self._target.root

    @property
    def error_text(self) -> str | None:
        """The text of a ``<CommandReporterError>`` answer, whitespace collapsed."""
        if self._target.root != ERROR_ROOT:
            return None
        return " ".join("".join(self._target.error_text).split())[:_MAX_ERROR_CHARS]

    def feed(self, data: bytes) -> list[dict[str, str]]:
        self.bytes += len(data)
        if self.bytes > self.max_bytes:
            raise too_large(self.source, self.max_bytes)
        self._parse(self._decoder.feed(data))
        return self._take()

    def _parse(self, data: bytes) -> None:
        if not data:
            return
        self._fed += len(data)
        try:
            self._parser.feed(data)
        except (DefusedXmlException, ParseError, ValueError) as exc:
            raise self._refused(exc) from None
        expat = self._expat
        if expat is not None and self._fed - expat.CurrentByteIndex > self.max_token_bytes:
            # expat stops at the start of a token it has not seen the end of.
            raise SourceFormatError(
                f"{self.source}: the report holds a tag, attribute or comment longer than "
                f"{self.max_token_bytes:,} bytes (from byte {expat.CurrentByteIndex:,}); a "
                "CommandReporter report has none, so it was refused",
                source=self.source,
            )

    def close(self) -> list[dict[str, str]]:
        if self._closed:
            return []
        self._closed = True
        if self.bytes == 0:
            raise SourceFormatError(
                f"{self.source}: CommandReporter wrote no XML (empty output)", source=self.source
            )
        self._parse(self._decoder.close())
        try:
            self._parser.close()
        except (DefusedXmlException, ParseError, ValueError) as exc:
            raise self._refused(exc) from None
        if self._target.root is None:
            raise SourceFormatError(
                f"{self.source}: CommandReporter wrote no XML (empty output)", source=self.source
            )
        return self._take()

    def _take(self) -> list[dict[str, str]]:
        records = self._target.records
        if records:
            self._target.records = []
        return records

    @property
    def encoding(self) -> str | None:
        """The encoding the report was read in, once decided."""
        return self._decoder.codec

    def _refused(self, exc: Exception) -> SourceFormatError:
        if isinstance(exc, SourceFormatError):
            return exc
        if isinstance(exc, DefusedXmlException):
            # DTDs and entities have no place in a report: refusing them is what stops
            # entity expansion and external fetches.
            reason = f"it declares a DTD or entity ({type(exc).__name__}), which is refused"
        else:
            reason = f"it is not well-formed XML ({str(exc)[:200]})"
        return SourceFormatError(
            f"{self.source}: the report XML was refused: {reason}", source=self.source
        )


FILE_ENCODING_HINT = (
    "export the report again with CommandReporter /OUTPUT (a file re-saved by an editor "
    "or another program may no longer be in the encoding it declares)"
)


def too_large(source: str, cap: int) -> SourceFormatError:
    return SourceFormatError(
        f"{source}: the report is larger than the {cap:,}-byte cap; raise the "
        "'max_report_bytes' setting if this school really is that large",
        source=source,
    )
