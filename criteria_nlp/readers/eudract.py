"""EudraCT protocol-form lines that WHO ICTRP exports append to EUCTR criteria.

An ICTRP export of an EU Clinical Trials Register record ends its criteria with part of
the protocol form (section F, "population of trial subjects")::

    Are the trial subjects under 18? no
    Number of subjects for this age range:
    F.1.2 Adults (18-64 years) yes
    F.1.2.1 Number of subjects for this age range 82
    F.1.3 Elderly (>=65 years) yes

These lines are not criteria: they are the record's population fields. ``form_lines``
finds them in a reading text (markup already undone), ``apply_form`` reads them into the
record's population (age groups with their yes/no answers and planned numbers, and the
F.2 gender / F.3.1 healthy-volunteer answers when the record did not give them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from criteria_nlp.schema import AgeGroup, AgeLimit, Population

_ANSWER = r"(?P<answer>yes|no|ja|nein|oui|non|si|sí)"
_CODE = r"(?P<code>F\.\d+(?:\.\d+)*)\.?"
_UNDER_18 = re.compile(
    rf"^[ \t]*(?:{_CODE}[ \t]+)?(?:Are the trial subjects under 18|Trial has subjects under 18)"
    rf"[ \t]*[?:]?[ \t]*{_ANSWER}?[ \t]*$",
    re.I,
)
_SUBJECTS = re.compile(
    rf"^[ \t]*(?:{_CODE}[ \t]+)?Number of subjects for this age range[ \t]*:?[ \t]*(?P<n>\d[\d,. ]*)?[ \t]*$",
    re.I,
)
# Any other coded form line with a yes/no answer: "F.1.3 Elderly (>=65 years) yes".
_CODED = re.compile(rf"^[ \t]*{_CODE}[ \t]+(?P<label>\S.*?)[ \t]*[?:]?[ \t]+{_ANSWER}[ \t]*$", re.I)
# A coded line without an answer, where the form gives a heading: "F.1.1 Trial has subjects under 18".
_CODED_HEADING = re.compile(
    rf"^[ \t]*{_CODE}[ \t]+(?P<label>(?:In Utero|Preterm newborn|Newborns|Infants and toddlers|Children|"
    r"Adolescents|Adults|Elderly|Female|Male|Healthy volunteers|Patients|Specific vulnerable|"
    r"Women of child|Women of childbearing|Pregnant women|Nursing women|Emergency situation|"
    r"Subjects incapable|Others)\b.*?)[ \t]*$",
    re.I,
)
_YES = {"yes", "ja", "oui", "si", "sí"}

_UNIT = r"(?P<{}>days?|weeks?|months?|years?)"
_RANGE = re.compile(
    r"\(\s*(?P<lo>\d+)\s*"
    + _UNIT.format("lu")
    + r"?\s*[-\u2013]\s*(?P<hi>\d+)\s*"
    + _UNIT.format("hu")
    + r"\s*\)",
    re.I,
)
_FROM = re.compile(
    r"\(\s*(?:>=|\u2265|=>|over|from|more than)\s*(?P<lo>\d+)\s*" + _UNIT.format("lu") + r"\s*\)", re.I
)


@dataclass
class FormLine:
    start: int  # offsets of the line in the reading text (line end excluded)
    end: int
    kind: str  # "under18", "subjects", "coded"
    code: str | None
    label: str
    answer: bool | None
    subjects: int | None = None


def _answer(text: str | None) -> bool | None:
    if not text:
        return None
    return text.lower() in _YES


def _lines(text: str):
    pos = 0
    for line in text.split("\n"):
        yield pos, pos + len(line), line
        pos += len(line) + 1


def form_lines(text: str) -> list[FormLine]:
    """The EudraCT form lines of a reading text, in order."""
    out: list[FormLine] = []
    for start, end, line in _lines(text):
        if "F." not in line and "under 18" not in line.lower() and "number of subjects" not in line.lower():
            continue
        m = _UNDER_18.match(line)
        if m:
            out.append(FormLine(start, end, "under18", m.group("code") or "F.1.1", "Trial subjects under 18",
                                _answer(m.group("answer"))))  # fmt: skip
            continue
        m = _SUBJECTS.match(line)
        if m:
            digits = re.sub(r"[^\d]", "", m.group("n") or "")
            out.append(FormLine(start, end, "subjects", m.group("code"), "Number of subjects for this age range",
                                None, int(digits) if digits else None))  # fmt: skip
            continue
        m = _CODED.match(line) or _CODED_HEADING.match(line)
        if m:
            answer = m.groupdict().get("answer")
            out.append(
                FormLine(start, end, "coded", m.group("code"), m.group("label").strip(), _answer(answer))
            )
    return out


def _unit(word: str | None) -> str:
    word = (word or "years").lower()
    return word if word.endswith("s") else word + "s"


def _bounds(label: str) -> tuple[AgeLimit | None, AgeLimit | None]:
    """Ages from the label's parentheses: "(18-64 years)", "(28 days-23 months)", "(>=65 years)"."""
    if "gestational" in label.lower():
        return None, None  # "up to gestational age < 37 weeks": not an age since birth
    m = _RANGE.search(label)
    if m:
        hi_unit = _unit(m.group("hu"))
        lo_unit = _unit(m.group("lu")) if m.group("lu") else hi_unit
        return AgeLimit(value=float(m.group("lo")), unit=lo_unit), AgeLimit(
            value=float(m.group("hi")), unit=hi_unit
        )
    m = _FROM.search(label)
    if m:
        return AgeLimit(value=float(m.group("lo")), unit=_unit(m.group("lu"))), None
    return None, None


def _is_age_group(line: FormLine) -> bool:
    return line.kind == "under18" or bool(line.code and re.match(r"F\.1\.\d", line.code))


def apply_form(lines: list[FormLine], population: Population) -> None:
    """Read form lines into ``population`` (age groups appended; sex and healthy volunteers
    only when the record left them empty)."""
    last: AgeGroup | None = None
    sexes: dict[str, bool | None] = {}
    for line in lines:
        if line.kind == "subjects":
            if last is not None and last.subjects is None:
                last.subjects = line.subjects
            continue
        if _is_age_group(line):
            if line.kind == "under18":
                low, high = None, AgeLimit(value=17, unit="years")
            else:
                low, high = _bounds(line.label)
            last = AgeGroup(code=line.code, label=line.label, min_age=low, max_age=high, included=line.answer)
            population.age_groups.append(last)
            continue
        label = line.label.lower()
        if line.code and line.code.startswith("F.2"):
            if label.startswith("female"):
                sexes["female"] = line.answer
            elif label.startswith("male"):
                sexes["male"] = line.answer
        elif line.code == "F.3.1" or label.startswith("healthy volunteers"):
            if population.healthy_volunteers is None and line.answer is not None:
                population.healthy_volunteers = line.answer
    if population.sex is None and sexes:
        female, male = sexes.get("female"), sexes.get("male")
        if female and male:
            population.sex = "all"
        elif female and male is False:
            population.sex = "female"
        elif male and female is False:
            population.sex = "male"
    _derive_ages(population)


# The form's top-level age groups, which together cover every age.
_TOP = ("F.1.1", "F.1.2", "F.1.3")


def _derive_ages(population: Population) -> None:
    """Minimum/maximum age from the top-level groups when the record gave none: the
    included groups must be answered for all three and be contiguous ("under 18: no,
    adults: yes, elderly: yes" is 18 years and over)."""
    if population.min_age is not None or population.max_age is not None:
        return
    top = {g.code: g for g in population.age_groups if g.code in _TOP}
    if len(top) != 3 or any(g.included is None for g in top.values()):
        return
    answers = [top[c].included for c in _TOP]
    if not any(answers):
        return
    first = answers.index(True)
    last = len(answers) - 1 - answers[::-1].index(True)
    if not all(answers[first : last + 1]):
        return  # "under 18 and elderly but not adults": not one range
    population.min_age = top[_TOP[first]].min_age
    population.max_age = top[_TOP[last]].max_age
