"""The learned decision of the operator repair, scored in pure Python.

One logistic regression reads every piece of evidence about a bare "=" - each rule voice
of :mod:`criteria_nlp.pipeline.repair` (lexicon side with the item kind, ULN/LLN, cue
phrases, time spans, ages, pairs, siblings, the record) as a signed feature, the context
words, value bins, the variable and its category, and the written form of the sign
("form:=") - and gives the log-odds of ">=" against "<=". Its weights are learned by
``python -m criteria_nlp.evaluation.repair train``; a Platt scaling fitted on out-of-fold
predictions turns the log-odds into a calibrated probability, so ``confidence`` is the
estimated probability that the chosen operator is right.

The JSON file holds ``weights`` (feature -> weight), ``calibration`` ({"a", "b"}: P(>=) =
sigmoid(a * logit + b)), ``keep`` (estimated probabilities of the readings that are not a
direction: a two-sided "a=X=b" read as a range), ``value_prior`` (the table of
:mod:`criteria_nlp.pipeline.value_prior`: where a value sits among the values real criteria
bound the same variable by) and ``meta`` (training report).
"""

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "operator-decision/2"


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def logit_of(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass
class OperatorModel:
    """Weights of one logistic regression, P(>=) = sigmoid(a * sum(w_f * x_f) + b).

    Features are names with a value (1 for a present word, +-1 for a voice's direction);
    a plain list of names means value 1 each. Without ``calibration`` a = 1 and b = 0."""

    weights: dict[str, float]
    meta: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)
    keep: dict = field(default_factory=dict)
    # Left from the weights of format 1 (a multiplier per hand-weighted voice); unused by
    # the learned decision, kept so an old file still loads.
    stack: dict[str, float] = field(default_factory=dict)
    # The value-position table, as stored; read into a ValuePrior on first use.
    value_prior: dict = field(default_factory=dict)
    _prior: object = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping) -> "OperatorModel":
        if not isinstance(data, Mapping) or not isinstance(data.get("weights"), Mapping):
            raise ValueError("not an operator-repair weights file (no 'weights' object)")
        return cls(
            weights={str(k): float(v) for k, v in data["weights"].items()},
            meta=dict(data.get("meta", {})),
            calibration=dict(data.get("calibration", {})),
            keep=dict(data.get("keep", {})),
            stack=dict(data.get("stack", {})),
            value_prior=dict(data.get("value_prior", {})),
        )

    @classmethod
    def load(cls, path: str | Path) -> "OperatorModel":
        """The weights of a JSON file; parsed once, then read back from the cache folder
        (``textcache.parsed``, keyed on the file's bytes)."""
        from criteria_nlp import textcache

        path = Path(path)
        try:
            raw = path.read_bytes()
            fields = textcache.parsed("repair-weights", raw, _parse_fields)
            if set(fields) != _FIELDS:  # written by another version of this code
                fields = _parse_fields(raw)
            return cls(**fields)
        except (OSError, UnicodeError, json.JSONDecodeError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: cannot read the operator-repair weights ({exc})") from exc

    def fields(self) -> dict:
        return {
            "weights": self.weights,
            "meta": self.meta,
            "calibration": self.calibration,
            "keep": self.keep,
            "stack": self.stack,
            "value_prior": self.value_prior,
        }

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "meta": self.meta,
            "weights": self.weights,
            "calibration": self.calibration,
            "keep": self.keep,
            **({"stack": self.stack} if self.stack else {}),
            **({"value_prior": self.value_prior} if self.value_prior else {}),
        }

    @property
    def learned_decision(self) -> bool:
        """True for weights of the one learned decision (format 2); False for the old
        context-word voice, which the hand-weighted votes used as one voice among others."""
        return bool(self.calibration) or self.meta.get("format") == FORMAT

    def logit(self, feats: Iterable[str] | Mapping[str, float]) -> float:
        w = self.weights
        if isinstance(feats, Mapping):
            return sum(w.get(f, 0.0) * x for f, x in feats.items())
        return sum(w.get(f, 0.0) for f in feats)

    def prior_features(self, variable: str | None, unit: str | None, value: float, kind: str | None) -> dict[str, float]:
        """The value-position feature of a bound (empty without a table or a match)."""
        if not self.value_prior:
            return {}
        if self._prior is None:
            from criteria_nlp.pipeline.value_prior import ValuePrior

            self._prior = ValuePrior.from_dict(self.value_prior)
        return self._prior.features(variable, unit, value, kind)

    def probability(self, logit: float) -> float:
        """Calibrated P(>=) of a raw log-odds."""
        a = float(self.calibration.get("a", 1.0))
        b = float(self.calibration.get("b", 0.0))
        return sigmoid(a * logit + b)

    def raw_logit(self, probability: float) -> float:
        """The raw log-odds whose calibrated P(>=) is ``probability`` (inverse of
        :meth:`probability`): the record pass adds its own features to it."""
        a = float(self.calibration.get("a", 1.0)) or 1.0
        b = float(self.calibration.get("b", 0.0))
        return (logit_of(probability) - b) / a


_FIELDS = {"weights", "meta", "calibration", "keep", "stack", "value_prior"}


def _parse_fields(raw: bytes) -> dict:
    """The fields of an :class:`OperatorModel` from the bytes of its JSON file."""
    return OperatorModel.from_dict(json.loads(raw.decode("utf-8"))).fields()
