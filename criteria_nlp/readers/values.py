"""Population fields as registries write them ("18 Years", "18Y", "N/A", "Both") to schema values."""

from __future__ import annotations

import re

from criteria_nlp.schema import AgeLimit

# Unit spellings of registry age fields, English and the languages EU/Asian registries use.
_UNITS = {
    "years": ("y", "yr", "yrs", "year", "years", "a", "age", "yo", "y.o", "jahr", "jahre", "an", "ans",
              "ano", "anos", "año", "años", "anni", "anno", "jaar", "år", "lat", "岁", "歳", "才", "세"),
    "months": ("m", "mo", "mos", "month", "months", "monat", "monate", "mois", "mes", "meses", "mesi",
               "maand", "maanden", "个月", "月", "ヶ月", "か月", "개월"),
    "weeks": ("w", "wk", "wks", "week", "weeks", "woche", "wochen", "semaine", "semaines", "semana",
              "semanas", "周", "週"),
    "days": ("d", "day", "days", "tag", "tage", "jour", "jours", "día", "días", "dia", "dias", "天", "日"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "minutes": ("min", "mins", "minute", "minutes"),
}  # fmt: skip
_UNIT_OF = {spelling: unit for unit, spellings in _UNITS.items() for spelling in spellings}
_OP_BEFORE = r"(?P<op>>=|<=|=>|=<|>|<|\u2265|\u2264|over|under|above|below|from|min(?:imum)?|max(?:imum)?)?"
# "18 Years", ">= 20age old" (JPRN), "16years-old" (UMIN), "60(Year)" (CRIS), "65+" (CTIS),
# "20 years-old <=", "18 years and older", "18.0 Years", "20歳", "18 Jahre".
_AGE = re.compile(
    r"^\s*" + _OP_BEFORE + r"\s*(?P<n>\d+(?:[.,]\d+)?)\s*(?P<plus>\+)?[\s-]*"
    r"(?:\(\s*(?P<unit_p>[^\W\d_]+)\s*\)|(?P<unit>[^\W\d_]+(?:\.[^\W\d_]+)*)?\.?)"
    r"(?:[\s-]*(?:of\s+age|old))?\s*(?P<plus2>\+)?"
    r"(?:\s*(?P<after>>=|<=|=>|=<|>|<|\u2265|\u2264|and\s+(?:older|over|above|more|under|younger|below)|"
    r"or\s+(?:older|over|above|more|under|younger|below|less)|over|under|above|below|or\s+more|and\s+up))?"
    r"\s*\.?\s*$",
    re.IGNORECASE,
)
# A range written in one field (CTIS "18-64 years", "0-17 years"): the side asked for is read.
_RANGE = re.compile(
    r"^\s*(?P<lo>\d+(?:[.,]\d+)?)\s*(?P<lu>[^\W\d_]+)?\s*(?:-|\u2013|to)\s*(?P<hi>\d+(?:[.,]\d+)?)\s*"
    r"(?P<hu>[^\W\d_]+)?(?:[\s-]*old)?\s*$",
    re.IGNORECASE,
)
# Ways registries say "no limit".
_NO_LIMIT = re.compile(
    r"^\s*(?:n/?a|none|no\s+limit(?:ation)?|no\s+age\s+limit|not\s+applicable|not\s+stated|"
    r"not\s+specified|unlimited|no\s+(?:age\s+)?(?:minimum|maximum|min|max)|none\s*\(no\s+limit\)|"
    r"-|\u2013|\u65e0|\u7121|\u306a\u3057|\u5236\u9650\u306a\u3057|\u4e0d\u9650|\u5236\u9650\u7121\u3057|)\s*$",
    re.IGNORECASE,
)


# "20歳以上" (20 years or older), "75歳未満", "18岁以上": the bound word follows the unit unspaced.
_CJK_BOUND = re.compile(r"(?:\u4ee5\u4e0a|\u4ee5\u4e0b|\u672a\u6e80|\u4ee5\u5185|\u8d85)\s*$")


# CTRI and PACTR write "18.00 Year(s)".
_PLURAL = re.compile(r"(?<=[A-Za-z])\(s\)", re.I)


def _unit(text: str | None) -> str | None:
    if not text:
        return "years"
    t = text.lower().rstrip(".")
    if t.endswith("-old"):
        t = t[:-4]
    return _UNIT_OF.get(t) or _UNIT_OF.get(t.replace(".", ""))


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def parse_age(value: str | None, side: str | None = None) -> tuple[AgeLimit | None, str | None]:
    """An age limit and, when the value cannot be read, a warning saying so.

    A bare number is taken as years (ClinicalTrials.gov CSV exports write "18"). The
    operators registries write around the number (">= 20age old", "20 years-old <=",
    "65+") are read as the field's own bound: the number is the limit. ``side`` ("min" or
    "max") picks the end of a range written in one field ("18-64 years").
    """
    if value is None or _NO_LIMIT.match(value):
        return None, None
    m = _AGE.match(_PLURAL.sub("", _CJK_BOUND.sub("", value)))
    if m:
        unit = _unit(m.group("unit_p") or (m.group("unit") or "").replace("years-old", "years"))
        if unit is not None:
            return AgeLimit(value=_number(m.group("n")), unit=unit), None
    m = _RANGE.match(value)
    if m and side in ("min", "max"):
        unit = _unit(m.group("hu") or m.group("lu"))
        lo_unit = _unit(m.group("lu")) if m.group("lu") else unit
        if unit is not None and lo_unit is not None:
            if side == "min":
                return AgeLimit(value=_number(m.group("lo")), unit=lo_unit), None
            return AgeLimit(value=_number(m.group("hi")), unit=unit), None
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
