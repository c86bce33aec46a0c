"""Continental number formats in the reading text (criteria_nlp.readers.reading): "3.000"
reads 3000 and "1,5" reads 1.5 only in text that is not English, and only where the number
stands alone (not inside a longer run of digits, dots and commas)."""

from criteria_nlp.readers.reading import _DECIMAL_COMMA, _THOUSANDS, reading_text

SPANISH = "Pacientes con neutrófilos de 1.500/mm3 o más y creatinina de 1,5 mg/dl o menos, sin otra enfermedad para el estudio"
ENGLISH = "Patients with neutrophils of 1.500 or more and creatinine of 1,5 mg/dl or less for the study"


def test_spanish_numbers_are_read_and_map_back():
    text, mapping = reading_text(SPANISH)
    assert "1500/mm3" in text and "1.5 mg/dl" in text
    start = text.index("1500")
    a, b = mapping.span(start, start + 4)
    assert SPANISH[a:b] == "1.500"


def test_english_text_keeps_its_numbers():
    assert reading_text(ENGLISH)[0] == ENGLISH


def test_only_a_number_standing_alone_is_taken():
    # at the start of the text, after a space or a bracket: taken
    assert [m.group(0) for m in _THOUSANDS.finditer("1.500 (2.000) x3.000")] == ["1.500", "2.000", "3.000"]
    # inside a longer run of digits, dots or commas: not taken anywhere in the run
    for run in ("12345.678", "0.1.500", "7,1.500", "1.5000", "1.500,5"):
        assert _THOUSANDS.search(run) is None, run
    assert [m.group(0) for m in _DECIMAL_COMMA.finditer("1,5 y 22,75")] == ["22,75"]  # "1,5 y": a list
    for run in ("3.1,5", "91,5,2", "12345,6", "1,555"):
        assert _DECIMAL_COMMA.search(run) is None, run


def test_the_cheap_hints_hold_wherever_the_patterns_match():
    # The hints only decide whether the patterns are searched at all: a text where a
    # pattern matches but its hint does not would lose its continental reading.
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from criteria_nlp.readers.reading import _DECIMAL_COMMA_HINT, _THOUSANDS_HINT

    @settings(max_examples=3000, deadline=None)
    @given(st.text(alphabet="0123456789.,; oyx(", max_size=24))
    def check(text):
        if _THOUSANDS.search(text):
            assert _THOUSANDS_HINT.search(text), text
        if _DECIMAL_COMMA.search(text):
            assert _DECIMAL_COMMA_HINT.search(text), text

    check()
    # and the hints do pass over English numbers: most texts never reach the patterns
    assert _THOUSANDS_HINT.search("ANC of 1.5 x 10^9/L, platelets 100,000/mm3") is None
    assert _DECIMAL_COMMA_HINT.search("ANC of 1.5 x 10^9/L, platelets 100,000/mm3") is None
