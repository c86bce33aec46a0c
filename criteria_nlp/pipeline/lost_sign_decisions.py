"""The decisions on the lost-sign forms that do not say their direction: "*" written for a
lost >=/<=, and signs deleted outright (see :mod:`criteria_nlp.pipeline.lost_signs` for the
forms, the scan and the hooks). Each is weighed with the votes of ``criteria_repair``
(``collect_votes`` / ``decide`` / ``combine``) on a probe copy of the constraint written "=",
plus votes of this module (a pair of '*' bounds, a prior keyed by the form); confidences are
Platt-scaled on the training simulation (``resources/lost_signs.json``)."""

from __future__ import annotations

import math
import re
from functools import lru_cache

from criteria_nlp.pipeline.lost_signs import _TRACE, Data, Profile, find_signs, load_data, profile, scan_text
from criteria_nlp.schema import Constraint

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
    r"|[^;\n]{0,15}?\b(?:younger|older|more|less|greater|higher|lower|fewer|longer|shorter)\s+than\b"
    r"|\s{0,2},\s{0,2}\d",  # one of a list of values ("75, 50, 40 or 20 copies/mL")
    re.I,
)
_PLACED_BEFORE = re.compile(
    r"\b(?:before|after|until|since|by|from|at|on|of|to)\s{1,3}(?:(?:the\s{1,3})?age\s{1,3})?$|\d\s{0,2},\s{0,2}$", re.I
)


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


def _direction(votes, rules, threshold: float, learned=None):
    """The direction the votes point to, when their sum passes ``threshold`` (a lower bar
    than the repair's own when the form already says a sign was lost).

    ``learned`` (votes -> Repair), where the repair ships its learned decision, gives the
    direction and its calibrated probability instead: the hand-weighted sum only says
    whether there is evidence enough to read a bound at all (any, at a zero threshold), or
    the learned reading's own log-odds must pass the bar."""
    from criteria_nlp.pipeline import repair as R

    r = R.combine(votes, rules)
    if r is None and threshold < float(rules.get("threshold", default=1.0)):
        nonzero = [v for v in votes if v.score]
        score = sum(v.score for v in nonzero)
        if nonzero and abs(score) > threshold:
            agreeing = sorted((v for v in nonzero if v.score * score > 0), key=lambda v: -abs(v.score))
            conf = round(1.0 / (1.0 + math.exp(-abs(score))), 3)
            r = R.Repair(">=" if score > 0 else "<=", conf, "; ".join(v.reason for v in agreeing))
    if learned is None:
        return r
    m = learned(votes)
    if m.operator not in (">=", "<="):
        return None
    # Without hand evidence past the bar, the learned reading must pass it alone: its
    # log-odds stand where the old context-word vote stood in the sum.
    if r is None and threshold > 0 and m.confidence <= 1.0 / (1.0 + math.exp(-threshold)):
        return None
    return m


def _learned(probe, scan, kind, rules, model):
    """The repair's learned reading of ``probe`` (a copy written '='), or None without one."""
    if model is None or not getattr(model, "learned_decision", False):
        return None
    from criteria_nlp.pipeline import repair as R

    return lambda votes: R._decide_learned(probe, scan, kind, votes, model, rules)


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
    stars = any((c.written_operator or "").startswith("*") and not c.repaired for c in found)
    traced = any(is_deleted_candidate(c) and has_trace(c, text, traces) for c in found)
    # The record profile only matters for a traced number; most docs have neither a '*'
    # nor a trace, so it is computed last, not for every doc.
    deleted = traced and (prof if prof is not None else profile([text])).may_have_deleted
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
                r = None if votes is None else _direction([*votes, *extra], rules, low, _learned(probe, scan, kind, rules, model))
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
    r = _direction(votes, rules, bar, _learned(probe, scan, kind, rules, model))
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
