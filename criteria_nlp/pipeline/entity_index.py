"""The entity list of one doc with the look-ups a bound needs, in time proportional to
its neighbourhood instead of the whole list (issue 13, item 5: a megabyte criterion
holds thousands of entities and each of hundreds of bounds scanned them all).

``EntityIndex`` is the same list of ``(start_char, end_char, label, variable, text)``
tuples, in the same order: everything else reads it as before. Each look-up returns
exactly what the full scan it replaces returned: the windows are supersets of the
entities that can pass the scan's test, in list order, and on a list that is not
ordered and non-overlapping (never the case for ``doc.ents``) they are the whole list."""

from bisect import bisect_left, bisect_right


class EntityIndex(list):
    """A doc's entity tuples, with windows by position and look-ups by span and variable.
    Built once per doc; do not mutate it afterwards."""

    def __init__(self, ents=()):
        super().__init__(ents)
        self.starts = [e[0] for e in self]
        self.ends = [e[1] for e in self]
        # ordered, each entity start <= end, and none overlaps the next: then both starts and
        # ends are non-decreasing and a bisection finds every candidate
        self.ordered = all(s <= t for s, t in zip(self.starts, self.ends, strict=True)) and all(
            self.ends[i] <= self.starts[i + 1] for i in range(len(self) - 1)
        )
        self.by_span: dict[tuple, tuple] = {}
        self.by_variable: dict[object, list[int]] = {}
        for i, e in enumerate(self):
            self.by_span.setdefault((e[0], e[1]), e)  # the first one, as next(...) over the list
            self.by_variable.setdefault(e[3], []).append(i)

    def starting_in(self, lo: int, hi: int) -> list:
        """In list order, a superset of the entities with ``lo <= start`` and ``end <= hi``
        (those start in ``[lo, hi]``)."""
        if not self.ordered:
            return self
        return self[bisect_left(self.starts, lo) : bisect_right(self.starts, hi)]

    def touching(self, start: int, end: int, reach: int) -> list:
        """In list order, a superset of the entities that overlap ``[start, end)`` or start in
        ``[end, reach]`` (``reach >= end``)."""
        if not self.ordered:
            return self
        lo = min(bisect_right(self.ends, start), bisect_left(self.starts, end))
        return self[lo : bisect_right(self.starts, reach)]


def span_entity(ents, start, end):
    """The first entity spanning exactly ``(start, end)``, or None."""
    if isinstance(ents, EntityIndex):
        return ents.by_span.get((start, end))
    return next((e for e in ents if (e[0], e[1]) == (start, end)), None)


def first_named_before(ents, variable, before: int):
    """Index of the first entity naming ``variable`` that ends at or before ``before``, or None."""
    if isinstance(ents, EntityIndex):
        return next((i for i in ents.by_variable.get(variable, ()) if ents[i][1] <= before), None)
    return next((i for i, e in enumerate(ents) if e[3] == variable and e[1] <= before), None)


def last_named_before(ents, variable, before: int, reach: int):
    """The last entity naming ``variable`` that lies within ``reach`` characters before
    ``before``, or None."""
    if isinstance(ents, EntityIndex):
        named = (ents[i] for i in ents.by_variable.get(variable, ()))
    else:
        named = (e for e in ents if e[3] == variable)
    return next((e for e in reversed(list(named)) if before - reach <= e[0] and e[1] <= before), None)


def starting_in(ents, lo: int, hi: int):
    return ents.starting_in(lo, hi) if isinstance(ents, EntityIndex) else ents


def touching(ents, start: int, end: int, reach: int):
    return ents.touching(start, end, reach) if isinstance(ents, EntityIndex) else ents
