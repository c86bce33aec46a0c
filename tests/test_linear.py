"""Linear time on any input, and the per-record time budget.

The tokenizer keeps spaCy's tokens on ordinary text (property tests against spaCy's own
regexes) and cuts only runs no real criterion has; every adversarial class of
tests/adversarial_text.py structures in bounded time; a record that runs out of its time
budget becomes an error record naming the budget, and the batch goes on (also with -j 2).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.tokenizer import Tokenizer
from spacy.util import compile_suffix_regex

sys.path.insert(0, str(Path(__file__).resolve().parent))

from adversarial_text import CLASSES, make  # noqa: E402

from criteria_nlp.pipeline.affixes import MAX_RUN, SuffixSearch, long_runs  # noqa: E402
from criteria_nlp.pipeline.tokenizer import criteria_tokenizer, linear_tokenizer  # noqa: E402

# characters that exercise the affix rules: brackets, quotes, operators, units, dots
AFFIX_ALPHABET = "()[]{}<>=≥≤~×±%$€'\"’s–—-+/.,;:!?…°CcFkmgLxX0123456789aZ "
affix_text = st.text(alphabet=AFFIX_ALPHABET, max_size=60)


@pytest.fixture(scope="module")
def tokenizers():
    """(linear criteria tokenizer, the same with spaCy's plain suffix regex) on one vocab."""
    nlp = spacy.blank("en")
    fast = criteria_tokenizer(nlp)
    plain = criteria_tokenizer(nlp)
    plain.suffix_search = re.compile(fast.suffix_search.__self__.pattern).search
    return fast, plain


def words(doc):
    return [(t.text, t.whitespace_) for t in doc]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(affix_text)
def test_suffix_search_answers_as_spacys_regex(text):
    from spacy.lang.en import English

    pieces = list(English.Defaults.suffixes) + ["[<>=≥≤]"]
    plain, fast = compile_suffix_regex(pieces).search, SuffixSearch(pieces).search
    for token in text.split() or [text]:
        a, b = plain(token), fast(token)
        assert (a and a.span()) == (b and b.span()), token


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(affix_text)
def test_tokens_are_spacys_on_ordinary_text(tokenizers, text):
    fast, plain = tokenizers
    assert words(fast(text)) == words(plain(text))


def test_default_english_tokens_unchanged_for_the_abbreviation_detector():
    nlp = spacy.blank("en")
    fast = linear_tokenizer(nlp)
    text = "SLE disease activity index (SLEDAI) >= 8; e.g. U.S. patients' (n=20) ... 6-minute walk (6MWT)."
    assert words(fast(text)) == words(nlp.tokenizer(text))
    assert isinstance(nlp.tokenizer, Tokenizer)


def test_text_without_a_long_run_is_not_cut():
    assert long_runs("x" * MAX_RUN + " " + "(" * MAX_RUN) == []
    assert long_runs("ab " + "(" * (MAX_RUN + 1)) == [(3, MAX_RUN + 4)]


def test_garbage_runs_do_not_grow_the_vocab(tokenizers):
    # one token per character inside a long run: a second, different garbage text makes
    # no new lexeme (spaCy keeps every lexeme for the life of the process)
    fast, _ = tokenizers
    first = fast("x " + make("mixed", 20000, seed=1) + " y")
    size = len(fast.vocab)
    again = fast("x " + make("mixed", 20000, seed=2) + " y")
    assert len(fast.vocab) - size <= 10
    assert first.text.startswith("x ") and again[0].text == "x" and again[-1].text == "y"


@pytest.mark.parametrize("name", ["open_brackets", "nested_brackets", "operators", "mixed", "letters"])
def test_a_long_run_is_cut_into_bounded_tokens_that_rebuild_the_text(tokenizers, name):
    fast, _ = tokenizers
    text = "Age >= 18 years " + make(name, 5000) + " and ALT < 3 x ULN"
    doc = fast(text)
    assert doc.text == text
    assert max(len(t) for t in doc) <= MAX_RUN
    assert all(len(t) == 1 for t in doc[5:-6])  # the run: one token per character
    # the words around the run are tokenized as without it
    assert [t.text for t in doc][:4] == ["Age", ">=", "18", "years"]
    assert [t.text for t in doc][-6:] == ["and", "ALT", "<", "3", "x", "ULN"]


def test_a_saved_pipeline_keeps_the_bounded_suffix_search(tmp_path: Path):
    from criteria_nlp.pipeline import build_pipeline

    nlp = build_pipeline()
    nlp.tokenizer.to_disk(tmp_path / "tok")
    nlp.tokenizer.from_disk(tmp_path / "tok")
    assert isinstance(nlp.tokenizer.suffix_search.__self__, SuffixSearch)


# ------------------------------------------------------------ every stage, bounded time

CLASS_SIZE = 64 * 1024
CLASS_BOUND = 30.0  # seconds; 64 KB took 0.1-8 s on a machine loaded 4x (bench/adversarial.py)


@pytest.fixture(scope="module")
def nlp():
    from criteria_nlp import _default_nlp

    return _default_nlp()


def _structure_seconds(nlp, text: str) -> tuple[float, list]:
    from criteria_nlp import structure_many

    started = time.monotonic()
    records = list(structure_many([text], nlp=nlp, record_timeout=None))
    for r in records:
        r.model_dump_json()
    return time.monotonic() - started, records


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_adversarial_class_structures_in_bounded_time(nlp, name):
    text = make(name, CLASS_SIZE, seed=7)
    seconds, records = _structure_seconds(nlp, text)
    assert seconds < CLASS_BOUND, f"{CLASS_SIZE:,} characters of {name} took {seconds:.1f} s"
    for record in records:
        for crit in record.criteria:
            for c in crit.constraints:
                assert c.start < c.end


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(sorted(CLASSES)), st.integers(1, 12 * 1024), st.integers(0, 99)), min_size=1, max_size=6))
def test_mixtures_of_classes_structure_in_bounded_time(nlp, parts):
    text = "\n".join(make(name, size, seed) for name, size, seed in parts)
    seconds, _ = _structure_seconds(nlp, text)
    assert seconds < CLASS_BOUND, f"{len(text):,} characters ({[p[0] for p in parts]}) took {seconds:.1f} s"


def test_the_record_level_repair_is_linear_in_the_items():
    from criteria_nlp.pipeline.repair import harmonize_record
    from criteria_nlp.schema import Constraint, Criterion, TrialRecord

    def item(n: int, written: str, operator: str) -> Criterion:
        # a bare "=" carries the item-level decision's lean, as the repair component leaves it
        kept = "kept '=': no direction is likely enough (P(>=) 0.5000)" if written == "=" else None
        c = Constraint(variable="creatinine", category="lab", operator=operator, value=float(n // 2 % 50),
                       start=0, end=5, text="x", written_operator=written, repair_reason=kept)
        return Criterion(id=f"inc-{n}", kind="inclusion", text="x", start=0, end=1, constraints=[c])

    # 20,000 items, half with a bare "=": a scan of the record per '=' was 10^8 steps
    crits = [item(n, "=" if n % 2 else ">=", "==" if n % 2 else ">=") for n in range(20_000)]
    record = TrialRecord(source="x", criteria=crits)
    started = time.monotonic()
    harmonize_record(record)
    assert time.monotonic() - started < 20
    # and it still reads the record: "= 7" follows the ">= 7" written in another item
    fixed = record.criteria[2 * 7 + 1].constraints[0]
    assert (fixed.operator, fixed.repaired) == (">=", True)
    assert "elsewhere in the record" in fixed.repair_reason


# ------------------------------------------------------------ the per-record time budget

SLOW_MARK = "SLOWRECORDMARK"


@pytest.fixture
def slow_stage(monkeypatch):
    """Segmentation sleeps 60 s on a record holding SLOW_MARK (a stage that stalls)."""
    import criteria_nlp.records as records

    real = records.segment

    def segment(ct):
        if SLOW_MARK in ct.text:
            time.sleep(60)
        return real(ct)

    monkeypatch.setattr(records, "segment", segment)


def _studies(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for n, text in enumerate(texts):
            study = {"protocolSection": {"identificationModule": {"nctId": f"NCT{n:08d}"},
                                         "eligibilityModule": {"eligibilityCriteria": text}}}
            f.write(json.dumps(study) + "\n")
    return path


def test_budget_turns_a_stalled_record_into_an_error_and_goes_on(nlp, slow_stage):
    from criteria_nlp import structure_many

    texts = ["Inclusion Criteria:\n- Age >= 18 years", f"Inclusion Criteria:\n- {SLOW_MARK} >= 2", "Exclusion Criteria:\n- ALT > 3 x ULN"]
    list(structure_many(texts[:1], nlp=nlp))  # warm up (first-use compiling is not the record's)
    started = time.monotonic()
    out = list(structure_many(texts, nlp=nlp, record_timeout=2))
    assert time.monotonic() - started < 30
    assert [r.error is None for r in out] == [True, False, True]
    assert "time budget of 2 s" in out[1].error
    assert out[2].criteria[0].constraints[0].value == 3


@pytest.mark.parametrize("workers", [1, 2])
def test_annotate_writes_an_error_line_naming_the_record_and_continues(nlp, slow_stage, tmp_path, workers):
    from criteria_nlp import structure_many
    from criteria_nlp.batch import annotate

    list(structure_many(["Inclusion Criteria:\n- Age >= 18 years"], nlp=nlp))  # warm up before forking
    texts = [f"Inclusion Criteria:\n- weight >= {n} kg" for n in range(40, 46)]
    texts[2] = f"Inclusion Criteria:\n- {SLOW_MARK} >= 2"
    src = _studies(tmp_path / "studies.jsonl", texts)
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    stats = annotate([str(src)], out, workers=workers, record_timeout=2, progress=False)
    assert time.monotonic() - started < 60
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 6 and stats.errors == 1
    bad = lines[2]
    assert bad["source"].endswith("studies.jsonl#3") and bad["trial_id"] == "NCT00000002"
    assert "time budget of 2 s" in bad["error"]
    assert [line["criteria"][0]["constraints"][0]["value"] for i, line in enumerate(lines) if i != 2] == [40, 41, 43, 44, 45]


def test_no_budget_off_the_main_thread(nlp, monkeypatch):
    import criteria_nlp.records as records
    from criteria_nlp import structure_many

    real = records.segment

    def segment(ct):
        time.sleep(1.5)
        return real(ct)

    monkeypatch.setattr(records, "segment", segment)
    result = []
    worker = threading.Thread(target=lambda: result.extend(structure_many(["Age >= 18 years"], nlp=nlp, record_timeout=0.3)))
    worker.start()
    worker.join(60)
    assert len(result) == 1 and result[0].error is None


def test_a_bad_record_timeout_is_a_clear_cli_error(tmp_path):
    from typer.testing import CliRunner

    from criteria_nlp.cli import app

    src = _studies(tmp_path / "s.jsonl", ["Age >= 18 years"])
    result = CliRunner().invoke(app, ["annotate", str(src), "--record-timeout", "soon"])
    assert result.exit_code == 2
    assert "--record-timeout" in result.output and "soon" in result.output


def test_a_criterion_over_a_million_characters_is_structured(nlp):
    # spaCy's own limit (10^6 characters, for parsers this pipeline has not) is lifted
    from criteria_nlp import structure_many

    text = "Inclusion Criteria:\n- " + make("digits", 1_100_000) + " and age >= 18 years\n"
    (record,) = structure_many([text], nlp=nlp, record_timeout=None)
    assert record.error is None
    assert any(c.value == 18 for crit in record.criteria for c in crit.constraints)
