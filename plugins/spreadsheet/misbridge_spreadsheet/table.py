"""One table of an export, whatever file it came from: its header and its rows.

Rows arrive in chunks so that the caller can give the event loop a turn between them,
and openpyxl's warnings about styles it ignores are silenced only while a chunk is read
(never across an ``await``).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator

from misbridge.plugin import SourceFormatError

__all__ = ["Row", "Table", "header_key"]

Row = tuple[int, list[str | None]]  # (row number in the file, cells)


def header_key(name: str) -> str:
    """How headers are compared: case-folded, inner spaces collapsed."""
    return " ".join(name.casefold().split())


class Table:
    """A table read from ``label``: ``header`` is its header row, stripped."""

    def __init__(
        self,
        label: str,
        rows: Iterator[list[str | None]],
        close: Callable[[], None],
        header_row: int = 1,
        *,
        text_file: bool = False,
    ) -> None:
        self.label = label
        self._text_file = text_file
        self._rows = rows
        self._close = close
        self._number = 0
        self.header: tuple[str, ...] = ()
        try:
            for cells in self._read(header_row):
                self._number += 1
                if self._number == header_row:
                    self.header = tuple((c or "").strip() for c in cells)
                    break
        except BaseException:
            self.close()
            raise
        if not any(self.header):
            self.close()
            raise SourceFormatError(
                f"spreadsheet: {label} has no header row (row {header_row} is empty): the "
                "first row of an export names its columns"
            )
        self._positions: dict[str, list[int]] = {}
        for position, name in enumerate(self.header):
            if name:
                self._positions.setdefault(header_key(name), []).append(position)

    def _read(self, count: int) -> Iterator[list[str | None]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            chunk = list(itertools.islice(self._rows, count))
        yield from chunk

    def position(self, name: str) -> int | None:
        """The column of ``name``, None if absent; a header that repeats is refused."""
        found = self._positions.get(header_key(name))
        if not found:
            return None
        if len(found) > 1:
            raise SourceFormatError(
                f"spreadsheet: {self.label} has the column {name!r} {len(found)} times: rename "
                "or remove the repeats so that each header names one column"
            )
        return found[0]

    def chunks(self, size: int = 500) -> Iterator[list[Row]]:
        """The data rows (blank rows left out), ``size`` at a time."""
        previous: list[str | None] | None = None
        width = len(self.header)
        try:
            while True:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    raw = list(itertools.islice(self._rows, size))
                if not raw:
                    break
                chunk: list[Row] = []
                for cells in raw:
                    self._number += 1
                    if any(c is not None for c in cells):
                        chunk.append((self._number, cells))
                        previous = cells
                yield chunk
            self._check_last(previous, width)
        finally:
            self.close()

    def _check_last(self, last: list[str | None] | None, width: int) -> None:
        # A CSV has no end marker: a file cut short mid-row ends in a short row.
        # (A worksheet row ends at its last filled cell, so only text files are checked.)
        if self._text_file and last is not None and len(last) < width and last[-1] is not None:
            raise SourceFormatError(
                f"spreadsheet: {self.label} ends in a row of {len(last)} of its {width} "
                "columns: the file looks cut short; copy or export it again"
            )

    def close(self) -> None:
        close, self._close = self._close, lambda: None
        close()
