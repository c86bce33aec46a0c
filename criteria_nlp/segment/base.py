"""The segmenter's output: one item of the criteria, with its offsets."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass
class Item:
    """One inclusion or exclusion item.

    ``text`` is the item without its label, wrapped lines joined by single spaces, so it
    is not always a slice of the source. ``pieces`` maps it back: each ``(text_offset,
    source_offset, length)`` run is copied verbatim from the source.
    """

    kind: str
    label: str | None
    text: str
    start: int
    end: int
    pieces: list[tuple[int, int, int]] = field(default_factory=list)
    # Where the kind came from: "header", "field" (the record said), "classifier", "default".
    kind_source: str = "header"
    kind_confidence: float = 1.0

    def source_offset(self, i: int) -> int:
        """Source offset of character ``i`` of ``text`` (``i == len(text)`` maps past the end)."""
        if not self.pieces:
            return self.start + i
        if len(self.pieces) == 1:
            # most items: one line copied whole (no look-up; a record places every constraint)
            t0, s0, n = self.pieces[0]
            return s0 + min(i - t0, n)
        # the pieces' text offsets, listed once per item (an item of many pieces is asked
        # once per constraint: rebuilding the list each time was quadratic)
        memo = self.__dict__.get("_starts")
        if memo is None or memo[0] is not self.pieces or len(memo[1]) != len(self.pieces):
            memo = self.__dict__["_starts"] = (self.pieces, [p[0] for p in self.pieces])
        starts = memo[1]
        k = max(bisect_right(starts, i) - 1, 0)
        t0, s0, n = self.pieces[k]
        if i - t0 <= n:
            return s0 + (i - t0)
        return s0 + n

    def source_span(self, i: int, j: int) -> tuple[int, int]:
        """Source offsets of ``text[i:j]`` (``j`` exclusive)."""
        if j <= i:
            s = self.source_offset(i)
            return s, s
        return self.source_offset(i), self.source_offset(j - 1) + 1
