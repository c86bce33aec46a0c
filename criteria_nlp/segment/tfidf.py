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
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field


class Weights(Mapping):
    """feature -> (idf, weight), read from the numbered arrays (a dict of tuples of floats
    took about 400 bytes a feature: 55 MB for the classifier's 132,610)."""

    def __init__(self, index: dict[str, int], idf: array, coef: array):
        self._index, self._idf, self._coef = index, idf, coef

    @classmethod
    def from_columns(cls, features: Sequence[str], idf: Sequence[float], coef: Sequence[float]) -> Weights:
        """The mapping ``dict(zip(features, zip(idf, coef)))``, built from the columns as a
        model file stores them (3x faster than through a dict of tuples). Features must be
        distinct: the dict would keep one entry of a repeated feature."""
        index = dict(zip(features, range(len(features)), strict=True))
        if len(index) != len(features):
            raise ValueError("a feature is listed twice")
        return cls(index, array("d", idf), array("d", coef))

    def __getitem__(self, feat: str) -> tuple[float, float]:
        i = self._index[feat]
        return self._idf[i], self._coef[i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


@dataclass
class LinearTfidf:
    """A logistic model over an L2-normalised sublinear TF-IDF vector: feature -> (idf, weight).
    ``weights`` is kept as numbered arrays (:class:`Weights` reads it as the mapping it was)."""

    weights: Mapping[str, tuple[float, float]]
    intercept: float
    _index: dict[str, int] = field(init=False, repr=False)
    _idf: array = field(init=False, repr=False)
    _coef: array = field(init=False, repr=False)
    _square: array = field(init=False, repr=False)
    _product: array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.weights, Weights):  # already numbered (a model file's columns)
            self._index, self._idf, self._coef = self.weights._index, self.weights._idf, self.weights._coef
        else:
            self._index = {feat: i for i, feat in enumerate(self.weights)}
            self._idf = array("d", (entry[0] for entry in self.weights.values()))
            self._coef = array("d", (entry[1] for entry in self.weights.values()))
            self.weights = Weights(self._index, self._idf, self._coef)
        # (1 + log 1) * idf = idf: the x * x and x * weight of a feature counted once
        idf = self._idf.tolist()  # (lists, not generators: twice as fast to fill)
        self._square = array("d", [x * x for x in idf])
        self._product = array("d", [x * w for x, w in zip(idf, self._coef.tolist(), strict=True)])

    def ids(self, feats: Iterable[str]) -> list[int]:
        """The numbers of the features the model knows, in their order (the others weigh nothing)."""
        index = self._index
        return [index[f] for f in feats if f in index]

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
