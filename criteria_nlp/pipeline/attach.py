"""What a bound constrains, found by the item's structure rather than by the nearest word.

There is no trained parser in the pipeline, so the structure is read from word shapes and
small word lists (``resources/attachment.json``):

* a **noun chunk** is a run of content words, ended by a function word ("of", "with",
  "the", "and"...), a verb ("received", "treated"), a clause mark ("," ";" ":") or an
  unmatched open bracket; a bracketed group inside it stays ("white cell count (WBC)");
* the chunk **before** a bound is the one nearest to it once the lead words between are
  skipped ("chemotherapy | within 4 weeks", "life expectancy | of | at least 12 weeks");
  a chunk made of stray words only ("Presence", "dose") is passed over for the one before;
* the chunk **after** a bound follows a link word ("4 weeks since | prior chemotherapy",
  "at least 2 | prior lines of therapy");
* an event verb stands for the event when no chunk names it ("treated within 4 weeks").

Offsets are character offsets into the item text, as everywhere in the extractor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from criteria_nlp.pipeline.attach_structures import StructureReads

# A word (letters, digits, inner hyphens, slashes, dots, apostrophes: "anti-PD-1", "AST/ALT",
# "HbA1c", "e.g.") or one bracket / clause mark.
_TOKEN = re.compile(r"[^\W_](?:[\w\-'+/.·^µ]*[\w+%])?|[()\[\],;:]|[<>=≥≤≧≦]")
_OPEN, _CLOSE = "([", ")]"
_CLAUSE = {",", ";", ":"}
# "-ed" words end a chunk like a verb ("uncontrolled | hypertension" keeps "hypertension",
# "cancer | diagnosed within"), except a few nouns that end so.
_ED = re.compile(r"[a-z]{3,}ed$")
_MAX_CACHED_KINDS = 200_000
_ED_NOUNS = {
    "need",
    "seed",
    "bleed",
    "breed",
    "speed",
    "feed",
    "weed",
    "steed",
    "creed",
    "bed",
    "red",
    "shed",
}


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    stray: bool = False


class Chunker(StructureReads):
    def __init__(self, data: dict):
        low = lambda key: {w.lower() for w in data.get(key, [])}  # noqa: E731
        self.boundary = low("boundary")
        self.verbs = low("verbs")
        self.person = low("person")
        self.age = low("age")
        self.measure = low("measure")
        self.stray = low("stray")
        self.links_after = low("links_after")
        self.instruments = low("instruments")
        self.young = low("young")
        self.relative_age = low("relative_age")
        self.to_object_heads = low("to_object_heads")
        self.window_modifiers = low("window_modifiers")
        self.value_modifiers = low("value_modifiers")
        self.relative_pronouns = low("relative_pronouns")
        self.relative_verbs = low("relative_verbs")
        self.setting_preps = low("setting_preps")
        self.measure_heads = low("measure_heads")
        self.share_leads = low("share_leads")
        self.compound_heads = low("compound_heads")
        self.aside_openers = low("aside_openers")
        self.need_verbs = low("need_verbs")
        self.count_leads = low("count_leads")
        self.state_words = low("state_words")
        self.state_nouns = low("state_nouns")
        states = sorted((re.escape(w) for w in self.state_words | self.state_nouns), key=len, reverse=True) or ["(?!)"]
        self.state_word = re.compile(rf"(?i)\b(?:{'|'.join(states)})\b")
        self.route_words = low("route_words")
        self.max_words = int(data.get("max_chunk_words", 6))
        # _kind depends on the word only (the word lists above are fixed), and the same
        # words come back for every bound of every item: each is classified once.
        self._kinds: dict[str, str] = {}

    # ------------------------------------------------------------------ words

    def _kind(self, word: str) -> str:
        """'open', 'close', 'clause', 'boundary', 'verb' or 'content'."""
        kind = self._kinds.get(word)
        if kind is None:
            if len(self._kinds) >= _MAX_CACHED_KINDS:
                self._kinds.clear()  # bounded in a long-running process
            kind = self._kinds[word] = self._classify(word)
        return kind

    def _classify(self, word: str) -> str:
        if word in _OPEN:
            return "open"
        if word in _CLOSE:
            return "close"
        if word in _CLAUSE or not (word[0].isalnum() or word[0] == "_"):
            return "clause"  # also an operator sign ("≥", "<", "=")
        w = word.lower()
        if w in self.boundary:
            return "boundary"
        if w in self.verbs or (_ED.search(w) and w not in _ED_NOUNS):
            return "verb"
        return "content"

    def _kind_at(self, toks, i: int) -> str:
        """The kind of ``toks[i]`` in its place: a capital "A" right after a content word
        written in lower case is a letter of a name ("cyclosporine A", "toxin A
        injections", "Cohort A"), not the article that ends a chunk."""
        word = toks[i][2]
        if (
            word == "A"
            and i >= 1
            and self._kind(toks[i - 1][2]) == "content"
            and any(ch.islower() for ch in toks[i - 1][2])
        ):
            return "content"
        return self._kind(word)

    def _stray(self, text: str, start: int, end: int) -> bool:
        words = [m.group(0).lower() for m in _TOKEN.finditer(text, start, end)]
        return all(w in self.stray or w.isdigit() or not w[0].isalpha() for w in words)

    # ------------------------------------------------------------------ chunks

    def before(
        self, text: str, lo: int, hi: int, cross_comma: bool = False
    ) -> tuple[Chunk | None, tuple[int, int] | None]:
        """The noun chunk nearest before ``hi`` (not before ``lo``), and the event verb
        skipped on the way (the nearest one), if any; ``cross_comma`` lets the lead pass
        commas ("Major surgery, | other than biopsy")."""
        toks = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text, _word_start(text, lo), hi)]
        i = len(toks) - 1
        verb = None
        fallback = None
        while i >= 0:
            # lead: function words, verbs and brackets between the chunk and the bound
            while i >= 0:
                kind = self._kind_at(toks, i)
                if kind == "content" or kind == "close":
                    break
                if kind == "clause" and not (cross_comma and toks[i][2] == ","):
                    return fallback, verb
                if kind == "verb" and verb is None and fallback is None:
                    verb = (toks[i][0], toks[i][1])
                i -= 1
            if i < 0:
                break
            end_tok = i
            depth = 0
            words = 0
            first_close = None
            while i >= 0:
                kind = self._kind_at(toks, i)
                if kind == "close":
                    if depth == 0 and first_close is None:
                        first_close = i
                    depth += 1
                elif kind == "open":
                    if depth == 0:
                        break
                    depth -= 1
                elif depth == 0:
                    adjective = kind == "verb" and words > 0 and (
                        _participle(toks[i][2], self.verbs) or _determined_participle(toks, i)
                    )
                    if (kind != "content" and not adjective) or words >= self.max_words:
                        break  # ("acute decompensated | HF": a participle inside a chunk)
                    words += 1
                i -= 1
            if depth:
                # an unmatched ")" ("2) stroke within ..."): keep the words after it only
                if first_close is None or first_close >= end_tok:
                    return fallback, verb
                i = first_close
            chunk = Chunk(toks[i + 1][0], toks[end_tok][1])
            if not self._stray(text, chunk.start, chunk.end):
                return chunk, verb
            if fallback is None:
                fallback = Chunk(chunk.start, chunk.end, stray=True)
        return fallback, verb

    def after(
        self, text: str, lo: int, hi: int, need_link: bool, joins: tuple[str, ...] = ("of",)
    ) -> Chunk | None:
        """The noun chunk after a bound ("since | prior chemotherapy", "2 | lines of
        therapy"); with ``need_link`` only when a link word ("since", "of") leads to it."""
        toks = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text, lo, hi)]
        i = 0
        linked = False
        while i < len(toks):
            w = toks[i][2].lower()
            kind = self._kind_at(toks, i)
            if kind == "clause" or kind == "open" or kind == "close":
                return None
            if kind == "content":
                break
            linked = linked or w in self.links_after
            i += 1
        if i >= len(toks) or (need_link and not linked and i > 0):
            return None  # right after the bound, a chunk needs no link ("a >= 20 mm polyp")
        first = i
        words = 0
        last = i
        of_used = False
        while i < len(toks) and words < self.max_words:
            w = toks[i][2].lower()
            kind = self._kind_at(toks, i)
            if kind == "content":
                words += 1
                last = i
            elif w in joins and not of_used and i + 1 < len(toks) and self._kind(toks[i + 1][2]) == "content":
                of_used = True  # "lines of therapy", "last dose of rituximab"
            else:
                break
            i += 1
        chunk = Chunk(toks[first][0], toks[last][1])
        return None if self._stray(text, chunk.start, chunk.end) else chunk

    def instrument_after(self, text: str, lo: int, hi: int) -> Chunk | None:
        """The instrument a score is read on, named after it: "5 | on the 10-point
        numerical rating scale", "24 or above | on the Mini-Mental State Exam"."""
        toks = [m.group(0).lower() for m in _TOKEN.finditer(text, lo, min(hi, lo + 12))]
        if not toks or toks[0] not in ("on", "of", "in", "by", "using", "per", "according"):
            return None
        chunk = self.after(text, lo, hi, need_link=False)
        if chunk is None:
            return None
        words = [m.group(0).lower() for m in _TOKEN.finditer(text, chunk.start, chunk.end)]
        return chunk if any(w in self.instruments for w in words) else None

    def counted(self, text: str, lo: int, hi: int) -> Chunk | None:
        """What a count counts, written right after it: "at least 2 | courses of therapy",
        "one | of the following criteria"."""
        toks = [m.group(0).lower() for m in _TOKEN.finditer(text, lo, min(hi, lo + 40))]
        if not toks or not (self._kind(toks[0]) == "content" or toks[0] == "of" or toks[0] in self.count_leads):
            return None  # ("at least 2 | previous regimens": a lead word before what is counted)
        chunk = self.after(text, lo, hi, need_link=False)
        if chunk is not None and toks[0] == "of":
            # "one | of the following criteria": what follows "of", determiners included
            first = next(m for m in _TOKEN.finditer(text, lo, hi) if m.group(0).lower() == "of")
            nxt = _TOKEN.search(text, first.end(), chunk.start + 1)
            if nxt is not None:
                chunk = Chunk(nxt.start(), chunk.end)
        return chunk

    # ------------------------------------------------------------------ tests of words

    def only_measure_words(self, text: str, lo: int, hi: int) -> bool:
        """Only words that may stand between a name and its bound ("level of", "is")."""
        for m in _TOKEN.finditer(text, lo, hi):
            w = m.group(0).lower()
            if w not in self.measure and w not in self.boundary and w not in self.verbs and not w.isdigit():
                return False
        return True

    def is_person(self, text: str, chunk: Chunk | None) -> bool:
        if chunk is None:
            return False
        words = [m.group(0).lower() for m in _TOKEN.finditer(text, chunk.start, chunk.end)]
        return bool(words) and words[-1] in self.person

    def names_a_person(self, text: str, lo: int, hi: int) -> bool:
        """A person word in ``[lo, hi)`` ("women undergoing IVF that are less than 40 years old")."""
        return any(m.group(0).lower() in self.person for m in _TOKEN.finditer(text, lo, hi))

    def is_young(self, text: str, chunk: Chunk | None) -> bool:
        """A person whose age is counted in months, weeks or days ("infants", "neonates")."""
        if chunk is None:
            return False
        words = [m.group(0).lower() for m in _TOKEN.finditer(text, chunk.start, chunk.end)]
        return bool(words) and words[-1] in self.young

    def speaks_of_age(self, text: str, lo: int, hi: int) -> bool:
        return any(m.group(0).lower() in self.age for m in _TOKEN.finditer(text, lo, hi))

    def phrase_back(self, text: str, lo: int, chunk: Chunk) -> Chunk:
        """The noun phrase a chunk ends: back over coordination ("chemotherapy or |
        radiotherapy") and prepositional modifiers ("Treatment with | prebiotics",
        "surgery on | the knee") to its first conjunct or head, within ``lo``."""
        toks = [
            (m.start(), m.end(), m.group(0))
            for m in _TOKEN.finditer(text, _word_start(text, lo), chunk.start)
        ]
        start = chunk.start
        words = len(list(_TOKEN.finditer(text, chunk.start, chunk.end)))
        i = len(toks) - 1
        hops = 0
        end = chunk.end
        while i >= 0 and hops < 16:
            j = i
            joiner = False
            other = False
            while j >= 0 and (
                toks[j][2].lower() in _DETERMINERS
                or _participle(toks[j][2], self.verbs)
                or _determined_participle(toks, j)
            ):
                other = other or toks[j][2].lower() == "other"
                j -= 1
            verb_led = self._conjunct_lead(toks, j)
            if verb_led is not None:
                j = verb_led  # "drug study or | undergoing any | procedure": a conjunct led by a verb
            opener = _long_opener(toks, j)
            if opener is not None:
                # "surgery including but not limited to | hip surgery": a list opener of
                # several words leads back to the head of the list, as "including" does
                joiner = True
                j = opener
                while j >= 0 and (toks[j][2] == "," or toks[j][2].lower() in _LIST_OPENERS):
                    j -= 1
            elif j >= 1 and toks[j][2].lower() == "to" and toks[j - 1][2].lower() in _TO_JOINERS:
                j -= 1  # "pain due to | tennis elbow"
                joiner = True
                j -= 1
            elif j >= 1 and toks[j][2].lower() == "to" and toks[j - 1][2].lower() in self.to_object_heads:
                break  # "response to | standard treatment", "prior to | surgery": the thing is after "to"
            elif j >= 0 and (toks[j][2].lower() in _JOINERS or toks[j][2] == ","):
                joiner = True
                other = other and toks[j][2].lower() in ("or", "and") and hops == 0
                j -= 1
                while (
                    j >= 1
                    and toks[j][2].lower() in ("or", "and", "and/or")
                    and toks[j - 1][2].lower() in _PLACES
                ):
                    j -= 2  # "surgery on or near | the knee": two prepositions of one place
                if toks[j + 1][2].lower() in ("or", "and", "and/or") and j >= 1 and toks[j][2].lower() in _DANGLING:
                    j -= 1  # "exposure to or | ingestion of": the first conjunct's preposition
                while j >= 0 and (toks[j][2] == "," or toks[j][2].lower() in _LIST_OPENERS):
                    j -= 1  # ", e.g.", "such as", ", including"
            if not joiner or j < 0:
                break
            k = j
            n = 0
            if k >= 0 and toks[k][2] in _CLOSE:
                # "acetylsalicylic acid (ASA), | antiplatelet agents": a conjunct with a bracket
                depth = 0
                while k >= 0:
                    if toks[k][2] in _CLOSE:
                        depth += 1
                    elif toks[k][2] in _OPEN:
                        depth -= 1
                        if depth == 0:
                            k -= 1
                            break
                    k -= 1
                if depth:
                    break
            while (
                k >= 0
                and n < self.max_words
                and (
                    self._kind_at(toks, k) == "content"
                    or (n == 0 and k >= 1 and _noun_compound(toks[k][2], toks[k - 1][2], self))
                )
            ):
                k -= 1  # ("drug use or | alcohol abuse": a verb word ending a compound noun)
                n += 1
            if n == 0 and self._kind(toks[j][2]) == "verb" and _ED.search(toks[j][2].lower()):
                start = toks[j][0]  # "hospitalized for | AF": the event verb heads it
                break
            if n == 0 or words + n > _MAX_PHRASE_WORDS:
                break
            if toks[j + 1][2].lower() == "of" and self._stray(text, toks[k + 1][0], toks[j][1]):
                break  # "history of | cancer": the head names nothing
            words += n
            start = toks[k + 1][0]
            if other:
                # "rituximab or other biologics": the named one, not the class after it
                end = max(t[1] for t in toks[k + 1 : j + 1] if self._kind(t[2]) == "content")
            i = k
            hops += 1
        return Chunk(start, end)

    def _conjunct_lead(self, toks, j: int) -> int | None:
        """The index of the coordinator before a conjunct led by a verb (or a verb and
        "of"), when ``toks[j]`` ends such a lead: "study or | undergoing any |",
        "stroke or | have had a |", "rituximab, or | use of any |"; else None."""
        verb = False
        for v in range(j, max(-1, j - 5), -1):
            w = toks[v][2].lower()
            if w in ("or", "and", "and/or"):
                # (", or receiving ...", ", or be postmenopausal": a new criterion, not a conjunct)
                return v if verb and v >= 1 and toks[v - 1][2] != "," else None
            if (self._kind(toks[v][2]) == "verb" or w in self.verbs) and w not in _NOT_EVENTS:
                verb = True
            elif w not in _AUXILIARIES and w != "of" and w not in _DETERMINERS:
                return None
        return None

    def anchor_before(self, text: str, lo: int, chunk: Chunk) -> bool:
        """Whether the chunk is the anchor of another time phrase ("prior to | CPB",
        "before | surgery"), so a window after it bounds the thing before."""
        toks = [m.group(0).lower() for m in _TOKEN.finditer(text, lo, chunk.start)]
        while toks and (toks[-1] in _DETERMINERS or (_ED.search(toks[-1]) and toks[-1] not in _ED_NOUNS)):
            toks.pop()  # "except for | treated | carcinoma in situ"
        if toks[-2:] in (["other", "than"], ["except", "for"], ["apart", "from"]) or (
            toks and toks[-1] in _EXCEPT
        ):
            return True  # "steroids other than | aspirin": the exception is not the thing
        return bool(toks) and (toks[-1] in ("before", "after", "following") or toks[-2:] == ["prior", "to"])


_DETERMINERS = {
    "the",
    "a",
    "an",
    "any",
    "all",
    "other",
    "their",
    "his",
    "her",
    "its",
    "minimum",
    "maximum",
    "least",
    "one",
    "two",
    "three",
    "both",
    "each",
    "either",
}
_JOINERS = {
    "or",
    "and",
    "and/or",
    "with",
    "of",
    "on",
    "in",
    "into",
    "for",
    "at",
    "by",
    "from",
    "without",
    "nor",
    "to",
    "near",
    "e.g",
    "eg",
    "i.e",
    "ie",
    "including",
    "like",
    "involving",
    "affecting",
    "as",
    "around",
}
_PLACES = {"on", "in", "to", "into", "at", "around", "near", "over", "under", "above", "below", "behind"}
_DANGLING = {"to", "of", "with", "for", "from", "in", "on"}
_AUXILIARIES = {"have", "has", "had", "been", "be", "being", "is", "are", "was", "were"}
_NOT_EVENTS = {"be", "become", "became", "must", "need", "needs", "able", "unable", "willing", "agree", "agrees"}
_TO_JOINERS = {"due", "secondary", "related", "attributable"}
_EXCEPT = {"except", "excluding", "besides", "but"}
_LIST_OPENERS = {"such", "e.g", "eg", "i.e", "ie", "including", "like"}


# list openers of several words, read back from their last word (commas inside skipped)
_LONG_OPENERS = (("but", "not", "limited", "to"), ("not", "limited", "to"), ("without", "limitation"))


def _long_opener(toks, j: int) -> int | None:
    """The index before a list opener of several words ending at ``toks[j]`` ("including
    but not limited to", "including, without limitation,"), else None."""
    while j >= 0 and toks[j][2] == ",":
        j -= 1
    for phrase in _LONG_OPENERS:
        k = j
        for word in reversed(phrase):
            while k >= 0 and toks[k][2] == ",":
                k -= 1
            if k < 0 or toks[k][2].lower() != word:
                break
            k -= 1
        else:
            return k
    return None


def _word_start(text: str, lo: int) -> int:
    """``lo`` moved back to the start of a word it cuts (a window that starts mid-word)."""
    while 0 < lo < len(text) and text[lo - 1].isalnum() and text[lo].isalnum():
        lo -= 1
    return lo


def _noun_compound(word: str, before: str, chunker: Chunker) -> bool:
    """A verb word heading a compound noun ("drug use", "nutritional drinks"): one of the
    data's ``compound_heads``, right after a content word."""
    return (
        word.lower() in chunker.compound_heads
        and chunker._kind(before) == "content"
        and not before[0].isdigit()
    )


def _participle(word: str, verbs: set[str]) -> bool:
    """An adjectival "-ed" word inside a modifier ("in the | affected | shoulder")."""
    w = word.lower()
    return bool(_ED.search(w)) and w not in verbs and w not in _ED_NOUNS


def _determined_participle(toks, i: int) -> bool:
    """An event verb's participle right after a determiner is an adjective ("to the |
    treated | eye", "into the | injected | knee"), whatever the verb list says."""
    return i >= 1 and bool(_ED.search(toks[i][2].lower())) and toks[i - 1][2].lower() in ("the", "a", "an", "this", "that")


_MAX_PHRASE_WORDS = 40
