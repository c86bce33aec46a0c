"""WHO ICTRP XML: the search portal's export (``<Trials>`` of flat ``<Trial>`` elements:
TrialID, Public_title, Inclusion_agemin, Inclusion_Criteria, ...) and, by the same field
names lower-cased, the nested WHO data-set layout (``<trial><main><trial_id>...``).

Real exports have lost ">=" and "<=" as "="; the text is kept as it is (the pipeline
repairs the operators, and says so). Markup written as text in the fields ("<br>", "<p>",
"</p>", "<li>", "&lt;", "&nbsp;") is read as layout and characters, never as text; offsets
index the field as exported (readers/reading.py). The EudraCT form lines EUCTR records
append to their criteria are read into the population, not taken for items
(readers/eudract.py).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from criteria_nlp.readers import detect, eudract
from criteria_nlp.readers.base import RawRecord
from criteria_nlp.readers.common import add_criteria, age, clean
from criteria_nlp.readers.reading import reading_text
from criteria_nlp.readers.values import parse_sex, split_conditions
from criteria_nlp.schema import Population

FORMAT = detect.WHO_ICTRP_XML

# Field name (lower-cased local tag) -> what it holds; first name present wins.
_TRIAL_ID = ("trialid", "trial_id", "main_id", "utrn")
_PUBLIC_TITLE = ("public_title",)
_SCIENTIFIC_TITLE = ("scientific_title",)
_CONDITION = ("condition", "hc_freetext", "health_condition_keyword", "health_condition")
_AGE_MIN = ("inclusion_agemin", "agemin")
_AGE_MAX = ("inclusion_agemax", "agemax")
_GENDER = ("inclusion_gender", "gender")
_INCLUSION = ("inclusion_criteria",)
_EXCLUSION = ("exclusion_criteria",)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _text(element: Element) -> str:
    """All text of an element; <br> elements (when the export did not escape them) become
    newlines."""
    parts = [element.text or ""]
    for child in element:
        parts.append("\n" if _local(child.tag) == "br" else _text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _fields(trial: Element) -> dict[str, list[str]]:
    """Every leaf field of a trial by lower-cased name; repeated fields keep every value."""
    fields: dict[str, list[str]] = {}
    for element in trial.iter():
        if element is trial or any(_local(c.tag) != "br" for c in element):
            continue
        fields.setdefault(_local(element.tag), []).append(_text(element))
    return fields


def _first(fields: dict[str, list[str]], names: tuple[str, ...]) -> str | None:
    for name in names:
        for value in fields.get(name, []):
            if value.strip():
                return value
    return None


def trial_record(trial: Element, source: str) -> RawRecord:
    fields = _fields(trial)
    record = RawRecord(source=source, source_format=FORMAT)
    trial_id = clean(record, _first(fields, _TRIAL_ID))
    record.trial_id = trial_id.strip() if trial_id else None
    title = clean(record, _first(fields, _PUBLIC_TITLE)) or clean(record, _first(fields, _SCIENTIFIC_TITLE))
    record.title = " ".join(title.split()) if title else None
    for name in _CONDITION:
        for value in fields.get(name, []):
            for condition in split_conditions(clean(record, value)):
                if condition not in record.conditions:
                    record.conditions.append(condition)
        if record.conditions:
            break
    record.population = Population(
        min_age=age(record, clean(record, _first(fields, _AGE_MIN)), "min"),
        max_age=age(record, clean(record, _first(fields, _AGE_MAX)), "max"),
        sex=parse_sex(clean(record, _first(fields, _GENDER))),
    )
    for names, field, kind in (
        (_INCLUSION, "Inclusion_Criteria", "inclusion"),
        (_EXCLUSION, "Exclusion_Criteria", "exclusion"),
    ):
        text = clean(record, _first(fields, names))
        if text is None:
            continue
        reading, tmap = reading_text(text, markup=True)
        form = eudract.form_lines(reading)
        if form:
            eudract.apply_form(form, record.population)
        drop = [tmap.span(line.start, line.end) for line in form]
        add_criteria(record, text, field, kind, markup=True, drop=drop)
    return record
