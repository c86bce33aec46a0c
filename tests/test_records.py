"""Record-level assembly: offsets, warnings, item numbering."""

from pathlib import Path

import criteria_nlp

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_an_item_with_more_comparisons_than_the_cap_says_so_in_the_record():
    text = "Inclusion Criteria:\n- " + " ".join(f"marker{i} > {i}" for i in range(400))
    record = criteria_nlp.structure(text)
    assert len(record.criteria) == 1
    assert len(record.criteria[0].constraints) == 300
    assert any("only the first 300 comparisons" in w for w in record.warnings)


def test_wrapped_constraint_text_is_the_source_slice_with_its_line_break():
    path = EXAMPLES / "NCT04077684_who_ictrp_page.txt"
    source = path.read_text(encoding="utf-8")
    record = criteria_nlp.structure(str(path))
    wrapped = [c for crit in record.criteria for c in crit.constraints if "\n" in c.text]
    assert {c.variable for c in wrapped} == {"ALT", "AST"}
    for crit in record.criteria:
        assert source[crit.start : crit.end].startswith(crit.label)
        for c in crit.constraints:
            assert source[c.start : c.end] == c.text


def test_structure_many_walks_a_directory_in_sorted_order():
    records = list(criteria_nlp.structure_many([str(EXAMPLES)]))
    assert [r.trial_id for r in records] == [
        "NCT02932137", "NCT04077684", "NCT04136106", "NCT04397107", "NCT05605665"
    ]
    assert records[2].criteria == [] and "the record has no eligibility criteria" in records[2].warnings
