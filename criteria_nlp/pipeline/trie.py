"""Many phrases as one regular expression shaped as a trie.

Python's ``re`` tries the branches of an alternation one by one, so a flat list of
hundreds of phrases costs hundreds of attempts at every position of the text; as a trie
each position costs about the length of the longest phrase starting there. (retrie and
trieregex build such tries from literal words only; these tries also carry whitespace
gaps, word-edge assertions and per-phrase end assertions.)
"""

from __future__ import annotations

import re

_WORD_GAP = r"\s{1,3}"
_WORD_START = r"(?<![\w])"


def fold(c: str) -> str:
    # Case-insensitive tries share one branch per letter (the regex runs with re.I).
    low = c.lower()
    return low if len(low) == 1 else c


def _phrase_atoms(p: str, word_end: str = r"(?![\w])") -> tuple[list[str], str]:
    """A phrase as trie atoms (regex fragments) and its end assertion: any whitespace
    between words, word edges kept where the phrase starts or ends with a letter/digit
    (``word_end``: what may not follow such a phrase)."""
    atoms = [_WORD_START] if p[:1].isalnum() else []
    for i, word in enumerate(p.split()):
        if i:
            atoms.append(_WORD_GAP)
        atoms.extend(re.escape(fold(c)) for c in word)
    return atoms, (word_end if p[-1:].isalnum() else "")


def trie_regex(entries: list[tuple[list[str], str]]) -> str:
    """One regex for many phrases given as (atoms, end assertion); atoms are regex
    fragments. Longer phrases win: at every node the continuations come before the
    phrase ending there, as a flat list sorted longest first would."""
    root: dict = {}
    for atoms, end in entries:
        node = root
        for atom in atoms:
            node = node.setdefault(atom, {})
        ends = node.setdefault(None, [])
        if end not in ends:
            ends.append(end)

    def emit(node: dict) -> str:
        branches = [atom + emit(child) for atom, child in node.items() if atom is not None]
        branches += node.get(None, [])
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return emit(root) if root else "(?!)"


def first_chars(phrases) -> str:
    chars = set()
    for p in phrases:
        if p:
            chars.update({p[0], p[0].lower(), p[0].upper()})
    return "".join(re.escape(c) for c in sorted(chars))


def alternation(phrases, word_end: str = r"(?![\w])") -> str:
    """Phrases as one case-insensitive regex (use under re.I), longest match first, any
    whitespace between words. A look-ahead on the possible first characters skips it at
    once where no phrase can start; the phrases themselves form a trie (``trie_regex``)."""
    phrases = sorted({p for p in phrases if p and p.strip()}, key=lambda s: (-len(s), s))
    if not phrases:
        return "(?!)"
    return f"(?=[{first_chars(phrases)}])" + trie_regex([_phrase_atoms(p, word_end) for p in phrases])
