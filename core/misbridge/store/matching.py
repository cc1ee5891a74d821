"""Natural-key matching: finding the stored record an unknown MIS id belongs to.

Used when a record's MIS id is not in the store for that MIS: after ``switch-mis``
cleared every id, or when a second MIS is linked. Only stored records that hold no id
from this MIS are candidates (purged records never are). Keys are tried strongest
first (students: UPN, then name and date of birth); when the strongest key that finds
anything finds several, the weaker keys narrow those down. Several candidates left,
or one candidate that two incoming records both find, is *ambiguous*: reported, never
guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen

from misbridge.store.kinds import Kind

__all__ = ["Match", "match_natural"]


@frozen
class Match:
    id: str | None  # the stored record found, if exactly one
    by: str | None  # the natural key that found it (or found several)
    candidates: tuple[str, ...] = ()  # when ambiguous: every stored record in question

    @property
    def ambiguous(self) -> bool:
        return bool(self.candidates)


def match_natural(
    kind: Kind,
    incoming: Sequence[Mapping[str, Any]],
    candidates: Mapping[str, Mapping[str, Any]],
) -> list[Match]:
    """One :class:`Match` per incoming record, in order."""
    assert kind.natural_keys is not None
    index: dict[tuple[str, tuple[Any, ...]], list[str]] = {}
    for cid in sorted(candidates):
        for name, key in kind.natural_keys(candidates[cid]):
            index.setdefault((name, key), []).append(cid)
    proposals = [_propose(kind.natural_keys(values), index) for values in incoming]
    claims = Counter(p.id for p in proposals if p.id is not None)
    return [
        Match(None, p.by, (p.id,)) if p.id is not None and claims[p.id] > 1 else p
        for p in proposals
    ]


def _propose(
    keys: list[tuple[str, tuple[Any, ...]]], index: dict[tuple[str, tuple[Any, ...]], list[str]]
) -> Match:
    for position, (name, key) in enumerate(keys):
        ids = index.get((name, key))
        if not ids:
            continue
        if len(ids) == 1:
            return Match(ids[0], name)
        # Several share the strongest key (say a UPN keyed twice in the MIS): the weaker
        # keys may still single one out among them; if they cannot, it is ambiguous.
        narrowed, by = ids, name
        for weaker, weaker_key in keys[position + 1 :]:
            also = set(index.get((weaker, weaker_key), ()))
            within = [i for i in narrowed if i in also]
            if within:
                narrowed, by = within, f"{by}, then {weaker}"
            if len(narrowed) == 1:
                return Match(narrowed[0], by)
        return Match(None, by, tuple(narrowed))
    return Match(None, None)
