"""ClinicalTrials.gov API v2 JSON: one study, a list of studies, a page of studies, JSON Lines.

A JSON document (study, list or ``{"studies": [...]}`` page) is parsed whole, as the json
module does; JSON Lines are parsed one line at a time, so a dump of any size streams.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from criteria_nlp.readers import detect
from criteria_nlp.readers.base import RawRecord, RecordError
from criteria_nlp.readers.common import add_criteria, age, clean
from criteria_nlp.readers.values import parse_healthy_volunteers, parse_sex
from criteria_nlp.schema import Population

FORMAT = detect.CTGOV_JSON
NOT_A_STUDY = "JSON is not a ClinicalTrials.gov study (no protocolSection)"


def _module(section: dict, name: str) -> dict:
    module = section.get(name)
    return module if isinstance(module, dict) else {}


def study_record(study: object, source: str) -> RawRecord | RecordError:
    """One API v2 study object to a RawRecord (or a RecordError saying what is wrong)."""
    if not isinstance(study, dict):
        return RecordError(source, f"JSON {type(study).__name__} is not a ClinicalTrials.gov study", FORMAT)
    section = study.get("protocolSection")
    if not isinstance(section, dict):
        return RecordError(source, NOT_A_STUDY, FORMAT)
    record = RawRecord(source=source, source_format=FORMAT)
    ident = _module(section, "identificationModule")
    record.trial_id = clean(record, ident.get("nctId"))
    record.title = clean(record, ident.get("briefTitle")) or clean(record, ident.get("officialTitle"))
    conditions = _module(section, "conditionsModule").get("conditions")
    if isinstance(conditions, list):
        record.conditions = [c.strip() for c in (clean(record, c) for c in conditions) if c]
    elig = _module(section, "eligibilityModule")
    record.population = Population(
        min_age=age(record, clean(record, elig.get("minimumAge")), "min"),
        max_age=age(record, clean(record, elig.get("maximumAge")), "max"),
        sex=parse_sex(clean(record, elig.get("sex"))),
        healthy_volunteers=parse_healthy_volunteers(
            elig.get("healthyVolunteers") if isinstance(elig.get("healthyVolunteers"), (bool, str)) else None
        ),
    )
    # API v2 writes the field as markdown: "=\<" for "=<", "\>=", "mm\^3" (read unescaped).
    add_criteria(record, clean(record, elig.get("eligibilityCriteria")), "eligibilityCriteria", markdown=True)
    return record


def json_problem(exc: json.JSONDecodeError, text: str, first_line: int = 1) -> str:
    """The parser's message and position; "truncated" when it stopped at the end of the text
    (an unterminated string always runs to the end). ``first_line`` is the line number of
    ``text``'s first line in its file (JSON Lines)."""
    at = "" if exc.msg.endswith(" at") else " at"
    where = f"{exc.msg}{at} line {exc.lineno + first_line - 1} column {exc.colno}"
    if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
        return f"truncated JSON: {where}"
    return f"malformed JSON: {where}"


def read_json_document(text: str, source: str) -> Iterator[RawRecord | RecordError]:
    """A whole JSON document: a study, a list of studies or a page ``{"studies": [...]}``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield RecordError(source, json_problem(exc, text), FORMAT)
        return
    if isinstance(data, dict) and "protocolSection" not in data:
        if isinstance(data.get("studies"), list):
            data = data["studies"]
        elif "FullStudiesResponse" in data or "StudyFieldsResponse" in data:
            yield RecordError(
                source,
                "ClinicalTrials.gov API v1 JSON (retired in 2024) is not supported; use API v2",
                FORMAT,
            )
            return
    if isinstance(data, list):
        if not data:
            yield RecordError(source, "the JSON holds no studies (empty list)", FORMAT)
        for n, study in enumerate(data, start=1):
            yield study_record(study, f"{source}#{n}")
        return
    yield study_record(data, source)


def read_json_lines(lines: Iterable[str], source: str) -> Iterator[RawRecord | RecordError]:
    """JSON Lines, one study per line; a bad line gives a RecordError and reading goes on."""
    n = 0
    for lineno, line in enumerate(lines, start=1):
        line = line.rstrip()  # the line end is not part of the record (and would shift error lines)
        if not line:
            continue
        n += 1
        where = f"{source}#{n}"
        try:
            study = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RecordError(where, json_problem(exc, line, first_line=lineno), FORMAT)
            continue
        yield study_record(study, where)
    if n == 0:
        yield RecordError(source, "empty file", FORMAT)
