"""Operator repair: decide whether a bare "=" is a lost >= / <= or a real equality.

WHO ICTRP exports write both "≥" and "≤" as "=", so the character itself says nothing
about the direction; what the constraint means does. The rules of
``resources/repair_rules.json`` name the evidence, each as a *voice* (a :class:`Vote`
pointing to ">=" or "<="):

* the variable's abnormal side (lexicon) together with the item kind,
* a limit relative to ULN / LLN,
* cue phrases around the "=",
* time spans by item kind, age limits (bands; the record's structured minimum/maximum age),
* the other constraints of the same item (a pair "= 20 and = 45", a partition of a scale,
  a parallel threshold),
* and, after a whole record is extracted, the same variable elsewhere in the record
  (:func:`harmonize_record`).

ONE learned decision weighs them: every voice is a feature (+1 / -1) of a logistic
regression that also reads the context words, value bins, the variable, its category and
the written form of the sign (:func:`decision_features`); its weights and a calibration
fitted on out-of-fold predictions live in ``models/operator_repair/weights.json``
(:mod:`criteria_nlp.pipeline.repair_model`), so ``confidence`` is the estimated
probability that the reading is right. Signs that the "=" is a real equality ("ECOG = 0
or 1", a ratio, "n=20") keep the constraint as read, with a confidence below 1 and a
``repair_reason``; so does a "=" whose likelier direction is not likely enough. Without
weights (``use_model=False``) the hand weights of the rules are summed instead
(:func:`combine`).

The code is split by concern; this module keeps the record-level pass and re-exports the
rest, so ``from criteria_nlp.pipeline.repair import ...`` reaches every part:

* :mod:`~criteria_nlp.pipeline.repair_rules`: votes, rules, lexicon, shipped weights;
* :mod:`~criteria_nlp.pipeline.repair_voices`: the evidence voices;
* :mod:`~criteria_nlp.pipeline.repair_features`: the learned decision's features;
* :mod:`~criteria_nlp.pipeline.repair_decision`: the decision on one item's constraints;
* :mod:`~criteria_nlp.pipeline.repair_component`: the spaCy component ``criteria_repair``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from criteria_nlp.pipeline.grammar import TIME_UNITS
from criteria_nlp.pipeline.repair_component import (
    OperatorRepair,
    _ensure_extensions,
    make_operator_repair,
)
from criteria_nlp.pipeline.repair_decision import (
    _LEAN,
    MAX_CONFIDENCE,
    _decide_learned,
    _evidence,
    _kept_for_equality,
    _resolve_model,
    _two_sided,
    apply,
    collect_votes,
    combine,
    decide,
    item_votes,
    reading,
    repair_constraints,
    stacked,
)
from criteria_nlp.pipeline.repair_features import (
    _NUMBER,
    _TOKEN,
    VOICE,
    _neighbour_features,
    _norm,
    _reading_features,
    _value_bin,
    context_features,
    decision_features,
    neighbour_ways,
    written_form,
)
from criteria_nlp.pipeline.repair_model import OperatorModel
from criteria_nlp.pipeline.repair_rules import (
    GE,
    KEPT_PREFIX,
    LE,
    LEXICON_PATH,
    LOWER_OPS,
    REPO_ROOT,
    RESOURCES,
    RULES_PATH,
    TIME_WORDS,
    UPPER_OPS,
    Cue,
    Repair,
    RepairRules,
    Vote,
    _alias_patterns,
    _fold_alias,
    _operator_span,
    _sign,
    default_model,
    default_rules,
    find_variable,
    is_candidate,
    lexicon,
    lexicon_entry,
)
from criteria_nlp.pipeline.repair_voices import (
    _CLAUSE_BREAK,
    _GESTATION,
    _age_votes,
    _cue_votes,
    _find_cue,
    _first_clause,
    _is_time,
    _last_clause,
    _lexicon_votes,
    _matching,
    _model_votes,
    _neighbouring_equals,
    _relative_votes,
    _side_direction,
    _time_votes,
    abnormal_side,
    continues,
    equality_reason,
    pair_votes,
    parallel_pairs,
    sibling_votes,
    variable_role,
)
from criteria_nlp.schema import Constraint, TrialRecord

# Everything that lived here before the split: other modules and tests import it from here.
__all__ = [
    "Cue",
    "GE",
    "KEPT_PREFIX",
    "LE",
    "LEXICON_PATH",
    "LOWER_OPS",
    "MAX_CONFIDENCE",
    "OperatorRepair",
    "REPO_ROOT",
    "RESOURCES",
    "RULES_PATH",
    "Repair",
    "RepairRules",
    "TIME_UNITS",
    "TIME_WORDS",
    "UPPER_OPS",
    "VOICE",
    "Vote",
    "_CLAUSE_BREAK",
    "_GESTATION",
    "_LEAN",
    "_NUMBER",
    "_TOKEN",
    "_age_votes",
    "_alias_patterns",
    "_cue_votes",
    "_decide_learned",
    "_ensure_extensions",
    "_evidence",
    "_find_cue",
    "_first_clause",
    "_fold_alias",
    "_is_time",
    "_kept_for_equality",
    "_last_clause",
    "_lexicon_votes",
    "_logit",
    "_matching",
    "_model_votes",
    "_neighbour_features",
    "_neighbouring_equals",
    "_norm",
    "_operator_span",
    "_reading_features",
    "_relative_votes",
    "_resolve_model",
    "_side_direction",
    "_sign",
    "_time_votes",
    "_two_sided",
    "_value_bin",
    "abnormal_side",
    "apply",
    "collect_votes",
    "combine",
    "context_features",
    "continues",
    "decide",
    "decision_features",
    "default_model",
    "default_rules",
    "equality_reason",
    "find_variable",
    "harmonize_record",
    "is_candidate",
    "item_probability",
    "item_votes",
    "lexicon",
    "lexicon_entry",
    "make_operator_repair",
    "neighbour_ways",
    "pair_votes",
    "parallel_pairs",
    "reading",
    "record_votes",
    "repair_constraints",
    "sibling_votes",
    "stacked",
    "variable_role",
    "written_form",
]


# --------------------------------------------------------------------------- record level


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def record_votes(
    c: Constraint, kind: str | None, others: Iterable[Constraint], rules: RepairRules | None = None
) -> list[Vote]:
    """The same variable with the same value and a real operator in another item of the
    same kind (``others``: the constraints of those items)."""
    rules = rules or default_rules()
    w_same = rules.get("record", "weight", default=3.0)
    same_variable: list[Vote] = []
    for o in others:
        if (
            o.variable is None
            or o.variable != c.variable
            or o.written_operator == "="
            or o.operator not in UPPER_OPS | LOWER_OPS
        ):
            continue
        direction = GE if o.operator in LOWER_OPS else LE
        if o.value == c.value:
            return [Vote(_sign(direction) * w_same, f"'{o.text}' elsewhere in the record", "record")]
        if not same_variable:
            # the learned decision only (its hand weight is 0): another bound of the variable
            same_variable.append(
                Vote(_sign(direction) * 1e-9, f"{c.variable} '{o.text}' elsewhere in the record", "record:variable")
            )
    return same_variable


class _WrittenBounds:
    """The constraints written with a real operator, by item kind and variable, reduced to
    what :func:`record_votes` reads of them: for a '=' constraint of item ``i``, the first one
    of another item with the same value, else the first one of another item. Each is found
    by look-up: a record whose items bound one variable thousands of times was quadratic."""

    def __init__(self) -> None:
        self._any: dict[tuple, list] = {}  # (kind, variable) -> [first entry, first of another item]
        self._by_value: dict[tuple, list] = {}  # (kind, variable, value) -> the same

    @staticmethod
    def _keep(firsts: list, entry: tuple[int, Constraint]) -> None:
        if not firsts:
            firsts.append(entry)
        elif len(firsts) == 1 and entry[0] != firsts[0][0]:
            firsts.append(entry)

    def add(self, kind: str, n: int, o: Constraint) -> None:
        self._keep(self._any.setdefault((kind, o.variable), []), (n, o))
        if o.value == o.value:  # NaN equals nothing, not even itself
            self._keep(self._by_value.setdefault((kind, o.variable, o.value), []), (n, o))

    @staticmethod
    def _other_item(firsts: list | None, i: int) -> list[Constraint]:
        for n, o in firsts or ():
            if n != i:
                return [o]
        return []

    def others(self, kind: str, c: Constraint, i: int) -> list[Constraint]:
        same = self._other_item(self._by_value.get((kind, c.variable, c.value)), i) if c.value == c.value else []
        return same or self._other_item(self._any.get((kind, c.variable)), i)


def item_probability(c: Constraint) -> float | None:
    """The calibrated P(>=) the item-level decision gave a '=' constraint (from its
    confidence, or from the lean a kept '==' states), or None."""
    if c.repaired and c.operator in (GE, LE):
        return c.confidence if c.operator == GE else 1.0 - c.confidence
    m = _LEAN.search(c.repair_reason or "")
    return float(m.group(1)) if m else None


def harmonize_record(
    record: TrialRecord, rules: RepairRules | None = None, model: OperatorModel | None | bool = None
) -> None:
    """Record-level pass: the same variable written with a real operator in another item
    of the same kind is one more feature of the decision on a '=' constraint (the learned
    weight of "voice:record" added to its item-level log-odds). Updates ``record`` in place."""
    rules = rules or default_rules()
    model = _resolve_model(model)
    learned = model is not None and model.learned_decision
    # The constraints written with a real operator, by kind and variable, in record order:
    # one look-up per '=' constraint instead of a scan of the whole record (a record of many
    # items was quadratic). record_votes would pass over every other constraint anyway, and
    # this loop changes only '=' constraints, never these.
    written = _WrittenBounds()
    for n, other in enumerate(record.criteria):
        for o in other.constraints:
            if o.variable is not None and o.written_operator != "=" and o.operator in UPPER_OPS | LOWER_OPS:
                written.add(other.kind, n, o)
    for i, crit in enumerate(record.criteria):
        for j, c in enumerate(crit.constraints):
            if c.written_operator != "=":
                continue
            if not ((c.repaired and c.operator in (GE, LE)) or (is_candidate(c) and c.operator == "==")):
                continue
            others = written.others(crit.kind, c, i)
            votes = record_votes(c, crit.kind, others, rules)
            if learned:
                p = item_probability(c)
                if not votes or p is None:
                    continue
                feats = {VOICE + v.key: 1.0 if v.score > 0 else -1.0 for v in votes}
                z = model.raw_logit(p) + model.logit(feats)
                base = c.model_copy(update={"operator": "==", "repaired": False, "repair_reason": None})
                r = reading(model.probability(z), votes, model, rules)
                if r.operator != "==" and c.repaired and c.repair_reason:
                    earlier = [s for s in c.repair_reason.split("; ") if not s.startswith("P(")]
                    words = [w for w in r.reason.split("; ") if w not in earlier]
                    r = Repair(r.operator, r.confidence, "; ".join([*words[:-1], *earlier, words[-1]]))
                crit.constraints[j] = apply(base, r)
                continue
            if c.repair_reason is not None and not c.repaired:
                continue
            if c.category == "age" and (record.population.min_age or record.population.max_age):
                votes += [
                    v for v in _age_votes(c, crit.kind, record.population, rules) if "record's" in v.reason
                ]
            if not votes:
                continue
            base = c.model_copy(update={"operator": "==", "repaired": False, "repair_reason": None})
            prior = []
            if c.repaired:
                prior = [Vote(_sign(c.operator) * _logit(c.confidence), c.repair_reason or "", "prior")]
            r = combine([*votes, *prior], rules)
            if r is not None:
                crit.constraints[j] = apply(base, r)
