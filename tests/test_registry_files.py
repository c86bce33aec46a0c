"""Registry files as users download them (issue 12): API v2 markdown escapes, EudraCT form
lines in ICTRP exports, markup in ICTRP fields, registry age spellings, CRLF text with
offsets into the file as it is, brat folders. Every record here is written for the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import criteria_nlp
from criteria_nlp.batch.inputs import expand_inputs
from criteria_nlp.readers import read_path
from criteria_nlp.readers.reading import reading_text
from criteria_nlp.readers.values import parse_age
from criteria_nlp.schema import AgeLimit


def years(n: float) -> AgeLimit:
    return AgeLimit(value=n, unit="years")


def _written(path: Path) -> dict[str | None, str]:
    """Field (or None for a text input) -> the text the offsets index."""
    raw = next(iter(read_path(str(path))))
    return {ct.field: ct.written for ct in raw.criteria}


def _check_offsets(record, written: dict[str | None, str]) -> None:
    for crit in record.criteria:
        source = written[crit.field]
        assert crit.start < crit.end
        for c in crit.constraints:
            assert source[c.start : c.end] == c.text
            if c.mention_start is not None:
                assert source[c.mention_start : c.mention_end] == c.mention
            for alt in c.alternates:
                assert source[alt.start : alt.end] == alt.text


# --- 1. ClinicalTrials.gov API v2 markdown escapes ----------------------------------------

V2_CRITERIA = (
    "Inclusion Criteria:\n\n"
    "* Men and women 21 years of age or older\n"
    "* Karnofsky performance status \\>= 70%\n"
    "* Last dose of radiotherapy =\\< 14 days before registration\n"
    "* White blood cell count \\>= 3,000/mm\\^3\n"
    "* Serum bilirubin \\< 2 mg/dL\n"
    "* Adequate organ function, defined as:\n"
    "  * Hemoglobin \\>= 9.0 g/dL without transfusion in the previous 14 days and absolute neutrophil "
    "count \\>= 1.5 x 10\\^9/L\n"
    "  * AST and ALT =\\< 2.5 x upper limit of normal (ULN)\n\n"
    "Exclusion Criteria:\n\n"
    "* \\[Part 2 only\\] Body weight \\> 120 kg\n"
    "* Corrected QT interval \\> 480 msec\n"
)
XML_CRITERIA = (
    "\n        Inclusion Criteria:\n\n"
    "          -  Men and women 21 years of age or older\n\n"
    "          -  Karnofsky performance status >= 70%\n\n"
    "          -  Last dose of radiotherapy =< 14 days before registration\n\n"
    "          -  White blood cell count >= 3,000/mm^3\n\n"
    "          -  Serum bilirubin < 2 mg/dL\n\n"
    "          -  Adequate organ function, defined as:\n\n"
    "               -  Hemoglobin >= 9.0 g/dL without transfusion in the previous 14 days and\n"
    "                  absolute neutrophil count >= 1.5 x 10^9/L\n\n"
    "               -  AST and ALT =< 2.5 x upper limit of normal (ULN)\n\n"
    "        Exclusion Criteria:\n\n"
    "          -  [Part 2 only] Body weight > 120 kg\n\n"
    "          -  Corrected QT interval > 480 msec\n      "
)


def _v2_study(criteria: str) -> dict:
    return {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT09876543", "briefTitle": "Escapes"},
            "eligibilityModule": {"eligibilityCriteria": criteria, "minimumAge": "21 Years", "sex": "ALL"},
        }
    }


def _xml_study(criteria: str) -> str:
    from xml.sax.saxutils import escape

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<clinical_study>\n'
        "  <id_info><nct_id>NCT09876543</nct_id></id_info>\n  <brief_title>Escapes</brief_title>\n"
        f"  <eligibility>\n    <criteria>\n      <textblock>{escape(criteria)}</textblock>\n    </criteria>\n"
        "    <gender>All</gender>\n    <minimum_age>21 Years</minimum_age>\n  </eligibility>\n</clinical_study>\n"
    )


def test_v2_markdown_escapes_are_read_unescaped_with_offsets_on_the_field(tmp_path):
    path = tmp_path / "study.json"
    path.write_text(json.dumps(_v2_study(V2_CRITERIA)), encoding="utf-8")
    record = criteria_nlp.structure(str(path))
    _check_offsets(record, {"eligibilityCriteria": V2_CRITERIA})
    by_text = {c.text: c for crit in record.criteria for c in crit.constraints}
    radio = by_text["=\\< 14 days"]  # as written in the field
    assert (radio.operator, radio.value, radio.unit) == ("<=", 14, "d")
    wbc = by_text["\\>= 3,000/mm\\^3"]
    assert (wbc.operator, wbc.value) == (">=", 3000) and wbc.unit is not None
    assert wbc.unit_text and "3" in wbc.unit_text  # the unit kept its exponent
    assert by_text["\\> 120 kg"].operator == ">"
    # items read unescaped; their offsets index the escaped field
    texts = [crit.text for crit in record.criteria]
    assert "[Part 2 only] Body weight > 120 kg" in texts
    assert all("\\" not in t for t in texts)
    crit = next(c for c in record.criteria if c.text.startswith("[Part 2"))
    assert V2_CRITERIA[crit.start : crit.end] == "* \\[Part 2 only\\] Body weight \\> 120 kg"


def _signature(record) -> list[tuple]:
    return [
        (crit.kind, c.variable, c.operator, c.value, c.upper, c.unit, c.negated)
        for crit in record.criteria
        for c in crit.constraints
    ]


def test_the_same_criteria_as_v2_json_and_classic_xml_give_the_same_constraints(tmp_path):
    js = tmp_path / "study.json"
    js.write_text(json.dumps(_v2_study(V2_CRITERIA)), encoding="utf-8")
    xml = tmp_path / "study.xml"
    xml.write_text(_xml_study(XML_CRITERIA), encoding="utf-8")
    from_json, from_xml = criteria_nlp.structure(str(js)), criteria_nlp.structure(str(xml))
    assert len(_signature(from_json)) >= 9
    assert _signature(from_json) == _signature(from_xml)
    assert [c.text for c in from_json.criteria] == [c.text for c in from_xml.criteria]


# --- 2 and 3. WHO ICTRP exports: EudraCT form lines, markup ------------------------------

ICTRP_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<Trials>
<Trial>
<TrialID>EUCTR2021-003456-21-DE</TrialID>
<Public_title>Inhaled compound Q in moderate asthma</Public_title>
<Inclusion_agemin></Inclusion_agemin>
<Inclusion_agemax></Inclusion_agemax>
<Inclusion_gender>&lt;br&gt;Female: yes&lt;br&gt;Male: yes&lt;br&gt;</Inclusion_gender>
<Inclusion_Criteria>1. Asthma diagnosed at least 12 months before screening&lt;br&gt;2. Pre-bronchodilator FEV1 &gt;= 50% of predicted&lt;br&gt;Are the trial subjects under 18? no&lt;br&gt;Number of subjects for this age range: &lt;br&gt;F.1.2 Adults (18-64 years) yes&lt;br&gt;F.1.2.1 Number of subjects for this age range 120&lt;br&gt;F.1.3 Elderly (&gt;=65 years) no&lt;br&gt;F.1.3.1 Number of subjects for this age range 0</Inclusion_Criteria>
<Exclusion_Criteria>1. Smoking history &gt; 10 pack-years&lt;br&gt;2. Body mass index &gt; 40 kg/m2</Exclusion_Criteria>
</Trial>
<Trial>
<TrialID>EUCTR2020-001122-33-NL</TrialID>
<Public_title>Paediatric migraine</Public_title>
<Inclusion_Criteria>Headache on at least 4 days per month&lt;br&gt;Are the trial subjects under 18? yes&lt;br&gt;F.1.1 Number of subjects for this age range: 60&lt;br&gt;F.1.1.5 Children (2-11years) yes&lt;br&gt;F.1.1.5.1 Number of subjects for this age range 25&lt;br&gt;F.1.1.6 Adolescents (12-17 years) yes&lt;br&gt;F.1.1.6.1 Number of subjects for this age range 35&lt;br&gt;F.1.2 Adults (18-64 years) no&lt;br&gt;F.1.3 Elderly (&gt;=65 years) no</Inclusion_Criteria>
</Trial>
<Trial>
<TrialID>NL-OMON51234</TrialID>
<Public_title>Supervised exercise after heart failure admission</Public_title>
<Inclusion_agemin>18</Inclusion_agemin>
<Inclusion_Criteria>&lt;p&gt;1. Must have chronic heart failure with LVEF &amp;lt;= 35%&lt;/p&gt;&lt;p&gt;2. Able to walk without aid&lt;/p&gt;&lt;ul&gt;&lt;li&gt;BMI &amp;lt; 35 kg/m&lt;sup&gt;2&lt;/sup&gt;&lt;/li&gt;&lt;li&gt;eGFR &amp;gt;&amp;nbsp;30 mL/min&lt;/li&gt;&lt;/ul&gt;</Inclusion_Criteria>
<Exclusion_Criteria>&lt;p&gt;Resting systolic blood pressure &amp;gt; 180 mmHg&lt;br/&gt;Planned cardiac surgery&lt;br /&gt;Age &amp;gt; 80 years&lt;/p&gt;</Exclusion_Criteria>
</Trial>
</Trials>
"""


@pytest.fixture(scope="module")
def ictrp(tmp_path_factory):
    path = tmp_path_factory.mktemp("ictrp") / "export.xml"
    path.write_text(ICTRP_EXPORT, encoding="utf-8")
    raws = list(read_path(str(path)))
    records = list(criteria_nlp.structure_many([str(path)]))
    return raws, records


def test_eudract_form_lines_are_population_fields_not_items(ictrp):
    raws, records = ictrp
    adult, child = records[0], records[1]
    groups = [
        (g.code, g.label, g.min_age, g.max_age, g.included, g.subjects) for g in adult.population.age_groups
    ]
    assert groups == [
        ("F.1.1", "Trial subjects under 18", None, years(17), False, None),
        ("F.1.2", "Adults (18-64 years)", years(18), years(64), True, 120),
        ("F.1.3", "Elderly (>=65 years)", years(65), None, False, 0),
    ]
    # no age field: the form's answers give 18 to 64 years
    assert adult.population.min_age == years(18) and adult.population.max_age == years(64)
    assert adult.population.sex == "all"
    texts = [c.text for c in adult.criteria]
    assert texts == [
        "Asthma diagnosed at least 12 months before screening",
        "Pre-bronchodilator FEV1 >= 50% of predicted",
        "Smoking history > 10 pack-years",
        "Body mass index > 40 kg/m2",
    ]
    assert not any(c.category == "age" for crit in adult.criteria for c in crit.constraints)
    _check_offsets(adult, {ct.field: ct.written for ct in raws[0].criteria})

    coded = {g.code: g for g in child.population.age_groups}
    assert coded["F.1.1"].included is True and coded["F.1.1"].subjects == 60
    assert (coded["F.1.1.5"].min_age, coded["F.1.1.5"].max_age, coded["F.1.1.5"].subjects) == (
        years(2),
        years(11),
        25,
    )
    assert coded["F.1.1.6"].included is True and coded["F.1.2"].included is False
    assert child.population.min_age is None and child.population.max_age == years(17)
    assert [c.text for c in child.criteria] == ["Headache on at least 4 days per month"]


def test_markup_in_ictrp_fields_is_layout_never_text_or_an_operator(ictrp):
    raws, records = ictrp
    omon = records[2]
    written = {ct.field: ct.written for ct in raws[2].criteria}
    _check_offsets(omon, written)
    texts = [c.text for c in omon.criteria]
    assert texts == [
        "Must have chronic heart failure with LVEF <= 35%",
        "Able to walk without aid",
        "BMI < 35 kg/m^2",
        "eGFR > 30 mL/min",
        "Resting systolic blood pressure > 180 mmHg",
        "Planned cardiac surgery",
        "Age > 80 years",
    ]
    for crit in omon.criteria:
        assert "<" not in crit.text.replace("< ", "").replace("<=", "")  # no tag left in any text
        for c in crit.constraints:
            assert c.variable not in ("p", "li", "br", "sup")
    lvef = omon.criteria[0].constraints[0]
    assert (lvef.operator, lvef.value, lvef.text) == ("<=", 35, "&lt;= 35%")
    egfr = omon.criteria[3].constraints[0]
    assert (egfr.operator, egfr.value) == (">", 30)
    first = omon.criteria[0]
    assert written["Inclusion_Criteria"][first.start : first.end].startswith("1. Must have")


# --- 6. registry age fields ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "side", "expected"),
    [
        (">= 20age old", "min", years(20)),  # JPRN
        ("<= 85age old", "max", years(85)),
        ("16years-old", "min", years(16)),  # UMIN
        ("20 years-old <=", "min", years(20)),
        ("60(Year)", "max", years(60)),  # CRIS
        ("6(Month)", "min", AgeLimit(value=6, unit="months")),
        ("65+", "min", years(65)),  # CTIS
        ("18-64 years", "min", years(18)),
        ("18-64 years", "max", years(64)),
        ("18 years and older", "min", years(18)),
        ("18-year-old", "min", years(18)),
        ("≥18 years", "min", years(18)),
        ("20歳", "min", years(20)),
        ("18 Jahre", "min", years(18)),
        ("18.00 Year(s)", "min", years(18)),  # CTRI
        ("6 Month(s)", "min", AgeLimit(value=6, unit="months")),
        ("20歳以上", "min", years(20)),
        ("75歳未満", "max", years(75)),
        ("No Limit", "max", None),
        ("不限", "max", None),
    ],
)
def test_registry_age_spellings_are_read_without_a_warning(value, side, expected):
    assert parse_age(value, side) == (expected, None)


def test_an_unreadable_age_still_warns():
    limit, warning = parse_age("adults only", "min")
    assert limit is None and "adults only" in warning


# --- 7. offsets index the file as the user has it -----------------------------------------


def test_crlf_text_keeps_its_line_ends_and_offsets_index_the_file(tmp_path):
    path = tmp_path / "crit.txt"
    body = (
        "Inclusion Criteria:\r\n"
        "1. Age >= 18 years\r\n"
        "2. Hemoglobin >= 9 g/dL and platelets\r\n   >= 100,000/mm3\r\n"
        "Exclusion Criteria:\r\n"
        "1. Creatinine > 2 mg/dL\r\n"
    )
    path.write_bytes(body.encode("utf-8"))
    record = criteria_nlp.structure(str(path))
    as_user_has_it = open(path, encoding="utf-8", newline="").read()
    assert [c.kind for c in record.criteria] == ["inclusion", "inclusion", "exclusion"]
    _check_offsets(record, {None: as_user_has_it})
    wrapped = record.criteria[1].constraints[-1]
    assert wrapped.text == ">= 100,000/mm3"
    crit = record.criteria[2]
    assert as_user_has_it[crit.start : crit.end] == "1. Creatinine > 2 mg/dL"


def test_mojibake_repair_says_offsets_index_the_repaired_text(tmp_path):
    path = tmp_path / "moji.txt"
    path.write_text("Inclusion Criteria:\r\n- Age â‰¥ 18 years\r\n", encoding="utf-8")
    record = criteria_nlp.structure(str(path))
    assert any("offsets index the repaired text" in w for w in record.warnings)
    assert record.criteria[0].constraints[0].text == "≥ 18 years"


def test_reading_text_maps_every_span_back_to_the_source():
    source = "a\r\nb &lt;= 3&nbsp;mg<br/>c =\\< 4\rd"
    reading, tmap = reading_text(source, markdown=True, markup=True)
    assert reading == "a\nb <= 3 mg\nc =< 4\nd"
    i = reading.index("<= 3")
    assert source[slice(*tmap.span(i, i + 4))] == "&lt;= 3"
    j = reading.index("=< 4")
    assert source[slice(*tmap.span(j, j + 4))] == "=\\< 4"
    assert tmap.span(0, len(reading)) == (0, len(source))


# --- 9. brat folders ----------------------------------------------------------------------


def test_a_brat_folder_skips_annotation_files_with_one_summary_line(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    for stem in ("NCT01", "NCT02", "sub/NCT03"):
        (corpus / f"{stem}.txt").write_bytes(b"Inclusion Criteria:\r\n- Age >= 18 years\r\n")
        (corpus / f"{stem}.ann").write_text("T1\tValue 27 38\t>= 18 years\n", encoding="utf-8")
    (corpus / "annotation.conf").write_text("[entities]\nValue\n", encoding="utf-8")
    (corpus / "visual.conf").write_text("[labels]\n", encoding="utf-8")
    (corpus / "orphan.ann").write_text("T1\tValue 0 1\tx\n", encoding="utf-8")  # no .txt: still read
    notices: list[str] = []
    inputs = expand_inputs([str(corpus)], notice=notices.append)
    names = sorted(Path(i.path).name for i in inputs)
    assert names == ["NCT01.txt", "NCT02.txt", "NCT03.txt", "orphan.ann"]
    assert len(notices) == 1 and notices[0].startswith("skipped 5 brat annotation files")
    # the offsets of the CRLF .txt line up with its brat annotation
    record = criteria_nlp.structure(str(corpus / "NCT01.txt"))
    c = record.criteria[0].constraints[0]
    assert (c.start, c.end) == (27, 38)


def test_a_brat_annotation_file_given_by_name_is_read(tmp_path):
    (tmp_path / "x.txt").write_text("Age >= 18 years\n", encoding="utf-8")
    ann = tmp_path / "x.ann"
    ann.write_text("T1\tValue 4 15\t>= 18 years\n", encoding="utf-8")
    notices: list[str] = []
    assert [i.path for i in expand_inputs([str(ann)], notice=notices.append)] == [str(ann)]
    assert notices == []


# --- 7. property: offsets index the file, whatever its line ends and BOM -----------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_HEADERS = ["Inclusion Criteria:", "Exclusion Criteria:", "Key exclusion criteria", ""]
_TEMPLATES = [
    "Age >= {n} years",
    "Hemoglobin < {n} g/dL",
    "ECOG performance status of {n} or less",
    "Platelet count >= {n},000/mm3",
    "eGFR > {n} mL/min/1.73 m2",
    "Body weight between {n} and {m} kg",
    "No prior therapy within {n} weeks",
    "Creatinine clearance =< {n} mL/min",
]
_line = st.one_of(
    st.sampled_from(_HEADERS),
    st.builds(
        lambda label, t, n, m, wrap: (label + t.format(n=n, m=n + m)).replace(
            " ", "\n    ", 1 if wrap else 0
        ),
        st.sampled_from(["", "- ", "* ", "1. ", "2) ", "a. ", "\u2022 "]),
        st.sampled_from(_TEMPLATES),
        st.integers(1, 400),
        st.integers(1, 50),
        st.booleans(),
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(_line, min_size=1, max_size=8),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=8, max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    trailing=st.booleans(),
)
def test_offsets_index_the_file_for_every_line_end_and_bom(tmp_path, lines, ends, encoding, trailing):
    # each generated line (and a wrap inside it) gets its own line end
    parts = []
    for k, line in enumerate(lines):
        parts.append(line.replace("\n", ends[(k + 3) % 8]))
        if k < len(lines) - 1 or trailing:
            parts.append(ends[k % 8])
    body = "".join(parts)
    if not body.strip():
        return
    path = tmp_path / "generated.txt"
    path.write_bytes(body.encode(encoding))
    record = criteria_nlp.structure(str(path))
    assert record.error is None
    as_user_has_it = open(path, encoding=encoding, newline="").read()
    assert as_user_has_it == body
    for crit in record.criteria:
        piece = as_user_has_it[crit.start : crit.end]
        assert " ".join(piece.split()).endswith(" ".join(crit.text.split()))
        for c in crit.constraints:
            assert as_user_has_it[c.start : c.end] == c.text
            assert crit.start <= c.start <= c.end <= crit.end


def test_eudract_form_lines_in_a_saved_ictrp_page_with_crlf(tmp_path):
    page = (
        "Main ID:  EUCTR2018-002233-44-FR\r\n"
        "Public title: Vitamin D in frail older adults\r\n"
        "Key inclusion & exclusion criteria\r\n"
        "Inclusion criteria:\r\n"
        "1. Serum 25-OH vitamin D < 20 ng/mL\r\n"
        "2. Gait speed < 0.8 m/s\r\n"
        "Are the trial subjects under 18? no\r\n"
        "Number of subjects for this age range: \r\n"
        "F.1.2 Adults (18-64 years) no\r\n"
        "F.1.3 Elderly (>=65 years) yes\r\n"
        "F.1.3.1 Number of subjects for this age range 300\r\n"
        "\r\n"
        "Exclusion criteria:\r\n"
        "1. Serum calcium > 2.65 mmol/L\r\n"
        "Age minimum: \r\n"
        "Age maximum: \r\n"
        "Gender: \r\n"
    )
    path = tmp_path / "page.txt"
    path.write_bytes(page.encode("utf-8"))
    record = criteria_nlp.structure(str(path))
    assert record.source_format == "who_ictrp_page"
    assert [(g.code, g.included, g.subjects) for g in record.population.age_groups] == [
        ("F.1.1", False, None),
        ("F.1.2", False, None),
        ("F.1.3", True, 300),
    ]
    assert record.population.min_age == years(65) and record.population.max_age is None
    assert [(c.kind, c.text) for c in record.criteria] == [
        ("inclusion", "Serum 25-OH vitamin D < 20 ng/mL"),
        ("inclusion", "Gait speed < 0.8 m/s"),
        ("exclusion", "Serum calcium > 2.65 mmol/L"),
    ]
    _check_offsets(record, {None: open(path, encoding="utf-8", newline="").read()})


# --- 10. other languages' operator words and number formats ------------------------------


@pytest.mark.parametrize(
    ("text", "operator", "value", "unit"),
    [
        ("Edad mayor o igual a 21 años", ">=", 21, "a"),
        ("Bilirrubina total < o = 2 mg/dl", "<=", 2, "mg/dL"),
        ("Hemoglobina menor de 8 g/dl", "<", 8, "g/dL"),
        ("Âge supérieur ou égal à 40 ans", ">=", 40, "a"),
        ("Poids inférieur à 45 kg", "<", 45, "kg"),
        ("Alter mindestens 30 Jahre", ">=", 30, "a"),
        ("Kreatinin-Clearance unter 40 ml/min", "<", 40, "mL/min"),
        ("Età maggiore o uguale a 50 anni", ">=", 50, "a"),
    ],
)
def test_operator_words_of_eu_languages(text, operator, value, unit):
    found = criteria_nlp.extract(text)
    assert [(c.operator, c.value, c.unit) for c in found] == [(operator, value, unit)]


def test_spanish_number_formats_in_an_ictrp_record(tmp_path):
    export = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Trials><Trial><TrialID>EUCTR2017-005566-77-ES</TrialID>'
        "<Inclusion_Criteria>1. Pacientes con recuento de leucocitos superior a 3.000/mm3&lt;br&gt;"
        "2. Bilirrubina normal; creatinina sérica inferior a 1,5 mg/dl&lt;br&gt;"
        "3. Plaquetas &amp;gt;= 150.000/mm3</Inclusion_Criteria></Trial></Trials>\n"
    )
    path = tmp_path / "es.xml"
    path.write_text(export, encoding="utf-8")
    record = criteria_nlp.structure(str(path))
    found = [(c.operator, c.value, c.text) for crit in record.criteria for c in crit.constraints]
    assert (">", 3000, "superior a 3.000/mm3") in found
    assert ("<", 1.5, "inferior a 1,5 mg/dl") in found
    assert (">=", 150000, "&gt;= 150.000/mm3") in found


def test_english_numbers_keep_their_points_and_commas():
    reading, _ = reading_text("Platelets of at least 100.000/mm3 and creatinine below 1,5 with the ANC")
    assert "100.000" in reading and "1,5" in reading
    reading, _ = reading_text("Plaquetas de al menos 100.000/mm3 y creatinina de menos de 1,5 con los")
    assert "100000/mm3" in reading and "1.5" in reading


def test_line_ends_check_on_a_small_brat_folder(tmp_path):
    from criteria_nlp.evaluation.line_ends import check

    (tmp_path / "NCT00000001.txt").write_text(
        "Inclusion criteria:\n1. Age 18 to 65 years\n2. ALT < 2.5 x ULN\nExclusion criteria:\n1. BMI > 40 kg/m2\n",
        encoding="utf-8",
    )
    (tmp_path / "NCT00000001.ann").write_text("T1\tValue 24 38\t18 to 65 years\n", encoding="utf-8")
    (tmp_path / "annotation.conf").write_text("[entities]\n", encoding="utf-8")
    report = check(tmp_path, part="all")
    assert report["files"] == 1 and report["constraints"] == 3 and report["items"] == 3
    assert report["slice_mismatches"] == report["shift_mismatches"] == report["reading_mismatches"] == 0


@pytest.mark.parametrize(
    ("trial_id", "agemin", "agemax", "low", "high"),
    [
        ("JPRN-jRCT2031230001", ">= 20age old", "<= 85age old", years(20), years(85)),
        ("JPRN-UMIN000045678", "16years-old", "Not applicable", years(16), None),
        ("KCT0009876", "19(Year)", "60(Year)", years(19), years(60)),
        ("CTIS2023-501234-12-00", "65+", "No limit", years(65), None),
        ("CTIS2024-505678-33-00", "18-64 years", "18-64 years", years(18), years(64)),
    ],
)
def test_registry_age_fields_in_an_ictrp_export(tmp_path, trial_id, agemin, agemax, low, high):
    from xml.sax.saxutils import escape

    path = tmp_path / "ages.xml"
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Trials><Trial><TrialID>{trial_id}</TrialID>'
        f"<Inclusion_agemin>{escape(agemin)}</Inclusion_agemin><Inclusion_agemax>{escape(agemax)}</Inclusion_agemax>"
        "<Inclusion_Criteria>Outpatients with stable angina</Inclusion_Criteria></Trial></Trials>\n",
        encoding="utf-8",
    )
    (raw,) = list(read_path(str(path)))
    assert (raw.population.min_age, raw.population.max_age) == (low, high)
    assert not [w for w in raw.warnings if "age limit" in w]


def test_the_html_report_still_marks_constraints_written_with_escapes(tmp_path):
    from criteria_nlp.report.record import constraint_spans

    path = tmp_path / "study.json"
    path.write_text(json.dumps(_v2_study(V2_CRITERIA)), encoding="utf-8")
    record = criteria_nlp.structure(str(path))
    placed = [(c.text, crit.text[s.start : s.end]) for crit in record.criteria for c, s in constraint_spans(crit) if s]
    assert ("=\\< 14 days", "=< 14 days") in placed
    assert len(placed) == sum(len(crit.constraints) for crit in record.criteria)


def test_markup_pasted_into_a_text_file_is_layout(tmp_path):
    path = tmp_path / "pasted.txt"
    path.write_bytes(b"Exclusion criteria:<br>1. Creatinine &gt; 2 mg/dL<br>2. Weight &lt; 40 kg<br/>\r\n")
    record = criteria_nlp.structure(str(path))
    assert [(c.kind, c.text) for c in record.criteria] == [
        ("exclusion", "Creatinine > 2 mg/dL"),
        ("exclusion", "Weight < 40 kg"),
    ]
    _check_offsets(record, {None: open(path, encoding="utf-8", newline="").read()})
