"""What keeps the criteria tokenizer linear on any input (see ``CriteriaTokenizer``).

spaCy's tokenizer peels prefixes and suffixes off a run of non-space characters one at a
time. Each step copies the rest of the run and searches it again with the suffix regex,
which the ``re`` module tries at every position of the run: a run of n brackets costs
about n² regex steps. Two measures, neither of which changes a token of ordinary text:

``SuffixSearch``
    The suffix regex with the same answer as spaCy's ``compile_suffix_regex(...).search``
    in time bounded by the longest suffix, not the token. Every suffix pattern ends at the
    end of the token (spaCy appends ``$`` to each), so the leftmost match starts at most
    ``width`` characters before the end, ``width`` being the longest any bounded pattern
    can match: searching from there finds it (look-behinds still see the characters before
    the search start). A pattern that can match without bound is a run of one character
    class (``\\.\\.+``: an ellipsis); its match in the window reaching the window's start is
    the only case where it may reach further, and then the whole token is searched. A
    pattern of any other shape is searched over the whole token, as before.

``long_runs``
    A run of more than ``MAX_RUN`` characters without a space is made one token per
    character (its first and last characters go with the text around it, so the words
    before and after are tokenized as without the run). Affix rules have nothing to say
    about such garbage, and every other split made a new lexeme for about every tenth
    character, kept in the vocab for the life of the process (1 MB of a random mix of
    brackets, operators and digits: +100,000 lexemes, +100 MB); one character per token
    keeps the vocab to the characters seen. The longest run in 3.9 million runs of real
    criteria (ClinicalTrials.gov, LCT, Chia) has 135 characters, a URL: text without a
    longer run is tokenized by spaCy's loop unchanged.
"""

from __future__ import annotations

import re

from criteria_nlp import compiled

try:  # Python 3.11+
    import re._parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef]

# Longest run of non-space characters handed to spaCy's affix loop in one piece.
MAX_RUN = 256
_LONG_RUN = re.compile(rf"\S{{{MAX_RUN + 1},}}")
_MAXREPEAT = _sre_parse.MAXREPEAT


def _single_char(item) -> bool:
    return item[0] in (_sre_parse.LITERAL, _sre_parse.IN)


def _is_char_run(parsed) -> bool:
    """Whether a parsed pattern is X...X+ for one character or class X (then every long
    enough end of a match is a match)."""
    items = list(parsed)
    if not items or items[-1][0] is not _sre_parse.MAX_REPEAT:
        return False
    lo, hi, body = items[-1][1]
    body = list(body)
    if hi != _MAXREPEAT or len(body) != 1 or not _single_char(body[0]):
        return False
    return all(_single_char(i) and i == body[0] for i in items[:-1]) and lo >= 1


class SuffixSearch:
    """A drop-in for ``compile_suffix_regex(pieces).search`` (spaCy keeps ``.pattern`` when
    it saves the tokenizer)."""

    def __init__(self, pieces: list[str]):
        pieces = [p for p in pieces if p.strip()]  # as compile_suffix_regex does
        self.pattern = "|".join(piece + "$" for piece in pieces)
        self._full = compiled.compile(self.pattern)
        chars, bounded, runs, other = [], [], [], []
        width = 1
        for piece in pieces:
            parsed = _sre_parse.parse(piece + "$")
            items = list(parsed)
            # a piece with a top-level "|" puts "$" on its last branch only: keep it exact
            if not items or items[-1] != (_sre_parse.AT, _sre_parse.AT_END):
                other.append(piece)
                continue
            lo, hi = parsed.getwidth()
            core = items[:-1]
            if len(core) == 1 and _single_char(core[0]):
                chars.append(piece)
            elif hi < _MAXREPEAT:
                bounded.append(piece)
                width = max(width, hi)
            elif _is_char_run(_sre_parse.parse(piece)):
                runs.append(piece)
            else:
                other.append(piece)
        # Only where a match starts matters (all end at the end): the single characters
        # come together as one class, which the regex engine tests at once.
        alts = (["(?:" + "|".join(chars) + ")$"] if chars else []) + [p + "$" for p in bounded]
        self._width = width
        self._window = compiled.compile("|".join(alts)) if alts else None
        self._runs = [compiled.compile(p + "$") for p in runs]
        self._other = compiled.compile("|".join(p + "$" for p in other)) if other else None

    def search(self, string: str):
        n = len(string)
        start = max(0, n - self._width)
        best = self._window.search(string, start) if self._window is not None else None
        for run in self._runs:
            m = run.search(string, start)
            if m is not None and m.start() == start and start > 0:
                m = run.search(string)  # the run may go on before the window
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        if self._other is not None:
            m = self._other.search(string)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best


def long_runs(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every run of more than MAX_RUN non-space characters; none in
    the usual case (the text is then tokenized as is)."""
    first = _LONG_RUN.search(text)
    if first is None:
        return []
    return [m.span() for m in _LONG_RUN.finditer(text, first.start())]
