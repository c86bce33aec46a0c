"""Helpers shared by the structured readers (JSON, XML): field text, regions, warnings."""

from __future__ import annotations

import re

from criteria_nlp.readers.base import CriteriaText, RawRecord
from criteria_nlp.readers.decode import repair_mojibake
from criteria_nlp.readers.values import parse_age
from criteria_nlp.schema import AgeLimit

_BR = re.compile(r"<br\s*/?>", re.I)


def region(text: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """``start``/``end`` moved in past surrounding whitespace; None for an empty region."""
    end = len(text) if end is None else end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def br_to_newlines(text: str) -> str:
    """Registry exports write line breaks as "<br>". Each becomes spaces and a newline of the
    same length, so offsets into the returned text are offsets into the field as exported."""
    return _BR.sub(lambda m: " " * (len(m.group()) - 1) + "\n", text)


def clean(record: RawRecord, value: object) -> str | None:
    """A string field of a structured record, mojibake repaired (warned once per record);
    None for a missing, non-string or blank value."""
    if not isinstance(value, str) or not value.strip():
        return None
    fixed, warning = repair_mojibake(value)
    if warning and warning not in record.warnings:
        record.warnings.append(warning)
    return fixed


def age(record: RawRecord, value: str | None) -> AgeLimit | None:
    limit, warning = parse_age(value)
    if warning:
        record.warnings.append(warning)
    return limit


def add_criteria(record: RawRecord, text: str | None, field: str, kind: str | None = None) -> None:
    """Add a criteria field; offsets index ``text`` itself (``field`` names it)."""
    if text is None:
        return
    span = region(text)
    if span:
        record.criteria.append(CriteriaText(text=text, field=field, kind=kind, start=span[0], end=span[1]))
