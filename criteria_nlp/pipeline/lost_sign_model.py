"""The learned decision on a bare number in a record that may have lost its signs outright:
"was a sign deleted before it, and which one" (classes: none, >=, <=).

One multinomial logistic regression reads the evidence about the number - a double space
left where the sign was, the variable's lexicon entry and its abnormal side with the item's
kind, the category, unit and value, age words, the words around, words that already bound or
place the number, the real operators of its item, and what the whole record shows (how many
bare numbers, traces, typed '<'/'>' and word operators it holds) - and gives the probability
of each class. Its weights are learned on the simulation over the training part of the
corpora (``python -m criteria_nlp.evaluation.lost_sign_train``), settings by cross-validation
grouped by trial, and a Platt scaling fitted on out-of-fold predictions turns the chosen
class's probability into the probability that the reading is right (``confidence``).

Pure Python at run time: the JSON file holds ``classes``, ``weights`` (feature -> one weight
per class), ``platt`` [a, b], ``threshold`` (the least calibrated probability read as a
bound) and ``meta`` (the training report). The features are built by :func:`features` at run
time and in training alike.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from criteria_nlp.schema import Constraint

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_REL = "models/lost_signs/deleted.json"
FORMAT = "lost-sign-deleted/1"
CLASSES = ("none", ">=", "<=")

_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)?|[^\sa-z\d]")
_TYPED = re.compile(r"(?<![<>=])[<>](?![<>=])")
_WORD_OPS = re.compile(
    r"(?i)\b(?:at\s+least|at\s+most|(?:more|less|greater|fewer|higher|lower|older|younger)\s+than|"
    r"or\s+(?:more|less|greater|higher|lower|above|below|older|younger)|up\s+to|minimum|maximum|exceed\w*)\b"
)
_AGE_BEFORE = re.compile(r"(?i)\b(?:age|aged|ages)\s{0,2}:?\s{0,2}$")


@dataclass(frozen=True)
class RecordFacts:
    """What the whole record shows of how it writes its bounds (counted once per record)."""

    candidates: int = 0  # bare numbers that may have lost a sign
    needing: int = 0  # of those, after a variable that needs a bound
    traces: int = 0
    typed: int = 0  # typed '<' / '>' (not '>=')
    word_ops: int = 0  # "at least", "more than", "or more", ...
    bounded: int = 0  # constraints with an operator (not a bare number)


def record_facts(texts, found, candidates: int, needing: int, traces: int) -> RecordFacts:
    # One scan over all items, joined by a character that is neither a space nor a word
    # character nor a sign: no match can span two items, and every boundary reads the same.
    joined = "\0".join(texts)
    typed = len(_TYPED.findall(joined))
    words = len(_WORD_OPS.findall(joined))
    bounded = sum(1 for cs in found for c in cs if c.operator != "==" and not c.repaired)
    return RecordFacts(candidates, needing, traces, typed, words, bounded)


def _bin(n: int) -> str:
    for edge in (0, 1, 2, 4, 8, 16):
        if n <= edge:
            return str(edge)
    return "many"


def _value_bin(value: float) -> str:
    for edge in (0, 1, 2, 5, 10, 20, 50, 100, 1000):
        if value <= edge:
            return str(edge)
    return "big"


def _norm(tok: str) -> str:
    return "<num>" if tok[0].isdigit() else tok


def near_ways(others) -> set[str]:
    """The directions of the real operators among ``others`` (one item's constraints)."""
    ways = set()
    for o in others:
        if o.repaired or o.written_operator in (None, "="):
            continue
        if o.operator in (">", ">="):
            ways.add("up")
        elif o.operator in ("<", "<="):
            ways.add("down")
        elif o.operator == "between":
            ways.add("range")
    return ways


def features(
    c: Constraint,
    text: str,
    kind: str | None,
    rec: RecordFacts,
    *,
    trace: bool,
    side: str | None,
    entry: dict | None,
    needs_bound: bool,
    bound_words: tuple[bool, bool, bool],
    near: set[str],
    item_candidates: int,
    votes=None,
) -> dict[str, float]:
    """The features of one bare number ``c`` (offsets in ``text``, its item's text);
    ``votes``: the operator repair's rule voices on it read as a bare '=' (None: its
    rules read the number as a real equality)."""
    k = kind or "none"
    cat = c.category or "none"
    f: dict[str, float] = {"bias": 1.0, f"k:{k}": 1.0}
    tr = "trace" if trace else "bare"
    f[f"{tr}"] = 1.0
    f[f"{tr}:k:{k}"] = 1.0
    f[f"k:{k}:side:{side}"] = 1.0
    f[f"k:{k}:cat:{cat}"] = 1.0
    f[f"k:{k}:cat:{cat}:side:{side}"] = 1.0
    f[f"{tr}:cat:{cat}"] = 1.0
    if entry:
        f[f"var:{entry['name']}"] = 1.0
        f[f"k:{k}:var:{entry['name']}"] = 1.0
    unit = c.unit or "none"
    f[f"unit:{unit}"] = 1.0
    f[f"k:{k}:cat:{cat}:unit:{unit}"] = 1.0
    if c.relative_to:
        f[f"k:{k}:rel:{c.relative_to}"] = 1.0
    vb = _value_bin(abs(c.value or 0.0))
    f[f"cat:{cat}:v:{vb}"] = 1.0
    f[f"k:{k}:cat:{cat}:v:{vb}"] = 1.0
    if not c.text[:1].isdigit():
        f["not_digit_start"] = 1.0
    if c.negated:
        f[f"k:{k}:negated"] = 1.0
    nb = "nb" if needs_bound else "free"
    f[nb] = 1.0
    for name, on in zip(("bound_after", "bound_before", "placed_before"), bound_words, strict=True):
        if on:
            f[name] = 1.0
    if _AGE_BEFORE.search(text, max(0, c.start - 12), c.start):
        f[f"k:{k}:age_word"] = 1.0
    # the words around
    line_start = text.rfind("\n", 0, c.start) + 1
    before = [_norm(t) for t in _TOKEN.findall(text[max(line_start, c.start - 80) : c.start].lower())][-6:]
    after = [_norm(t) for t in _TOKEN.findall(text[c.end : c.end + 60].lower())][:4]
    for i, tok in enumerate(reversed(before[-3:]), 1):
        f[f"w-{i}:{tok}"] = 1.0
    for tok in set(before):
        f[f"b:{tok}"] = 1.0
    for i, tok in enumerate(after[:2], 1):
        f[f"w+{i}:{tok}"] = 1.0
    for tok in set(after):
        f[f"a:{tok}"] = 1.0
    if not before:
        f["item_start"] = 1.0
    # the item's real operators and its other bare numbers
    for way in near:
        f[f"k:{k}:near:{way}"] = 1.0
    f[f"item_cands:{_bin(item_candidates)}"] = 1.0
    # the rule voices: each as +1 (points to '>=') or -1, their sum's side, or an equality
    if votes is None:
        f["equality"] = 1.0
    else:
        total = 0.0
        for v in votes:
            if v.score and v.key:
                key = "voice:" + v.key
                f[key] = max(-2.0, min(2.0, f.get(key, 0.0) + (1.0 if v.score > 0 else -1.0)))
                total += v.score
        f[f"{tr}:votes:{'up' if total > 0.5 else 'down' if total < -0.5 else 'none'}"] = 1.0
    # the record
    for name, n in (
        ("rc", rec.candidates),
        ("rn", rec.needing),
        ("rt", rec.traces),
        ("ty", rec.typed),
        ("wo", rec.word_ops),
        ("bd", rec.bounded),
    ):
        f[f"{name}:{_bin(n)}"] = 1.0
        f[f"{nb}:{name}:{_bin(n)}"] = 1.0
    f[f"{tr}:rt:{_bin(rec.traces)}"] = 1.0
    # how the record writes its other bounds, against how many numbers await one
    rn = _bin(rec.needing)
    for name, n in (("bd", rec.bounded), ("wo", rec.word_ops), ("ty", rec.typed)):
        f[f"{nb}:rn:{rn}:{name}:{_bin(n)}"] = 1.0
    share = rec.needing / rec.candidates if rec.candidates else 0.0
    f["need_share"] = share
    f[f"{nb}:need_share"] = share
    return f


@dataclass
class DeletedModel:
    """Weights of the multinomial regression: P(class) = softmax(sum_f x_f * w_f[class])."""

    classes: tuple[str, ...]
    weights: dict[str, list[float]]
    platt: tuple[float, float] = (1.0, 0.0)
    threshold: float = 0.5
    meta: dict = field(default_factory=dict)
    threshold_trace: float | None = None  # the threshold of a number after a trace (None: ``threshold``)

    @classmethod
    def from_dict(cls, data: dict, origin: str = "<model>") -> DeletedModel:
        try:
            classes = tuple(data["classes"])
            weights = {str(k): [float(x) for x in v] for k, v in data["weights"].items()}
            if any(len(v) != len(classes) for v in weights.values()):
                raise ValueError("a weight row does not have one weight per class")
            a, b = data.get("platt", (1.0, 0.0))
            trace = data.get("threshold_trace")
            return cls(
                classes, weights, (float(a), float(b)), float(data.get("threshold", 0.5)), data.get("meta", {}),
                None if trace is None else float(trace),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{origin}: not a lost-sign decision file ({exc})") from exc

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "classes": list(self.classes),
            "platt": list(self.platt),
            "threshold": self.threshold,
            "threshold_trace": self.threshold_trace,
            "meta": self.meta,
            "weights": self.weights,
        }

    def probabilities(self, feats: dict[str, float]) -> dict[str, float]:
        z = [0.0] * len(self.classes)
        for name, x in feats.items():
            w = self.weights.get(name)
            if w is not None and x:
                for i, wi in enumerate(w):
                    z[i] += wi * x
        top = max(z)
        e = [math.exp(v - top) for v in z]
        s = sum(e)
        return {c: v / s for c, v in zip(self.classes, e, strict=True)}

    def calibrated(self, p: float) -> float:
        """The chosen class's probability turned into the probability the reading is right."""
        a, b = self.platt
        p = min(max(p, 1e-6), 1 - 1e-6)
        z = a * math.log(p / (1 - p)) + b
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def read(self, feats: dict[str, float], trace: bool = False) -> tuple[str, float]:
        """(operator, calibrated probability) of the likelier bound, or ("==", p) when it
        does not pass the threshold (``threshold_trace`` after a trace, when set)."""
        probs = self.probabilities(feats)
        op = ">=" if probs[">="] >= probs["<="] else "<="
        p = self.calibrated(probs[op])
        bar = self.threshold_trace if trace and self.threshold_trace is not None else self.threshold
        return (op if p >= bar else "=="), p


def load_model(path: str | Path | None = None) -> DeletedModel | None:
    """The shipped weights (models/ of a source checkout, or inside the wheel), or None."""
    rel = Path(MODEL_REL)
    candidates = [Path(path)] if path else [REPO_ROOT / rel, Path(__file__).resolve().parents[1] / rel]
    for file in candidates:
        if file.exists():
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(f"{file}: cannot read the lost-sign decision ({exc})") from exc
            return DeletedModel.from_dict(data, str(file))
    return None
