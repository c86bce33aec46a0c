"""A trial's own abbreviation definitions name the variables of its later constraints."""

import criteria_nlp
from criteria_nlp.abbreviations import find_abbreviations

ASTHMA = """Inclusion Criteria:
- Blood eosinophil count (BEC) of at least 150 cells/uL at screening
- BEC >= 300 cells/uL within the past 12 months
Exclusion Criteria:
- Current smoker
"""


def test_definitions_are_found_with_their_long_forms():
    found = find_abbreviations("Blood eosinophil count (BEC) of at least 150 cells/uL; BEC >= 300")
    assert found == {"BEC": "Blood eosinophil count"}


def test_text_without_a_parenthesised_short_form_skips_the_detector():
    assert find_abbreviations("Age >= 18 years and BEC >= 300 cells/uL") == {}


def test_a_short_form_defined_in_the_record_takes_the_lexicon_name():
    record = criteria_nlp.structure(ASTHMA)
    # the window "within the past 12 months" bounds when BEC was measured: it names BEC too
    bec = [c for crit in record.criteria for c in crit.constraints if c.mention == "BEC" and c.category != "temporal"]
    assert len(bec) == 1
    assert bec[0].variable == "eosinophil count"
    assert bec[0].category == "lab"
    assert (bec[0].operator, bec[0].value) == (">=", 300)


def test_without_the_definition_the_short_form_stays_the_mention():
    record = criteria_nlp.structure("Inclusion Criteria:\n- BEC >= 300 cells/uL within the past 12 months\n")
    bec = [c for crit in record.criteria for c in crit.constraints if c.mention == "BEC"]
    assert [c.variable for c in bec] == ["BEC", "BEC"]  # the bound and its time window
