"""Which encoding a report's bytes are really in, checked as they stream, as UTF-8 out.

A report file carries its own encoding: a byte order mark, else the XML declaration's
``encoding``, else UTF-8 (XML 1.0, appendix F). CommandReporter's *standard output* need
not: a Windows program writing to a redirected console encodes text in the console's
output code page (``chcp``: 850 or 437 on most UK servers), whatever the XML declaration
it writes says (.NET ``Console.Out`` uses ``Console.OutputEncoding``; public consumers
that read CommandReporter's stdout decode it with that same code page). So in stdout mode
the encoding is a setting (``console_encoding``):

- ``declared``: as a file (byte order mark, declaration, UTF-8);
- a code page (``cp850``, ``cp1252``, ``utf-8``): the bytes are in it whatever they
  declare (a byte order mark still wins: it cannot be mistaken);
- ``auto`` (the default): the declared encoding while the bytes bear it out; when the
  first non-ASCII character is not valid in it, the console's code page of this machine.

Two mistakes are refused, never read as mojibake: bytes that are not valid in the chosen
encoding, and UTF-8 bytes under a single-byte declaration (``windows-1252``: "Zoë" would
read "ZoÃ«"). The first non-ASCII character decides: UTF-8's multi-byte sequences are
vanishingly unlikely in real single-byte text (a capital A with tilde followed by a
punctuation sign). Everything before it is ASCII, which reads the same in every code page
a console uses, so deciding there loses nothing and holds nothing back.

The bytes handed on are UTF-8, for a parser whose encoding is fixed to UTF-8 (it then
ignores the declaration, so an unknown encoding name can never reach it).
"""

from __future__ import annotations

import codecs
import re
import sys
from functools import lru_cache

from misbridge.plugin import SourceFormatError

__all__ = ["AUTO", "DECLARED", "ReportDecoder", "check_encoding_name", "console_code_page"]

DECLARED = "declared"
AUTO = "auto"
_HEAD_MAX = 1024
_DECLARATION = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([^"']{0,60})["']""")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: "<?" in UTF-16 without a byte order mark (XML 1.0 appendix F).
_UTF16_NO_BOM = ((b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"))


def console_code_page() -> str | None:
    """The code page a console program started from here writes in (Windows only):
    the console's output code page, else the OEM code page a new console would get."""
    if sys.platform == "win32":  # pragma: no cover - the tests run on POSIX
        import ctypes

        kernel32 = ctypes.windll.kernel32
        page = int(kernel32.GetConsoleOutputCP()) or int(kernel32.GetOEMCP())
        return f"cp{page}" if page else None
    return None


def check_encoding_name(name: str) -> str:
    """Python's canonical name for an encoding; raises LookupError for an unknown one."""
    return codecs.lookup(name).name


def _utf8_sequence(data: bytes, at: int) -> bool | None:
    """Whether the non-ASCII byte at ``at`` starts a valid UTF-8 multi-byte sequence;
    None when the chunk ends before that can be told."""
    lead = data[at]
    size = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4
    if not 0xC2 <= lead <= 0xF4:
        return False
    if len(data) < at + size:
        return None
    try:
        data[at : at + size].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _first_non_ascii(data: bytes) -> int:
    if data.isascii():
        return -1
    found = _NON_ASCII.search(data)
    return found.start() if found else -1


class ReportDecoder:
    """Push decoder for one report: :meth:`feed` raw bytes, get UTF-8 bytes back.

    ``mode`` is ``declared``, ``auto`` or a codec name; ``console`` is the code page
    ``auto`` falls back to (None: there is none to fall back to); ``hint`` says what to
    do when the bytes are not in the encoding they were taken to be in.
    """

    def __init__(
        self, source: str, mode: str = DECLARED, *, console: str | None = None, hint: str = ""
    ) -> None:
        self.source = source
        self.mode = mode
        self.console = console
        self.hint = hint
        self.codec: str | None = None  # decided once the head has been seen
        self.declared: str | None = None  # as the declaration spells it
        self._head = bytearray()
        self._position = 0  # raw bytes decoded so far
        self._pending = b""  # a non-ASCII sequence cut by the chunk's end
        self._checked = False  # the first non-ASCII character has been judged
        self._decoder: codecs.IncrementalDecoder | None = None
        self._transcode = False
        self._bom = b""

    # -- public ----------------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        if self.codec is None:
            self._head += data
            if not self._head_complete():
                return b""
            data = self._take_head()
        return self._convert(data, final=False)

    def close(self) -> bytes:
        out = b""
        if self.codec is None:
            if not self._head:
                return b""
            out = self._convert(self._take_head(), final=False)
        return out + self._convert(b"", final=True)

    # -- the head: byte order mark and declaration -----------------------------------------
    def _head_complete(self) -> bool:
        head = bytes(self._head)
        if len(head) >= _HEAD_MAX:
            return True
        if len(head) < 4:
            return False
        if _family(head) not in (None, "utf-8"):
            return True  # UTF-16 or UTF-32: the mark or the pattern already decides
        body = head.removeprefix(codecs.BOM_UTF8)
        if not b"<?xml".startswith(body[:5]):
            return True  # no declaration
        return len(body) >= 5 and b"?>" in body

    def _take_head(self) -> bytes:
        head = bytes(self._head)
        self._head = bytearray()
        self._decide(head)
        return head

    def _decide(self, head: bytes) -> None:
        mark, bom = next(((m, c) for m, c in _BOMS if head.startswith(m)), (b"", None))
        family = _family(head)
        body = head[len(mark) :].decode(
            family if family not in (None, "utf-8") else "latin-1", "replace"
        )
        match = _DECLARATION.match(body.encode("ascii", "replace"))
        declared: str | None = None
        if match:
            self.declared = match.group(1).decode("ascii", "replace")
            try:
                declared = check_encoding_name(self.declared)
            except LookupError:
                raise SourceFormatError(
                    f"{self.source}: the report declares the encoding {self.declared!r}, which "
                    f"is not a known encoding, so its names cannot be read; {self.hint}",
                    source=self.source,
                ) from None
        if bom is not None:
            self._bom = mark
            if declared and bom == "utf-8" and _single_byte(declared):
                raise self._mismatch(declared, "starts with a UTF-8 byte order mark")
            codec = bom
        elif self.mode in (DECLARED, AUTO):
            # "<?" in UTF-16 says which byte order; a declared "utf-16" does not.
            codec = family if family not in (None, "utf-8") else declared or "utf-8"
        else:
            codec = check_encoding_name(self.mode)
        self._start(codec)

    def _start(self, codec: str) -> None:
        self.codec = check_encoding_name(codec)
        self._transcode = self.codec != "utf-8"
        self._decoder = codecs.getincrementaldecoder(self.codec)("strict")

    # -- the stream ------------------------------------------------------------------------
    def _convert(self, data: bytes, *, final: bool) -> bytes:
        if self._position == 0 and self._bom and not self._pending:
            data = data.removeprefix(self._bom)
            self._position = len(self._bom)
        if self._pending:
            data, self._pending = self._pending + data, b""
        if not self._checked and data:
            data = self._judge(data, final)
        decoder = self._decoder
        assert decoder is not None
        start = self._position
        self._position += len(data)
        if not self._transcode:
            # UTF-8 goes on as it is; it is only checked (ASCII needs no check).
            if not data.isascii() or decoder.getstate()[0] or final:
                self._decode(decoder, data, final, start)
            return data
        return self._decode(decoder, data, final, start).encode("utf-8")

    def _decode(
        self, decoder: codecs.IncrementalDecoder, data: bytes, final: bool, start: int
    ) -> str:
        try:
            return decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise self._invalid(exc, start) from None

    def _judge(self, data: bytes, final: bool) -> bytes:
        """Judge the first non-ASCII character (see the module docstring); returns what
        may be decoded now (a sequence cut at the end waits for the next chunk)."""
        assert self.codec is not None
        if self._bom or not (self.codec == "utf-8" or _single_byte(self.codec)):
            self._checked = True  # a byte order mark cannot be mistaken, nor UTF-16
            return data
        at = _first_non_ascii(data)
        if at < 0:
            return data
        looks_utf8 = _utf8_sequence(data, at)
        if looks_utf8 is None and not final:
            self._pending = data[at:]
            return data[:at]
        self._checked = True
        if self.codec == "utf-8":
            if not looks_utf8 and self.mode == AUTO and self.console:
                # Declared UTF-8 but it is not: a console re-encoded the output. Only
                # ASCII came before, which reads the same in the console's code page.
                self._start(self.console)
        elif looks_utf8:
            raise self._mismatch(self.codec, "holds UTF-8 bytes")
        return data

    # -- errors ----------------------------------------------------------------------------
    def _invalid(self, exc: UnicodeDecodeError, start: int) -> SourceFormatError:
        offset = start + exc.start
        said = f" (it declares {self.declared})" if self.declared else ""
        return SourceFormatError(
            f"{self.source}: the report's bytes are not valid {self.codec}{said}: byte "
            f"{offset:,} (0x{exc.object[exc.start]:02X}) cannot be read, so names would be "
            f"garbled; {self.hint}",
            source=self.source,
        )

    def _mismatch(self, codec: str, what: str) -> SourceFormatError:
        said = f" (it declares {self.declared})" if self.declared else ""
        return SourceFormatError(
            f"{self.source}: the report is read as {codec}{said} but {what}, so every "
            f"accented name would be garbled ('Zoë' would read 'ZoÃ«'); {self.hint}",
            source=self.source,
        )


def _family(head: bytes) -> str | None:
    """The encoding the first bytes show: a byte order mark, or "<?" in UTF-16."""
    for mark, codec in _BOMS:
        if head.startswith(mark):
            return codec
    return next((codec for mark, codec in _UTF16_NO_BOM if head.startswith(mark)), None)


@lru_cache(maxsize=64)
def _single_byte(codec: str) -> bool:
    """One character per byte (cp1252, cp850, latin-1), as UTF-8 and UTF-16 are not."""
    every = bytes(range(0x80, 0x100)).decode(codec, "replace")
    return len(every) == 0x80 and len(b"\xc3\xab\xe2\x82\xac".decode(codec, "replace")) == 5
