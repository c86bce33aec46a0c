"""The variable matcher's PhraseMatchers, built from cached token texts, find what
PhraseMatchers built from a Doc of every alias find (how they were built before)."""

import random

import pytest
from spacy.matcher import PhraseMatcher

from criteria_nlp.pipeline import build_pipeline
from criteria_nlp.pipeline.phrases import alias_tokens, phrase_pattern, tokenizer_signature
from criteria_nlp.pipeline.variables import _alias_keys


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def _phrase_matchers(nlp):
    """The two PhraseMatchers built as before (a Doc per alias), and the variable name of
    each of their keys."""
    matcher = nlp.get_pipe("criteria_variables")
    folded_aliases, exact_aliases = _alias_keys(list(matcher.entries.values()))
    matchers = (PhraseMatcher(nlp.vocab, attr="LOWER"), PhraseMatcher(nlp.vocab, attr="ORTH"))
    names: dict[int, str] = {}
    for spacy_matcher, aliases in zip(matchers, (folded_aliases, exact_aliases), strict=True):
        for name, texts in aliases.items():
            if texts:
                names[nlp.vocab.strings.add(f"test-{name}")] = name
                spacy_matcher.add(f"test-{name}", list(nlp.tokenizer.pipe(texts)))
    return matchers, names


def _texts(nlp, count: int, seed: int) -> list[str]:
    """Sentences of aliases in random case and spacing, with punctuation, numbers and
    words around them: the places where a phrase match starts, ends or breaks."""
    rng = random.Random(seed)
    aliases = [a for e in nlp.get_pipe("criteria_variables").entries.values() for a in e.get("aliases") or [e["name"]]]
    fillers = ["of", "the", ">=", "<", "10^9/L", "(", ")", ",", "and", "or", "x ULN", "18", "2.5", "-", "/", "mg/dL", "\n", "  "]
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            piece = rng.choice(aliases) if rng.random() < 0.5 else rng.choice(fillers)
            change = rng.random()
            piece = piece.upper() if change < 0.15 else piece.title() if change < 0.3 else piece
            parts.append(piece)
            parts.append(rng.choice([" ", " ", "", "  ", "-", "/"]))
        texts.append("".join(parts))
    return texts


def test_the_matchers_find_what_matchers_of_alias_docs_find(nlp):
    matcher = nlp.get_pipe("criteria_variables")
    (folded, exact), names = _phrase_matchers(nlp)
    texts = _texts(nlp, 3000, seed=7) + [
        "Absolute neutrophil count (ANC) >= 1.5 x 10^9/L, ALT or AST <= 2.5 x ULN",
        "Systolic blood pressure < 160 mmHg and diastolic blood pressure < 100 mmHg",
        "HbA1c 7.0-10.5%; eGFR >= 45 mL/min/1.73m2; body mass index 18.5 to 35 kg/m2",
    ]
    matched = 0
    for text in texts:
        doc = nlp.tokenizer(text)
        ours = tuple(sorted((matcher._label[k][1], s, e) for k, s, e in m(doc)) for m in (matcher.folded, matcher.exact))
        theirs = tuple(sorted((names[k], s, e) for k, s, e in m(doc)) for m in (folded, exact))
        assert ours == theirs, text
        matched += bool(ours[0] or ours[1])
    assert matched > 2000  # the texts do hold aliases


def test_a_pattern_is_the_hashes_a_doc_of_the_words_has(nlp):
    # "number" and "of" are strings spaCy reserves: their ids are fixed, not their hashes
    doc = nlp.tokenizer("Number of Absolute Neutrophils (ANC)")
    words = [t.text for t in doc]
    assert phrase_pattern(words, lowercase=True) == [t.lower for t in doc]
    assert phrase_pattern(words, lowercase=False) == [t.orth for t in doc]


def test_alias_tokens_are_read_back_from_the_cache_unchanged(nlp, monkeypatch, tmp_path):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    texts = ["alanine aminotransferase (ALT)", "10^9/L", "eGFR<30", "hb a1c", "anti-CD38"]
    first = alias_tokens(nlp.tokenizer, texts)
    assert list(tmp_path.glob("data-alias-tokens-*.marshal"))
    again = alias_tokens(nlp.tokenizer, texts)
    assert first == again == {t: [tok.text for tok in nlp.tokenizer(t)] for t in texts}
    assert first["eGFR<30"] == ["eGFR", "<", "30"]


def test_a_tokenizer_that_cannot_be_named_is_not_cached(nlp, monkeypatch, tmp_path):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    assert tokenizer_signature(nlp.tokenizer) is not None

    class Custom:
        prefix_search = staticmethod(lambda text: None)  # a callable with no pattern behind it

        def pipe(self, texts, batch_size=1000):
            return (nlp.tokenizer(t) for t in texts)

    assert tokenizer_signature(Custom()) is None
    assert alias_tokens(Custom(), ["ALT or AST"]) == {"ALT or AST": ["ALT", "or", "AST"]}
    assert not list(tmp_path.glob("data-alias-tokens-*.marshal"))
