"""The structures of windows and values that ``Chunker`` reads beyond noun chunks (issue
11, session 6): a bracketed window or value after a time or degree word, the age of a
thing, the head of a relative clause of effect, the setting a value is read in, a share of
a whole, the instrument a score is read on, a bracketed note, and the period a thing holds
in. The word lists are data in ``resources/attachment.json``; ``Chunker`` (``attach.py``)
holds them and the chunking these readings use."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from criteria_nlp.pipeline import attach as _a

if TYPE_CHECKING:
    from criteria_nlp.pipeline.attach import Chunk

_SHARE_OF = re.compile(r"(?i)\s{0,2}of\s+(?:the\s+|their\s+|all\s+)?")
_BRACKET_LEAD = re.compile(r"([^\W\d_][\w-]*)\s*\([^()\n]{0,25}$")
_BRACKET_TAIL = re.compile(r"[^()\n]{0,20}?\)")


class StructureReads:
    """Readings mixed into ``Chunker``: they use its word lists and its chunk methods."""

    def after_bracket(self, text: str, start: int, end: int, hi: int, timed: bool = True) -> Chunk | None:
        """The thing a bracketed window after a time word bounds: "recent (< 6 months) |
        cardiac event", "stable (8 weeks or longer) | medication"; or a bracketed value
        after a degree word ("elevated (> 2 x ULN) | liver enzymes"). The bound at
        ``[start, end)`` must fill the bracket (a few words after it at most)."""
        if text.find("(", max(0, start - 27), start) < 0:
            return None  # (the common case, tested cheaply)
        lead = _BRACKET_LEAD.search(text, max(0, start - 40), start)
        if lead is None or lead.group(1).lower() not in (
            self.window_modifiers if timed else self.value_modifiers
        ):
            return None
        close = _BRACKET_TAIL.match(text, end)
        if close is None:
            return None
        return self.after(text, close.end(), hi, need_link=False, joins=("of", "in", "with"))

    def age_of_a_thing(self, text: str, lo: int, hi: int, chunk: Chunk | None) -> bool:
        """Whether the age words in ``[lo, hi)`` are only relative ones ("older", "old")
        said of a thing, not a person: "ulcers older than 1 year", "a transplant less than
        one year old" say how long the thing has lasted."""
        if chunk is None or chunk.stray or self.is_person(text, chunk) or self.is_young(text, chunk):
            return False
        words = [m.group(0).lower() for m in _a._TOKEN.finditer(text, lo, hi)]
        spoken = [w for w in words if w in self.age]
        return bool(spoken) and all(w in self.relative_age for w in spoken)

    # ------------------------------------------------------------------ phrases

    def relative_head(self, text: str, lo: int, chunk: Chunk) -> Chunk | None:
        """The head a relative clause holding ``chunk`` describes: "medications | that are
        known to affect | sleep", "therapy with medication | that could interact with |
        warfarin"; None when there is no such clause or its head is a person ("patients
        who received chemotherapy": the event is in the clause)."""
        toks = [(m.start(), m.group(0).lower()) for m in _a._TOKEN.finditer(text, lo, chunk.start)]
        for k in range(len(toks) - 2, -1, -1):
            w = toks[k][1]
            if w in _a._CLAUSE or w in _a._OPEN or w in _a._CLOSE:
                return None
            nxt = [t[1] for t in toks[k + 1 : k + 3]]
            if w in self.relative_pronouns and (
                nxt[0] in self.relative_verbs
                or (nxt[0] in ("is", "are") and nxt[1:] in (["known"], ["likely"]))
            ):
                head, _ = self.before(text, lo, toks[k][0], cross_comma=True)
                if head is None or head.stray or self.is_person(text, head):
                    return None
                return head
        return None

    def setting_start(self, text: str, lo: int, chunk: Chunk) -> int | None:
        """Where the setting preposition before ``chunk`` starts ("oxygen saturation | on
        room air", "cervical length | on the transvaginal scan"), when only determiners
        and participles stand between; else None."""
        toks = [(m.start(), m.group(0).lower()) for m in _a._TOKEN.finditer(text, lo, chunk.start)]
        while toks and (toks[-1][1] in _a._DETERMINERS or _a._participle(toks[-1][1], self.verbs)):
            toks.pop()
        if toks and toks[-1][1] in self.setting_preps:
            return toks[-1][0]
        return None

    def measured_before(self, text: str, lo: int, hi: int) -> Chunk | None:
        """A chunk ending right before ``hi`` whose last word names a measurement
        ("cervical length", "central subfield thickness")."""
        chunk, _ = self.before(text, lo, hi)
        gap = (
            [m.group(0).lower() for m in _a._TOKEN.finditer(text, chunk.end, hi)] if chunk is not None else []
        )
        if chunk is None or chunk.stray or any(w not in self.measure for w in gap):
            return None
        words = [m.group(0).lower() for m in _a._TOKEN.finditer(text, chunk.start, chunk.end)]
        return chunk if words and words[-1] in self.measure_heads else None

    def share_of(self, text: str, lo: int, start: int, end: int, hi: int) -> Chunk | None:
        """The whole a share is of, when the share is an object ("radiation to | more than
        10% | of bone", "attend | 70% | of the sessions"), not a predicate of the thing
        before it ("weight loss | > 10% of body weight")."""
        of = _SHARE_OF.match(text, end)
        if of is None:
            return None
        prev = [m.group(0) for m in _a._TOKEN.finditer(text, max(lo, start - 30), start)]
        if prev and not (
            prev[-1].lower() in self.share_leads or self._kind(prev[-1]) in ("verb", "clause", "open")
        ):
            return None
        return self.after(text, of.end(), hi, need_link=False)

    def instrument_before(self, text: str, lo: int, chunk: Chunk) -> Chunk | None:
        """The instrument a score chunk is read on, named before it: "Patient Health
        Questionnaire (PHQ-9) for | depression score", "Rating Scale, | total score"."""
        words = [m.group(0).lower() for m in _a._TOKEN.finditer(text, chunk.start, chunk.end)]
        if not words or words[-1] not in ("score", "scores") or len(words) > 3:
            return None
        earlier, _ = self.before(text, lo, chunk.start, cross_comma=True)
        if earlier is None or earlier.stray:
            return None
        gap = [m.group(0).lower() for m in _a._TOKEN.finditer(text, earlier.end, chunk.start)]
        if any(
            w not in ("for", "with", "a", "the", ",", "(", ")", "[", "]", "on", "of") and not w.isdigit()
            for w in gap
        ):
            return None
        named = [m.group(0).lower() for m in _a._TOKEN.finditer(text, earlier.start, earlier.end)]
        return earlier if any(w in self.instruments and w not in ("score", "scores") for w in named) else None

    def is_note(self, text: str, lo: int, hi: int) -> bool:
        """Whether a bracket's words are a note (a list, a clause: "requiring steroids or
        hospitalization", "e.g., cisplatin, carboplatin"), not a name's abbreviation or
        expansion ("PRP", "Diabetic Ketoacidosis"), which belongs to the name."""
        return any(self._kind(m.group(0)) != "content" for m in _a._TOKEN.finditer(text, lo, hi))

    def period_of(self, text: str, lo: int, chunk: Chunk) -> bool:
        """Whether the chunk names a period something holds in ("during | treatment",
        "throughout | the trial", "while on | study")."""
        toks = [m.group(0).lower() for m in _a._TOKEN.finditer(text, lo, chunk.start)]
        while toks and toks[-1] in _a._DETERMINERS | {"of"}:
            toks.pop()  # ("during of the study treatment")
        return bool(toks) and (
            toks[-1] in ("during", "throughout") or toks[-2:] in (["while", "on"], ["while", "in"])
        )
