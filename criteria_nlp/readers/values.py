"""Population fields as registries write them ("18 Years", "18Y", "N/A", "Both") to schema values."""

from __future__ import annotations

import re

from criteria_nlp.schema import AgeLimit

_UNITS = {
    "years": ("y", "yr", "yrs", "year", "years", "a"),
    "months": ("m", "mo", "mos", "month", "months"),
    "weeks": ("w", "wk", "wks", "week", "weeks"),
    "days": ("d", "day", "days"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "minutes": ("min", "mins", "minute", "minutes"),
}
_UNIT_OF = {spelling: unit for unit, spellings in _UNITS.items() for spelling in spellings}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\.?(?:\s+(?:of\s+age|old))?\s*$", re.IGNORECASE)
# Ways registries say "no limit".
_NO_LIMIT = re.compile(
    r"^\s*(?:n/?a|none|no\s+limit|not\s+applicable|not\s+stated|no\s+(?:age\s+)?(?:minimum|maximum)|-|)\s*$",
    re.IGNORECASE,
)


def parse_age(value: str | None) -> tuple[AgeLimit | None, str | None]:
    """An age limit and, when the value cannot be read, a warning saying so.

    A bare number is taken as years (ClinicalTrials.gov CSV exports write "18").
    """
    if value is None or _NO_LIMIT.match(value):
        return None, None
    m = _AGE.match(value)
    if m:
        number, unit_text = float(m.group(1)), m.group(2).lower()
        unit = _UNIT_OF.get(unit_text) if unit_text else "years"
        if unit is not None:
            return AgeLimit(value=number, unit=unit), None
    return None, f"could not read the age limit {value.strip()!r}"


def parse_sex(value: str | None) -> str | None:
    """all/female/male from "All", "Both", "Female", "MALE", "Female: yes<br>Male: no", ..."""
    if not value:
        return None
    v = value.lower()
    # ISRCTN-style answers: "Female: yes Male: no".
    female_yes = re.search(r"\bfemale\s*:\s*yes", v)
    male_yes = re.search(r"(?<!fe)\bmale\s*:\s*yes", v)
    if female_yes or male_yes or re.search(r"\b(?:fe)?male\s*:\s*no", v):
        if female_yes and male_yes:
            return "all"
        return "female" if female_yes else "male" if male_yes else None
    if re.search(r"\b(?:all|both|any|everyone)\b", v):
        return "all"
    has_female = re.search(r"\b(?:female|females|women|woman|f)\b", v)
    has_male = re.search(r"\b(?:male|males|men|man|m)\b", v)
    if has_female and has_male:
        return "all"
    if has_female:
        return "female"
    if has_male:
        return "male"
    return None


def parse_healthy_volunteers(value: str | bool | None) -> bool | None:
    """True/False from a bool, "Yes"/"No", "Accepts Healthy Volunteers", "True"/"False"."""
    if isinstance(value, bool) or value is None:
        return value
    v = value.strip().lower()
    if not v or v in ("n/a", "none", "unknown"):
        return None
    if re.search(r"\b(?:no|not|false|does\s+not|doesn't)\b", v):
        return False
    if re.search(r"\b(?:yes|true|accepts?)\b", v):
        return True
    return None


def split_conditions(value: str | None) -> list[str]:
    """Conditions from a field that may hold several, separated by <br> or ";"."""
    if not value:
        return []
    parts = re.split(r"<br\s*/?>|;|\n", value, flags=re.IGNORECASE)
    out: list[str] = []
    for part in parts:
        part = " ".join(part.split())
        if part and part not in out:
            out.append(part)
    return out
