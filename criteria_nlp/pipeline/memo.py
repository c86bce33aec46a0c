"""A bounded memo of per-item pipeline results, for the batch path.

Registries repeat the same criterion lines across studies ("Age >= 18 years", "Pregnant or
breastfeeding women") and whole studies recur across exports. :func:`extract_items` looks
an item up here before it makes a doc: the key is everything that reaches the item's doc,

- the item's text and kind (``doc._.criterion_kind``),
- the trace offsets the segmenter left on it (``doc.user_data[TRACES_KEY]``),
- the record's sign habits as the doc sees them (:class:`SignHabits`, the two answers the
  per-item code reads from the record's lost-sign profile),
- the record's population (``doc._.population``, as its JSON),
- whether the repair runs, and the pipeline (the very ``Language`` object and its active
  component names).

Item texts that hold no number get no doc and no lookup; the memo remembers them too
(:meth:`ItemMemo.number_free`), so that a recurring line is not tested again.

The record-level passes (the lost-sign ``record_pass``, taught abbreviations, the repair's
harmonisation) run after the lookup on every record as before: only the per-item part is
remembered. Entries are kept pickled and every hit builds fresh objects, so a caller that
renames a constraint (``teach_abbreviations`` does) cannot change the memo; pickled, an
entry is a few hundred bytes that the garbage collector never walks. What is pickled is each
constraint's field values (:func:`pack`), not the pydantic object: unpickling a model runs
its ``__setstate__`` for every constraint and alternate (38 us for three constraints against
28 us rebuilt from their fields; storing: 30 against 15-19 us). The memo holds at most
``max_items`` items (least recently used first out), so a run's memory stays flat however
long the input.

Adaptive storing: storing costs (every miss is pickled) and only pays when items recur. The
memo first stores everything for a warm-up of ``warmup`` lookups (5,000 by default: on an
input that repeats whole studies nothing can recur before the first copy has gone by), then
decides at the end of every window of ``window`` lookups (2,000; windows are counted from
the start, so the first decision ends the first window past the warm-up) for the next one:
it keeps storing when the window's hit rate was at least ``min_hit_rate`` (10%), else it
stops storing but
keeps answering from what it holds. While it does not store it still remembers the hashes of
the keys it missed (no pickling; at most ``max_items``), and counts a miss whose hash it has
seen as a hit it would have had: when that rate gets back to ``min_hit_rate`` in a window, it
stores again. A pause changes no output, only which items are read again.

Only a run that asks for it uses one (``criteria-nlp annotate`` unless ``--no-memo``;
``CRITERIA_NLP_MEMO=off`` turns it off everywhere; ``CRITERIA_NLP_MEMO=N`` sets the size)::

    memo = ItemMemo(nlp)
    with memo.active():
        records = list(structure_records(raws, nlp))
    memo.summary()      # 'item memo: 5,120 lookups, 61.2% hits, 4,013 kept (max 10,000)'
"""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DEFAULT_MAX_ITEMS = 10_000  # ~1.3 KB an item pickled: ~13 MB per process at most
DEFAULT_WARMUP = 5_000  # lookups always stored before the first decision
DEFAULT_WINDOW = 2_000  # lookups per decision to store or not
DEFAULT_MIN_HIT_RATE = 0.10  # below this a window's hits do not pay for pickling its misses
ENV = "CRITERIA_NLP_MEMO"


def pack(constraints) -> bytes:
    """Constraints as the memo keeps them: a pickle of each one's field values and fields
    set, its alternates the same way inside (see the module doc). Anything but plain
    constraints is pickled as it is."""
    from criteria_nlp.schema import Constraint, is_plain

    constraints = list(constraints)
    if not all(type(c) is Constraint and is_plain(c) and all(map(is_plain, c.alternates)) for c in constraints):
        return pickle.dumps((False, constraints), protocol=pickle.HIGHEST_PROTOCOL)
    fields = [
        (
            {**c.__dict__, "alternates": [(a.__dict__, a.__pydantic_fields_set__) for a in c.alternates]}
            if c.alternates
            else c.__dict__,
            c.__pydantic_fields_set__,
        )
        for c in constraints
    ]
    return pickle.dumps((True, fields), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> list:
    """Fresh constraints from :func:`pack`'s bytes."""
    packed, content = pickle.loads(blob)
    if not packed:
        return content
    from criteria_nlp.schema import Alternate, Constraint, rebuilt

    out = []
    for fields, fields_set in content:
        if fields["alternates"]:
            fields["alternates"] = [rebuilt(Alternate, f, fs) for f, fs in fields["alternates"]]
        out.append(rebuilt(Constraint, fields, fields_set))
    return out


@dataclass(frozen=True)
class SignHabits:
    """What an item's doc reads of its record's lost-sign profile (``lost_signs.Profile``):
    the same two properties, frozen, so that they can be part of a memo key. The per-item
    code gets this instead of the whole profile: a doc cannot depend on more than the key."""

    stars_are_signs: bool
    may_have_deleted: bool
    questions_are_signs: bool = False

    @classmethod
    def of(cls, profile) -> SignHabits:
        return cls(bool(profile.stars_are_signs), bool(profile.may_have_deleted), bool(profile.questions_are_signs))


def configured_size() -> int | None:
    """The memo size ``CRITERIA_NLP_MEMO`` asks for: None when it says off/0/no/false,
    the number it gives, else the default."""
    value = os.environ.get(ENV, "").strip().lower()
    if not value or value in ("on", "1", "yes", "true"):
        return DEFAULT_MAX_ITEMS
    if value in ("off", "0", "no", "false", "none"):
        return None
    try:
        size = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise ValueError(f"{ENV}={os.environ[ENV]!r}: give 'off' or a number of items") from None
    return size if size > 0 else None


class ItemMemo:
    """Per-item results of one pipeline (see the module doc). Not thread-safe: one per process."""

    def __init__(
        self,
        nlp,
        max_items: int = DEFAULT_MAX_ITEMS,
        window: int = DEFAULT_WINDOW,
        warmup: int = DEFAULT_WARMUP,
        min_hit_rate: float = DEFAULT_MIN_HIT_RATE,
    ):
        if max_items < 1:
            raise ValueError("an item memo holds at least one item")
        if window < 1:
            raise ValueError("an item memo decides over windows of at least one lookup")
        self.nlp = nlp
        self.max_items = max_items
        self.window = window
        self.warmup = max(warmup, window)
        self.min_hit_rate = min_hit_rate
        self.hits = 0
        self.misses = 0
        self.storing = True
        self.pauses = 0  # how many times it stopped storing
        self._entries: OrderedDict = OrderedDict()
        self._seen: OrderedDict = OrderedDict()  # hashes of missed keys while not storing
        self._window_lookups = 0
        self._window_hits = 0  # real hits, plus the hits it would have had while not storing
        self._fresh: list | None = None  # what put() stored since take_fresh(), when shared
        # item texts found to hold no number (no doc, no constraint): the same lines recur
        # without a number too ("Pregnant or breastfeeding women"), and the number test
        # costs more than a look-up. Bounded like the entries, oldest out first.
        self._number_free: dict[str, None] = {}

    def number_free(self, text: str, has_number) -> bool:
        """Whether ``text`` holds no number (``not has_number(text)``), remembered."""
        if text in self._number_free:
            return True
        if has_number(text):
            return False
        kept = self._number_free
        if len(kept) >= self.max_items:
            del kept[next(iter(kept))]
        kept[text] = None
        return True

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key) -> list | None:
        """Fresh copies of the constraints kept for ``key``, or None (a miss)."""
        entry = self._entries.get(key)
        if self._window_lookups >= self.window:  # a window of the warm-up ended: start anew
            self._window_lookups = self._window_hits = 0
        self._window_lookups += 1
        if entry is None:
            self.misses += 1
            if not self.storing:
                self._note_unstored(key)
            self._end_of_window()
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        self._window_hits += 1
        self._end_of_window()
        return unpack(entry)

    def _note_unstored(self, key) -> None:
        """A miss while not storing: was it seen before (a hit had it been stored)?"""
        h = hash(key)
        if h in self._seen:
            self._window_hits += 1
            self._seen.move_to_end(h)
            return
        self._seen[h] = None
        if len(self._seen) > self.max_items:
            self._seen.popitem(last=False)

    def _end_of_window(self) -> None:
        """After every ``window`` lookups: store during the next window or not."""
        if self._window_lookups < self.window or self.lookups < self.warmup:
            return
        storing = self._window_hits >= self.min_hit_rate * self._window_lookups
        if storing != self.storing:
            self.storing = storing
            self._seen.clear()
            if not storing:
                self.pauses += 1
        self._window_lookups = self._window_hits = 0

    def put(self, key, constraints) -> None:
        """Keep a copy of ``constraints`` (the caller goes on with the originals), unless the
        memo is not storing now (see the module doc)."""
        if not self.storing:
            return
        blob = pack(constraints)
        self._entries[key] = blob
        self._entries.move_to_end(key)
        self._trim()
        if self._fresh is not None:
            self._fresh.append((key, blob))

    # Sharing between worker processes (criteria_nlp.batch.shared_memo): each worker's memo
    # hands over what it stored, and takes in what the others stored, so that an item one
    # worker has read is not read again by the other.

    def collect_fresh(self) -> None:
        """From now on keep what :meth:`put` stores for :meth:`take_fresh`."""
        self._fresh = []

    def take_fresh(self) -> list[tuple]:
        """The (key, pickled constraints) entries stored since the last call."""
        if self._fresh is None:
            return []
        fresh, self._fresh = self._fresh, []
        return fresh

    def absorb(self, entries) -> int:
        """Keep ``entries`` (as :meth:`take_fresh` of another memo of the same pipeline gave
        them) that this memo lacks; they count as neither hits nor misses. Nothing while the
        memo is not storing. Returns how many were new."""
        if not self.storing:
            return 0
        new = 0
        for key, blob in entries:
            if key not in self._entries:
                self._entries[key] = blob
                new += 1
        self._trim()
        return new

    def _trim(self) -> None:
        """At most ``max_items`` entries: the least recently used go first."""
        while len(self._entries) > self.max_items:
            self._entries.popitem(last=False)

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        return self.hits / self.lookups if self.lookups else 0.0

    def counts(self) -> tuple[int, int]:
        return self.hits, self.misses

    def summary(self) -> str:
        return (
            f"item memo: {self.lookups:,} lookups, {100 * self.hit_rate:.1f}% hits, "
            f"{len(self):,} kept (max {self.max_items:,})"
            + ("" if self.storing else ", not storing (hits too rare)")
        )

    @contextmanager
    def active(self) -> Iterator[ItemMemo]:
        """Within the block, :func:`extract_items` on this memo's pipeline uses it."""
        global _ACTIVE
        before, _ACTIVE = _ACTIVE, self
        try:
            yield self
        finally:
            _ACTIVE = before


_ACTIVE: ItemMemo | None = None


def current(nlp) -> ItemMemo | None:
    """The active memo when it belongs to ``nlp``, else None."""
    memo = _ACTIVE
    return memo if memo is not None and memo.nlp is nlp else None


def new_memo(nlp, enabled: bool = True) -> ItemMemo | None:
    """A memo for a run on ``nlp``, or None when ``enabled`` is False or the environment
    turns it off."""
    if not enabled or nlp is None:
        return None
    size = configured_size()
    return None if size is None else ItemMemo(nlp, size)


@contextmanager
def maybe_active(memo: ItemMemo | None):
    if memo is None:
        yield None
    else:
        with memo.active():
            yield memo
