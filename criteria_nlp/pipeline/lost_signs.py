"""Lost-sign forms other than a bare "=": character references, "*", and deleted signs.

Real exports lose a comparison sign in several ways besides writing it "=":

* a character reference left as text, whole ("&#8805;", "&#x2265;", "&ge;", "&gt;") or with
  its "&#" or "&" stripped ("PLT 8805;100 x 10^9/L", "ge; 18"). Before a number it is read
  as the sign, ``repaired`` with ``written_operator`` as written and a confidence estimated
  by simulation (``resources/lost_signs.json``; :mod:`criteria_nlp.evaluation.lost_signs`);
* "*" written for a lost ">=" or "<=" ("HbA1C * 7%", "NIS * 10 and * 130"), in a record
  that writes no real ">=" / "<=" sign and uses "*" between a word and a number: read as a
  bare "=" and weighed like one, with the votes of ``criteria_repair``; a "*" glued to a
  word (a footnote mark) or after a number (a product, "2 * ULN") stays as it is;
* a sign deleted outright ("SpO2  94% on room air"): a bare number is read as a bound only
  with evidence - a record without any real sign, and a double space left where the sign
  was, or a variable that needs a bound in a record that shows such traces elsewhere - and
  only when the repair's votes give it a direction; ``written_operator`` stays null.

How it runs: ``criteria_constraints`` reads a *scan* of the text, in which every sign form
found here is replaced, at the same length (offsets hold), by its sign padded with spaces
before it ("8805;" -> "    ≥", "*" -> "="). Afterwards :func:`finish` gives each constraint
back its text as written, its start at the sign form, the written form, and decides the
"*" and deleted-sign readings (only when the repair component is enabled).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from criteria_nlp.schema import Constraint

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
DATA_PATH = RESOURCES / "lost_signs.json"
PROFILE_KEY = "criteria_nlp.lost_sign_profile"
SIGNS_KEY = "criteria_nlp.lost_signs"

# Real signs that survive in a record: a record that writes any of them lost none outright.
# (typed two-character signs too: a record that types ">=" did not lose its "≥" to ASCII)
_REAL_SIGNS = re.compile(r"[≥≤⩾⩽≧≦]|(?<![<>=])(?:>=|<=|=>|=<|>/=|</=)")
_SIGN_CHAR = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
# What may follow a sign form: an '=' of a typed '>=' ("&gt;=18"), spaces, then a number.
_NUMBER_AHEAD = r"(?=(?:/?=)?[ \t]{0,2}[-−+]?\.?\d)"
# "*" between a word (or a bracket, "%") and a number: "HbA1C * 7%", "and * 130", "age*18".
# Not glued to the word with a space after ("HbA1c* 7", a footnote mark), not after a number
# ("2 * ULN", "10*9/L"), not doubled ("**").
_STAR = re.compile(
    r"(?:(?<=[A-Za-z)\]%])[ \t]{1,2}\*[ \t]{0,2}|(?<=[A-Za-z])\*)(?![*])(?=[-−]?\.?\d)(?<!\*\*)"
)
_STAR_FOOTNOTE = re.compile(r"(?<=[A-Za-z)\]])\*+(?=[\s,;.)]|$)(?![ \t]{0,2}\d)")
# A double space where a sign was: a word, exactly two spaces, a number.
_TRACE = re.compile(r"(?<=[A-Za-z0-9%)\]:])  (?=[-−]?\.?\d)")


@dataclass(frozen=True)
class Sign:
    """One sign form in the text: ``text[start:end]`` is the form as written."""

    start: int
    end: int
    operator: str  # ">=", "<=", ">", "<", or "*" (a lost >=/<=, direction unknown)
    form: str  # "entity", "numeric_stripped", "named_stripped", "short_numeric_stripped", "star"


@dataclass
class Profile:
    """What a record (or a single item) shows of how it writes its signs."""

    real_signs: int = 0
    star_numbers: int = 0
    star_footnotes: int = 0
    traces: int = 0

    @property
    def stars_are_signs(self) -> bool:
        return self.real_signs == 0 and self.star_numbers > 0 and self.star_numbers > self.star_footnotes

    @property
    def may_have_deleted(self) -> bool:
        return self.real_signs == 0


@dataclass
class Data:
    entities: re.Pattern
    forms: dict[str, tuple[str, str]]  # lower-case code -> (operator, family)
    confidence: dict[str, float]
    star: dict = field(default_factory=dict)
    deleted: dict = field(default_factory=dict)


def _entity_regex(forms: dict[str, tuple[str, str]]) -> re.Pattern:
    numeric = sorted((k for k, (_, fam) in forms.items() if fam == "numeric"), key=len, reverse=True)
    named = sorted((k for k, (_, fam) in forms.items() if fam == "named"), key=len, reverse=True)
    num = "|".join(numeric)
    nam = "|".join(named)
    return re.compile(
        rf"(?i:(?P<whole>(?:&amp;|&)#(?:{num});?|&(?:amp;)?(?:{nam});)"
        rf"|(?P<hash>(?<![\w&#;])#(?:{num});)"
        rf"|(?P<num>(?<![\w&#;.,/:^*])(?:{num});)"
        rf"|(?P<name>(?<![\w&#;])(?:{nam});))"
        + _NUMBER_AHEAD
    )


@lru_cache(maxsize=4)
def load_data(path: str | None = None) -> Data:
    file = Path(path) if path else DATA_PATH
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{file}: cannot read the lost-sign rules ({exc})") from exc
    forms: dict[str, tuple[str, str]] = {}
    for op, fams in raw["entities"].items():
        for fam, codes in fams.items():
            for code in codes:
                forms[code.lower()] = (op, fam)
    return Data(_entity_regex(forms), forms, dict(raw["confidence"]), raw.get("star", {}), raw.get("deleted", {}))


def profile(texts) -> Profile:
    """The sign habits of a record from the texts of its items."""
    p = Profile()
    for text in texts:
        p.real_signs += len(_REAL_SIGNS.findall(text))
        if "*" in text:
            p.star_numbers += len(_STAR.findall(text))
            p.star_footnotes += len(_STAR_FOOTNOTE.findall(text))
        if "  " in text:
            p.traces += len(_TRACE.findall(text))
    return p


def _entity_sign(m: re.Match, data: Data) -> Sign:
    written = m.group(0)
    code = written.lower().lstrip("&").removeprefix("amp;").lstrip("#").rstrip(";")
    op, fam = data.forms[code]
    if m.group("whole"):
        family = "entity"
    elif fam == "numeric" and len(code) <= 3:
        family = "short_numeric_stripped"  # "62;", "60;": two digits, more often a real number
    else:
        family = f"{fam}_stripped"
    return Sign(m.start(), m.end(), op, family)


def find_signs(text: str, prof: Profile | None = None, data: Data | None = None) -> list[Sign]:
    """Every sign form of ``text`` that stands before a number, in text order."""
    data = data or load_data()
    signs: list[Sign] = []
    if ";" in text:
        signs += [_entity_sign(m, data) for m in data.entities.finditer(text)]
    if "*" in text:
        prof = prof if prof is not None else profile([text])
        if prof.stars_are_signs:
            taken = [(s.start, s.end) for s in signs]
            for m in _STAR.finditer(text):
                star = text.index("*", m.start())
                if not any(a <= star < b for a, b in taken):
                    signs.append(Sign(star, star + 1, "*", "star"))
    signs.sort(key=lambda s: s.start)
    return signs


def scan_text(text: str, signs: list[Sign]) -> str:
    """``text`` with each sign form replaced by its sign, padded with spaces before it."""
    if not signs:
        return text
    out = []
    pos = 0
    for s in signs:
        out.append(text[pos : s.start])
        char = "=" if s.operator == "*" else _SIGN_CHAR[s.operator]
        out.append(" " * (s.end - s.start - 1) + char)
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def restore(found: list[Constraint], text: str, signs: list[Sign], data: Data | None = None) -> list[Constraint]:
    """The constraints read from the scan, given back their text as written: a constraint
    that starts at a sign form starts where the form does, writes the form as its
    ``written_operator``, and (for a character reference) is marked repaired."""
    if not signs:
        return found
    data = data or load_data()
    by_end = {s.end - 1: s for s in signs}  # the scan's sign character sits at the form's end
    out = []
    for c in found:
        s = by_end.get(c.start)
        update: dict = {}
        if s is not None:
            written_rest = (c.written_operator or "")[1:]
            start = s.start
            update = {"start": start, "written_operator": text[start : c.start + 1] + written_rest}
            if s.operator != "*":
                conf = min(0.999, float(data.confidence.get(s.form, 0.9)))
                update.update(
                    repaired=True,
                    confidence=conf,
                    repair_reason=f"'{update['written_operator']}' before a number: {_FORM_REASON[s.form]} "
                    f"'{_SIGN_CHAR[s.operator]}'",
                )
        else:
            # a sign form inside the expression ("5 * NIS * 10"): the text as written
            inner = [x for x in signs if c.start <= x.start < c.end]
            if inner and all(x.operator == "*" for x in inner) and c.written_operator:
                update["written_operator"] = " ".join("*" for _ in inner)
        start = update.get("start", c.start)
        update["text"] = text[start : c.end]
        out.append(c.model_copy(update=update))
    return out


_FORM_REASON = {
    "entity": "the character reference of",
    "numeric_stripped": "the numeric character reference (its '&#' stripped) of",
    "short_numeric_stripped": "the numeric character reference (its '&#' stripped) of",
    "named_stripped": "the named character reference (its '&' stripped) of",
}


# --------------------------------------------------------------------------- decisions

_PAIR_GAP = re.compile(r"\s{0,3}(?:and|to|-|–|,|or)\s{0,3}", re.I)
_BOUND_CATEGORIES = {"age", "lab", "vital", "score", "anthropometric"}


def has_trace(c: Constraint, text: str) -> bool:
    """A double space left where a sign was deleted: a word, two spaces, the number."""
    return c.start >= 3 and text[c.start - 2 : c.start] == "  " and _TRACE.match(text, c.start - 2) is not None


def needs_bound(c: Constraint, kind: str | None, rules=None) -> bool:
    """A variable that an inclusion/exclusion item bounds rather than names a value of:
    an age, or a variable with an abnormal side (lexicon or the repair's rules)."""
    from criteria_nlp.pipeline import repair as R

    if kind not in ("inclusion", "exclusion"):
        return False
    if c.category == "age":
        return True
    if c.category not in _BOUND_CATEGORIES:
        return False
    return R.abnormal_side(c, R.lexicon_entry(c.variable), rules or R.default_rules()) in ("high", "low")


# A number that words after it or before it already bound or place: "3x ULN or higher",
# "before age 18", "three times above".
_BOUND_AFTER = re.compile(r"[^;\n]{0,25}?\b(?:or|and)\s+(?:higher|more|greater|above|over|less|lower|below|fewer|under)\b|\s{0,3}(?:above|below|over|under)\b", re.I)
_PLACED_BEFORE = re.compile(r"\b(?:before|after|until|since|by|from|at|on|of|to)\s{1,3}(?:(?:the\s{1,3})?age\s{1,3})?$", re.I)


def bound_in_words(c: Constraint, text: str, before: bool = True) -> bool:
    """Words next to the number already bound it ('3x ULN or higher') or, unless the sign
    left a trace, make it a point ('before age 18', 'a dose of 5')."""
    if _BOUND_AFTER.match(text, c.end):
        return True
    return before and _PLACED_BEFORE.search(text, max(0, c.start - 20), c.start) is not None


def _direction(votes, rules, threshold: float):
    """The direction the votes point to, when their sum passes ``threshold`` (a lower bar
    than the repair's own when the form already says a sign was lost)."""
    from criteria_nlp.pipeline import repair as R

    r = R.combine(votes, rules)
    if r is not None or threshold >= float(rules.get("threshold", default=1.0)):
        return r
    votes = [v for v in votes if v.score]
    score = sum(v.score for v in votes)
    if not votes or abs(score) <= threshold:
        return None
    agreeing = sorted((v for v in votes if v.score * score > 0), key=lambda v: -abs(v.score))
    conf = round(1.0 / (1.0 + math.exp(-abs(score))), 3)
    return R.Repair(">=" if score > 0 else "<=", conf, "; ".join(v.reason for v in agreeing))


def is_deleted_candidate(c: Constraint) -> bool:
    """A bare number read as an equality that nothing wrote an operator for."""
    return c.operator == "==" and c.written_operator is None and not c.repaired


def _star_pairs(found: list[Constraint], text: str, w: float):
    """'NIS * 10 and * 130': two '*' bounds in a row, the smaller first - a lower and an upper
    end (the same evidence as a pair of '=')."""
    from criteria_nlp.pipeline.repair import Vote

    votes: dict[int, list] = {}
    stars = [i for i, c in enumerate(found) if (c.written_operator or "").startswith("*") and c.operator == "=="]
    for a, b in zip(stars, stars[1:], strict=False):
        ca, cb = found[a], found[b]
        if b == a + 1 and _PAIR_GAP.fullmatch(text, ca.end, cb.start) and ca.value < cb.value:
            span = f"'{ca.value:g} and {cb.value:g}'"
            votes.setdefault(a, []).append(Vote(w, f"lower end of {span}", "pair"))
            votes.setdefault(b, []).append(Vote(-w, f"upper end of {span}", "pair"))
    return votes


def _form_vote(section: dict, form: str):
    from criteria_nlp.pipeline.repair import Vote

    # the direction most lost signs of this form had in the training corpora (a prior);
    # its key names the form, so a learned combination can weigh it
    return Vote(float(section.get("prior", 0.0)), f"form '{form}'", f"form:{form}")


def decide(
    found: list[Constraint],
    text: str,
    scan: str,
    kind: str | None,
    population=None,
    prof: Profile | None = None,
    data: Data | None = None,
) -> list[Constraint]:
    """Read the '*' constraints and the bare numbers that lost their sign, with the votes of
    ``criteria_repair`` (``collect_votes`` / ``decide``) on the scan (where '*' reads '=')."""
    data = data or load_data()
    prof = prof if prof is not None else profile([text])
    stars = any((c.written_operator or "").startswith("*") and not c.repaired for c in found)
    deleted = prof.may_have_deleted and any(is_deleted_candidate(c) for c in found)
    if not (stars or deleted):
        return found
    from criteria_nlp.pipeline import repair as R

    rules = R.default_rules()
    model = _model()
    out = list(found)
    pairs = _star_pairs(found, text, float(rules.get("pair", "weight", default=2.0))) if stars else {}
    min_traces = int(data.deleted.get("min_traces", 2))
    low = float(data.deleted.get("trace_threshold", 0.0))
    for i, c in enumerate(found):
        probe = c.model_copy(update={"written_operator": "=", "text": scan[c.start : c.end]})
        if stars and (c.written_operator or "").startswith("*") and not c.repaired:
            extra = [*pairs.get(i, []), _form_vote(data.star, "*")]
            if c.operator == "between":
                r = R.decide(probe, scan, kind, population=population, extra_votes=extra, rules=rules, model=model)
            else:
                votes = R.collect_votes(probe, scan, kind, population=population, rules=rules, model=model)
                r = None if votes is None else _direction([*votes, *extra], rules, low)
            if r is None:
                out[i] = c.model_copy(update={"repair_reason": "kept '*': no evidence of a direction"})
                continue
            out[i] = c.model_copy(
                update={
                    "operator": r.operator,
                    "repaired": True,
                    "confidence": min(r.confidence, 0.99),
                    "repair_reason": f"'*' written for a lost sign; {r.reason}",
                }
            )
        elif deleted and is_deleted_candidate(c):
            trace = has_trace(c, text)
            if not trace and not (
                prof.traces >= min_traces and c.text[:1].isdigit() and needs_bound(c, kind, rules)
            ):
                continue
            if bound_in_words(c, scan, before=not trace):
                continue
            votes = R.collect_votes(probe, scan, kind, population=population, rules=rules, model=model)
            if votes is None:
                continue
            votes = [*votes, _form_vote(data.deleted, "deleted")]
            r = _direction(votes, rules, low) if trace else R.combine(votes, rules)
            if r is None or r.operator not in (">=", "<=") or r.confidence < float(data.deleted.get("min_confidence", 0.0)):
                continue
            why = "a double space where a sign was" if trace else "a bare number after a variable that needs a bound"
            out[i] = c.model_copy(
                update={
                    "operator": r.operator,
                    "repaired": True,
                    "confidence": round(min(r.confidence, 0.99) * float(data.deleted.get("calibration", 1.0)), 3),
                    "repair_reason": f"sign deleted ({why}, in a record without any written sign); {r.reason}",
                }
            )
    return out


@lru_cache(maxsize=1)
def _model():
    from criteria_nlp.pipeline.repair import default_model

    return default_model()


def finish(doc, text: str, scan: str, signs: list[Sign], found: list[Constraint], repair: bool) -> list[Constraint]:
    """The hook at the end of ``criteria_constraints``: the text as written back on every
    constraint, then (when the repair is enabled) the '*' and deleted-sign decisions."""
    found = restore(found, text, signs)
    if not repair or not found:
        return found
    prof = doc.user_data.get(PROFILE_KEY)
    return decide(found, text, scan, doc._.criterion_kind, doc._.population, prof)


def prepare(doc, text: str) -> tuple[str, list[Sign]]:
    """The hook at the start of ``criteria_constraints``: the sign forms of the text and the
    scan the value grammar reads."""
    if ";" not in text and "*" not in text:
        return text, []
    signs = find_signs(text, doc.user_data.get(PROFILE_KEY))
    return scan_text(text, signs), signs
