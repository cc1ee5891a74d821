"""New internal ids: UUIDs (as text, the schema's ``String(36)``) that ascend.

An internal id is the primary key of its row, and ``mis_id``, memberships, photos and
results index it too. Random (version 4) ids land all over those b-trees, so a first
apply of a school splits pages throughout; ids that ascend in creation order are
appended instead. These follow the layout of RFC 9562's version 7: 48 bits of Unix
milliseconds, then a 42-bit counter (the "dedicated counter" method, started at a random
point, so ids within one apply ascend too), then 32 random bits. They stay unique
(the clock, the random start and the random tail) and are not guessable from one
another; nothing reads meaning into them: exports derive their own identifiers from
them (``uuid5``), which any text gives.
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


def new_ids(count: int) -> list[str]:
    """``count`` new ids, each greater than the one before (and than every earlier call's,
    in this process)."""
    global _last_ms
    if count <= 0:
        return []
    ms = _start_ms()
    # Room for ``count`` steps from a random start in the counter's lower half; a batch
    # larger than that (over two million rows) moves on to the next milliseconds.
    counter = secrets.randbits(_COUNTER_BITS - 1)
    ids: list[str] = []
    append = ids.append
    tails = secrets.token_bytes(4 * count)
    for index in range(count):
        if counter >> _COUNTER_BITS:
            ms, counter = ms + 1, secrets.randbits(_COUNTER_BITS - 1)
        tail = int.from_bytes(tails[4 * index : 4 * index + 4], "big")
        value = (
            (ms & 0xFFFF_FFFF_FFFF) << 80
            | 0x7 << 76  # version 7
            | (counter >> 30) << 64  # rand_a: the counter's top 12 bits
            | 0b10 << 62  # the RFC 4122/9562 variant
            | (counter & 0x3FFF_FFFF) << 32  # then its low 30 bits
            | tail
        )
        h = f"{value:032x}"  # as str(uuid.UUID(int=value)), without building one
        append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        counter += 1
    with _lock:
        _last_ms = max(_last_ms, ms)
    return ids
