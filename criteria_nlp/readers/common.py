"""Helpers shared by the structured readers (JSON, XML): field text, regions, warnings."""

from __future__ import annotations

from collections.abc import Iterable

from criteria_nlp.readers.base import CriteriaText, RawRecord
from criteria_nlp.readers.decode import repair_mojibake
from criteria_nlp.readers.reading import reading_text
from criteria_nlp.readers.values import parse_age
from criteria_nlp.schema import AgeLimit


def region(text: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """``start``/``end`` moved in past surrounding whitespace; None for an empty region."""
    end = len(text) if end is None else end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def clean(record: RawRecord, value: object) -> str | None:
    """A string field of a structured record, mojibake repaired (warned once per record);
    None for a missing, non-string or blank value."""
    if not isinstance(value, str) or not value.strip():
        return None
    fixed, warning = repair_mojibake(value)
    if warning and warning not in record.warnings:
        record.warnings.append(warning)
    return fixed


def age(record: RawRecord, value: str | None, side: str | None = None) -> AgeLimit | None:
    limit, warning = parse_age(value, side)
    if warning:
        record.warnings.append(warning)
    return limit


def add_criteria(
    record: RawRecord,
    text: str | None,
    field: str,
    kind: str | None = None,
    *,
    markdown: bool = False,
    markup: bool = False,
    drop: Iterable[tuple[int, int]] = (),
) -> CriteriaText | None:
    """Add a criteria field; offsets index ``text`` itself, as written (``field`` names it).

    The segmenter reads the field's reading text (CR dropped, markdown escapes and/or
    markup undone, ``drop`` spans left out); the map back to ``text`` rides along."""
    if text is None:
        return None
    reading, tmap = reading_text(text, markdown=markdown, markup=markup, drop=drop)
    span = region(reading)
    if not span:
        return None
    ct = CriteriaText(text=reading, field=field, kind=kind, start=span[0], end=span[1])
    if not tmap.identity:
        ct.source, ct.source_map = text, tmap
    record.criteria.append(ct)
    return ct
