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
_MAX_ASIDE_WORDS = 8
_TRAILING_ASIDES = {"regardless", "irrespective"}  # an aside that needs no comma before it
_SIBLING_DETERMINERS = {"any", "other", "another"}  # "... or | any other | infection"
_ROUTE_GLUE = {"or", "and", "and/or", "by", "via", "through", "in", "any", "the", "a", "an", ",", "(", ")", "/"}
_FOLLOWING = re.compile(r"(?i)\bthe\s+following\s*$")
_SIBLING_BEFORE = re.compile(r"(?i)\b(?:or|and|and/or)\s+(?:(?:any|other|another)\s+)+$")
_LAST_WORD = re.compile(r"([\w.\-]*\w)\W*$")
_STATE_PREPS = {"on", "with", "by", "under", "in"}


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

    def aside_start(self, text: str, lo: int, comma: int) -> int | None:
        """Where an aside set off by commas before ``comma`` begins (its opening comma), when
        its first word opens one: a verb or participle, or an ``aside_openers`` word ("an
        infection, | as judged by the investigator |, within", "malignancy, | treated or
        untreated |, in the past 5 years"). A window after it bounds the thing before it."""
        opened = text.rfind(",", lo, comma)
        words = [m for m in _a._TOKEN.finditer(text, max(opened + 1, lo, comma - 120), comma)]
        trailing = next((m.start() for m in words if m.group(0).lower() in _TRAILING_ASIDES), None)
        if trailing is not None:
            return trailing  # "antifungals | regardless of indication |, within 8 weeks"
        if opened < 0 or not words or len(words) > _MAX_ASIDE_WORDS:
            return None
        first = words[0].group(0)
        return opened if first.lower() in self.aside_openers or self._kind(first) == "verb" else None

    def counts_after(self, text: str, end: int) -> bool:
        """Whether a bare count is followed by a lead word and what it counts ("at least 1 |
        prior | course of chemotherapy"): the count bounds that, not a name before it."""
        m = _a._TOKEN.search(text, end, min(len(text), end + 20))
        return m is not None and m.group(0).lower() in self.count_leads and not text[end : m.start()].strip()

    def need_head(self, text: str, lo: int, chunk: Chunk) -> Chunk | None:
        """The thing a need verb is said of, when the chunk before a window is its sibling
        rather than what it needed: "pneumonia | requiring | antibiotics or | any other |
        serious infection within 10 days" bounds the pneumonia (and the other infection). A
        window right after what was needed bounds that ("disease requiring hospitalization
        within 1 year": the hospitalization). None when no need verb leads to the chunk or
        its subject is a person or names nothing."""
        if not _SIBLING_BEFORE.search(text, max(lo, chunk.start - 30), chunk.start):
            return None  # (the common case, tested cheaply)
        toks = [(m.start(), m.group(0).lower()) for m in _a._TOKEN.finditer(text, max(lo, chunk.start - 80), chunk.start)]
        n = len(toks)
        while n and toks[n - 1][1] in _SIBLING_DETERMINERS:
            n -= 1
        if n == len(toks) or n == 0 or toks[n - 1][1] not in ("or", "and", "and/or"):
            return None  # "disease requiring hospitalization within 1 year": the hospitalization
        for k in range(n - 2, max(-1, n - 14), -1):
            w = toks[k][1]
            verb = w in self.need_verbs or (
                k >= 1 and w in ("to", "in") and f"{toks[k - 1][1]} {w}" in self.need_verbs
            )
            if verb:
                start = toks[k - 1][0] if w in ("to", "in") else toks[k][0]
                head, _ = self.before(text, lo, start)
                if head is None or head.stray or self.is_person(text, head):
                    return None
                return head
            if w in _a._CLAUSE and w != "," or w in self.relative_pronouns:
                return None
        return None

    def state_head(self, text: str, lo: int, chunk: Chunk) -> Chunk | None:
        """The thing whose state a duration bounds: "heart failure | controlled on |
        medication for 6 weeks", "hypertension | under | control for 2 months": the state
        word (``state_words``), an optional preposition, then the chunk; None when the
        thing before the state word is a person or names nothing."""
        if not self.state_word.search(text, max(lo, chunk.start - 30), chunk.end):
            return None  # (the common case, tested cheaply)
        words = [m.group(0).lower() for m in _a._TOKEN.finditer(text, chunk.start, chunk.end)]
        toks = [(m.start(), m.group(0).lower()) for m in _a._TOKEN.finditer(text, max(lo, chunk.start - 60), chunk.start)]
        while toks and toks[-1][1] in _a._DETERMINERS:
            toks.pop()
        if len(words) == 1 and words[0] in self.state_nouns and toks and toks[-1][1] in _STATE_PREPS:
            at = toks[-1][0]  # "under | control", "in | remission": the chunk is the state
        else:
            if toks and toks[-1][1] in _STATE_PREPS:
                toks.pop()
            if not toks or toks[-1][1] not in self.state_words:
                return None
            at = toks[-1][0]
        head, _ = self.before(text, lo, at)
        if head is None or head.stray or self.is_person(text, head):
            return None
        return head

    def route_head(self, text: str, lo: int, chunk: Chunk) -> Chunk | None:
        """The drug a route or form after it belongs to: "immunoglobulins | given by
        subcutaneous or intravenous route | within 4 weeks", "corticosteroids | orally or
        intravenously |", "methotrexate | by mouth or by injection |": the chunk and the
        words back to the drug are ``route_words``, glue words and event verbs only."""
        last = _LAST_WORD.search(text, chunk.start, chunk.end)
        if last is None or last.group(1).lower() not in self.route_words:
            return None  # (the common case, tested cheaply)
        toks = [(m.start(), m.group(0)) for m in _a._TOKEN.finditer(text, max(lo, chunk.start - 100), chunk.end)]
        i = len(toks) - 1
        routed = False
        while i >= 0:
            w = toks[i][1].lower()
            if w in self.route_words:
                routed = True
            elif not (w in _ROUTE_GLUE or self._kind(toks[i][1]) == "verb"):
                break
            i -= 1
        if not routed or i < 0 or toks[i + 1][0] > chunk.start or toks[i][1] in _a._CLAUSE:
            return None
        head, _ = self.before(text, lo, toks[i + 1][0])
        if head is None or head.stray or self.is_person(text, head):
            return None
        return head

    def listed_after(self, text: str, lo: int, start: int, end: int) -> Chunk | None:
        """The first thing of a list a window introduces: "any of the following | within
        the 6 months before randomisation |: stroke, ...": "the following" before the
        window, a colon after it; the list's first chunk."""
        if not _FOLLOWING.search(text, max(lo, start - 40), start):
            return None
        colon = text.find(":", end, end + 80)
        if colon < 0 or any(c in text[end:colon] for c in ";\n"):
            return None
        return self.after(text, colon + 1, min(len(text), colon + 120), need_link=False)

    def period_of(self, text: str, lo: int, chunk: Chunk) -> bool:
        """Whether the chunk names a period something holds in ("during | treatment",
        "throughout | the trial", "while on | study")."""
        toks = [m.group(0).lower() for m in _a._TOKEN.finditer(text, lo, chunk.start)]
        while toks and toks[-1] in _a._DETERMINERS | {"of"}:
            toks.pop()  # ("during of the study treatment")
        return bool(toks) and (
            toks[-1] in ("during", "throughout") or toks[-2:] in (["while", "on"], ["while", "in"])
        )
