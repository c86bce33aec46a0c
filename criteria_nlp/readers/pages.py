"""Registry pages saved as text, and bare criteria text.

Every reader here gets the whole decoded input and returns a RawRecord whose one
CriteriaText holds that whole text, with ``start``/``end`` bounding the criteria region,
so the offsets the segmenter finds index the input.
"""

from __future__ import annotations

import re

from criteria_nlp.readers import detect
from criteria_nlp.readers.base import CriteriaText, RawRecord
from criteria_nlp.readers.values import parse_age, parse_healthy_volunteers, parse_sex, split_conditions
from criteria_nlp.schema import AgeLimit, Population

_NO_REGION = "the page has no eligibility criteria section"


def _field(text: str, label: str, pos: int = 0) -> str | None:
    """The value written after ``label`` on the label's own line (labels are line starts),
    at or after ``pos``."""
    m = re.compile(rf"^{label}[ \t\u00a0]*(.*)$", re.M).search(text, pos)
    if not m:
        return None
    return m.group(1).strip() or None


def _region(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``start``/``end`` moved in past surrounding whitespace; None for an empty region."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _criteria(record: RawRecord, text: str, start: int, end: int, headerless: bool = False) -> None:
    span = _region(text, start, end)
    if span:
        record.criteria.append(CriteriaText(text=text, start=span[0], end=span[1], headerless=headerless))


def _first_line_start(text: str, pattern: re.Pattern[str], pos: int, default: int) -> int:
    m = pattern.search(text, pos)
    return m.start() if m else default


def _age(record: RawRecord, value: str | None, side: str | None = None) -> AgeLimit | None:
    age, warning = parse_age(value, side)
    if warning:
        record.warnings.append(warning)
    return age


def _age_range(record: RawRecord, value: str | None) -> tuple[AgeLimit | None, AgeLimit | None]:
    """Ages from "N/A to 17 Years", "18 Years to 75 Years", "18 Years and older", "up to 17 Years"."""
    if not value:
        return None, None
    m = re.match(r"^(.*?)\s+to\s+(.*)$", value, re.I)
    if m:
        low = m.group(1)
        return (None if low.lower() in ("up", "") else _age(record, low)), _age(record, m.group(2))
    m = re.match(r"^(.*?)\s+(?:and|or)\s+(?:older|over|above)$", value, re.I)
    if m:
        return _age(record, m.group(1)), None
    return _age(record, value), None


# --- WHO ICTRP trial page ---------------------------------------------------------------

_WHO_SECTION = re.compile(
    r"^(?:Age minimum:|Age maximum:|Gender:|Health Condition\(s\) or Problem\(s\) studied|Intervention\(s\)|"
    r"Primary Outcome\(s\)|Secondary Outcome\(s\)|Secondary ID\(s\)|Source\(s\) of Monetary Support|"
    r"Secondary Sponsor\(s\)|Ethics review|Results\s*$|Countries of recruitment|Contacts\s*$|"
    r"Key inclusion & exclusion criteria)",
    re.M | re.I,
)
_WHO_CRITERIA = re.compile(r"^Key inclusion & exclusion criteria[ \t]*$", re.M | re.I)
_WHO_AGE_MIN = re.compile(r"^Age minimum:", re.M)
_WHO_CONDITIONS = re.compile(r"^Health Condition\(s\) or Problem\(s\) studied[ \t]*$", re.M | re.I)


def who_ictrp_page(text: str, source: str) -> RawRecord:
    record = RawRecord(source=source, source_format=detect.WHO_ICTRP_PAGE)
    record.trial_id = _field(text, "Main ID:")
    record.title = _field(text, "Public title:") or _field(text, "Scientific title:")
    key = _WHO_CRITERIA.search(text)
    after = 0  # where the fields that follow the criteria are looked for
    if key:
        # "Age minimum:" always follows the criteria on these pages; other section labels are
        # only a fallback, since a criterion line may itself start with "Gender:".
        age_min = _WHO_AGE_MIN.search(text, key.end())
        end = age_min.start() if age_min else _first_line_start(text, _WHO_SECTION, key.end(), len(text))
        _criteria(record, text, key.end(), end)
        after = end
    cond = _WHO_CONDITIONS.search(text, after)
    if cond:
        end = _first_line_start(text, _WHO_SECTION, cond.end(), len(text))
        record.conditions = split_conditions(text[cond.end() : end])
    record.population = Population(
        min_age=_age(record, _field(text, "Age minimum:", after), "min"),
        max_age=_age(record, _field(text, "Age maximum:", after), "max"),
        sex=parse_sex(_field(text, "Gender:", after)),
    )
    if not record.criteria:
        record.warnings.append(_NO_REGION)
    return record


# --- listing page with "Recruitment & Eligibility" bullets ------------------------------

# Label bullets of the Recruitment & Eligibility section; each is followed by a value bullet.
_LISTING_LABELS = {
    "status", "recruitment status", "overall status", "sex", "gender", "target recruitment",
    "enrollment", "target enrollment", "age", "ages", "eligible ages", "minimum age", "maximum age",
    "accepts healthy volunteers", "healthy volunteers", "sampling method", "study population",
}  # fmt: skip
_LISTING_SECTION = re.compile(
    r"^(?:Study & Design|Trial Locations|Sponsors? & Collaborators|Publications|Study Documents|"
    r"Outcome Measures|Arms? & Interventions|Conditions)[ \t]*$",
    re.M,
)
_BULLET = re.compile(r"^[ \t]*[-*\u2022][ \t]+(.*?)[ \t]*$")


def ctgov_listing_page(text: str, source: str) -> RawRecord:
    record = RawRecord(source=source, source_format=detect.CTGOV_LISTING_PAGE)
    lines = text.split("\n")
    record.title = next((ln.strip() for ln in lines if ln.strip()), None)
    m = re.search(r"^- Registration Number[ \t]*\n[ \t]*-[ \t]*(\S+)", text, re.M)
    record.trial_id = m.group(1) if m else None
    section = re.search(r"^Recruitment & Eligibility[ \t]*$", text, re.M)
    if section is None:
        record.warnings.append(_NO_REGION)
        return record
    values: dict[str, str] = {}
    pos = section.end() + 1
    region_start = None
    pending_label: str | None = None
    section_end = _first_line_start(text, _LISTING_SECTION, section.end(), len(text))
    while pos < section_end:
        nl = text.find("\n", pos)
        line_end = section_end if nl == -1 or nl > section_end else nl
        line = text[pos:line_end]
        bullet = _BULLET.match(line)
        if bullet:
            content = bullet.group(1)
            if pending_label is not None:
                values[pending_label] = content
                pending_label = None
            elif content.lower().rstrip(":") in _LISTING_LABELS:
                pending_label = content.lower().rstrip(":")
            else:
                region_start = pos  # the first bullet that is neither a label nor its value
                break
        elif line.strip():
            region_start = pos  # criteria written as plain lines
            break
        pos = line_end + 1
    sex = values.get("sex") or values.get("gender")
    low, high = _age_range(record, values.get("ages") or values.get("age") or values.get("eligible ages"))
    record.population = Population(
        min_age=_age(record, values["minimum age"], "min") if "minimum age" in values else low,
        max_age=_age(record, values["maximum age"], "max") if "maximum age" in values else high,
        sex=parse_sex(sex),
        healthy_volunteers=parse_healthy_volunteers(
            values.get("accepts healthy volunteers") or values.get("healthy volunteers")
        ),
    )
    if region_start is not None:
        # Headerless: the page lists inclusion and exclusion bullets in one run.
        _criteria(record, text, region_start, section_end, headerless=True)
    if not record.criteria:
        record.warnings.append(_NO_REGION)
    return record


# --- ClinicalTrials.gov field dump ("Brief Title: ...") ---------------------------------

# Fields and section titles that can follow "Eligibility Criteria:" and end its value.
_DUMP_END = re.compile(
    r"^(?:(?:Accepts )?Healthy Volunteers|Sex|Gender|Gender Based|Gender Description|Minimum Age|"
    r"Maximum Age|Std Ages|Standard Ages|Ages|Study Population|Sampling Method|Central Contacts?|"
    r"Overall Officials?|Locations?|References?|IPD Sharing(?: Statement)?|Conditions?|Keywords|"
    r"Brief Title|Official Title|Study NCT ID|Status|Sponsor|Phases?|Study Type|Enrollment)[ \t]*:|"
    r"^(?:Study Overview|Study Oversight|Conditions|Design|Design Details|Arms and Interventions|"
    r"Outcome Measures|Eligibility|Contacts and Locations|References|IPD Sharing|More Information|"
    r"Collaborators and Investigators|Documents|Results)[ \t]*$",
    re.M,
)


def ctgov_field_dump(text: str, source: str) -> RawRecord:
    record = RawRecord(source=source, source_format=detect.CTGOV_FIELD_DUMP)
    record.trial_id = _field(text, "Study NCT ID:")
    record.title = _field(text, "Brief Title:") or _field(text, "Official Title:")
    record.conditions = split_conditions((_field(text, "Conditions?:") or "").replace("|", ";"))
    record.population = Population(
        min_age=_age(record, _field(text, "Minimum Age:"), "min"),
        max_age=_age(record, _field(text, "Maximum Age:"), "max"),
        sex=parse_sex(_field(text, "Sex:") or _field(text, "Gender:")),
        healthy_volunteers=parse_healthy_volunteers(
            _field(text, "Accepts Healthy Volunteers:") or _field(text, "Healthy Volunteers:")
        ),
    )
    m = re.search(r"^Eligibility Criteria:[ \t]*", text, re.M)
    if m:
        end = _first_line_start(text, _DUMP_END, m.end(), len(text))
        _criteria(record, text, m.end(), end)
    # No criteria field (or an empty one): the orchestrator adds its own warning.
    return record


# --- "Clinical Trial Details" page -----------------------------------------------------

_DETAILS_SECTION = re.compile(
    r"^(?:Study Design|Intervention|Locations|Sponsors \(\d+\)|Country where clinical trial is conducted|"
    r"References & Publications|Outcome|See also)[ \t]*$",
    re.M,
)


def trial_details_page(text: str, source: str) -> RawRecord:
    record = RawRecord(source=source, source_format=detect.TRIAL_DETAILS_PAGE)
    m = re.search(r"^NCT number[ \t]+(NCT\d{8})", text, re.M)
    record.trial_id = m.group(1) if m else None
    # The layout has no title line; some variants add one of these labels.
    record.title = _field(text, "Official title") or _field(text, "Brief title")
    min_age, max_age = _age_range(record, _field(text, "Age group"))
    record.population = Population(
        min_age=min_age,
        max_age=max_age,
        sex=parse_sex(_field(text, "Gender")),
        healthy_volunteers=parse_healthy_volunteers(_field(text, "Accepts healthy volunteers")),
    )
    m = re.search(r"^Eligibility\b[ \t]*", text, re.M)
    if m:
        end = _first_line_start(text, _DETAILS_SECTION, m.end(), len(text))
        _criteria(record, text, m.end(), end)
    if not record.criteria:
        record.warnings.append(_NO_REGION)
    return record


# --- bare criteria text ----------------------------------------------------------------


def criteria_text(text: str, source: str) -> RawRecord:
    record = RawRecord(source=source, source_format=detect.CRITERIA_TEXT)
    _criteria(record, text, 0, len(text))
    return record


PAGE_READERS = {
    detect.WHO_ICTRP_PAGE: who_ictrp_page,
    detect.CTGOV_LISTING_PAGE: ctgov_listing_page,
    detect.CTGOV_FIELD_DUMP: ctgov_field_dump,
    detect.TRIAL_DETAILS_PAGE: trial_details_page,
    detect.CRITERIA_TEXT: criteria_text,
}
