"""Segmentation of eligibility criteria into inclusion and exclusion items."""

from __future__ import annotations

from criteria_nlp.segment.base import Item

__all__ = ["Item", "segment"]

# How sure a kind is when nothing in the record said it: a guess.
DEFAULT_CONFIDENCE = 0.5


def segment(ct) -> list[Item]:
    """Split one CriteriaText into inclusion/exclusion items with offsets into ``ct.text``.

    Only ``ct.text[ct.start:ct.end]`` is read. Headers decide the kind of the items under
    them; before any header the kind comes from ``ct.kind`` (the record field says every
    item is of that kind: never classified). A text or field with no header at all (or
    one the reader marks ``headerless``) gets its kinds from the bundled classifier,
    which may also find the list to be of one kind only; items before the first header
    of a text that has headers are "inclusion" by default.
    """
    from criteria_nlp.segment.classifier import decide_kinds
    from criteria_nlp.segment.segmenter import Scanner, build_items

    text = ct.text
    start = max(0, ct.start or 0)
    end = len(text) if ct.end is None else min(ct.end, len(text))
    if start >= end:
        return []
    marks = Scanner(text, start, end).scan()
    pairs = build_items(text, marks, end)
    has_header = any(header_kind is not None for _, header_kind in pairs)
    undecided: list[Item] = []
    for item, header_kind in pairs:
        if header_kind is not None:
            item.kind, item.kind_source, item.kind_confidence = header_kind, "header", 1.0
        elif ct.kind in ("inclusion", "exclusion"):
            item.kind, item.kind_source, item.kind_confidence = ct.kind, "field", 1.0
        elif ct.headerless or not has_header:
            undecided.append(item)
        else:
            item.kind, item.kind_source, item.kind_confidence = "inclusion", "default", DEFAULT_CONFIDENCE
    if undecided:
        decided = decide_kinds([it.text for it in undecided])
        for n, item in enumerate(undecided):
            if decided is None:  # no model shipped: say plainly that the kind is a guess
                item.kind, item.kind_source, item.kind_confidence = "inclusion", "default", DEFAULT_CONFIDENCE
            else:
                kind, confidence = decided[n]
                # a classifier is never certain: 1.0 is for headers and fields
                item.kind, item.kind_source, item.kind_confidence = kind, "classifier", min(round(confidence, 4), 0.9999)
    return [item for item, _ in pairs]
