"""Readers: every input format, the seeds, and every kind of bad input."""

from __future__ import annotations

import json
import os
import re
import tracemalloc
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from criteria_nlp.readers import RawRecord, RecordError, read_bytes, read_path, read_text
from criteria_nlp.readers.values import parse_age, parse_healthy_volunteers, parse_sex, split_conditions
from criteria_nlp.schema import AgeLimit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "fixtures" / "records"
CORPORA = ROOT.parent / "shared" / "corpora"


def read_all(path: Path | str) -> list[RawRecord | RecordError]:
    return list(read_path(str(path)))


def read_one(path: Path | str) -> RawRecord:
    records = read_all(path)
    assert len(records) == 1, records
    assert isinstance(records[0], RawRecord), records[0]
    return records[0]


def region(record: RawRecord, i: int = 0) -> str:
    ct = record.criteria[i]
    return ct.text[ct.start : ct.end]


def years(n: float) -> AgeLimit:
    return AgeLimit(value=n, unit="years")


# --- the seed records ------------------------------------------------------------------


def test_who_ictrp_page_nct04077684():
    path = EXAMPLES / "NCT04077684_who_ictrp_page.txt"
    r = read_one(path)
    assert r.source == str(path)
    assert r.source_format == "who_ictrp_page"
    assert r.trial_id == "NCT04077684"
    assert r.title.startswith("Efficacy and Safety of Low-dose IL-2 in Patients With SLE")
    assert r.conditions == ["Systemic Lupus Erythematosus"]
    assert r.population.min_age == years(18) and r.population.max_age == years(75)
    assert r.population.sex == "all"
    assert len(r.criteria) == 1
    ct = r.criteria[0]
    assert ct.field is None and not ct.headerless
    assert ct.text == path.read_text(encoding="utf-8")  # offsets index the whole input
    assert region(r).startswith("Inclusion Criteria:\n\n1. Meet the 1997 revised")
    assert region(r).endswith("14. participate in other clinical trial within 4 weeks;")
    assert ct.text[ct.end :].lstrip().startswith("Age minimum: 18 Years")
    # the lost operators stay as the page wrote them
    assert "SLE disease activity index(SLEDAI) = 8" in region(r)
    assert r.warnings == []


def test_who_ictrp_page_nct05605665_open_max_age():
    r = read_one(EXAMPLES / "NCT05605665_who_ictrp_page.txt")
    assert r.source_format == "who_ictrp_page"
    assert r.trial_id == "NCT05605665"
    assert r.title == "Low-dose Interleukin-2 and Rapamycin on sjögren's Syndrome"
    assert r.conditions == ["Sjögren's Syndrome"]
    assert r.population.min_age == years(18)
    assert r.population.max_age is None  # "Age maximum: N/A"
    assert region(r).startswith("Inclusion Criteria:\n\n1. Male or female, and aged 18-70")
    assert region(r).endswith("research: such as mental patients.")
    ct = r.criteria[0]
    assert ct.text[ct.end :].lstrip().startswith("Age minimum:")


def test_listing_page_is_headerless_and_skips_label_bullets():
    r = read_one(EXAMPLES / "NCT02932137_listing_page.txt")
    assert r.source_format == "ctgov_listing_page"
    assert r.trial_id == "NCT02932137"
    assert r.title == "Anti-infection of Low-does IL-2 in SLE"
    assert r.population.sex == "all"
    ct = r.criteria[0]
    assert ct.headerless
    text = region(r)
    assert text.startswith("- Meet the American College of Rheumatology criteria")
    for label in ("- Status", "- COMPLETED", "- Target Recruitment", "- 30\n"):
        assert label not in text
    assert text.endswith("- Inability to comply with IL-2 treatment regimen.")
    assert ct.text[ct.end :].lstrip().startswith("Study & Design")
    assert "(≥ 2 months)" in text  # the real ≥ of this page survives decoding


def test_field_dump_without_criteria():
    r = read_one(EXAMPLES / "NCT04136106_ctgov_field_dump.txt")
    assert r.source_format == "ctgov_field_dump"
    assert r.trial_id == "NCT04136106"
    assert r.title == "The Incidence of Infection in Treatment of Low-dose IL-2 of SLE Patients"
    assert r.criteria == []


def test_trial_details_page_inline_criteria():
    r = read_one(EXAMPLES / "NCT04397107_trial_details_page.txt")
    assert r.source_format == "trial_details_page"
    assert r.trial_id == "NCT04397107"
    assert r.title is None
    assert r.population.min_age is None and r.population.max_age == years(17)
    assert r.population.sex == "all"
    assert r.population.healthy_volunteers is True
    text = region(r)
    assert text.startswith("Inclusion Criteria: 1. age <18 years old 2.")
    assert text.endswith("8. Inability to comply with IL-2 treatment regimen.")
    assert "\n" not in text
    assert "5=ESSDAI=13" not in text  # outcome text is outside the region


def test_seed_gold_items_lie_in_the_region():
    """The project's gold items of the seeds must fall inside the regions the reader gives."""
    gold = [
        json.loads(line) for line in (ROOT / "annotations" / "seeds.jsonl").read_text().splitlines() if line
    ]
    assert len(gold) == 5
    for case in gold:
        r = read_one(ROOT / case["source"])
        assert r.source_format == case["source_format"]
        assert r.trial_id == case["trial_id"]
        if not case["items"]:
            assert r.criteria == []
            continue
        ct = r.criteria[0]
        assert all(ct.start <= item["start"] < item["end"] <= ct.end for item in case["items"])
        assert case["items"][-1]["end"] == ct.end


# --- ClinicalTrials.gov JSON -------------------------------------------------------------


def test_ctgov_json_single_study():
    path = FIXTURES / "ctgov_study.json"
    r = read_one(path)
    assert r.source == str(path)
    assert r.source_format == "ctgov_json"
    assert r.trial_id == "NCT04477291"
    assert r.title == "A Study of CG-806 in Patients With Relapsed or Refractory AML or Higher-Risk MDS"
    assert r.conditions == ["Acute Myeloid Leukemia", "Myelodysplastic Syndromes"]
    assert r.population.min_age == years(18) and r.population.max_age is None
    assert r.population.sex == "all" and r.population.healthy_volunteers is False
    ct = r.criteria[0]
    assert ct.field == "eligibilityCriteria"
    study = json.loads(path.read_text(encoding="utf-8"))
    assert ct.text == study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    assert region(r).startswith("Key Inclusion Criteria:") and region(r).endswith("administration")


def test_ctgov_json_list_and_page_number_their_records():
    records = read_all(FIXTURES / "ctgov_studies_list.json")
    assert [r.source for r in records] == [f"{FIXTURES / 'ctgov_studies_list.json'}#{n}" for n in (1, 2)]
    assert [r.trial_id for r in records] == ["NCT04629430", "NCT04644419"]
    second = records[1]
    assert second.title == "Chemotherapy-related Cognitive Impairment and Acute Leukemia"  # official title
    assert second.population.sex == "female" and second.population.healthy_volunteers is True
    assert records[0].population.max_age == years(75)

    page = read_all(FIXTURES / "ctgov_studies_page.json")
    assert [r.trial_id for r in page] == ["NCT03678493", "NCT05279859"]
    assert page[1].source.endswith("ctgov_studies_page.json#2")
    assert page[1].population.sex == "male"


def test_jsonl_bad_line_does_not_stop_the_others():
    path = FIXTURES / "ctgov_studies.jsonl"
    records = read_all(path)
    assert len(records) == 3
    assert isinstance(records[1], RecordError)
    assert records[1].source == f"{path}#2"
    assert "line 2" in records[1].problem and "JSON" in records[1].problem
    assert [r.trial_id for r in (records[0], records[2])] == ["NCT04477291", "NCT04644419"]
    assert records[2].source == f"{path}#3"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("malformed.json", r"^malformed JSON: Expecting ',' delimiter at line 3 column \d+$"),
        ("truncated.json", r"^truncated JSON: Unterminated string .* line \d+ column \d+$"),
        ("not_a_study.json", r"not a ClinicalTrials.gov study \(no protocolSection\)"),
    ],
)
def test_bad_json_gives_one_clear_error(name, expected):
    records = read_all(FIXTURES / name)
    assert len(records) == 1 and isinstance(records[0], RecordError)
    assert records[0].source == str(FIXTURES / name)
    assert re.search(expected, records[0].problem), records[0].problem


def test_json_edge_cases_in_memory():
    (empty,) = read_text("[]", source="s.json")
    assert isinstance(empty, RecordError) and "no studies" in empty.problem
    (v1,) = read_text('{"FullStudiesResponse": {"FullStudies": []}}')
    assert isinstance(v1, RecordError) and "API v1" in v1.problem
    (cut,) = read_text('{"protocolSection": {"identificationModule": {"nctId": "NCT01234567"}')
    assert isinstance(cut, RecordError) and cut.problem.startswith("truncated JSON")
    ok, bad = read_text('[{"protocolSection": {}}, 3]', source="x")
    assert isinstance(ok, RawRecord) and ok.source == "x#1" and ok.criteria == []
    assert (
        isinstance(bad, RecordError)
        and bad.source == "x#2"
        and "not a ClinicalTrials.gov study" in bad.problem
    )


# --- XML -------------------------------------------------------------------------------


def test_ctgov_classic_xml():
    r = read_one(FIXTURES / "ctgov_classic.xml")
    assert r.source_format == "ctgov_xml"
    assert r.trial_id == "NCT04077684"
    assert r.title.startswith("Efficacy and Safety of Low-dose IL-2 in Patients With SLE")
    assert r.conditions == ["Systemic Lupus Erythematosus", "Lupus Nephritis"]
    assert r.population.min_age == years(18) and r.population.max_age == years(75)
    assert r.population.sex == "all" and r.population.healthy_volunteers is False
    ct = r.criteria[0]
    assert ct.field == "eligibility/criteria/textblock"
    assert region(r).startswith("Inclusion Criteria:") and region(r).endswith(
        "pregnancy or lactation in females."
    )
    assert "(SLEDAI) >= 8" in ct.text  # XML escapes decoded


def test_who_ictrp_xml_export():
    path = FIXTURES / "ictrp_export.xml"
    records = read_all(path)
    assert [r.source for r in records] == [f"{path}#{n}" for n in (1, 2, 3)]
    assert all(r.source_format == "who_ictrp_xml" for r in records)
    first, second, third = records
    assert first.trial_id == "NCT05605665"
    assert first.title == "Low-dose Interleukin-2 and Rapamycin on sjögren's Syndrome"
    assert first.population.min_age == years(18) and first.population.max_age is None
    assert [(c.field, c.kind) for c in first.criteria] == [
        ("Inclusion_Criteria", "inclusion"),
        ("Exclusion_Criteria", "exclusion"),
    ]
    # "<br>" is read as a line break; the field as exported is what offsets index
    exported = ElementTree.parse(path).getroot()[0].findtext("Inclusion_Criteria")  # trusted fixture
    ct = first.criteria[0]
    assert ct.written == exported
    assert ct.text.startswith("Inclusion Criteria:\n\n1. Male or female")
    assert "<br>" not in ct.text
    i = ct.text.index("1. Male")
    s, e = ct.to_source(i, i + len("1. Male"))
    assert exported[s:e] == "1. Male"

    assert second.trial_id == "ChiCTR2000031234"
    assert second.population.min_age == years(18) and second.population.max_age == years(65)
    assert second.population.sex == "all"  # "Both"
    assert second.conditions == ["rheumatoid arthritis", "interstitial lung disease"]
    assert [c.kind for c in second.criteria] == ["inclusion"]  # the empty Exclusion_Criteria gives none

    assert third.population.min_age is None and third.population.max_age == years(17)
    assert third.population.sex == "female"
    assert third.conditions == [
        "Systemic Lupus Erythematosus",
        "Primary Sjögren Syndrome",
        "Juvenile Idiopathic Arthritis",
    ]
    assert "1. Age = 18 years" in region(third, 0)  # lost operators are kept as written
    assert "creatinine clearance =30ml/min" in region(third, 1)


def test_truncated_xml_keeps_the_records_before_the_break():
    path = FIXTURES / "truncated.xml"
    records = read_all(path)
    assert isinstance(records[0], RawRecord) and records[0].trial_id == "NCT05605665"
    assert len(records) == 2 and isinstance(records[1], RecordError)
    assert records[1].source == f"{path}#2"
    assert records[1].problem.startswith("XML is not well formed")
    assert re.search(r"line \d+, column \d+", records[1].problem)


def test_billion_laughs_is_refused():
    records = read_all(FIXTURES / "billion_laughs.xml")
    assert len(records) == 1 and isinstance(records[0], RecordError)
    assert "entity" in records[0].problem and "billion laughs" in records[0].problem


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE Trials [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<Trials><Trial><TrialID>&x;</TrialID></Trial></Trials>"
    )
    (err,) = read_text(xml)
    assert isinstance(err, RecordError)
    assert "do not read" not in err.problem and ("entity" in err.problem or "external" in err.problem)


def test_unknown_xml_root_is_named():
    (err,) = read_text('<?xml version="1.0"?><rss version="2.0"><channel/></rss>', source="feed.xml")
    assert isinstance(err, RecordError) and err.source == "feed.xml"
    assert "<rss>" in err.problem


def test_html_page_is_not_read_as_criteria():
    (err,) = read_text("<!DOCTYPE html><html><body>Inclusion Criteria: age 18</body></html>")
    assert isinstance(err, RecordError) and "HTML" in err.problem


# --- bare criteria text, and what looks like JSON/XML but is not -------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<37 weeks gestation, multiple gestation, pre-eclampsia",
        "[Patient]\n\nInclusion Criteria:\n\n≥ 60 years of age\ndiagnosis of AML",
        "<ALT 3 x ULN and creatinine >1.5 mg/dL",
        "Key inclusion & exclusion criteria\nInclusion Criteria:\n1. Adults\n",  # no "Main ID:"
        "Eligibility Inclusion Criteria: 1. aged 6 to 17 years Exclusion Criteria: 1. smoking",
    ],
)
def test_criteria_text_is_never_mistaken_for_another_format(text):
    (r,) = read_text(text, source="t")
    assert isinstance(r, RawRecord), r
    assert r.source_format == "criteria_text"
    assert region(r) == text.strip()


def test_format_comes_from_content_not_the_file_name(tmp_path):
    disguised = tmp_path / "study.txt"
    disguised.write_bytes((FIXTURES / "ctgov_study.json").read_bytes())
    assert read_one(disguised).source_format == "ctgov_json"
    page = tmp_path / "page.json"
    page.write_bytes((EXAMPLES / "NCT04077684_who_ictrp_page.txt").read_bytes())
    assert read_one(page).source_format == "who_ictrp_page"


def test_field_dump_with_eligibility_fields():
    dump = (
        "Study NCT ID: NCT01234567\nBrief Title: Low-dose IL-2 in Sjogren's Syndrome\n\n"
        "Eligibility\n\nEligibility Criteria: Inclusion Criteria:\n\n* Age 18 to 70 years\n"
        "* ESSDAI >= 5\n\nExclusion Criteria:\n\n* Pregnancy\n"
        "Healthy Volunteers: No\nSex: FEMALE\nMinimum Age: 18 Years\nMaximum Age: 70 Years\n"
    )
    (r,) = read_text(dump)
    assert r.source_format == "ctgov_field_dump"
    assert region(r).startswith("Inclusion Criteria:") and region(r).endswith("* Pregnancy")
    assert r.population.sex == "female" and r.population.healthy_volunteers is False
    assert (r.population.min_age, r.population.max_age) == (years(18), years(70))


def test_who_page_criterion_starting_with_a_field_label():
    page = (
        "Main ID: ISRCTN12345678\nPublic title: Iron in pregnancy\nKey inclusion & exclusion criteria\n"
        "Inclusion criteria:\nGender: female\nAge 18-45\nExclusion criteria: anaemia\n\n"
        "Age minimum: 18 Years\nAge maximum: 45 Years\nGender: All\n"
        "Health Condition(s) or Problem(s) studied\nIron deficiency; Pregnancy\nIntervention(s)\nIron\n"
    )
    (r,) = read_text(page)
    assert region(r) == "Inclusion criteria:\nGender: female\nAge 18-45\nExclusion criteria: anaemia"
    assert r.population.sex == "all"  # the page's field, not the criterion
    assert r.population.max_age == years(45)
    assert r.conditions == ["Iron deficiency", "Pregnancy"]


def test_who_page_without_criteria_section_warns():
    (r,) = read_text("Main ID: NCT01234567\nPublic title: A trial\nAge minimum: 6 Months\nGender: Female\n")
    assert r.source_format == "who_ictrp_page"
    assert r.criteria == [] and any("no eligibility criteria" in w for w in r.warnings)
    assert r.population.min_age == AgeLimit(value=6, unit="months") and r.population.sex == "female"


# --- decoding --------------------------------------------------------------------------


def test_cp1252_text_is_decoded_with_a_warning():
    r = read_one(FIXTURES / "cp1252.txt")
    text = region(r)
    for expected in ("Société", "100 × 10³/µL", "± folic", "38.5 °C", "naïve", "Sjögren"):
        assert expected in text
    assert any("cp1252" in w or "1252" in w for w in r.warnings), r.warnings


def test_mojibake_is_repaired_with_a_warning():
    r = read_one(FIXTURES / "mojibake.txt")
    text = r.criteria[0].text
    assert "1. Age ≥ 18 years" in text and "≤ 1.5 × ULN" in text and "certifié" in text
    assert "â€" not in text and "Ã" not in text
    assert any(w.startswith("repaired mojibake") for w in r.warnings)


def test_utf16_bom_and_crlf_are_normalised():
    r = read_one(FIXTURES / "utf16_bom.txt")
    assert r.criteria[0].text == "Inclusion Criteria:\n- Age ≥ 18 years\n- HbA1c ≤ 9%\n"
    (r8,) = read_bytes("\ufeffInclusion Criteria:\r\n- Age ≥ 18 years\r\n".encode(), "bom.txt")
    assert r8.criteria[0].text == "Inclusion Criteria:\n- Age ≥ 18 years\n"
    (r16,) = read_bytes("Exclusion Criteria:\n- Pregnancy\n".encode("utf-16-le"), "le.txt")
    assert r16.criteria[0].text == "Exclusion Criteria:\n- Pregnancy\n"


def test_clean_utf8_is_not_touched():
    text = "Inclusion Criteria:\n* Platelets ≥ 100 × 10⁹/L\n* “Stable” dose — no change ﬁxed\n"
    (r,) = read_text(text)
    assert r.criteria[0].text == text and r.warnings == []


FRENCH_EXPORT = (
    "<Trials><Trial><TrialID>EUCTR2004-000123-45-FR</TrialID>"
    "<Public_title>Étude du méthotrexate dans la polyarthrite rhumatoïde</Public_title>"
    "<Inclusion_Criteria>Patients âgés de 18 à 75 ans; créatinine &lt; 150 µmol/L</Inclusion_Criteria>"
    "</Trial></Trials>"
)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8-sig"])
def test_xml_export_in_any_encoding(encoding):
    (r,) = read_bytes(FRENCH_EXPORT.encode(encoding), "export.xml")
    assert r.title == "Étude du méthotrexate dans la polyarthrite rhumatoïde"
    assert r.criteria[0].text == "Patients âgés de 18 à 75 ans; créatinine < 150 µmol/L"
    assert any("cp1252" in w for w in r.warnings) == (encoding == "cp1252")


def test_non_western_legacy_text_keeps_its_encoding():
    text = "Возраст старше 18 лет, креатинин < 150 мкмоль/л"
    (r,) = read_bytes(text.encode("cp1251"), "ru.txt")
    assert r.criteria[0].text == text and any("cp1251" in w for w in r.warnings)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    records = list(read_bytes(data, "fuzz"))
    assert records
    assert all(isinstance(r, (RawRecord, RecordError)) for r in records)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('<>{}[]"=:;,/ \n\taZ09≥é&!?-')), max_size=200))
def test_arbitrary_markup_like_text_never_raises(text):
    records = list(read_text(text, "fuzz"))
    assert records and all(isinstance(r, (RawRecord, RecordError)) for r in records)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty.txt", "empty file"),
        ("binary.dat", "binary file, not text"),
        ("criteria.txt.gz", "binary file, not text (looks like a gzip archive"),
    ],
)
def test_bad_files_give_one_clear_error(name, expected):
    records = read_all(FIXTURES / name)
    assert len(records) == 1 and isinstance(records[0], RecordError)
    assert records[0].source == str(FIXTURES / name)
    assert records[0].problem.startswith(expected), records[0].problem


def test_whitespace_only_inputs():
    (err,) = read_bytes(b" \n\t\r\n ", "blank.txt")
    assert isinstance(err, RecordError) and err.problem == "empty file"
    (err,) = read_text("   \n")
    assert isinstance(err, RecordError) and "empty" in err.problem


def test_missing_file_and_directory(tmp_path):
    (missing,) = read_path(str(tmp_path / "nope.json"))
    assert isinstance(missing, RecordError) and missing.problem == "no such file"
    (directory,) = read_path(str(tmp_path))
    assert isinstance(directory, RecordError) and "directory" in directory.problem


def test_permission_error_is_reported(tmp_path, monkeypatch):
    import criteria_nlp.readers as readers

    def locked(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(readers, "open", locked, raising=False)
    (err,) = read_path(str(tmp_path / "locked.json"))
    assert isinstance(err, RecordError) and err.problem == "permission denied"


def test_unreadable_file(tmp_path):
    path = tmp_path / "locked.txt"
    path.write_text("Inclusion Criteria: adults")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read any file")
        (err,) = read_path(str(path))
        assert isinstance(err, RecordError) and err.problem == "permission denied"
    finally:
        path.chmod(0o644)


# --- streaming -------------------------------------------------------------------------


def _ictrp_trial(i: int) -> str:
    return (
        f"<Trial><TrialID>NCT{i:08d}</TrialID><Public_title>Export trial {i}</Public_title>"
        "<Inclusion_agemin>18Y</Inclusion_agemin><Inclusion_Criteria>"
        + "1. Age = 18 years&lt;br&gt;2. SLEDAI = 8&lt;br&gt;" * 10
        + "</Inclusion_Criteria><Exclusion_Criteria>Pregnancy</Exclusion_Criteria></Trial>\n"
    )


def test_big_ictrp_export_streams_in_flat_memory(tmp_path):
    path = tmp_path / "export.xml"
    n = 1500
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<Trials>\n')
        for i in range(n):
            f.write(_ictrp_trial(i))
        f.write("</Trials>\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count, last = 0, None
        for record in read_path(str(path)):
            count += 1
            last = record
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == n and last.source == f"{path}#{n}" and last.trial_id == f"NCT{n - 1:08d}"
    assert size > 1_000_000
    assert peak < size / 3, f"peak {peak} bytes for a {size}-byte export"


def test_big_jsonl_streams_and_reports_bad_lines(tmp_path):
    path = tmp_path / "dump.jsonl"
    criteria = "Inclusion Criteria:\n* Age >= 18 years\n* ECOG <= 2\n" * 5
    with path.open("w", encoding="utf-8") as f:
        for i in range(1, 1001):
            if i == 500:
                f.write('{"protocolSection": {"identificationModule": \n')
                continue
            study = {"protocolSection": {"identificationModule": {"nctId": f"NCT{i:08d}"}}}
            study["protocolSection"]["eligibilityModule"] = {"eligibilityCriteria": criteria}
            f.write(json.dumps(study) + "\n")
    assert path.stat().st_size > 64 * 1024  # beyond the sniffed head: the streaming path
    records = read_all(path)
    assert len(records) == 1000
    bad = [r for r in records if isinstance(r, RecordError)]
    assert [b.source for b in bad] == [f"{path}#500"]
    assert "line 500" in bad[0].problem
    assert records[-1].trial_id == "NCT00001000"


def test_big_truncated_export_reports_the_break(tmp_path):
    path = tmp_path / "cut.xml"
    body = "<Trials>\n" + "".join(_ictrp_trial(i) for i in range(200))
    path.write_text(body[: len(body) - 300], encoding="utf-8")
    records = read_all(path)
    assert all(isinstance(r, RawRecord) for r in records[:-1])
    assert isinstance(records[-1], RecordError) and records[-1].problem.startswith("XML is not well formed")
    assert records[-1].source == f"{path}#{len(records)}"


# --- population values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("18 Years", years(18)),
        ("18Y", years(18)),
        ("65 years old", years(65)),
        ("18", years(18)),
        ("6 Months", AgeLimit(value=6, unit="months")),
        ("2 weeks", AgeLimit(value=2, unit="weeks")),
        ("28 Days", AgeLimit(value=28, unit="days")),
        ("N/A", None),
        ("No limit", None),
        (None, None),
    ],
)
def test_parse_age(value, expected):
    assert parse_age(value) == (expected, None)


def test_parse_age_warns_on_what_it_cannot_read():
    limit, warning = parse_age("adult")
    assert limit is None and "adult" in warning


@pytest.mark.parametrize(
    ("value", "expected"),
    [("All", "all"), ("ALL", "all"), ("Both", "all"), ("Both, male and female", "all"), ("FEMALE", "female"),
     ("Male", "male"), ("Female: yes<br>Male: no", "female"), ("F", "female"), ("", None)],
)  # fmt: skip
def test_parse_sex(value, expected):
    assert parse_sex(value) == expected


def test_parse_healthy_volunteers_and_conditions():
    assert parse_healthy_volunteers("Accepts Healthy Volunteers") is True
    assert parse_healthy_volunteers("No") is False
    assert parse_healthy_volunteers(False) is False
    assert parse_healthy_volunteers(None) is None
    assert split_conditions("Lupus<br>Lupus Nephritis; Sjogren <BR/>Lupus") == [
        "Lupus",
        "Lupus Nephritis",
        "Sjogren",
    ]


# --- the public corpora (skipped when ../shared/corpora is absent) ----------------------


@pytest.mark.corpus
def test_lct_texts_read_as_criteria_text_unchanged():
    files = sorted((CORPORA / "lct").glob("batch*/*.txt"))
    if not files:
        pytest.skip("../shared/corpora/lct is absent")
    for path in files[:300]:
        r = read_one(path)
        assert r.source_format == "criteria_text", path
        assert r.warnings == [], (path, r.warnings)
        assert r.criteria[0].text == path.read_text(encoding="utf-8"), path


def test_the_mojibake_hint_finds_what_its_plain_spelling_finds():
    # the plain spelling: a UTF-8 lead byte read as one character, then a continuation
    # byte; or a bare C1 control. The module's pattern is written for speed.
    import random
    import re

    from criteria_nlp.readers.decode import _CP1252_HIGH, _MOJIBAKE_HINT

    plain = re.compile(f"[\u00c2-\u00f4][\u0080-\u00bf{_CP1252_HIGH}]|[\u0080-\u009f]")
    rng = random.Random(3)
    alphabet = "\u0080\u009f\u00a0\u00bf\u00c1\u00c2\u00c3\u00f4\u00f5\u20ac\u2122 ae"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert (_MOJIBAKE_HINT.search(text) is None) == (plain.search(text) is None), repr(text)
    assert _MOJIBAKE_HINT.search("Age â‰¥ 18") and not _MOJIBAKE_HINT.search("Âge ≥ 18 années")
