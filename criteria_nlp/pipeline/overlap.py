"""Overlapping matches pruned to the longest, without importing medspaCy.

medspaCy's ``prune_overlapping_matches`` (strategy "longest") is what the variable matcher
used; importing anything from medspaCy imports QuickUMLS, NLTK and SciPy, which was the
largest part of a fresh process's start. This is the same procedure, written here: sort
by (start, end), walk the neighbours, keep the longer of two that overlap (the first on a
tie) and drop both from further pairing, and repeat until a pass drops nothing.
``tests/test_speed.py`` checks it against medspaCy's on random matches.
"""

from __future__ import annotations

Match = tuple[int, int, int]


def _overlap(a: Match, b: Match) -> bool:
    # a starts first: b starts inside a, or b ends inside a
    return a[1] <= b[1] < a[2] or a[1] < b[2] <= a[2]


def prune_overlaps(matches: list[Match]) -> list[Match]:
    current = matches
    while current:
        ordered = sorted(current, key=lambda m: (m[1], m[2]))
        kept: list[Match] = []
        i, n = 0, len(ordered)
        while i < n:
            a = ordered[i]
            if i + 1 < n and _overlap(a, ordered[i + 1]):
                b = ordered[i + 1]
                kept.append(b if b[2] - b[1] > a[2] - a[1] else a)
                i += 2
            else:
                kept.append(a)
                i += 1
        if len(kept) == len(current):
            return kept
        current = kept
    return current
