"""The segmenter's rules, compiled from ``patterns.json`` (rules are data, not code), and
loaded in compiled form (``criteria_nlp/compiled.py``: 20 ms of every start otherwise)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from criteria_nlp import compiled

_RULES_PATH = Path(__file__).with_name("patterns.json")

ROMAN = {
    "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
    "xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15,
}  # fmt: skip


@dataclass(frozen=True)
class Rules:
    header_line: re.Pattern[str]
    header_known_prefix: frozenset[str]
    header_sentence_words: frozenset[str]
    header_brackets: dict[str, str]
    header_phrases: tuple[tuple[re.Pattern[str], str], ...]
    inline_header: re.Pattern[str]
    inclusion_words: frozenset[str]
    exclusion_words: frozenset[str]
    preamble_exclusion: re.Pattern[str]
    preamble_inclusion: re.Pattern[str]
    preamble_cue: re.Pattern[str]
    label: re.Pattern[str]
    inline_number: re.Pattern[str]
    bullets: frozenset[str]
    bullets_needing_space: frozenset[str]
    number_blockers: frozenset[str]
    number_blocker_chars: str
    max_label_number: int
    # All of ``header_phrases`` as one regex: a line none of them matches costs one test.
    header_phrase_any: re.Pattern[str] | None = None
    # Words one of which every inline header contains (None: unknown): a line without any
    # of them needs no search for one. Likewise a line without a digit before "." or ")"
    # holds no inline item number.
    inline_header_words: tuple[str, ...] | None = None
    inline_number_hint: re.Pattern[str] | None = None
    # Shorter pieces that cover those words (every word holds one, see covering_pieces):
    # a line is searched for two or three pieces instead of every word. The header pieces
    # are lowercase, for ASCII lines folded by str.lower (which folds them as the
    # case-insensitive patterns do); None: unknown.
    inline_header_pieces: tuple[str, ...] | None = None
    header_pieces: tuple[str, ...] | None = None
    header_phrase_pieces: tuple[str, ...] | None = None


def _alternation(words: list[str]) -> str:
    # Longest first, so "inclusions" wins over "inclusion"; spaces match any whitespace.
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


def _any_of(patterns: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex that fullmatches where one of ``patterns`` does (None when
    they cannot be joined, e.g. a group name used twice)."""
    if not patterns:
        return None
    try:
        return compiled.compile("|".join(f"(?:{rx})" for rx in patterns), re.IGNORECASE)
    except re.error:
        return None


@lru_cache(maxsize=1)
def rules() -> Rules:
    data = json.loads(_RULES_PATH.read_text(encoding="utf-8"))
    inc = [w.lower() for w in data["header_keywords"]["inclusion"]]
    exc = [w.lower() for w in data["header_keywords"]["exclusion"]]
    kw = _alternation(inc + exc)
    header_line = compiled.compile(
        rf"(?P<pre>(?:{data['header_prefix_word']}\s+){{0,{data['header_max_prefix_words']}}}?)"
        rf"(?P<kw>{kw})(?:\s*(?:&|and|/|or|,)\s*(?P<kw2>{kw}))?"
        r"(?P<crit>\s+criteri(?:a|on|as)(?![^\W_]))?"
        rf"(?P<qual>{data['header_qualifier']})?"
        # Either a terminator (text may follow it) or the end of the line.
        rf"(?:[ \t]*(?P<term>{data['header_terminator']})|[ \t]*[*_]*[ \t]*\r?$)",
        re.IGNORECASE,
    )
    # A label: "1." "1)" "(1)" "1-" "a." "(a)" "iv." "A)"; digits may be glued to the text ("1.Age").
    label = compiled.compile(
        r"(?P<open>\()?(?P<tok>\d{1,3}|[ivx]{1,4}|[IVX]{1,4}|[A-Za-z])"
        r"(?P<punct>(?(open)\)|[.)]))"
        r"(?:(?=[ \t\r\n\f\v]|$)|(?<=\d[.)])(?=[^\W\d_]))"
        r"|(?P<dtok>\d{1,2})(?P<dash>-)(?=[ \t])"
    )
    # A number inside a line: after a space, or glued to the end of the item before it
    # ("received.,2. A subject"; not after a digit: "1,2."); followed by a space, or glued
    # to the word it numbers ("2.Histologically"; a digit after it is a decimal: "1.5 mg").
    inline_number = compiled.compile(
        r"(?:(?<=\s)|(?<=[^\d\s][,;.]))(?P<open>\()?(?P<tok>\d{1,3})(?P<punct>(?(open)\)|[.)]))"
        r"(?=[ \t]+\S|(?<=\d[.)])[^\W\d_])"
    )
    phrases = [rx for kind in ("exclusion", "inclusion") for rx in data["header_phrases"][kind]]
    inline_words = required_words(data["inline_header"])
    phrase_words = _lowercase_required(phrases)
    return Rules(
        header_phrase_any=_any_of(phrases),
        inline_header_words=inline_words,
        inline_header_pieces=covering_pieces(inline_words) if inline_words else None,
        # a keyword header holds its keyword, whose spaces stand for any run of white space
        header_pieces=covering_pieces([max(w.split(), key=len) for w in inc + exc]),
        header_phrase_pieces=covering_pieces(phrase_words) if phrase_words else None,
        inline_number_hint=compiled.compile(r"[.)](?<=\d[.)])"),
        header_line=header_line,
        header_known_prefix=frozenset(data["header_known_prefix"]),
        header_sentence_words=frozenset(data["header_sentence_words"]),
        header_brackets=dict(data["header_brackets"]),
        header_phrases=tuple(
            (compiled.compile(rx, re.IGNORECASE), kind)
            for kind in ("exclusion", "inclusion")
            for rx in data["header_phrases"][kind]
        ),
        inline_header=compiled.compile(data["inline_header"]),
        inclusion_words=frozenset(re.sub(r"\s+", " ", w) for w in inc),
        exclusion_words=frozenset(re.sub(r"\s+", " ", w) for w in exc),
        preamble_exclusion=compiled.compile(data["preamble_exclusion"], re.IGNORECASE),
        preamble_inclusion=compiled.compile(data["preamble_inclusion"], re.IGNORECASE),
        preamble_cue=compiled.compile(data["preamble_cue"], re.IGNORECASE),
        label=label,
        inline_number=inline_number,
        bullets=frozenset(data["bullets"]),
        bullets_needing_space=frozenset(data["bullet_needs_space"]) | {"-", "*", "\u2013", "\u2014"},
        number_blockers=frozenset(data["number_blockers"]),
        number_blocker_chars=data["number_blocker_chars"],
        max_label_number=int(data["max_label_number"]),
    )


def _lowercase_required(patterns: list[str]) -> tuple[str, ...] | None:
    """Lowercase strings one of which every match of one of ``patterns`` holds up to case."""
    words: set[str] = set()
    for pattern in patterns:
        found = required_words(pattern)
        if found is None:
            return None
        words.update(w.lower() for w in found)
    return tuple(sorted(words)) or None


def covering_pieces(words, size: int = 6) -> tuple[str, ...]:
    """A few strings of ``size`` characters such that every one of ``words`` holds one of
    them (a word shorter than that is taken whole): a text without any of them holds none
    of the words. Chosen greedily, the piece held by most words not yet covered first."""
    left = sorted(set(words))
    chosen = [w for w in left if len(w) < size]
    left = [w for w in left if len(w) >= size]
    while left:
        counts: dict[str, int] = {}
        for w in left:
            for piece in {w[i : i + size] for i in range(len(w) - size + 1)}:
                counts[piece] = counts.get(piece, 0) + 1
        best = max(sorted(counts), key=counts.__getitem__)
        chosen.append(best)
        left = [w for w in left if best not in w]
    return tuple(chosen)


def holds_any(text: str, pieces: tuple[str, ...]) -> bool:
    """Whether ``text`` holds one of ``pieces`` (the covering pieces above, a few characters)."""
    for piece in pieces:  # (a loop: any() over a generator costs more than the tests)
        if piece in text:
            return True
    return False


def keyword_kind(word: str) -> str | None:
    """'inclusion' or 'exclusion' for a header keyword as matched."""
    w = re.sub(r"\s+", " ", word.lower())
    r = rules()
    if w in r.exclusion_words:
        return "exclusion"
    if w in r.inclusion_words:
        return "inclusion"
    return None


def required_words(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which every match of ``pattern`` (compiled without flags)
    contains, read from the pattern's parse tree; None when no such set is found (a
    case-insensitive part, or a branch without a literal word)."""
    try:
        import re._parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover - older Python
        import sre_parse  # type: ignore[no-redef]
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return None
    if tree.state.flags & re.IGNORECASE:
        return None
    words = _required(list(tree), sre_parse)
    return tuple(sorted(words)) if words else None


def _required(items: list, sre) -> set[str] | None:  # noqa: ANN001 - the parser module
    """For a sequence of parse items: the best set of strings one of which any match holds."""
    c = sre._constants if hasattr(sre, "_constants") else sre  # the opcode names
    candidates: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is c.LITERAL:
            run += chr(av)
            continue
        if run:
            candidates.append({run})
            run = ""
        found = None
        if op is c.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            found = None if add_flags & re.IGNORECASE else _required(list(sub), sre)
        elif op is c.BRANCH:
            parts = [_required(list(b), sre) for b in av[1]]
            found = None if any(p is None for p in parts) else set().union(*parts)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)) and av[0] >= 1:
            found = _required(list(av[2]), sre)
        if found:
            candidates.append(found)
    if run:
        candidates.append({run})
    if not candidates:
        return None
    return max(candidates, key=lambda words: min(len(w) for w in words))
