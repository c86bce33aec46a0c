"""spaCy's English tokenizer, adjusted for eligibility criteria.

Registry text glues operators and numbers to words ("SLEDAI=8", "eGFR<30", "ALT≥2×ULN",
"45-80Kg", "≥18years"); these are split. Names that carry digits or hyphens ("IL-2",
"COVID-19", "CD4+", "SLEDAI-2K", "anti-CD38"), titres ("1:160") and units
("mL/min/1.73m2", "10^9/L", "mg/dL") stay whole.
"""

from __future__ import annotations

import re

from spacy.lang.char_classes import ALPHA
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import registry

from criteria_nlp import compiled
from criteria_nlp.pipeline.affixes import SuffixSearch, long_runs
from criteria_nlp.pipeline.numbers import HAS_NUMBER_KEY, TEXT_KEY, text_has_number

# Comparison characters as they appear in criteria (full-width and slanted forms included).
OPERATOR_CHARS = "<>=≥≤＞＜⩾⩽≧≦~～×≠±"
_OPS = re.escape(OPERATOR_CHARS)

# Typed-out operators kept as one token when they open a token (">/=18", ">=18").
_COMPOUND_PREFIXES = [r">/=", r"</=", r">=", r"<=", r"=>", r"=<", r"\+/-"]

_INFIXES = [
    # an operator between anything: "SLEDAI=8", "5=ESSDAI=13", "eGFR<30", "0~2"
    rf"[{_OPS}]",
    # digits followed by letters or %: "80Kg", "18years", "3N", "0.5g" (but not "2K" in
    # "SLEDAI-2K", which the token_match below keeps whole first)
    rf"(?<=[0-9])(?=[{ALPHA}%µμ])",
    # a range between digits: "18-70", "45-80"
    r"(?<=[0-9])[-–—](?=[0-9])",
    # brackets glued inside a word: "index(SLEDAI)", "disorder(proteinuria>0.5g/day)"
    r"(?<=[A-Za-z0-9])[()\[\]](?=[A-Za-z0-9<>=≥≤])",
]

# Tokens kept whole as they stand.
_PROTECTED = [
    # letters then digits, maybe hyphenated parts and a trailing +/-: HER2, CD4+, HbA1c,
    # IL-2, COVID-19, SLEDAI-2K, anti-CD38, SARS-CoV-2
    r"(?=[A-Za-z0-9+–-]*[0-9])[A-Za-z][A-Za-z0-9]*(?:[-–][A-Za-z0-9]+)*[+-]?",
    # titres and ratios: 1:160
    r"[0-9]+:[0-9]+",
    # units with a slash: mg/dL, mL/min/1.73m2, cells/mm3, g/day
    r"[A-Za-zµμ]+(?:/[A-Za-z0-9.µμ²³]+)+",
    # scientific notation units: 10^9/L, ×10⁹/L, x10*9/L
    r"[x×]?10(?:\^|\*{1,2})?[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2}/[A-Za-zµμ]+[0-9³]?",
]


def _token_match(extra: list[str]):
    return compiled.compile("^(?:" + "|".join(_PROTECTED + extra) + ")$").match


# spaCy's compile_prefix_regex and compile_infix_regex (the same expressions), loaded in
# compiled form: the infix pattern alone took 25 ms to compile at every start.
def compile_prefix_regex(entries: list[str]) -> re.Pattern:
    return compiled.compile("|".join("^" + piece for piece in entries if piece.strip()))


def compile_infix_regex(entries: list[str]) -> re.Pattern:
    return compiled.compile("|".join(piece for piece in entries if piece.strip()))


class LinearTokenizer(Tokenizer):
    """spaCy's tokenizer in linear time on any input, with the same tokens on real text.

    spaCy strips prefixes and suffixes from a token one at a time, copying and searching
    the rest of the token each time: quadratic on a long token without spaces (a criterion
    of 20,000 "(" took a minute). Two changes fix that: the suffix search looks at the end
    of the token only (``affixes.SuffixSearch``, the same answer as the plain regex), and a
    run of more than ``affixes.MAX_RUN`` characters without a space, which no real
    criterion holds, becomes one token per character (``affixes.long_runs``). Text without
    such a run goes through spaCy's own loop unchanged."""

    def __call__(self, text: str) -> Doc:
        runs = long_runs(text)
        if not runs:
            return super().__call__(text)
        # spaCy tokenizes the text between runs with each run's first and last characters:
        # those pieces start and end inside a run, so no whitespace is lost, and the words
        # and spaces rebuild the text. The inside of a run is one token per character.
        words: list[str] = []
        spaces: list[bool] = []
        done = 0
        for start, end in runs:
            part = super().__call__(text[done : start + 1])
            words.extend(t.text for t in part)
            spaces.extend(bool(t.whitespace_) for t in part)
            words.extend(text[start + 1 : end - 1])
            spaces.extend([False] * (end - start - 2))
            done = end - 1
        part = super().__call__(text[done:])
        words.extend(t.text for t in part)
        spaces.extend(bool(t.whitespace_) for t in part)
        return Doc(self.vocab, words=words, spaces=spaces)

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()) -> LinearTokenizer:
        # spaCy restores a plain compiled regex from the saved pattern; put the bounded
        # search back when the pattern is the one it was built from.
        fast = getattr(self.suffix_search, "__self__", None)
        super().from_bytes(bytes_data, exclude=exclude)
        loaded = getattr(self.suffix_search, "__self__", None)
        if isinstance(fast, SuffixSearch) and getattr(loaded, "pattern", None) == fast.pattern:
            self.suffix_search = fast.search
        return self


class CriteriaTokenizer(LinearTokenizer):
    """The linear tokenizer that also notes on each doc whether its text holds a number:
    the rule components skip the other docs, and asking ``doc.text`` would rebuild the
    string from the tokens."""

    def __call__(self, text: str) -> Doc:
        doc = super().__call__(text)
        found = doc.user_data[HAS_NUMBER_KEY] = text_has_number(text)
        if found:
            doc.user_data[TEXT_KEY] = text
        return doc


def linear_tokenizer(nlp: Language) -> LinearTokenizer:
    """The default tokenizer of ``nlp``'s language (what ``spacy.blank`` gives), made linear."""
    d = nlp.Defaults
    return LinearTokenizer(
        nlp.vocab,
        rules=dict(d.tokenizer_exceptions),
        prefix_search=compile_prefix_regex(d.prefixes).search if d.prefixes else None,
        suffix_search=SuffixSearch(list(d.suffixes)).search if d.suffixes else None,
        infix_finditer=compile_infix_regex(d.infixes).finditer if d.infixes else None,
        token_match=d.token_match,
        url_match=d.url_match,
    )


def criteria_tokenizer(nlp: Language) -> Tokenizer:
    defaults = nlp.Defaults
    prefixes = _COMPOUND_PREFIXES + [rf"[{_OPS}]"] + list(defaults.prefixes)
    # Drop the default rule that splits "/" between letters ("mg/dL" stays one token).
    infixes = [p for p in defaults.infixes if "/" not in p] + _INFIXES
    suffixes = list(defaults.suffixes) + [rf"[{_OPS}]"]
    # A bound regex method, not a closure: spaCy serialises the pattern with the tokenizer.
    extra = [defaults.token_match.__self__.pattern.strip("^$")] if defaults.token_match else []
    token_match = _token_match(extra)
    return CriteriaTokenizer(
        nlp.vocab,
        rules=dict(defaults.tokenizer_exceptions),
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=SuffixSearch(suffixes).search,
        infix_finditer=compile_infix_regex(infixes).finditer,
        token_match=token_match,
        url_match=defaults.url_match,
    )


@registry.tokenizers("criteria_nlp.tokenizer.v1")
def create_tokenizer():
    """The registered tokenizer factory (referenced from a saved pipeline's config.cfg)."""

    def make(nlp: Language) -> Tokenizer:
        return criteria_tokenizer(nlp)

    return make


LINEAR_TOKENIZER = "criteria_nlp.linear_tokenizer.v1"


@registry.tokenizers(LINEAR_TOKENIZER)
def create_linear_tokenizer():
    """spaCy's default tokenizer of the language, made linear (scispaCy's abbreviation
    detector reads its tokens). Named in ``spacy.blank``'s config so that the language
    builds this tokenizer alone: a default tokenizer built first and then replaced costs
    its exceptions' load twice (0.3 s of every start that reads a definition)."""

    def make(nlp: Language) -> Tokenizer:
        return linear_tokenizer(nlp)

    return make
