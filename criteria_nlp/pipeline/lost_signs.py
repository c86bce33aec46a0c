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
TRACES_KEY = "criteria_nlp.lost_sign_traces"

# Real signs that survive in a record: a record that writes any of them lost none outright.
# (typed two-character signs too: a record that types ">=" did not lose its "≥" to ASCII)
_REAL_SIGNS = re.compile(r"[≥≤⩾⩽≧≦]|(?<![<>=])(?:>=|<=|=>|=<|>/=|</=)")
_SIGN_CHAR = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
# What may follow a sign form: an '=' of a typed '>=' ("&gt;=18"), spaces, then a number.
_NUMBER_AHEAD = r"(?=(?:/?=)?[ \t]{0,2}[-−+]?\.?\d)"
# "*" between a word (or a bracket, "%", ":") and a number: "HbA1C * 7%", "and * 130",
# "age*18", "Age: *18", "(*20% of blasts" (not a footnote call "(*1)").
# Not glued to the word with a space after ("HbA1c* 7", a footnote mark), not after a number
# ("2 * ULN", "10*9/L"), not doubled ("**").
_STAR = re.compile(
    r"(?:(?<=[A-Za-z)\]%:])[ \t]{1,2}\*[ \t]{0,2}|(?<=[A-Za-z])\*|(?<=\()\*(?!\d{1,2}\)))"
    r"(?![*])(?=[-−]?\.?\d)(?<!\*\*)"
)
_STAR_FOOTNOTE = re.compile(r"(?<=[A-Za-z)\]])\*+(?=[\s,;.)]|$)(?![ \t]{0,2}\d)")
# A double space where a sign was: a word, exactly two spaces, a number.
# (not a list label after it: "criteria  2. Age")
_TRACE = re.compile(r"(?<=[A-Za-z0-9%)\]:])  (?=[-−]?\.?\d)(?!\d{1,2}[.)](?:\s|$))")


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
    # four-digit and hex codes are distinctive even glued to a word ("BMI8805;18"); the
    # two-digit ones ("62;") and the names ("ge;", as in "age;") only standing alone
    long = "|".join(k for k in numeric if len(k) >= 4)
    short = "|".join(k for k in numeric if len(k) < 4)
    return re.compile(
        rf"(?i:(?P<whole>(?:&amp;|&)#(?:{num});?|&(?:amp;)?(?:{nam});)"
        rf"|(?P<hash>(?<![\w&#;])#(?:{num});)"
        rf"|(?P<num>(?<![\d&#;.,/:^*])(?<![\d][xX])(?:{long});|(?<![\w&#;.,/:^*])(?:{short});)"
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


def profile(texts, traces=None) -> Profile:
    """The sign habits of a record from the texts of its items (``traces``: the trace
    offsets of each item when the segmenter collapsed its spaces, see :func:`item_traces`)."""
    p = Profile()
    for n, text in enumerate(texts):
        p.real_signs += len(_REAL_SIGNS.findall(text))
        if "*" in text:
            p.star_numbers += len(_STAR.findall(text))
            p.star_footnotes += len(_STAR_FOOTNOTE.findall(text))
        known = traces[n] if traces is not None else None
        if known is not None:
            p.traces += len(known)
        elif "  " in text:
            p.traces += len(_TRACE.findall(text))
    return p


def item_traces(item, source: str) -> set[int] | None:
    """Offsets in ``item.text`` of the numbers that follow a double space in the source
    (the segmenter joins an item's whitespace, so the trace is read from the source);
    None when the item text is a plain slice (its own spaces tell)."""
    pieces = getattr(item, "pieces", None)
    if not pieces:
        return None
    out: set[int] = set()
    if "  " not in source[item.start : item.end]:
        return out
    for m in _TRACE.finditer(source, item.start, item.end):
        src = m.end()
        for t0, s0, n in pieces:
            if s0 <= src < s0 + n:
                out.add(t0 + src - s0)
                break
    return out


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


def find_signs(
    text: str,
    prof: Profile | None = None,
    data: Data | None = None,
    deleted: bool = False,
    traces: set[int] | None = None,
) -> list[Sign]:
    """Every sign form of ``text`` that stands before a number, in text order (with
    ``deleted``, the traces of deleted signs in a record without real signs too)."""
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
    if deleted and (traces or (traces is None and "  " in text)):
        prof = prof if prof is not None else profile([text])
        if prof.may_have_deleted:
            # the trace of a deleted sign: the scan reads it as a bare "=", so that the number
            # is read as a comparison even where a bare number would not be ("DSA  5000 MFI")
            taken = [(s.start, s.end) for s in signs]
            if traces is None:
                spans = [m.span() for m in _TRACE.finditer(text)]
            else:  # the joined single space before each traced number
                spans = [(t - 1, t) for t in sorted(traces) if t > 0 and text[t - 1] == " "]
            for a0, b0 in spans:
                if not any(a < b0 and a0 < b for a, b in taken):
                    signs.append(Sign(a0, b0, "deleted", "deleted"))
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
        char = "=" if s.operator in ("*", "deleted") else _SIGN_CHAR[s.operator]
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
        if s is not None and s.operator == "deleted":
            # the number starts after the trace; a bare "=" read from it was never written
            update = {"start": s.end}
            if c.written_operator == "=":
                update["written_operator"] = None
        elif s is not None:
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


def has_trace(c: Constraint, text: str, traces: set[int] | None = None) -> bool:
    """A double space left where a sign was deleted: a word, two spaces, the number
    (``traces``: the item's trace offsets read from the source, when known)."""
    if traces is not None:
        return c.start in traces
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
_BOUND_AFTER = re.compile(
    r"[^;\n]{0,25}?\b(?:or|and)\s+(?:higher|more|greater|above|over|less|lower|below|fewer|under)\b"
    r"|\s{0,3}(?:above|below|over|under)\b"
    r"|[^;\n]{0,15}?\b(?:younger|older|more|less|greater|higher|lower|fewer|longer|shorter)\s+than\b",
    re.I,
)
_PLACED_BEFORE = re.compile(r"\b(?:before|after|until|since|by|from|at|on|of|to)\s{1,3}(?:(?:the\s{1,3})?age\s{1,3})?$", re.I)


# Words right before the number that bound it already, even where the value grammar did
# not join them to it ("at\n          least 1,500/mm3", "greater that 3,000", "± 2").
_BOUND_BEFORE = re.compile(
    r"(?:\b(?:least|most|than|that|under|over|above|below|exceed\w*|minimum|maximum|min|max|up\s+to|"
    r"equal\s+to|approximately|about|around|exactly)(?:\s+of)?|\+/-|±|\(?[<>]\)?)\s*$",
    re.I,
)


# "Age 18 years", "aged: 18": the number right after the word age
_AGE_RIGHT_BEFORE = re.compile(r"(?i)\b(?:age|aged|ages)\s{0,2}:?\s{0,2}$")


def bound_in_words(c: Constraint, text: str, before: bool = True) -> bool:
    """Words next to the number already bound it ('3x ULN or higher', 'at least') or,
    unless the sign left a trace, make it a point ('before age 18', 'a dose of 5')."""
    if _BOUND_AFTER.match(text, c.end):
        return True
    lo = max(0, c.start - 40)
    if _BOUND_BEFORE.search(text, lo, c.start) is not None:
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
    traces: set[int] | None = None,
) -> list[Constraint]:
    """Read the '*' constraints and the bare numbers that lost their sign, with the votes of
    ``criteria_repair`` (``collect_votes`` / ``decide``) on the scan (where '*' reads '=')."""
    data = data or load_data()
    prof = prof if prof is not None else profile([text])
    stars = any((c.written_operator or "").startswith("*") and not c.repaired for c in found)
    deleted = prof.may_have_deleted and any(is_deleted_candidate(c) and has_trace(c, text, traces) for c in found)
    if not (stars or deleted):
        return found
    from criteria_nlp.pipeline import repair as R

    rules = R.default_rules()
    model = _model()
    out = list(found)
    pairs = _star_pairs(found, text, float(rules.get("pair", "weight", default=2.0))) if stars else {}
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
                    "confidence": calibrated(r.confidence, data.star),
                    "repair_reason": f"'*' written for a lost sign; {r.reason}",
                }
            )
        elif deleted and is_deleted_candidate(c) and has_trace(c, text, traces):
            out[i] = _deleted(c, probe, scan, kind, population, rules, model, data, trace=True) or c
    return out


def calibrated(p: float, section: dict) -> float:
    """The repair's confidence in a direction turned into the probability that the reading
    is right, by the Platt scaling fitted on the training simulation ('platt': [a, b],
    ``python -m criteria_nlp.evaluation.lost_signs --calibrate``); capped at 0.99."""
    a, b = section.get("platt", (1.0, 0.0))
    p = min(max(p, 1e-6), 1 - 1e-6)
    z = a * math.log(p / (1 - p)) + b
    return round(min(0.99, 1.0 / (1.0 + math.exp(-z))), 3)


def _deleted(c, probe, scan, kind, population, rules, model, data: Data, trace: bool) -> Constraint | None:
    """``c`` read as the bound its deleted sign made, or None (no direction, or its words
    already bound it)."""
    from criteria_nlp.pipeline import repair as R

    if bound_in_words(c, scan, before=not trace):
        return None
    votes = R.collect_votes(probe, scan, kind, population=population, rules=rules, model=model)
    if votes is None:
        return None
    votes = [*votes, _form_vote(data.deleted, "deleted")]
    bar = float(data.deleted.get("trace_threshold" if trace else "bare_threshold", 0.0 if trace else 1.0))
    r = _direction(votes, rules, bar)
    if r is None or r.operator not in (">=", "<="):
        return None
    why = "a double space where a sign was" if trace else "a bare number after a variable that needs a bound"
    return c.model_copy(
        update={
            "operator": r.operator,
            "repaired": True,
            "confidence": calibrated(r.confidence, data.deleted),
            "repair_reason": f"sign deleted ({why}, in a record without any written sign); {r.reason}",
        }
    )


def record_pass(items, found: list[list[Constraint]], population=None, data: Data | None = None) -> list[list[Constraint]]:
    """The bare numbers of a whole record (``found[i]`` holds the constraints of
    ``items[i]``, offsets in its ``text``) read as bounds whose sign was deleted outright,
    with no trace of their own: only in a record without any written sign, and only when
    ``deleted.min_bare`` of them follow a variable that needs a bound or left a trace (one
    such number in a record is more often written so than stripped)."""
    data = data or load_data()
    texts = [it.text for it in items]
    prof = profile(texts, [getattr(it, "lost_sign_traces", None) for it in items])
    if not prof.may_have_deleted:
        return found
    from criteria_nlp.pipeline import repair as R

    rules = R.default_rules()
    cands = []
    for i, (item, cs) in enumerate(zip(items, found, strict=True)):
        kind = getattr(item, "kind", None)
        for j, c in enumerate(cs):
            if is_deleted_candidate(c) and c.text[:1].isdigit() and needs_bound(c, kind, rules):
                cands.append((i, j))
    # the record's evidence: its bare numbers that need a bound, and its traces (an age of
    # an inclusion item counts as enough alone when 'age_alone' says so)
    evidence = len(cands) + prof.traces
    if data.deleted.get("age_alone") and any(
        found[i][j].category == "age"
        and getattr(items[i], "kind", None) == "inclusion"
        and _AGE_RIGHT_BEFORE.search(texts[i], max(0, found[i][j].start - 12), found[i][j].start)
        for i, j in cands
    ):
        evidence = max(evidence, int(data.deleted.get("min_bare", 1)))
    if not cands or evidence < int(data.deleted.get("min_bare", 1)):
        return found
    model = _model()
    out = [list(cs) for cs in found]
    scans: dict[int, str] = {}
    for i, j in cands:
        text = texts[i]
        if i not in scans:
            scans[i] = scan_text(text, [s for s in find_signs(text, prof) if s.operator != "deleted"])
        c = out[i][j]
        probe = c.model_copy(update={"written_operator": "=", "text": scans[i][c.start : c.end]})
        kind = getattr(items[i], "kind", None)
        out[i][j] = _deleted(c, probe, scans[i], kind, population, rules, model, data, trace=False) or c
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
    return decide(found, text, scan, doc._.criterion_kind, doc._.population, prof, traces=doc.user_data.get(TRACES_KEY))


def prepare(doc, text: str, repair: bool = True) -> tuple[str, list[Sign]]:
    """The hook at the start of ``criteria_constraints``: the sign forms of the text and the
    scan the value grammar reads (traces of deleted signs only when the repair is on)."""
    traces = doc.user_data.get(TRACES_KEY)
    if ";" not in text and "*" not in text and (not repair or not (traces or (traces is None and "  " in text))):
        return text, []
    signs = find_signs(text, doc.user_data.get(PROFILE_KEY), deleted=repair, traces=traces)
    return scan_text(text, signs), signs
