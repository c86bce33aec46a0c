"""The speed work changes no result: each shortcut against the slow path it replaces.
(Times are measured by bench/peer.py by hand, never here.)"""

import json
import random
import subprocess
import sys

import pytest

import criteria_nlp
from criteria_nlp import compiled
from criteria_nlp.abbreviations import define, find_abbreviations
from criteria_nlp.pipeline import extract_items
from criteria_nlp.pipeline.overlap import prune_overlaps
from criteria_nlp.segment.base import Item

DEFINITIONS = [
    "Forced expiratory volume in one second (FEV1) of at least 60%; FEV1 >= 1.5 L",
    "Six minute walk distance (6MWD) and the Eastern Cooperative Oncology Group (ECOG) status 0-1; ECOG <= 1",
    "Body mass index (BMI) between 18 and 30 (inclusive) (see appendix (table 2))",
    "(ABC) at the very start; a platelet count (PLT) > 100; PLT (platelets) again (PLT) twice",
    "CD4 positive count (CD4+) > 200 and CD4 + cells (CD4 +) counted twice; CD4+ > 350",
    "Hemoglobin A1c (HbA1c) <= 8% and glycated hemoglobin (HbA1c) again; ( HbA1c )",
    "no parenthesis at all, 18 years",
    "unbalanced ( parenthesis (ALT) and ) more ) here (AST",
]


@pytest.mark.parametrize("text", DEFINITIONS)
def test_define_answers_as_the_whole_detector_does(text):
    whole = find_abbreviations(text)
    asked = set(whole) | {"FEV1", "ECOG", "BMI", "PLT", "CD4+", "CD4 +", "HbA1c", "ALT", "AST", "XYZ"}
    assert define(text, asked) == {s: whole[s] for s in asked if s in whole}


FILLER = " ".join(f"word{i} (note {i})" if i % 17 == 0 else f"word{i}" for i in range(120))
LONG_TEXTS = [
    # definitions far from the start and from each other: windows cut inside the text
    f"{FILLER} estimated glomerular filtration rate (eGFR) >= 60; {FILLER} eGFR < 90 and "
    f"alanine aminotransferase (ALT) <= 2.5 x ULN {FILLER} (ALT) again",
    # the long form stands twice: the whole text decides
    f"{FILLER} total bilirubin (TBIL) normal; total bilirubin (TB) {FILLER} TBIL <= 1.5",
    # the same short form defined twice, the second one is not taken
    f"platelet count (PLT) > 100 {FILLER} platelets measured (PLT) again; PLT > 75",
]


@pytest.mark.parametrize("text", LONG_TEXTS)
def test_define_answers_as_the_detector_on_long_texts(text):
    whole = find_abbreviations(text)
    assert whole  # the texts do define something
    for asked in ({"eGFR"}, {"ALT"}, {"TBIL"}, {"TB"}, {"PLT"}, {"eGFR", "ALT", "TBIL", "TB", "PLT"}):
        assert define(text, asked) == {s: whole[s] for s in asked if s in whole}


_PIECES = [
    "alanine aminotransferase (ALT)", "aspartate aminotransferase (AST)", "ALT", "AST", "(ALT)",
    "platelet count (PLT)", "platelets", "(PLT)", "estimated glomerular filtration rate (eGFR)",
    "eGFR", "( eGFR )", "body mass index (BMI)", "BMI (kg/m2)", "(see table 2)", "ULN", ">=",
    "<= 2.5 x", "100", "and", "or", "within", "(", ")", "total bilirubin (TBIL)", "TBIL", "(TB)",
]


@pytest.mark.parametrize("seed", range(12))
def test_define_answers_as_the_detector_on_random_texts(seed):
    """Many short forms asked at once over texts long enough to be read in several stretches:
    the stretches of different short forms overlap and are tokenized once for all."""
    rng = random.Random(seed)
    words = [rng.choice(_PIECES) if rng.random() < 0.4 else f"w{rng.randrange(50)}" for _ in range(rng.randrange(40, 400))]
    text = " ".join(words)
    whole = find_abbreviations(text)
    every = {"ALT", "AST", "PLT", "eGFR", "BMI", "TBIL", "TB", "XYZ"}
    for asked in (every, {"ALT"}, {"eGFR", "TB"}, set(rng.sample(sorted(every), 3))):
        assert define(text, asked) == {s: whole[s] for s in asked if s in whole}


@pytest.mark.parametrize("seed", range(6))
def test_the_bracket_index_finds_what_the_regexes_find(seed):
    from criteria_nlp.abbreviations import _BracketIndex, _opens_by_regex

    rng = random.Random(seed)
    alphabet = ["(", ")", " ", "  ", "\n", "A", "L", "T", "e", "G", "F", "R", "1", "-", "/", "x"]
    text = "".join(rng.choice(alphabet) for _ in range(3000))
    index = _BracketIndex(text)
    for short in ("ALT", "A L T", "eGFR", "T", "1-x", "AL(T", "GFR)", "x" * 30, " ", "LTx/1"):
        assert index.opens(short) == _opens_by_regex(text, short), short


def test_define_finds_a_definition_and_ignores_what_was_not_asked():
    text = "Eastern Cooperative Oncology Group (ECOG) status; body mass index (BMI) > 30"
    assert define(text, {"BMI"}) == {"BMI": "body mass index"}
    assert define(text, set()) == {}


def _medspacy_prune(matches):
    from medspacy.common.util import prune_overlapping_matches

    return prune_overlapping_matches(matches)


def test_overlap_pruning_is_medspacys():
    rng = random.Random(13)
    for _ in range(3000):
        matches = []
        for _ in range(rng.randint(0, 9)):
            start = rng.randint(0, 15)
            matches.append((rng.randint(1, 4), start, start + rng.randint(1, 5)))
        assert prune_overlaps(list(matches)) == _medspacy_prune(list(matches))


def test_compiled_patterns_come_back_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    pattern = r"(?P<op>[<>]=?)\s*(?P<num>\d+(?:\.\d+)?)\s*(?:years|mg/dL)?"
    first = compiled.compile(pattern, 2)
    files = list(tmp_path.glob("re-*.marshal"))
    assert len(files) == 1
    compiled._MEMORY.clear()
    again = compiled.compile(pattern, 2)  # loaded from the file this time
    assert again is not first
    text = "Age >= 18 years, creatinine < 1.5 mg/dL"
    assert [m.groupdict() for m in again.finditer(text)] == [m.groupdict() for m in first.finditer(text)]
    assert (again.pattern, again.flags, again.groupindex) == (first.pattern, first.flags, first.groupindex)
    # a damaged file is compiled afresh (and rewritten)
    files[0].write_bytes(b"\x00garbage")
    compiled._MEMORY.clear()
    assert compiled.compile(pattern, 2).findall(text) == first.findall(text)
    compiled._MEMORY.clear()


def test_the_cache_keeps_the_newest_files_only(tmp_path, monkeypatch):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    for n in range(compiled.KEEP + 3):
        compiled.compile(rf"a{{{n + 1}}}b", 0)
    assert len(list(tmp_path.glob("re-*.marshal"))) == compiled.KEEP
    compiled._MEMORY.clear()


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", "off")
    assert compiled.cache_dir() is None
    assert compiled.compile(r"x{2,3}q", 0).fullmatch("xxq")
    compiled._MEMORY.clear()


def test_items_without_a_number_get_no_doc_and_no_constraint():
    nlp = criteria_nlp.load()
    items = [Item("inclusion", None, t, 0, len(t)) for t in ("Signed informed consent", "Age >= 18 years")]
    calls = []
    real = nlp.make_doc
    nlp.make_doc = lambda text: calls.append(text) or real(text)
    try:
        found = extract_items(nlp, items)
    finally:
        nlp.make_doc = real
    assert calls == ["Age >= 18 years"]
    assert found[0] == [] and [c.value for c in found[1]] == [18]


def test_a_pipeline_with_other_components_gets_every_item():
    nlp = criteria_nlp.load()
    nlp.add_pipe("sentencizer")
    items = [Item("inclusion", None, "Signed informed consent", 0, 23)]
    calls = []
    real = nlp.make_doc
    nlp.make_doc = lambda text: calls.append(text) or real(text)
    try:
        assert extract_items(nlp, items) == [[]]
    finally:
        nlp.make_doc = real
    assert calls == ["Signed informed consent"]


START = """
import json, sys
import criteria_nlp
record = criteria_nlp.structure("Inclusion Criteria:\\n1. Age >= 18 years\\n2. Not pregnant, no HbA1c > 9%\\n")
context = criteria_nlp._default_nlp().get_pipe("criteria_constraints")._context
print(json.dumps({"constraints": [[c.variable, c.negated] for cr in record.criteria for c in cr.constraints],
                  "context": type(context).__module__ if context is not None else None,
                  "loaded": sorted(m for m in ("medspacy", "PyRuSH", "scispacy", "nltk", "scipy") if m in sys.modules)}))
"""


def test_a_fresh_process_loads_medspacy_and_scispacy_only_when_a_record_needs_them():
    out = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True, check=True)
    first = json.loads(out.stdout.strip().splitlines()[-1])
    assert first["constraints"] == [["age", False], ["HbA1c", True]]
    # ConText ran (the "no" negates HbA1c), without medspaCy's package start (which loads
    # its sentence splitter and every component), NLTK or SciPy
    assert first["context"] == "medspacy.context.context" and first["loaded"] == []
    plain = START.replace("2. Not pregnant, no HbA1c > 9%", "2. HbA1c > 9%")
    out = subprocess.run([sys.executable, "-c", plain], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"constraints": [["age", False], ["HbA1c", False]], "context": None, "loaded": []}


def test_medspacy_imported_after_our_context_is_the_whole_package():
    code = START + (
        "import medspacy\n"
        "nlp = medspacy.load()\n"
        "doc = nlp('No evidence of pneumonia.')\n"
        "print(json.dumps([nlp.pipe_names, medspacy.context.ConText.__name__]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    pipes, context = json.loads(out.stdout.strip().splitlines()[-1])
    assert "medspacy_pyrush" in pipes and "medspacy_context" in pipes and context == "ConText"


def _item_text_by_runs(text, content, end):
    """The segmenter's item text built run by run (its general path)."""
    import re

    chunk, parts, pieces, n = text[content:end], [], [], 0
    for m in re.finditer(r"\S+(?: \S+)*", chunk):
        if parts:
            n += 1
        pieces.append((n, content + m.start(), m.end() - m.start()))
        parts.append(m.group(0))
        n += m.end() - m.start()
    return " ".join(parts), pieces


def test_an_item_text_taken_as_it_stands_is_the_one_built_run_by_run():
    from criteria_nlp.segment.segmenter import _item_text

    rng = random.Random(5)
    alphabet = ["a", "b", "1", ".", " ", " ", "  ", "\n", "\r\n", "\t", "\xa0", "\u2028", "\x00", "\xad", "é"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        start = rng.randint(0, len(text))
        end = rng.randint(start, len(text))
        assert _item_text(text, start, end) == _item_text_by_runs(text, start, end), (text, start, end)


def test_a_one_line_item_places_offsets_as_the_look_up_of_its_pieces_does():
    from criteria_nlp.readers.base import CriteriaText
    from criteria_nlp.records import _placer

    text = "Inclusion Criteria:\n1. Age >= 18 years and HbA1c < 9%\n"
    one = Item("inclusion", "1.", "Age >= 18 years and HbA1c < 9%", 20, 54, pieces=[(0, 23, 31)])
    # the same map as two pieces: the look-up path
    two = Item("inclusion", "1.", one.text, 20, 54, pieces=[(0, 23, 15), (15, 38, 16)])
    for i in range(0, 35):
        assert one.source_offset(i) == two.source_offset(i), i
        for j in range(0, 36):
            assert one.source_span(i, j) == two.source_span(i, j), (i, j)
    place = _placer(one, CriteriaText(text=text))
    assert text[slice(*place(0, 15))] == "Age >= 18 years"


def test_the_characters_before_a_bracket_are_the_last_non_space_ones():
    from criteria_nlp.abbreviations import _tail

    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice(["a", "B", "1", " ", "  ", "\n", "\t", "\u3000", "(", ")", "-"]) for _ in range(rng.randint(0, 60)))
        pos = rng.randint(0, len(text))
        size = rng.randint(1, 30)
        chars = [c for c in text[:pos] if not c.isspace()]
        assert _tail(text, pos, size) == "".join(chars[-size:]) if chars else _tail(text, pos, size) == ""


HEADERISH = [
    "Inclusion Criteria:", "EXCLUSION CRITERIA", "Key Exclusion Criteria:", "Criteria for exclusion",
    "Patients will be excluded if they meet any of the following:", "Non-inclusion criteria:",
    "Inclusion/eligibility criteria", "Reasons for inclusion:", "Exlusion criteria", "Inclution criteria:",
    "Ineligibility criteria", "Participants are eligible if:", "Transplant Exclusion:", "Exclusions",
    "Patients who meet the inclusion criteria", "Age >= 18 years, no occlusion", "Any of the following will exclude:",
    "Subjects may be enrolled in the study if:", "confusion or delusion within 3 months",
    "Critères d'exclusion :", "ＥＸＣＬＵＳＩＯＮ criteria", "Exclusion criteria: (Exclusion)",
]


def test_the_piece_pretests_change_no_header_and_no_inline_search():
    """The segmenter's substring pretests (covering pieces of the header words) answer as
    the regexes alone: every line, with and without them."""
    import dataclasses

    from criteria_nlp.segment.patterns import covering_pieces, rules
    from criteria_nlp.segment.segmenter import Scanner

    assert all(any(p in w for p in covering_pieces(["inclusion", "exclusion", "ab"])) for w in ["inclusion", "exclusion", "ab"])
    plain = dataclasses.replace(rules(), header_pieces=None, header_phrase_pieces=None, inline_header_pieces=None)
    rng = random.Random(3)
    words = [w for line in HEADERISH for w in line.split()] + ["1.", "a)", "*", "-", "the", "study", ":", "\u00e9"]
    lines = HEADERISH + [" ".join(rng.choice(words) for _ in range(rng.randint(1, 9))) for _ in range(3000)]
    headers = 0
    for line in lines:
        for labelled in (False, True):
            text = f"{line}\n"
            fast, slow = Scanner(text, 0, len(text)), Scanner(text, 0, len(text))
            slow.r = plain
            found = fast.header_at(0, len(line), labelled)
            assert found == slow.header_at(0, len(line), labelled), (line, labelled)
            assert fast._may_hold_inline(0, len(line)) == slow._may_hold_inline(0, len(line)), line
            headers += found is not None
    assert headers > 200  # the lines do hold headers of every kind


def test_the_detector_tokenizes_as_spacys_default_english_tokenizer():
    import spacy

    from criteria_nlp.abbreviations import _detector

    detector = _detector()
    assert detector.pipe_names == ["abbreviation_detector"]
    default = spacy.blank("en").tokenizer
    texts = [
        "Don't enrol patients with N.Y.H.A. class III-IV heart failure (e.g., CHF) or U.S. residents' data.",
        "Systemic lupus erythematosus (SLE) with SLEDAI-2K >= 6; anti-dsDNA ab's (+) at screening.",
        "He's 45 y/o, weight 70kg (154 lbs), e-mail: someone@example.org, http://example.org/x?y=1.",
    ]
    for text in texts:
        assert [t.text for t in detector.make_doc(text)] == [t.text for t in default(text)]
