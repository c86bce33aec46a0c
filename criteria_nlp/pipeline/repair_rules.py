"""Rule data of the operator repair (:mod:`criteria_nlp.pipeline.repair`): the votes and
readings it passes around, ``resources/repair_rules.json`` compiled (:class:`RepairRules`),
the variable lexicon with its alias patterns, the shipped weights, and where the "=" of
a constraint is."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from criteria_nlp import compiled, textcache
from criteria_nlp.pipeline import trie
from criteria_nlp.pipeline.repair_model import OperatorModel
from criteria_nlp.pipeline.trie import alternation
from criteria_nlp.schema import Constraint

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
RULES_PATH = RESOURCES / "repair_rules.json"
LEXICON_PATH = RESOURCES / "variables.jsonl"
REPO_ROOT = Path(__file__).resolve().parents[2]

GE, LE = ">=", "<="
TIME_WORDS = re.compile(r"^(?:years?|yrs?|months?|mos?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?)\b", re.I)
# Operators that bound a value from above or from below; used to read sibling constraints.
UPPER_OPS = {"<", "<="}
LOWER_OPS = {">", ">="}
KEPT_PREFIX = "kept '=': "


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
    # The trie's text (~0.2 s to build) is built once, then read back (textcache.py).
    folded_text = textcache.built("repair-aliases", "\x00".join(folded), lambda: alternation(folded), [trie.__file__])
    folded_pattern = compiled.compile(rf"(?:{folded_text})", re.I) if folded else None
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


@lru_cache(maxsize=1)
def default_model() -> OperatorModel | None:
    """The shipped weights: models/ of a source checkout, or criteria_nlp/models/ inside
    the wheel; None (no learned voice) when neither exists."""
    rel = default_rules().get("model", "path", default="models/operator_repair/weights.json")
    for path in (REPO_ROOT / rel, Path(__file__).resolve().parents[1] / rel):
        if path.exists():
            return OperatorModel.load(path)
    return None


def is_candidate(c: Constraint) -> bool:
    """A constraint read from a bare '=' that nothing has repaired yet."""
    return c.written_operator == "=" and not c.repaired and c.operator in ("==", "between")


def _operator_span(c: Constraint) -> tuple[int, int]:
    i = c.text.find("=")
    return (c.start + i, c.start + i + 1) if i >= 0 else (c.start, c.start)


def _sign(direction: str) -> int:
    return 1 if direction == GE else -1
