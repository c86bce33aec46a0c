"""The lexicon's aliases as the tokenizer splits them, kept for the next process.

The variable matcher's PhraseMatchers were given one Doc per alias: every start tokenized
the 6,500 aliases of the lexicon and made a vocabulary entry (with all its lexical
attributes) for each of their 4,800 words, about a quarter of a second. A PhraseMatcher
only needs each pattern's attribute values, which ``PhraseMatcher.add`` also takes as a
sequence of string hashes: :func:`phrase_pattern` gives them from the token texts, and
:func:`alias_tokens` reads the token texts from the cache folder of
:mod:`criteria_nlp.compiled`, so that a start tokenizes nothing. The matches are
the same (``tests/test_phrases.py`` compares both ways of building on random texts).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import spacy
from spacy.strings import get_string_id

from criteria_nlp import textcache
from criteria_nlp.pipeline import affixes
from criteria_nlp.pipeline import tokenizer as criteria_tokenizer

# the modules whose code decides how a text is split (an edit of either tokenizes afresh)
_TOKENIZER_SOURCES = (criteria_tokenizer.__file__, affixes.__file__)


def _pattern(function) -> str | None:
    """The regex pattern behind a tokenizer's bound search method, or None when it is
    something else (a callable of the user's, whose behaviour no text can name)."""
    owner = getattr(function, "__self__", None)
    pattern = getattr(owner, "pattern", None)
    return pattern if isinstance(pattern, str) else None


def tokenizer_signature(tokenizer) -> str | None:
    """Everything a spaCy ``Tokenizer`` splits a text by, as one string: its class, its
    affix, token and URL patterns, its special cases, spaCy's version and the source of
    this project's tokenizer. None when a part cannot be named: nothing is cached then."""
    parts: list = [type(tokenizer).__module__, type(tokenizer).__qualname__, spacy.__version__]
    for name in ("prefix_search", "suffix_search", "infix_finditer", "token_match", "url_match"):
        function = getattr(tokenizer, name, None)
        if function is None:
            parts.append(None)
            continue
        pattern = _pattern(function)
        if pattern is None:
            return None
        parts.append(pattern)
    try:
        rules = getattr(tokenizer, "rules", None) or {}
        parts.append(json.dumps(rules, sort_keys=True, ensure_ascii=False))
        parts.append(bool(getattr(tokenizer, "faster_heuristics", True)))
        for source in _TOKENIZER_SOURCES:
            parts.append(Path(source).read_text(encoding="utf-8"))
    except (TypeError, ValueError, OSError):
        return None
    return json.dumps(parts, ensure_ascii=False)


def alias_tokens(tokenizer, texts: Sequence[str]) -> dict[str, list[str]]:
    """Each text's token texts as ``tokenizer`` splits it; read back from the cache folder
    when the same texts were split by the same tokenizer before."""

    def split(_raw: bytes = b"") -> dict[str, list[str]]:
        unique = list(dict.fromkeys(texts))
        return {text: [t.text for t in doc] for text, doc in zip(unique, tokenizer.pipe(unique, batch_size=1000), strict=True)}

    signature = tokenizer_signature(tokenizer)
    if signature is None:
        return split()
    raw = "\x00".join([signature, *texts]).encode("utf-8", "surrogatepass")
    return textcache.parsed("alias-tokens", raw, split)


def phrase_pattern(tokens: Sequence[str], lowercase: bool) -> list[int]:
    """A PhraseMatcher pattern of token texts: the hashes of their ORTH values, or of their
    LOWER values (spaCy's LOWER of a word is ``str.lower`` of it) for an ``attr="LOWER"``
    matcher. The ids are the StringStore's (a hash, or the fixed id of a string spaCy
    reserves, such as "of"), the same in every vocabulary."""
    return [get_string_id(t.lower() if lowercase else t) for t in tokens]
