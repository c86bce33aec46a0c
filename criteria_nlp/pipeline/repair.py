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
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from criteria_nlp.pipeline import compiled
from criteria_nlp.pipeline.numbers import doc_text, has_number
from criteria_nlp.pipeline.repair_model import OperatorModel
from criteria_nlp.pipeline.trie import alternation
from criteria_nlp.schema import Constraint, Population, TrialRecord

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
RULES_PATH = RESOURCES / "repair_rules.json"
LEXICON_PATH = RESOURCES / "variables.jsonl"
REPO_ROOT = Path(__file__).resolve().parents[2]

GE, LE = ">=", "<="
TIME_UNITS = {"a", "mo", "wk", "d", "h", "min", "s"}
TIME_WORDS = re.compile(r"^(?:years?|yrs?|months?|mos?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?)\b", re.I)
# Operators that bound a value from above or from below; used to read sibling constraints.
UPPER_OPS = {"<", "<="}
LOWER_OPS = {">", ">="}
KEPT_PREFIX = "kept '=': "
_GESTATION = re.compile(r"(?i)\bgestation(?:al)?\b")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Vote:
    """One piece of evidence: +weight for '>=', -weight for '<='."""

    score: float
    reason: str
    # Which voice cast it ("cue:recency", "lexicon:exclusion:lab", "model", ...): the
    # stacked weights of the model file scale each voice (see :func:`combine`).
    key: str = ""


@dataclass(frozen=True)
class Repair:
    operator: str
    confidence: float
    reason: str


@dataclass
class Cue:
    name: str
    means: str  # ">=", "<=", "abnormal" or "normal"
    where: str  # before, before_adjacent, after_adjacent, around
    window: int
    weight: float
    pattern: re.Pattern
    requires: str | None = None


@dataclass
class RepairRules:
    data: dict
    cues: list[Cue] = field(default_factory=list)
    negator: re.Pattern | None = None
    equality_after_value: list[re.Pattern] = field(default_factory=list)
    equality_before_operator: list[re.Pattern] = field(default_factory=list)
    equality_after_operator: list[re.Pattern] = field(default_factory=list)
    part_of_operator: list[re.Pattern] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> RepairRules:
        rules = cls(data=data)
        for c in data.get("cues", []):
            # "phrases" are literal; "patterns" are regular expressions ("hyper\\w+").
            literal = [re.escape(p) for p in sorted(c.get("phrases", []), key=len, reverse=True)]
            alternatives = "|".join(literal + list(c.get("patterns", [])))
            rules.cues.append(
                Cue(
                    name=c["name"],
                    means=c["means"],
                    where=c["where"],
                    window=int(c.get("window", 60)),
                    weight=float(c["weight"]),
                    pattern=re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I),
                    requires=c.get("requires"),
                )
            )
        negators = data.get("negators", [])
        if negators:
            alternatives = "|".join(re.escape(n) for n in negators)
            rules.negator = re.compile(rf"\b(?:{alternatives})\b\W*(?:\w+\W+){{0,2}}$", re.I)
        eq = data.get("equality", {})
        rules.equality_after_value = [re.compile(p) for p in eq.get("after_value", [])]
        rules.equality_before_operator = [re.compile(p) for p in eq.get("before_operator", [])]
        rules.equality_after_operator = [re.compile(p) for p in eq.get("after_operator", [])]
        rules.part_of_operator = [re.compile(p) for p in eq.get("part_of_operator", [])]
        return rules

    @classmethod
    def load(cls, path: str | Path | None = None) -> RepairRules:
        path = Path(path) if path is not None else RULES_PATH
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def get(self, *keys, default=None):
        node = self.data
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                return default
            node = node[k]
        return node


@lru_cache(maxsize=1)
def default_rules() -> RepairRules:
    return RepairRules.load()


@lru_cache(maxsize=1)
def lexicon() -> dict[str, dict]:
    """Lexicon entries by canonical name (lower case). Read here directly from
    resources/variables.jsonl because the variable matcher exposes no lookup yet."""
    entries: dict[str, dict] = {}
    if LEXICON_PATH.exists():
        for line in LEXICON_PATH.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                entries[entry["name"].lower()] = entry
    return entries


def lexicon_entry(variable: str | None) -> dict | None:
    if not variable:
        return None
    return lexicon().get(variable.lower())


# --------------------------------------------------------------------------- the learned voice

_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)?|[^\sa-z\d]")
_NUMBER = re.compile(r"\s*(\d+(?:[.,]\d+)?)")


def _norm(tok: str) -> str:
    return "<num>" if tok[0].isdigit() else tok


def _value_bin(value: float) -> str:
    for edge in (0, 1, 2, 5, 10, 20, 50, 100, 1000):
        if value <= edge:
            return str(edge)
    return "big"


@lru_cache(maxsize=1)
def _alias_patterns() -> tuple[re.Pattern | None, re.Pattern | None, dict[str, dict]]:
    """One regex for the case-insensitive aliases of the lexicon, one for the rest."""
    by_alias: dict[str, dict] = {}
    folded, exact = [], []
    for entry in lexicon().values():
        sensitive = set(entry.get("case_sensitive") or [])
        for alias in entry.get("aliases", []):
            (exact if alias in sensitive else folded).append(alias)
            by_alias.setdefault(alias if alias in sensitive else _fold_alias(alias), entry)
    # The case-insensitive aliases (thousands) as a trie: a flat alternation costs one
    # attempt per alias at every position of the text.
    # (compiled once, then loaded in compiled form: see compiled.py)
    folded_pattern = compiled.compile(rf"(?:{alternation(folded)})", re.I) if folded else None
    exact_pattern = None
    if exact:
        # dict.fromkeys, not set: the same pattern text in every process (compiled.py keys on it)
        alternatives = "|".join(re.escape(a) for a in sorted(dict.fromkeys(exact), key=len, reverse=True))
        exact_pattern = compiled.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
    return folded_pattern, exact_pattern, by_alias


def _fold_alias(text: str) -> str:
    return " ".join(text.lower().split())


def find_variable(text: str) -> dict | None:
    """The lexicon entry of the last variable named in ``text`` (the words before an
    operator), or None."""
    folded, exact, by_alias = _alias_patterns()
    best: tuple[int, dict] | None = None
    for pattern, fold in ((folded, True), (exact, False)):
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            entry = by_alias.get(_fold_alias(m.group(0)) if fold else m.group(0))
            if entry is not None and (best is None or m.end() > best[0]):
                best = (m.end(), entry)
    return best[1] if best else None


def context_features(
    text: str, op_start: int, op_end: int, kind: str | None, entry: dict | None | bool = True
) -> list[str]:
    """Features of the words around an operator whose sign is unknown. The same function
    builds training rows (operator masked) and run-time rows, so they match exactly.
    ``entry`` is the variable's lexicon entry; True looks it up in the words before."""
    line_start = text.rfind("\n", 0, op_start) + 1
    if entry is True:
        entry = find_variable(text[max(line_start, op_start - 60) : op_start])
    before = [_norm(t) for t in _TOKEN.findall(text[max(line_start, op_start - 120) : op_start].lower())][-8:]
    m = _NUMBER.match(text, op_end)
    value_end = m.end() if m else op_end
    line_end = text.find("\n", value_end)
    after_text = text[value_end : line_end if line_end >= 0 else len(text)][:80].lower()
    after = [_norm(t) for t in _TOKEN.findall(after_text)][:5]
    k = kind or "none"
    feats = ["bias:1", f"kind:{k}"]
    for i, tok in enumerate(reversed(before[-3:]), 1):
        feats.append(f"w-{i}:{tok}")
    for tok in set(before):
        feats.append(f"b:{tok}")
        feats.append(f"k:{k}:b:{tok}")
    for i, tok in enumerate(after[:3], 1):
        feats.append(f"w+{i}:{tok}")
    for tok in set(after):
        feats.append(f"a:{tok}")
    if m:
        value = float(m.group(1).replace(",", "."))
        unit = after[0] if after else "<none>"
        feats.append(f"v:{_value_bin(value)}")
        feats.append(f"vu:{_value_bin(value)}:{unit}")
        feats.append(f"k:{k}:vu:{_value_bin(value)}:{unit}")
    if entry:
        feats.append(f"var:{entry['name']}")
        feats.append(f"k:{k}:var:{entry['name']}")
        feats.append(f"k:{k}:cat:{entry.get('category')}:abn:{entry.get('abnormal')}")
    return feats


@lru_cache(maxsize=1)
def default_model() -> OperatorModel | None:
    """The shipped weights: models/ of a source checkout, or criteria_nlp/models/ inside
    the wheel; None (no learned voice) when neither exists."""
    rel = default_rules().get("model", "path", default="models/operator_repair/weights.json")
    for path in (REPO_ROOT / rel, Path(__file__).resolve().parents[1] / rel):
        if path.exists():
            return OperatorModel.load(path)
    return None


# --------------------------------------------------------------------------- decision


def is_candidate(c: Constraint) -> bool:
    """A constraint read from a bare '=' that nothing has repaired yet."""
    return c.written_operator == "=" and not c.repaired and c.operator in ("==", "between")


def _operator_span(c: Constraint) -> tuple[int, int]:
    i = c.text.find("=")
    return (c.start + i, c.start + i + 1) if i >= 0 else (c.start, c.start)


def _sign(direction: str) -> int:
    return 1 if direction == GE else -1


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
        key = "lexicon:inclusion:pattern"
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


# --------------------------------------------------------------------------- the learned decision

VOICE = "voice:"
_LEAN = re.compile(r"P\(>=\) ([01](?:\.\d+)?)")


def written_form(c: Constraint) -> str:
    """The written form of the lost sign, a feature of the decision ("=" here; "*" or
    "deleted" for the other ways exports lose a sign)."""
    return c.written_operator if c.written_operator else "deleted"


def decision_features(
    c: Constraint,
    text: str,
    kind: str | None,
    votes: Sequence[Vote],
    entry: dict | None = None,
    others: Sequence[Constraint] = (),
    near: frozenset[tuple[str, str]] | None = None,
) -> dict[str, float]:
    """Every feature of the one learned decision on ``c``: the context words, value bins,
    variable and category (:func:`context_features`), what the extractor read, the real
    operators of the item's other constraints (``others``), the written form, and each
    rule voice as +1 (points to '>=') or -1 (points to '<='). Training builds its rows
    with this same function."""
    op_start, op_end = _operator_span(c)
    feats = dict.fromkeys(context_features(text, op_start, op_end, kind, entry if entry else True), 1.0)
    feats.update(dict.fromkeys(_reading_features(c, text, kind, op_start, op_end), 1.0))
    near = neighbour_ways(others) if near is None else near
    feats.update(dict.fromkeys(_neighbour_features(c, kind, near), 1.0))
    feats[f"form:{written_form(c)}"] = 1.0
    for v in votes:
        if v.score and v.key and v.key != "model":
            key = VOICE + v.key
            feats[key] = max(-2.0, min(2.0, feats.get(key, 0.0) + (1.0 if v.score > 0 else -1.0)))
    return feats


def _reading_features(c: Constraint, text: str, kind: str | None, op_start: int, op_end: int) -> list[str]:
    """What the extractor read (category, unit, reference limit, the mention's head word,
    negation) and the item's first words, each crossed with the item kind."""
    k = kind or "none"
    feats = [f"k:{k}:cat:{c.category}", f"k:{k}:unit:{c.unit}", f"k:{k}:cat:{c.category}:unit:{c.unit}"]
    if c.relative_to:
        feats.append(f"k:{k}:rel:{c.relative_to}")
    if c.negated:
        feats.append(f"k:{k}:negated")
    if c.mention:
        words = _TOKEN.findall(c.mention.lower())
        if words:
            feats.append(f"k:{k}:head:{_norm(words[-1])}")
    first = [_norm(t) for t in _TOKEN.findall(text[: min(op_start, 60)].lower())[:2]]
    feats += [f"k:{k}:first{i}:{t}" for i, t in enumerate(first)]
    m = _NUMBER.match(text, op_end)
    after = _TOKEN.findall(text[m.end() if m else op_end :][:60].lower())[:4]
    feats += [f"k:{k}:a:{_norm(t)}" for t in set(after)]
    return feats


def neighbour_ways(others: Sequence[Constraint]) -> frozenset[tuple[str, str]]:
    """(direction, category) of every real operator among ``others`` (one item's
    constraints); computed once per item, so reading every '=' stays linear."""
    ways = set()
    for o in others:
        if o.written_operator == "=" and not o.repaired:
            continue
        if o.operator in LOWER_OPS:
            ways.add(("up", o.category))
        elif o.operator in UPPER_OPS:
            ways.add(("down", o.category))
    return frozenset(ways)


def _neighbour_features(c: Constraint, kind: str | None, near: frozenset[tuple[str, str]]) -> list[str]:
    """The directions of the real operators next to ``c`` in its item ("Hb < 9; WBC = 2"
    in an exclusion item lists low values), by the same category or not."""
    k = kind or "none"
    feats = [f"k:{k}:near:{way}" for way in {w for w, _ in near}]
    feats += [f"k:{k}:near:{way}:same-category" for way, cat in near if cat == c.category]
    return feats


def _evidence(votes: Sequence[Vote], model: OperatorModel, operator: str) -> list[str]:
    """The reasons of the voices that pushed the decision towards ``operator``, strongest first."""
    sign = _sign(operator)
    pushed = []
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
    probability: float, votes: Sequence[Vote], model: OperatorModel, rules: RepairRules
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
    words = _evidence(votes, model, operator)
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
    return reading(model.probability(model.logit(feats)), votes, model, rules)


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
    written: dict[tuple, list[tuple[int, Constraint]]] = {}
    for n, other in enumerate(record.criteria):
        for o in other.constraints:
            if o.variable is not None and o.written_operator != "=" and o.operator in UPPER_OPS | LOWER_OPS:
                written.setdefault((other.kind, o.variable), []).append((n, o))
    for i, crit in enumerate(record.criteria):
        for j, c in enumerate(crit.constraints):
            if c.written_operator != "=":
                continue
            if not ((c.repaired and c.operator in (GE, LE)) or (is_candidate(c) and c.operator == "==")):
                continue
            others = [o for n, o in written.get((crit.kind, c.variable), ()) if n != i]
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



# --------------------------------------------------------------------------- spaCy component


def _ensure_extensions() -> None:
    for name, default in (("constraints", None), ("criterion_kind", None), ("population", None)):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)


class OperatorRepair:
    """spaCy component ``criteria_repair``: repairs the '=' constraints in
    ``doc._.constraints`` (put there by ``criteria_constraints``)."""

    def __init__(self, nlp: Language, name: str = "criteria_repair", use_model: bool = True):
        _ensure_extensions()
        self.name = name
        self.use_model = use_model
        self.rules = default_rules()
        self.model = default_model() if use_model else None

    def __call__(self, doc: Doc) -> Doc:
        # Only a bare '=' is weighed; most items have none, and then nothing is done.
        # (no number: no constraint; no "=" in the text: no bare "=")
        if not has_number(doc) or "=" not in doc_text(doc):
            return doc
        constraints = doc._.constraints
        if constraints and any(is_candidate(c) for c in constraints):
            doc._.constraints = repair_constraints(
                constraints,
                doc_text(doc),
                doc._.criterion_kind,
                doc._.population,
                self.rules,
                self.model if self.model is not None else False,
            )
        return doc

    # A saved pipeline carries its own rules and weights.
    def to_disk(self, path, exclude=()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "repair_rules.json").write_text(
            json.dumps(self.rules.data, indent=2, ensure_ascii=False), "utf-8"
        )
        if self.model is not None:
            (path / "weights.json").write_text(json.dumps(self.model.to_dict(), sort_keys=True), "utf-8")

    def from_disk(self, path, exclude=()) -> OperatorRepair:
        path = Path(path)
        if (path / "repair_rules.json").exists():
            self.rules = RepairRules.load(path / "repair_rules.json")
        if self.use_model and (path / "weights.json").exists():
            self.model = OperatorModel.load(path / "weights.json")
        return self


# No annotations here: spaCy builds a pydantic model from this signature, and the string
# annotations of ``from __future__ import annotations`` would stay unresolved ForwardRefs.
@Language.factory("criteria_repair", default_config={"use_model": True})
def make_operator_repair(nlp, name, use_model):  # noqa: ANN001
    """Factory of the ``criteria_repair`` component (entry point in pyproject.toml)."""
    return OperatorRepair(nlp, name, use_model=bool(use_model))
