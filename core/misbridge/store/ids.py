"""New internal ids: UUIDs (as text, the schema's ``String(36)``) that ascend.

An internal id is the primary key of its row, and ``mis_id``, memberships, photos and
results index it too. Random (version 4) ids land all over those b-trees, so a first
apply of a school splits pages throughout; ids that ascend in creation order are
appended instead. These follow the layout of RFC 9562's version 7: 48 bits of Unix
milliseconds, then a 42-bit counter (the "dedicated counter" method, started at a random
point, so ids within one apply ascend too), then 32 random bits. They stay unique (the
clock, the random start and the random tail). They are not secrets: one apply's ids
share their time and count up; only the tail and the counter's start are random. That
is enough: an internal id grants nothing (plans show them to the operator), and exports
derive their own identifiers from them with ``uuid5``, which any text gives.
"""

from __future__ import annotations

import secrets
import threading
import time

__all__ = ["new_ids"]

_COUNTER_BITS = 42
_lock = threading.Lock()
_last_ms = 0


def _start_ms() -> int:
    """This call's millisecond: never earlier than the previous call's (a clock set
    back would otherwise let a later apply's ids sort before an earlier one's)."""
    global _last_ms
    with _lock:
        now = max(time.time_ns() // 1_000_000, _last_ms + 1)
        _last_ms = now
        return now


def _head(ms: int) -> str:
    """An id's first 13 characters: the 48-bit millisecond, the dashes, version 7."""
    ms &= 0xFFFF_FFFF_FFFF
    return f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7"


def new_ids(count: int) -> list[str]:
    """``count`` new ids, each greater than the one before (and than every earlier call's,
    in this process)."""
    global _last_ms
    if count <= 0:
        return []
    ms = _start_ms()
    # Room for at least 2**41 steps from a random start in the counter's lower half; a
    # batch that used them all would move on to the next millisecond.
    counter = secrets.randbits(_COUNTER_BITS - 1)
    head = _head(ms)
    tails = secrets.token_hex(4 * count)  # 32 random bits an id
    ids: list[str] = []
    append = ids.append
    for index in range(count):
        if counter >> _COUNTER_BITS:
            ms, counter = ms + 1, secrets.randbits(_COUNTER_BITS - 1)
            head = _head(ms)
        # After the version: the counter's top 12 bits (rand_a), the variant (0b10) and
        # its low 30 bits, then the random tail (rand_b).
        high, low = counter >> 30, counter & 0x3FFF_FFFF
        tail = tails[8 * index : 8 * index + 8]
        append(f"{head}{high:03x}-{0x8000 | low >> 16:04x}-{low & 0xFFFF:04x}{tail}")
        counter += 1
    with _lock:
        _last_ms = max(_last_ms, ms)
    return ids
