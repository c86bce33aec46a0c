"""The operator repair's decision on the "=" constraints of one item: the votes of the
voices collected (:func:`collect_votes`, :func:`item_votes`), then read by the learned
decision (:func:`reading`) or, without weights, summed by hand weights (:func:`combine`)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from criteria_nlp.pipeline.repair_features import VOICE, decision_features, neighbour_ways
from criteria_nlp.pipeline.repair_model import OperatorModel
from criteria_nlp.pipeline.repair_rules import (
    GE,
    KEPT_PREFIX,
    LE,
    Repair,
    RepairRules,
    Vote,
    _sign,
    default_model,
    default_rules,
    is_candidate,
    lexicon_entry,
)
from criteria_nlp.pipeline.repair_voices import (
    _age_votes,
    _cue_votes,
    _lexicon_votes,
    _model_votes,
    _relative_votes,
    _time_votes,
    equality_reason,
    pair_votes,
    parallel_pairs,
    sibling_votes,
)
from criteria_nlp.schema import Constraint, Population


def stacked(votes: Sequence[Vote], stack: dict[str, float] | None = None) -> list[Vote]:
    """The votes scaled by the learned multiplier of their voice (1 when none is learned)."""
    if not stack:
        return list(votes)
    return [Vote(v.score * stack.get(v.key, 1.0), v.reason, v.key) for v in votes]


def combine(
    votes: Sequence[Vote], rules: RepairRules, stack: dict[str, float] | None = None
) -> Repair | None:
    """The hand-weighted fallback (no learned weights, ``use_model=False``): sum the votes
    (each scaled by ``stack``); a repair when the sum passes the threshold."""
    votes = [v for v in stacked(votes, stack) if v.score]
    score = sum(v.score for v in votes)
    if abs(score) < rules.get("threshold", default=1.0) or not votes:
        return None
    operator = GE if score > 0 else LE
    cap = rules.get("max_confidence", default=0.97)
    confidence = round(min(cap, 1.0 / (1.0 + math.exp(-abs(score)))), 3)
    agreeing = sorted((v for v in votes if v.score * score > 0), key=lambda v: -abs(v.score))
    return Repair(operator, confidence, "; ".join(v.reason for v in agreeing))


_LEAN = re.compile(r"P\(>=\) ([01](?:\.\d+)?)")


def _evidence(
    votes: Sequence[Vote], model: OperatorModel, operator: str, extra: Sequence[tuple[float, str]] = ()
) -> list[str]:
    """The reasons of the voices (and of ``extra``: (log-odds towards '>=', reason)) that
    pushed the decision towards ``operator``, strongest first."""
    sign = _sign(operator)
    pushed = [(z * sign, reason) for z, reason in extra if z * sign > 0]
    for v in votes:
        if not v.score or not v.key:
            continue
        push = model.weights.get(VOICE + v.key, 0.0) * (1 if v.score > 0 else -1) * sign
        if push > 0:
            pushed.append((push, v.reason))
    out: list[str] = []
    for _, reason in sorted(pushed, key=lambda p: -p[0]):
        if reason and reason not in out:
            out.append(reason)
    return out


def reading(
    probability: float,
    votes: Sequence[Vote],
    model: OperatorModel,
    rules: RepairRules,
    extra: Sequence[tuple[float, str]] = (),
) -> Repair:
    """The reading of a calibrated P(>=): the likelier direction with its probability as
    confidence, or '==' kept (confidence < 1) when neither is likely enough."""
    operator = GE if probability >= 0.5 else LE
    confidence = max(probability, 1.0 - probability)
    if confidence < rules.get("min_confidence", default=0.5):
        return Repair(
            "==",
            round(1.0 - confidence, 4),
            f"{KEPT_PREFIX}no direction is likely enough (P(>=) {probability:.4f})",
        )
    words = _evidence(votes, model, operator, extra)
    words.append(f"P({operator}) {confidence:.2f}" + ("" if len(words) else " from the context words"))
    return Repair(operator, round(confidence, 4), "; ".join(words))


def _decide_learned(
    c: Constraint,
    text: str,
    kind: str | None,
    votes: Sequence[Vote],
    model: OperatorModel,
    rules: RepairRules,
    near: frozenset[tuple[str, str]] = frozenset(),
) -> Repair:
    feats = decision_features(c, text, kind, votes, lexicon_entry(c.variable), near=near)
    prior = model.prior_features(c.variable, c.unit, c.value, kind)
    feats.update(prior)
    return reading(model.probability(model.logit(feats)), votes, model, rules, _prior_evidence(c, prior, model))


def _prior_evidence(c: Constraint, prior: dict[str, float], model: OperatorModel) -> list[tuple[float, str]]:
    """The value-position feature as evidence: its push towards '>=' and what it says."""
    out = []
    for name, odds in prior.items():
        # the low side: the value is the floor of what an item accepts (">=" to include,
        # "<=" to exclude); the high side its ceiling
        side = "above" if odds > 0 else "below"
        unit = f" {c.unit}" if c.unit else ""
        out.append((model.weights.get(name, 0.0) * odds, f"other trials mostly accept {c.variable} {side} {c.value:g}{unit}"))
    return out


def _two_sided(rules: RepairRules, model: OperatorModel | None) -> Repair:
    confidence = (model.keep.get("two_sided") if model is not None else None) or rules.get(
        "two_sided", "confidence", default=0.95
    )
    return Repair("between", float(confidence), rules.get("two_sided", "reason", default="two-sided"))


def _resolve_model(model: OperatorModel | None | bool) -> OperatorModel | None:
    """None: the shipped weights; False: none (hand-weighted votes)."""
    if model is None:
        return default_model()
    return model or None


def decide(
    c: Constraint,
    text: str,
    kind: str | None,
    *,
    entry: dict | None = None,
    population: Population | None = None,
    extra_votes: Sequence[Vote] = (),
    rules: RepairRules | None = None,
    model: OperatorModel | None | bool = None,
    lone_age: bool = False,
) -> Repair | None:
    """The repair of one '=' constraint whose offsets index ``text``, or None to keep it.

    ``entry`` is the variable's lexicon entry (looked up when None); ``extra_votes`` carry
    evidence from other constraints (pairs, siblings, the record). ``model`` None uses the
    shipped weights, False the hand-weighted votes."""
    rules = rules or default_rules()
    model = _resolve_model(model)
    if not is_candidate(c):
        return None
    if c.operator == "between":
        if c.text.count("=") < 2:  # "= 18.5-29.9": a range after one '=', nothing lost
            return None
        return _two_sided(rules, model)
    votes = collect_votes(
        c, text, kind, entry=entry, population=population, rules=rules, model=model, lone_age=lone_age
    )
    if votes is None:
        return None
    if model is None or not model.learned_decision:
        return combine([*votes, *extra_votes], rules)
    r = _decide_learned(c, text, kind, [*votes, *extra_votes], model, rules)
    return None if r.operator == "==" else r


def collect_votes(
    c: Constraint,
    text: str,
    kind: str | None,
    *,
    entry: dict | None = None,
    population: Population | None = None,
    rules: RepairRules | None = None,
    model: OperatorModel | None = None,
    lone_age: bool = False,
) -> list[Vote] | None:
    """The votes on one '==' candidate from its own words (no other constraint), or None
    when the '=' reads as a real equality. (The old context-word voice, ``model`` with
    weights of format 1, is one more vote; the learned decision reads the words itself.)"""
    rules = rules or default_rules()
    if equality_reason(c, text, rules) is not None:
        return None
    entry = entry if entry is not None else lexicon_entry(c.variable)
    cues = _cue_votes(c, text, kind, entry, rules)
    legacy = model is not None and model is not False and not model.learned_decision
    return [
        *_relative_votes(c, kind, rules),
        *_age_votes(c, kind, population, rules, lone=lone_age),
        *_lexicon_votes(c, kind, entry, rules),
        *cues,
        *([] if cues else _time_votes(c, text, kind, rules)),
        *(_model_votes(c, text, kind, rules, model, entry) if legacy else []),
    ]


MAX_CONFIDENCE = 0.999


def apply(c: Constraint, repair: Repair) -> Constraint:
    """A copy of ``c`` carrying the reading; offsets and text unchanged. A kept '=='
    (a decision too) gets its confidence and reason, and stays unrepaired."""
    if repair.operator == "==":
        return c.model_copy(update={"confidence": min(repair.confidence, MAX_CONFIDENCE), "repair_reason": repair.reason})
    return c.model_copy(
        update={
            "operator": repair.operator,
            "repaired": True,
            "written_operator": c.written_operator or None,
            "confidence": min(repair.confidence, MAX_CONFIDENCE),
            "repair_reason": repair.reason,
        }
    )


def _kept_for_equality(c: Constraint, why: str, rules: RepairRules, model: OperatorModel | None) -> Constraint:
    confidence = (model.keep.get("equality") if model is not None else None) or rules.get(
        "equality", "confidence", default=0.9
    )
    return c.model_copy(update={"confidence": min(float(confidence), MAX_CONFIDENCE), "repair_reason": KEPT_PREFIX + why})


def repair_constraints(
    constraints: Sequence[Constraint],
    text: str,
    kind: str | None,
    population: Population | None = None,
    rules: RepairRules | None = None,
    model: OperatorModel | None | bool = None,
) -> list[Constraint]:
    """Read every '=' constraint of one item (offsets index ``text``): a repair, or '=='
    kept with its confidence and reason. ``model`` None uses the shipped weights, False
    the hand-weighted votes."""
    rules = rules or default_rules()
    model = _resolve_model(model)
    learned = model is not None and model.learned_decision
    every = item_votes(constraints, text, kind, population, rules, model)
    near = neighbour_ways(constraints) if learned else frozenset()
    stack = model.stack if model is not None and not learned else None
    out = []
    for i, c in enumerate(constraints):
        if not is_candidate(c):
            out.append(c)
            continue
        if c.operator == "between":
            r = decide(c, text, kind, population=population, rules=rules, model=model if model else False)
        elif every.get(i) is None:
            r = None
        elif learned:
            r = _decide_learned(c, text, kind, every[i], model, rules, near)
        else:
            r = combine(every[i], rules, stack)
        if r is not None:
            out.append(apply(c, r))
            continue
        why = equality_reason(c, text, rules) if c.operator == "==" else None
        out.append(_kept_for_equality(c, why, rules, model) if why else c)
    return out


def item_votes(
    constraints: Sequence[Constraint],
    text: str,
    kind: str | None,
    population: Population | None = None,
    rules: RepairRules | None = None,
    model: OperatorModel | None = None,
) -> dict[int, list[Vote] | None]:
    """Every vote on each '==' candidate of one item, by index into ``constraints``: its
    own words, the pair and sibling constraints, a parallel threshold's own votes. None
    when the '=' reads as a real equality. Training collects the same votes."""
    rules = rules or default_rules()
    pairs = pair_votes(constraints, text, rules)
    parallel = parallel_pairs(constraints, text, rules)
    lone_age = sum(c.category == "age" for c in constraints) == 1
    own: dict[int, list[Vote] | None] = {
        i: collect_votes(c, text, kind, population=population, rules=rules, model=model, lone_age=lone_age)
        for i, c in enumerate(constraints)
        if is_candidate(c) and c.operator == "=="
    }
    every: dict[int, list[Vote] | None] = {}
    for i, votes in own.items():
        if votes is None:
            every[i] = None
            continue
        c = constraints[i]
        extra = [pairs[i]] if i in pairs else []
        extra += sibling_votes(c, constraints, rules)
        partner = constraints[parallel[i]] if i in parallel else None
        shared = [
            Vote(v.score, f"{v.reason} (parallel threshold '{partner.text.strip()}')", "parallel")
            for v in own.get(parallel.get(i, -1)) or []
            if partner is not None
        ]
        every[i] = [*votes, *extra, *shared]
    return every
