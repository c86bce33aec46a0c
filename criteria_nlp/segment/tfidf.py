"""Linear models over L2-normalised sublinear TF-IDF vectors, scored in pure Python.

The inclusion/exclusion classifier (:mod:`criteria_nlp.segment.classifier`) scores every
item of a list without headers, and each item has some 150 features (mostly character
n-grams of its words). Scoring by feature string costs a dictionary look-up per feature per
item; :class:`LinearTfidf` numbers its features once, and :class:`GramIds` keeps, for each
word seen, the numbers of its n-grams that the model knows, so an item costs one look-up per
word. The sums run over the same features in the same order as scoring by string: the same
floating-point result, bit for bit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field


@dataclass
class LinearTfidf:
    """A logistic model over an L2-normalised sublinear TF-IDF vector: feature -> (idf, weight)."""

    weights: dict[str, tuple[float, float]]
    intercept: float
    _index: dict[str, int] = field(init=False, repr=False)
    _idf: list[float] = field(init=False, repr=False)
    _coef: list[float] = field(init=False, repr=False)
    _square: list[float] = field(init=False, repr=False)
    _product: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {feat: i for i, feat in enumerate(self.weights)}
        self._idf = [entry[0] for entry in self.weights.values()]
        self._coef = [entry[1] for entry in self.weights.values()]
        self._square = [x * x for x in self._idf]  # (1 + log 1) * idf = idf: x * x, x * weight
        self._product = [x * w for x, w in zip(self._idf, self._coef, strict=True)]

    def ids(self, feats: Iterable[str]) -> list[int]:
        """The numbers of the features the model knows, in their order (the others weigh nothing)."""
        index = self._index
        return [index[f] for f in feats if f in index]

    def id_of(self, feat: str) -> int | None:
        return self._index.get(feat)

    def logit(self, feats: Sequence[str]) -> float:
        return self.logit_ids(self.ids(feats))

    def logit_ids(self, ids: Sequence[int]) -> float:
        norm2 = 0.0
        dot = 0.0
        square, product = self._square, self._product
        for i, count in Counter(ids).items():
            if count == 1:  # nearly always: x is the idf, its products made once
                norm2 += square[i]
                dot += product[i]
                continue
            x = (1.0 + math.log(count)) * self._idf[i]  # sublinear tf * idf
            norm2 += x * x
            dot += x * self._coef[i]
        return self.intercept + (dot / math.sqrt(norm2) if norm2 > 0 else 0.0)


class GramIds:
    """For each word, the model's numbers of its n-gram features (``grams(word)``), kept:
    words recur from item to item. Bounded, so that a stream of distinct tokens (numbers,
    codes) cannot grow it without end."""

    def __init__(self, model: LinearTfidf, grams: Callable[[str], list[str]], max_words: int = 30_000):
        self.model = model
        self.grams = grams
        self.max_words = max_words
        self._kept: dict[str, tuple[int, ...]] = {}

    def __call__(self, word: str) -> tuple[int, ...]:
        got = self._kept.get(word)
        if got is None:
            got = tuple(self.model.ids(self.grams(word)))
            if len(self._kept) < self.max_words:
                self._kept[word] = got
        return got
