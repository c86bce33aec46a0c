"""Header lines of a criteria region ("Inclusion Criteria:", "[Exclusion Criteria]",
"Patients will be excluded if:"): where one ends and which kind it announces. Reads only
the text and the rules of ``patterns.json``; the scanner (:mod:`criteria_nlp.segment.segmenter`)
decides where to look and what a header does to the numbering."""

from __future__ import annotations

import re

from criteria_nlp.segment.patterns import holds_any, keyword_kind

COMBINED = "combined"  # "Inclusion & exclusion criteria": says nothing about the kind


class HeaderLines:
    """Header detection for ``Scanner``: needs its ``text`` and ``r`` (the compiled rules)."""

    def header_at(self, pos: int, le: int, labelled: bool = False) -> tuple[int, str] | None:
        """(end, kind) of a header line starting at ``pos``; ``labelled`` when a label
        precedes it (then only a header that fills the rest of the line counts)."""
        text = self.text
        p = pos
        while p < le and text[p] in "#*_ \t":
            p += 1
        close = self.r.header_brackets.get(text[p]) if p < le else None
        if close is not None:
            return self._bracketed_header(p, le, close, labelled)
        keyword, phrase = self.r.header_pieces, self.r.header_phrase_pieces
        line = text[p:le]
        if keyword is not None and phrase is not None and line.isascii():
            # Nearly every line is no header: a few substring tests tell most of them.
            low = line.lower()
            found = self._keyword_header(p, le, labelled) if holds_any(low, keyword) else None
            return found or (self._phrase_header(p, le) if holds_any(low, phrase) else None)
        return self._keyword_header(p, le, labelled) or self._phrase_header(p, le)

    def _bracketed_header(self, p: int, le: int, close: str, labelled: bool) -> tuple[int, str] | None:
        """"[Exclusion Criteria]", "(Inclusion criteria)", "<Exclusion>": a header that
        fills the brackets; a colon or dash may follow them."""
        text = self.text
        q = text.find(close, p + 1, le)
        if q < 0:
            return None
        inner_start = p + 1
        while inner_start < q and text[inner_start] in " \t*_":
            inner_start += 1
        inner_end = q
        while inner_end > inner_start and text[inner_end - 1] in " \t*_:":
            inner_end -= 1
        found = self._keyword_header(inner_start, inner_end, False) or self._phrase_header(inner_start, inner_end)
        if found is None or found[0] < inner_end:
            return None
        end = q + 1
        m = re.compile(r"[ \t]*(?::|--?|[\u2013\u2014])?[*_]*").match(text, end, le)
        end = m.end() if m else end
        if labelled and text[end:le].strip():
            return None
        return end, found[1]

    def _phrase_header(self, p: int, le: int) -> tuple[int, str] | None:
        """A whole line that is one of patterns.json's header phrases ("Criteria for exclusion",
        "Patients will be excluded if:")."""
        text = self.text
        end = le
        while end > p and text[end - 1] in " \t\r*_":
            end -= 1
        if end <= p:
            return None
        any_phrase = self.r.header_phrase_any
        if any_phrase is not None and any_phrase.fullmatch(text, p, end) is None:
            return None
        for rx, kind in self.r.header_phrases:
            if rx.fullmatch(text, p, end):
                return end, kind
        return None

    def _keyword_header(self, p: int, le: int, labelled: bool) -> tuple[int, str] | None:
        text = self.text
        m = self.r.header_line.match(text, p, le)
        if not m:
            return None
        term = m.group("term")
        if term and term.startswith(":"):
            term = ":"  # "Exclusion Criteria:-" is "Exclusion Criteria:"
        after = text[m.end() : le].strip().strip("*_").strip()
        has_crit = bool(m.group("crit"))
        pre_words = m.group("pre").split()
        low_words = [w.lower() for w in pre_words]
        if not has_crit:
            # "Inclusion:" or a bare "Exclusions" line; with words before the keyword only a
            # short capitalised name alone on its line ("Transplant Exclusion:").
            named = (
                term == ":"
                and not after
                and len(pre_words) <= 2
                and all(w[0].isupper() and w.lower() not in self.r.header_sentence_words for w in pre_words)
            )
            if (pre_words and not named) or (term != ":" and term is not None):
                return None
        if m.group("qual") and not has_crit:
            return None
        if labelled and (after or not (has_crit or term == ":")):
            return None
        if term and term.startswith("-") and after and not has_crit:
            return None
        if any(w in self.r.header_sentence_words for w in low_words):
            return None  # "Patients who meet the inclusion criteria": a sentence
        if pre_words and term != ":" and not all(
            w[0].isupper() or w.lower() in self.r.header_known_prefix for w in pre_words
        ):
            return None
        end = m.end()
        while end < le and text[end] in "*_":
            end += 1
        k1 = keyword_kind(m.group("kw"))
        k2 = keyword_kind(m.group("kw2")) if m.group("kw2") else None
        kind = COMBINED if (k2 and k2 != k1) else k1
        return end, kind or COMBINED
