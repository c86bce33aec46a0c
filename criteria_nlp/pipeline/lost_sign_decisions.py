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

from criteria_nlp.pipeline.lost_signs import _TRACE, Data, Profile, load_data, profile
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
    r"[^;\n]{0,25}?\b(?:or|and)\s+(?:higher|more|greater|above|over|less|lower|below|fewer|under|older|younger|"
    r"longer|shorter|later|earlier)\b"
    r"|[^;\n]{0,12}?(?:\bplus\s+or\s+minus\b|±|\+/-)"
    r"|\s{0,3}(?:above|below|over|under)\b"
    r"|[^;\n]{0,15}?\b(?:younger|older|more|less|greater|higher|lower|fewer|longer|shorter)\s+than\b"
    r"|\s{0,2},\s{0,2}\d",  # one of a list of values ("75, 50, 40 or 20 copies/mL")
    re.I,
)
_PLACED_BEFORE = re.compile(
    r"\b(?:before|after|until|since|by|from|at|on|of|to)\s{1,3}(?:(?:the\s{1,3})?age\s{1,3})?$|\d\s{0,2},\s{0,2}$", re.I
)

# "of" alone before the number places it less than the other words do: "an ejection
# fraction of 50%" lost its sign as often as not, so the learned decision weighs it
# (``placed_before`` stays one of its features).
_OF_BEFORE = re.compile(r"\bof\s{1,3}$", re.I)


# Words right before the number that bound it already, even where the value grammar did
# not join them to it ("at\n          least 1,500/mm3", "greater that 3,000", "± 2").
_BOUND_BEFORE = re.compile(
    r"(?:\b(?:least|most|than|that|then|under|over|above|below|exceed\w*|minimum|maximum|min|max|up\s+to|"
    r"greater|less|more|fewer|higher|lower|smaller|larger|"
    r"equal\s+to|approximately|about|around|exactly)(?:\s+of)?|\+/-|±|\(?[<>]\)?)\s*$",
    re.I,
)


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


def _undirected(c: Constraint) -> bool:
    """Read from a sign form that does not say its direction: '*' or '?' (lost_signs)."""
    return (c.written_operator or "")[:1] in ("*", "?")


def _star_pairs(found: list[Constraint], text: str, w: float):
    """'NIS * 10 and * 130': two '*' bounds in a row, the smaller first - a lower and an upper
    end (the same evidence as a pair of '=')."""
    from criteria_nlp.pipeline.repair import Vote

    votes: dict[int, list] = {}
    stars = [i for i, c in enumerate(found) if _undirected(c) and c.operator == "=="]
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
    """Read the '*' constraints with the votes of ``criteria_repair`` (``collect_votes`` /
    ``decide``) on the scan (where '*' reads '='). A doc read alone (no record profile, as
    ``nlp(text)``) also gets its deleted-sign decision here, its text taken as the record;
    inside a record (``extract_items``) that decision waits for the whole record
    (:func:`record_pass`)."""
    data = data or load_data()
    stars = any(_undirected(c) and not c.repaired for c in found)
    if prof is None and any(is_deleted_candidate(c) and has_trace(c, text, traces) for c in found):
        alone = profile([text], [traces] if traces is not None else None)
        found = decide_deleted([text], [kind], [found], [traces], alone, data, population)[0]
    if not stars:
        return found
    from criteria_nlp.pipeline import repair as R

    rules = R.default_rules()
    model = _model()
    out = list(found)
    pairs = _star_pairs(found, text, float(rules.get("pair", "weight", default=2.0))) if stars else {}
    low = float(data.star.get("threshold", 0.0))
    for i, c in enumerate(found):
        if _undirected(c) and not c.repaired:
            mark = (c.written_operator or "*")[0]
            section = data.question if mark == "?" and data.question else data.star
            probe = c.model_copy(update={"written_operator": "=", "text": scan[c.start : c.end]})
            extra = [*pairs.get(i, []), _form_vote(data.star, "*")]
            if c.operator == "between":
                r = R.decide(probe, scan, kind, population=population, extra_votes=extra, rules=rules, model=model)
            else:
                votes = R.collect_votes(probe, scan, kind, population=population, rules=rules, model=model)
                r = None if votes is None else _direction([*votes, *extra], rules, low, _learned(probe, scan, kind, rules, model))
            if r is None:
                out[i] = c.model_copy(update={"repair_reason": f"kept '{mark}': no evidence of a direction"})
                continue
            out[i] = c.model_copy(
                update={
                    "operator": r.operator,
                    "repaired": True,
                    "confidence": calibrated(r.confidence, section),
                    "repair_reason": f"'{mark}' written for a lost sign; {r.reason}",
                }
            )
    return out


def calibrated(p: float, section: dict) -> float:
    """The repair's confidence in a direction turned into the probability that the reading
    is right, by the Platt scaling fitted on the training simulation ('platt': [a, b],
    ``python -m criteria_nlp.evaluation.lost_signs --calibrate``); capped at 0.99."""
    a, b = section.get("platt", (1.0, 0.0))
    p = min(max(p, 1e-6), 1 - 1e-6)
    z = a * math.log(p / (1 - p)) + b
    return round(min(0.99, 1.0 / (1.0 + math.exp(-z))), 3)


def _candidates(cs: list[Constraint]) -> list[int]:
    return [j for j, c in enumerate(cs) if is_deleted_candidate(c)]


# Training (criteria_nlp.evaluation.lost_sign_train) sets this to a list: each candidate's
# features and whether the run-time gates let it be read at all (``readable``) are collected
# there, each candidate marked by its index, and nothing is read.
COLLECT: list | None = None
MARK = "lost-sign candidate #"


def _evidence_enough(c: Constraint, kind: str | None, placed: bool, rec, feats) -> bool:
    """Without a trace of its own a number is read as a bound only where its words do not
    place it (``placed``: 'before age 12'), and, when it is the record's only bare number,
    only where the record shows it lost signs (traces; an age right after the word 'age' in
    an inclusion item). Gates at run time: the training records are whole criteria texts,
    never one line read alone; in a record of two bare numbers or more the learned decision
    weighs the record's evidence itself (its false alarms on clean records are measured out
    of fold with these gates in place)."""
    if placed:
        return False
    if rec.candidates >= 2 or rec.needing + rec.traces >= 2:
        return True
    return kind == "inclusion" and c.category == "age" and any(k.endswith(":age_word") for k in feats)


def decide_deleted(
    texts: list[str],
    kinds: list[str | None],
    found: list[list[Constraint]],
    traces: list[set[int] | None],
    prof: Profile,
    data: Data | None = None,
    population=None,
) -> list[list[Constraint]]:
    """The bare numbers of a record (``found[i]`` holds the constraints of ``texts[i]``)
    read as bounds whose sign was deleted outright, by the learned decision of
    :mod:`criteria_nlp.pipeline.lost_sign_model` (only in a record without any written
    sign; a record whose model file is missing reads none)."""
    from criteria_nlp.pipeline import lost_sign_model as M
    from criteria_nlp.pipeline import repair as R

    data = data or load_data()
    model = data.model
    if not prof.may_have_deleted or (model is None and COLLECT is None):
        return found
    cand = [(i, j) for i, cs in enumerate(found) for j in _candidates(cs)]
    if not cand:
        return found
    rules = R.default_rules()
    sides, needs = {}, {}
    for i, j in cand:
        c = found[i][j]
        entry = R.lexicon_entry(c.variable)
        sides[i, j] = (entry, R.abnormal_side(c, entry, rules))
        needs[i, j] = needs_bound(c, kinds[i], rules)
    rec = M.record_facts(texts, found, len(cand), sum(needs.values()), prof.traces)
    per_item: dict[int, int] = {}
    for i, _ in cand:
        per_item[i] = per_item.get(i, 0) + 1
    out = [list(cs) for cs in found]
    near = {i: M.near_ways(found[i]) for i in per_item}
    for i, j in cand:
        c = found[i][j]
        text = texts[i]
        trace = has_trace(c, text, traces[i])
        # the words before, from the item before when the number opens its item (a line
        # break split "greater than / 45%")
        before = text[max(0, c.start - 40) : c.start]
        if i > 0 and not any(ch.isalpha() for ch in before):
            before = texts[i - 1][-40:] + " " + before
        words = (
            _BOUND_AFTER.match(text, c.end) is not None,
            _BOUND_BEFORE.search(before) is not None,
            _PLACED_BEFORE.search(before[-20:]) is not None,
        )
        if words[0] or words[1]:  # its words bound it already ("or higher", "at least")
            continue
        entry, side = sides[i, j]
        # the repair's rule voices on the number (its rules, not its learned weights)
        probe = c.model_copy(update={"written_operator": "="})
        votes = R.collect_votes(probe, text, kinds[i], entry=entry, population=population, rules=rules, model=False)
        feats = M.features(
            c, text, kinds[i], rec, trace=trace, side=side, entry=entry, needs_bound=needs[i, j],
            bound_words=words, near=near[i], item_candidates=per_item[i], votes=votes,
        )
        placed = words[2] and _OF_BEFORE.search(before) is None
        readable = trace or _evidence_enough(c, kinds[i], placed, rec, feats)
        if COLLECT is not None:
            out[i][j] = c.model_copy(update={"repair_reason": f"{MARK}{len(COLLECT)}"})
            COLLECT.append({"f": feats, "readable": readable})
            continue
        if not readable:
            continue
        op, p = model.read(feats, trace)
        if op not in (">=", "<="):
            continue
        why = "a double space where a sign was" if trace else "a bare number where a bound is expected"
        out[i][j] = c.model_copy(
            update={
                "operator": op,
                "repaired": True,
                "confidence": round(min(0.99, p), 3),
                "repair_reason": f"sign deleted ({why}, in a record without any written sign); "
                f"P({op}) {p:.2f} by the learned lost-sign decision",
            }
        )
    return out


def record_pass(
    items, found: list[list[Constraint]], population=None, data: Data | None = None, prof=None
) -> list[list[Constraint]]:
    """The bare numbers of a whole record that lost their signs (see :func:`decide_deleted`);
    ``prof``: the record's :func:`profile` when the caller has it already."""
    texts = [it.text for it in items]
    traces = [getattr(it, "lost_sign_traces", None) for it in items]
    prof = prof if prof is not None else profile(texts, traces)
    if not prof.may_have_deleted:
        return found
    kinds = [getattr(it, "kind", None) for it in items]
    return decide_deleted(texts, kinds, found, traces, prof, data, population)


@lru_cache(maxsize=1)
def _model():
    from criteria_nlp.pipeline.repair import default_model

    return default_model()
