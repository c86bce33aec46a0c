"""The evidence voices of the operator repair: each reads one kind of evidence on a bare
"=" and casts a :class:`Vote` for ">=" or "<=" (lexicon side x item kind, ULN / LLN, cue
phrases, ages, time spans, sibling and paired constraints, parallel thresholds), or says
why the "=" is a real equality (:func:`equality_reason`)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from criteria_nlp.pipeline.grammar import TIME_UNITS
from criteria_nlp.pipeline.repair_features import _NUMBER, FITNESS_VOICE, context_features
from criteria_nlp.pipeline.repair_model import OperatorModel
from criteria_nlp.pipeline.repair_rules import (
    GE,
    LE,
    LOWER_OPS,
    TIME_WORDS,
    UPPER_OPS,
    Cue,
    RepairRules,
    Vote,
    _operator_span,
    _sign,
    is_candidate,
    lexicon_entry,
)
from criteria_nlp.schema import Constraint, Population

_GESTATION = re.compile(r"(?i)\bgestation(?:al)?\b")


def _side_direction(side: str | None) -> str | None:
    return {"high": GE, "low": LE}.get(side or "")


def _matching(patterns: Iterable[dict], c: Constraint) -> dict | None:
    """The first pattern entry matching the variable or its mention."""
    names = " ".join(n for n in (c.variable, c.mention) if n)
    for p in patterns or ():
        if re.search(p["pattern"], names, re.I):
            return p
    return None


def abnormal_side(c: Constraint, entry: dict | None, rules: RepairRules) -> str | None:
    """'high' or 'low': the side on which the variable is abnormal or worse."""
    if entry is not None and entry.get("abnormal") in ("high", "low"):
        return entry["abnormal"]
    if entry is not None and "abnormal" in entry and entry["abnormal"] is None:
        return None  # the lexicon says: no abnormal side (age, weight)
    hit = _matching(rules.get("lexicon", "abnormal_by_pattern", default=[]), c)
    return hit["side"] if hit else rules.get("lexicon", "category_abnormal", c.category)


def variable_role(c: Constraint, entry: dict | None, rules: RepairRules) -> str | None:
    """The role the rules give the variable ('disease-defining', ...), or None. A role in
    the lexicon entry (key ``role``) comes first, then the rules' lists of names."""
    if entry is not None and entry.get("role"):
        return entry["role"]
    name = (entry["name"] if entry else c.variable or "").lower()
    for role, spec in (rules.get("lexicon", "roles", default={}) or {}).items():
        if isinstance(spec, dict) and name in {v.lower() for v in spec.get("variables", [])}:
            return role
    return None


def _is_time(c: Constraint, text: str) -> bool:
    if c.unit in TIME_UNITS or c.category == "temporal":
        return True
    _, op_end = _operator_span(c)
    m = _NUMBER.match(text, op_end)
    return bool(m and TIME_WORDS.match(text[m.end() :].lstrip()))


def equality_reason(c: Constraint, text: str, rules: RepairRules) -> str | None:
    """Why the '=' reads as a real equality or a definition, or None."""
    op_start, op_end = _operator_span(c)
    before = text[max(0, op_start - 40) : op_start]
    after_op = text[op_end : op_end + 20]
    after_value = text[c.end : c.end + 20]
    if any(p.search(before) for p in rules.part_of_operator):
        return "part of a '<=' or '>=' written apart"
    if any(p.search(before) for p in rules.equality_before_operator):
        return "a count or ratio written with '='"
    if any(p.search(after_op) for p in rules.equality_after_operator):
        return "an operator or a formula follows the '='"
    if any(p.search(after_value) for p in rules.equality_after_value):
        return "'=' followed by a list, ratio or range of values"
    return None


def _lexicon_votes(c: Constraint, kind: str | None, entry: dict | None, rules: RepairRules) -> list[Vote]:
    side = abnormal_side(c, entry, rules)
    abnormal = _side_direction(side)
    if abnormal is None or kind not in ("inclusion", "exclusion"):
        return []
    name = c.variable
    if kind == "exclusion":
        w = rules.get("lexicon", "exclusion_weight", default=2.0)
        return [
            Vote(
                _sign(abnormal) * w,
                f"exclusion item; {name} is abnormal when {side}",
                f"lexicon:exclusion:{c.category}",
            )
        ]
    hit = _matching(rules.get("lexicon", "inclusion_side_by_pattern", default=[]), c)
    role = variable_role(c, entry, rules)
    if hit is not None:
        policy, w = hit["side"], hit.get("weight", 1.5)
        key = FITNESS_VOICE  # the decision names this voice's abnormal-side crosses apart
    elif role is not None:
        policy, w = rules.get("lexicon", "roles", role, "inclusion_side", default=[None, 0.0])
        key = f"lexicon:inclusion:role:{role}"
    else:
        # "score:low" before "score": scales on which low is worse measure capacity
        # (cognition, function, performance), and inclusion items ask for enough of it.
        sides = rules.get("lexicon", "inclusion_side", default={})
        policy, w = sides.get(f"{c.category}:{side}", sides.get(c.category, [None, 0.0]))
        key = (
            f"lexicon:inclusion:{c.category}:{side}"
            if f"{c.category}:{side}" in sides
            else (f"lexicon:inclusion:{c.category}")
        )
    if policy not in ("abnormal", "normal"):
        return []
    if policy == "abnormal":
        return [
            Vote(
                _sign(abnormal) * w,
                f"inclusion item asks for {name} on its abnormal ({side}) side",
                key,
            )
        ]
    return [
        Vote(
            -_sign(abnormal) * w,
            f"inclusion item keeps {name} within limits ({name} is abnormal when {side})",
            key,
        )
    ]


def _relative_votes(c: Constraint, kind: str | None, rules: RepairRules) -> list[Vote]:
    if c.relative_to is None or kind not in ("inclusion", "exclusion"):
        return []
    direction = rules.get("relative_limit", c.relative_to, kind)
    if direction not in (GE, LE):
        return []
    w = rules.get("relative_limit", "weight", default=3.0)
    return [
        Vote(
            _sign(direction) * w,
            f"{c.value:g} x {c.relative_to} in an {kind} item",
            f"relative:{c.relative_to}:{kind}",
        )
    ]


def _age_votes(
    c: Constraint,
    kind: str | None,
    population: Population | None,
    rules: RepairRules,
    lone: bool = False,
) -> list[Vote]:
    if c.category != "age":
        return []
    flip = -1 if kind == "exclusion" else 1
    votes = []
    if population is not None:
        w = rules.get("age", "population_weight", default=4.0)
        if population.min_age is not None and population.min_age.value == c.value:
            votes.append(Vote(flip * w, "the record's minimum age", "age:record"))
        if population.max_age is not None and population.max_age.value == c.value:
            votes.append(Vote(-flip * w, "the record's maximum age", "age:record"))
    if votes or c.unit not in (None, "a"):
        return votes
    # Bands of a lone age: [low, high, weight, applies to]. "lone": the only age of the
    # item, where even an older age is mostly a floor (trials of the elderly).
    for lo, hi, w, scope in rules.get("age", "floor_bands", default=[[12, 21, 2.5, "any"]]):
        if not lo <= c.value <= hi:
            continue
        if scope == "lone" and not (lone and kind == "inclusion"):
            continue
        what = "an adult floor" if hi <= 21 else "a floor when it is the only age of an inclusion item"
        return [Vote(flip * w, f"age {c.value:g} is {what}", f"age:band:{lo:g}-{hi:g}")]
    return []


def _cue_votes(
    c: Constraint, text: str, kind: str | None, entry: dict | None, rules: RepairRules
) -> list[Vote]:
    op_start, _ = _operator_span(c)
    abnormal = _side_direction(abnormal_side(c, entry, rules))
    is_time = None
    votes: list[Vote] = []
    seen: set[str] = set()
    for cue in rules.cues:
        if cue.name in seen:
            continue
        if cue.requires == "time":
            if is_time is None:
                is_time = _is_time(c, text)
            if not is_time:
                continue
        elif cue.requires == "age" and c.category != "age":
            continue
        hit = _find_cue(cue, text, op_start, c.end, rules)
        if hit is None:
            continue
        if cue.means in (GE, LE):
            direction = cue.means
        elif abnormal is None:
            continue
        elif cue.means == "abnormal":
            direction = abnormal
        else:
            direction = GE if abnormal == LE else LE
        seen.add(cue.name)
        votes.append(Vote(_sign(direction) * cue.weight, f"'{hit}'", f"cue:{cue.name}"))
    return votes


# Line and sentence breaks end a criterion; a full stop after a single letter ("i. e.",
# "e. g.") is an abbreviation, not the end of a sentence.
_CLAUSE_BREAK = re.compile(r"[\n;]|(?<!\b\w)\.\s")


@lru_cache(maxsize=256)
def _last_clause(text: str, lo: int, hi: int) -> str:
    """The last clause of ``text[lo:hi]`` (cues share windows: split once per window)."""
    return _CLAUSE_BREAK.split(text[lo:hi])[-1]


@lru_cache(maxsize=256)
def _first_clause(text: str, lo: int, hi: int) -> str:
    return _CLAUSE_BREAK.split(text[lo:hi])[0]


def _find_cue(cue: Cue, text: str, op_start: int, end: int, rules: RepairRules) -> str | None:
    # The clause around the '='.
    lo = max(0, op_start - cue.window)
    before = _last_clause(text, lo, op_start)
    hi = min(len(text), end + cue.window)
    after = _first_clause(text, end, hi)
    if cue.where == "around":  # "= 5.7% or higher": the words may be inside the expression
        after = _first_clause(text, op_start + 1, hi)
    found = []
    if cue.where == "before":
        found += [(m, before) for m in cue.pattern.finditer(before)]
    if cue.where == "around":  # a few words before: "minimum age = 18", not an earlier clause
        found += [(m, before) for m in cue.pattern.finditer(before) if len(before[m.end() :].split()) <= 3]
    if cue.where == "before_adjacent":
        found += [(m, before) for m in cue.pattern.finditer(before) if not before[m.end() :].strip()]
    if cue.where in ("around",):
        # inside the expression or right after it ("= 18 years or older"), not a later clause
        # ("= 5 for women up to the age of 50")
        found += [
            (m, after)
            for m in cue.pattern.finditer(after)
            if len(text[end : op_start + 1 + m.start()].split()) <= 1
        ]
    if cue.where == "after_adjacent":
        # the cue follows the value and its unit directly: "= 6 months prior to ..."
        found += [(m, after) for m in cue.pattern.finditer(after) if len(after[: m.start()].split()) <= 1]
    for m, part in found:
        if rules.negator is not None and rules.negator.search(part[: m.start()]):
            continue
        return m.group(0)
    return None


def _model_votes(
    c: Constraint,
    text: str,
    kind: str | None,
    rules: RepairRules,
    model: OperatorModel | None,
    entry: dict | None = None,
) -> list[Vote]:
    if model is None:
        return []
    op_start, op_end = _operator_span(c)
    # A variable outside the lexicon: look for one in the words before, as in training.
    logit = model.logit(context_features(text, op_start, op_end, kind, entry if entry else True))
    clip = rules.get("model", "clip", default=2.5)
    w = rules.get("model", "weight", default=1.0) * max(-clip, min(clip, logit))
    p = 1.0 / (1.0 + math.exp(-logit))
    return [Vote(w, f"context model P(>=)={p:.2f}", "model")]


def sibling_votes(
    c: Constraint, others: Sequence[Constraint], rules: RepairRules, weight: float | None = None
):
    """Votes from the same variable bounded with a real operator elsewhere: a value beyond
    every bound continues a partition of the scale (beyond an upper bound: a floor) or
    closes a range (beyond a lower bound: a ceiling)."""
    bounds: list[tuple[float, str]] = []  # (bound, "upper" | "lower")
    for o in others:
        if o is c or o.variable != c.variable or o.written_operator == "=" and not o.repaired:
            continue
        if o.operator in UPPER_OPS:
            bounds.append((o.value, "upper"))
        elif o.operator in LOWER_OPS:
            bounds.append((o.value, "lower"))
        elif o.operator == "between" and o.upper is not None:
            bounds += [(o.value, "lower"), (o.upper, "upper")]
    if not bounds:
        return []
    w = weight if weight is not None else rules.get("siblings", "weight", default=2.5)
    top = max(bounds, key=lambda b: (b[0], b[1] == "upper"))
    bottom = min(bounds, key=lambda b: (b[0], b[1] == "upper"))
    if c.value >= top[0]:
        direction = GE if top[1] == "upper" else LE
        return [Vote(_sign(direction) * w, f"{c.variable} above its other bound {top[0]:g}", "sibling")]
    if c.value <= bottom[0]:
        direction = LE if bottom[1] == "lower" else GE
        return [Vote(_sign(direction) * w, f"{c.variable} below its other bound {bottom[0]:g}", "sibling")]
    return []


def continues(first: Constraint, second: Constraint) -> bool:
    """``second`` bounds the variable of ``first``: the same variable, or none named of its
    own ("A1c = 8.0% and = 12.0%": the extractor leaves the second without a mention)."""
    return second.variable == first.variable or second.mention is None


def _neighbouring_equals(constraints: Sequence[Constraint]) -> list[tuple[int, int]]:
    """Indices of consecutive bare-'=' equality candidates, in text order."""
    cands = sorted(
        (i for i, c in enumerate(constraints) if is_candidate(c) and c.operator == "=="),
        key=lambda i: constraints[i].start,
    )
    return list(zip(cands, cands[1:], strict=False))


def parallel_pairs(constraints: Sequence[Constraint], text: str, rules: RepairRules) -> dict[int, int]:
    """'= 2 for men and = 3 for women': thresholds of one quantity for two groups point the
    same way. Partners by index into ``constraints`` (both directions)."""
    gap_pattern = re.compile(rules.get("parallel", "gap", default=r"(?!)"), re.I)
    max_gap = rules.get("parallel", "max_gap", default=60)
    partners: dict[int, int] = {}
    for a, b in _neighbouring_equals(constraints):
        ca, cb = constraints[a], constraints[b]
        gap = text[ca.end : cb.start]
        other_variable = cb.variable != ca.variable and lexicon_entry(cb.variable) is not None
        if other_variable or not 0 <= len(gap) <= max_gap or not gap_pattern.search(gap):
            continue
        partners[a], partners[b] = b, a
    return partners


def pair_votes(constraints: Sequence[Constraint], text: str, rules: RepairRules) -> dict[int, Vote]:
    """'= 20 and = 45' on one variable: votes by index into ``constraints``."""
    joiners = {j.lower() for j in rules.get("pair", "joiners", default=[])}
    max_gap = rules.get("pair", "max_gap", default=40)
    w = rules.get("pair", "weight", default=4.0)
    votes: dict[int, Vote] = {}
    for a, b in _neighbouring_equals(constraints):
        ca, cb = constraints[a], constraints[b]
        if not continues(ca, cb) or not 0 <= cb.start - ca.end <= max_gap or ca.value >= cb.value:
            continue
        # Only a joiner between the two ("= 3 and = 18"), maybe the second mention again;
        # "=24 g for women and =36 g for men" is two thresholds, not a range.
        own = set(re.findall(r"[\w&-]+", f"{cb.mention or ''} {ca.unit_text or ''}".lower()))
        gap_words = [g for g in re.findall(r"[\w&-]+", text[ca.end : cb.start].lower()) if g not in own]
        if not gap_words or not all(g in joiners for g in gap_words):
            continue
        votes[a] = Vote(w, f"lower end of '{ca.value:g} and {cb.value:g}'", "pair")
        votes[b] = Vote(-w, f"upper end of '{ca.value:g} and {cb.value:g}'", "pair")
    return votes


def _time_votes(c: Constraint, text: str, kind: str | None, rules: RepairRules) -> list[Vote]:
    """A time span that no cue phrase explains: inclusion items mostly ask for a minimum
    duration ('experienced user (= 6 months)'), exclusion items mostly bound how recent an
    event is ('= 4 weeks from major surgery')."""
    direction = rules.get("time_by_kind", kind or "")
    if direction not in (GE, LE) or c.category == "age" or not _is_time(c, text):
        return []
    if _GESTATION.search(text, max(0, c.start - 30), min(len(text), c.end + 30)):
        return []  # "= 32 weeks of gestation": a point in pregnancy, not a duration
    w = rules.get("time_by_kind", "weight", default=0.8)
    return [Vote(_sign(direction) * w, f"a time span in an {kind} item", f"time:{kind}")]
