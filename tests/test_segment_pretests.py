"""The segmenter's cheap pre-tests never skip a line that holds an inline number or header."""

import random

from criteria_nlp.segment.patterns import required_words, rules


def test_required_words_from_the_parse_tree():
    assert required_words("ab(?i:cd)") == ("ab",)
    assert required_words("(?i)abc") is None
    assert required_words("x|abc") == ("abc", "x")
    assert required_words("a+bc") == ("bc",)
    assert required_words("(?:foo)?barbaz|(qux)+") == ("barbaz", "qux")
    assert required_words("[ab]c?|d") is None


def _lines(seed: int, n: int):
    rnd = random.Random(seed)
    parts = ["Inclusion", "EXCLUSION", "Non-inclusion", "criteria", "Criteria", ":", " ", "  ", "1.", "2)",
             "(3)", "12.", "x", "Key", "Main", "-", ".", ",", ";", "4.5", "a", "٣.", "ExclusionS", "NON-INCLUSIONS"]
    for _ in range(n):
        yield "".join(rnd.choice(parts) for _ in range(rnd.randint(1, 12)))


def test_pre_tests_are_exact_on_random_lines():
    r = rules()
    for line in _lines(7, 20000):
        for p in (0, min(3, len(line))):
            if r.inline_number.search(line, p, len(line)):
                assert r.inline_number_hint.search(line, p, len(line))
            if r.inline_header.search(line, p, len(line)):
                assert any(line.find(w, p, len(line)) >= 0 for w in r.inline_header_words)


def test_joined_header_phrases_match_where_one_does():
    r = rules()
    lines = ["Criteria for exclusion:", "Reasons for inclusion", "criteria of eligibility", "Age > 18",
             "Patients will be excluded if:", "Exclusion", "criteria for exclusion from the study"]
    for line in lines:
        one = any(rx.fullmatch(line) for rx, _ in r.header_phrases)
        assert bool(r.header_phrase_any.fullmatch(line)) == one
