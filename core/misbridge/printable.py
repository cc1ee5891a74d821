"""Text fit for a terminal or a log line: what an MIS sends is printed, never obeyed."""

from __future__ import annotations

import re

__all__ = ["clean"]

#: C0 and C1 control characters but tab and newline: an ESC sequence hidden in a pupil's
#: name or an MIS id could otherwise move the cursor, rewrite earlier lines or set the
#: window title of the data manager's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: object) -> str:
    """``text`` with every control character (terminal escapes) removed."""
    return _CONTROL.sub("", str(text))
