"""The item memo (criteria_nlp.pipeline.memo) changes no output: a batch with it and without
it writes the same bytes, also for records that share items but differ in what reaches the
item's doc (kind, population, the record's sign habits, taught abbreviations)."""

import csv
import json
from pathlib import Path

import pytest

import criteria_nlp
from criteria_nlp.batch import BatchError
from criteria_nlp.batch import annotate as run_batch
from criteria_nlp.pipeline import extract_items
from criteria_nlp.pipeline.memo import ENV, ItemMemo, configured_size, new_memo
from criteria_nlp.segment.base import Item

ROOT = Path(__file__).resolve().parents[1]
CHICAGO = ROOT.parent / "shared" / "corpora" / "ctgov_raw" / "chicagopcdc_clinical_trials.csv"


def _study(nct, criteria, min_age=None, max_age=None, sex=None):
    elig = {"eligibilityCriteria": criteria, "minimumAge": min_age, "maximumAge": max_age}
    if sex:
        elig["sex"] = sex
    return {"protocolSection": {"identificationModule": {"nctId": nct}, "eligibilityModule": elig}}


# Shared lines, each in records whose context differs:
# - "Age = 18 years" as an inclusion and as an exclusion item (the repair reads the kind);
# - the same record text with two populations (the repair weighs the record's ages);
# - "Platelets  100 x 10^9/L" (a double space where a sign was) and "HbA1c * 7%" in a record
#   that writes no sign and in one that writes ">=" (the record's sign habits);
# - "TBL <= 1.5 mg/dL" after a record that defines TBL (it renames its copy) and alone.
WITH_AGE = "Inclusion Criteria:\n* Age = 18 years\n* Hemoglobin = 9 g/dL\nExclusion Criteria:\n* Bilirubin = 2 mg/dL\n"
AGE_EXCLUDED = "Inclusion Criteria:\n* Hemoglobin = 9 g/dL\nExclusion Criteria:\n* Age = 18 years\n* Bilirubin = 2 mg/dL\n"
NO_SIGNS = "Inclusion Criteria:\n* Platelets  100 x 10^9/L\n* HbA1c * 7%\nExclusion Criteria:\n* Bilirubin = 2 mg/dL\n"
SOME_SIGNS = "Inclusion Criteria:\n* Platelets  100 x 10^9/L\n* HbA1c * 7%\n* Weight ≥ 50 kg\n"
DEFINES = (
    "Inclusion Criteria:\n* Left ventricular ejection fraction (LVEF) >= 50% and total bilirubin (TBL) <= 1.5 mg/dL\n"
    "* TBL <= 1.5 mg/dL\n"
)
ALONE = "Inclusion Criteria:\n* TBL <= 1.5 mg/dL\n* Hemoglobin = 9 g/dL\n"

STUDIES = [
    _study("NCT-A1", WITH_AGE, "18 Years"),
    _study("NCT-B1", AGE_EXCLUDED, "18 Years"),
    _study("NCT-A2", WITH_AGE, "9 Years", "18 Years"),
    _study("NCT-A3", WITH_AGE, "18 Years", sex="FEMALE"),
    _study("NCT-C1", NO_SIGNS),
    _study("NCT-C2", SOME_SIGNS),
    _study("NCT-D1", DEFINES),
    _study("NCT-D2", ALONE),
    _study("NCT-A4", WITH_AGE, "18 Years"),  # NCT-A1 again: every item a hit
    _study("NCT-C3", NO_SIGNS),
    _study("NCT-D3", ALONE),
]


def _constraints(line):
    record = json.loads(line)
    return {
        c["text"].strip(): (c["variable"], c["operator"], c["repaired"])
        for crit in record["criteria"]
        for c in crit["constraints"]
    }


def _annotate(tmp_path, studies, name, **options):
    src = tmp_path / "studies.jsonl"
    if not src.exists():
        src.write_text("".join(json.dumps(s) + "\n" for s in studies), encoding="utf-8")
    out = tmp_path / f"{name}.jsonl"
    stats = run_batch([str(src)], str(out), progress=False, **options)
    return out.read_bytes(), stats


@pytest.mark.parametrize("workers", [1, 2])
def test_memo_on_and_off_write_the_same_bytes(tmp_path, workers):
    on, stats_on = _annotate(tmp_path, STUDIES, "on", memo=True, workers=workers)
    off, stats_off = _annotate(tmp_path, STUDIES, "off", memo=False, workers=workers)
    assert on == off
    assert stats_on.memo_hits > 0 and stats_off.memo_hits == stats_off.memo_misses == 0
    if workers == 1:
        # the repeated records' items (A4: 3, C3: 3, D3: 2); B1's hemoglobin and bilirubin
        # read in A1 (same kind, population and sign habits; not its age: an exclusion there);
        # D2's "TBL <= 1.5 mg/dL" read in D1 (D1's own copy is renamed, D2's must not be)
        assert stats_on.memo_hits == 3 + 3 + 2 + 2 + 1
    assert "item memo:" in stats_on.summary() and "item memo" not in stats_off.summary()


def test_the_shared_lines_really_differ_with_their_context(tmp_path):
    """Otherwise the test above would prove nothing: each context changes a result."""
    lines = _annotate(tmp_path, STUDIES, "on", memo=True)[0].decode().splitlines()
    got = {json.loads(line)["trial_id"]: _constraints(line) for line in lines}
    assert got["NCT-A1"]["= 18 years"][1] != got["NCT-B1"]["= 18 years"][1]  # inclusion / exclusion
    assert got["NCT-C1"]["* 7%"] != got["NCT-C2"]["7%"]  # sign habits of the record
    assert got["NCT-D1"]["<= 1.5 mg/dL"][0] != got["NCT-D2"]["<= 1.5 mg/dL"][0]  # taught there only
    assert got["NCT-D2"] == got["NCT-D3"] and got["NCT-A1"] == got["NCT-A4"]


def test_a_hit_is_a_fresh_copy():
    nlp = criteria_nlp._default_nlp()
    items = [Item(kind="inclusion", label=None, text="TBL <= 1.5 mg/dL", start=0, end=16)]
    memo = ItemMemo(nlp)
    with memo.active():
        first = extract_items(nlp, items)[0]
        first[0].variable = "renamed by a caller"
        second = extract_items(nlp, items)[0]
        second[0].alternates.append(first[0])
        third = extract_items(nlp, items)[0]
    assert memo.counts() == (2, 1)
    assert second[0].variable == third[0].variable == "TBL" and third[0].alternates == []
    assert second[0] is not third[0]


def test_memo_is_bounded_and_only_used_for_its_pipeline():
    nlp = criteria_nlp._default_nlp()
    memo = ItemMemo(nlp, max_items=3)
    texts = [f"Hemoglobin >= {n} g/dL" for n in range(8, 14)]
    items = [Item(kind="inclusion", label=None, text=t, start=0, end=len(t)) for t in texts]
    with memo.active():
        plain = extract_items(nlp, items)
        assert len(memo) == 3 and memo.counts() == (0, 6)
        assert extract_items(nlp, items[-3:]) == plain[-3:]
        assert memo.counts() == (3, 6)
    other = ItemMemo(object())
    with other.active():
        extract_items(nlp, items[:1])
    assert other.counts() == (0, 0)


def test_the_environment_turns_it_off_or_sizes_it(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, "off")
    assert configured_size() is None and new_memo(object()) is None
    monkeypatch.setenv(ENV, "1,000")
    assert configured_size() == 1000
    monkeypatch.setenv(ENV, "lots")
    with pytest.raises(BatchError, match=ENV):
        _annotate(tmp_path, STUDIES[:1], "bad")
    monkeypatch.delenv(ENV)
    assert new_memo(object(), enabled=False) is None


def test_cli_no_memo(tmp_path):
    from typer.testing import CliRunner

    from criteria_nlp.cli import app

    src = tmp_path / "s.jsonl"
    src.write_text("".join(json.dumps(s) + "\n" for s in STUDIES), encoding="utf-8")
    runner = CliRunner()
    on = runner.invoke(app, ["annotate", str(src), "-o", str(tmp_path / "on.jsonl")])
    off = runner.invoke(app, ["annotate", str(src), "-o", str(tmp_path / "off.jsonl"), "--no-memo"])
    assert on.exit_code == off.exit_code == 0
    assert "item memo:" in on.output and "item memo" not in off.output
    assert (tmp_path / "on.jsonl").read_bytes() == (tmp_path / "off.jsonl").read_bytes()


@pytest.mark.skipif(not CHICAGO.is_file(), reason="../shared/corpora/ctgov_raw is absent")
def test_real_records_in_other_contexts(tmp_path):
    """Real ClinicalTrials.gov text: 40 records, then the same texts with other populations,
    with their written signs lost to '=' (other sign habits, bare '=' for the repair), and with
    inclusion and exclusion swapped; memo on and off give the same bytes."""
    with open(CHICAGO, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if "Exclusion" in r["eligibility_criteria"]][:40]
    studies = []
    for r in rows:
        text = r["eligibility_criteria"]
        lost = text.replace("≥", "=").replace("≤", "=").replace(">=", "=").replace("<=", "=")
        swapped = text.replace("Inclusion", "@@").replace("Exclusion", "Inclusion").replace("@@", "Exclusion")
        studies += [
            _study(r["#nct_id"], text, r.get("minimum_age") or None, r.get("maximum_age") or None),
            _study(r["#nct_id"] + "-pop", text, "18 Years", "65 Years"),
            _study(r["#nct_id"] + "-lost", lost, r.get("minimum_age") or None, r.get("maximum_age") or None),
            _study(r["#nct_id"] + "-swap", swapped, r.get("minimum_age") or None, r.get("maximum_age") or None),
        ]
    on, stats = _annotate(tmp_path, studies, "on", memo=True)
    off, _ = _annotate(tmp_path, studies, "off", memo=False)
    assert stats.memo_hits > 0
    assert on == off


def _stream(memo, keys):
    """Look each key up and store a miss, as extract_items does."""
    for key in keys:
        if memo.get(key) is None:
            memo.put(key, [key])


def test_it_stops_storing_when_hits_are_rare_and_keeps_answering():
    memo = ItemMemo(object(), max_items=10_000, window=100, warmup=0, min_hit_rate=0.10)
    _stream(memo, [("once", n) for n in range(100)])
    # the 100th lookup ends the warm-up window: its miss is no longer stored
    assert not memo.storing and memo.pauses == 1 and len(memo) == 99
    _stream(memo, [("once", n) for n in range(100, 250)])
    assert not memo.storing and len(memo) == 99  # nothing new kept
    assert memo.get(("once", 5)) == [("once", 5)]  # what it holds still answers
    assert "not storing" in memo.summary()


def test_it_stores_everything_during_the_warm_up():
    memo = ItemMemo(object(), window=100, warmup=250, min_hit_rate=0.10)
    _stream(memo, [("once", n) for n in range(299)])
    assert memo.storing and len(memo) == 299
    _stream(memo, [("once", 299)])  # the first window past the warm-up ends here
    assert not memo.storing and memo.pauses == 1


def test_it_keeps_storing_on_a_repetitive_stream():
    memo = ItemMemo(object(), window=100, warmup=0, min_hit_rate=0.10)
    _stream(memo, [("often", n % 20) for n in range(1_000)])
    assert memo.storing and memo.pauses == 0 and len(memo) == 20
    assert memo.counts() == (980, 20)


def test_it_stores_again_when_items_start_to_recur():
    memo = ItemMemo(object(), window=100, warmup=0, min_hit_rate=0.10)
    _stream(memo, [("once", n) for n in range(200)])
    assert not memo.storing and len(memo) == 99
    # new items that recur: not kept while paused, but their keys are remembered
    _stream(memo, [("later", n % 10) for n in range(200)])
    assert memo.storing
    _stream(memo, [("later", n % 10) for n in range(100)])
    assert memo.get(("later", 3)) == [("later", 3)]


def test_a_pause_changes_no_output():
    nlp = criteria_nlp._default_nlp()
    texts = [f"Hemoglobin >= {n} g/dL" for n in range(8, 14)] + ["Age >= 18 years", "BMI < 30 kg/m2"]
    items = [Item(kind="inclusion", label=None, text=t, start=0, end=len(t)) for t in texts]
    plain = [extract_items(nlp, items[i : i + 2]) for i in range(0, len(items), 2)]
    memo = ItemMemo(nlp, window=2, warmup=0, min_hit_rate=0.5)
    with memo.active():
        runs = [[extract_items(nlp, items[i : i + 2]) for i in range(0, len(items), 2)] for _ in range(3)]
    assert memo.pauses >= 1 and memo.hits > 0
    assert all(run == plain for run in runs)


# --------------------------------------------------------------- shared between workers


def test_entries_one_memo_stored_answer_another():
    nlp = criteria_nlp._default_nlp()
    items = [Item(kind="inclusion", label=None, text=t, start=0, end=len(t))
             for t in ("Hemoglobin >= 9 g/dL", "Weight = 50 kg")]
    reader, taker = ItemMemo(nlp), ItemMemo(nlp)
    reader.collect_fresh()
    with reader.active():
        read = extract_items(nlp, items)
    fresh = reader.take_fresh()
    assert [key[0] for key, _ in fresh] == [it.text for it in items] and reader.take_fresh() == []
    assert taker.absorb(fresh) == 2 and taker.absorb(fresh) == 0  # what it holds is not taken twice
    with taker.active():
        assert extract_items(nlp, items) == read
    assert taker.counts() == (2, 0)  # taken in, not read
    paused = ItemMemo(nlp)
    paused.storing = False
    assert paused.absorb(fresh) == 0 and len(paused) == 0


def test_a_worker_takes_in_what_another_worker_read(tmp_path):
    """The worker side of ``annotate -j N`` in this process: the first "worker" hands back
    its entries with its results; a fresh worker given them reads nothing again."""
    from criteria_nlp.batch.inputs import expand_inputs, iter_raw_records
    from criteria_nlp.batch.shared_memo import SharedChunk, SharedMemoLog
    from criteria_nlp.batch.work import init_worker, share_pipeline, work_chunk

    src = tmp_path / "studies.jsonl"
    src.write_text("".join(json.dumps(s) + "\n" for s in STUDIES[:2]), encoding="utf-8")
    chunk = list(iter_raw_records(expand_inputs([str(src)])))
    log = SharedMemoLog(workers=2)
    share_pipeline(criteria_nlp._default_nlp())
    try:
        init_worker(None, True, True, True)
        first = work_chunk(chunk, log.outgoing())
        assert isinstance(first, SharedChunk) and first.fresh
        assert sum(r.memo[1] for r in first.results) == len(first.fresh)
        log.incoming(first)
        init_worker(None, True, True, True)  # another worker: an empty memo of its own
        second = work_chunk(chunk, log.outgoing())
        assert sum(r.memo[1] for r in second.results) == 0  # every item taken in, none read
        assert [r.line for r in second.results] == [r.line for r in first.results]
        assert second.fresh == [] and second.applied == len(first.fresh)
    finally:
        init_worker(None, True, False)
        share_pipeline(None)


def test_the_log_keeps_only_what_some_worker_lacks():
    from criteria_nlp.batch.shared_memo import SharedChunk, SharedMemoLog

    log = SharedMemoLog(workers=2)
    assert log.outgoing() == (0, [])
    log.incoming(SharedChunk([], [("a", b"1"), ("b", b"2")], worker=11, applied=0))
    assert log.outgoing() == (0, [("a", b"1"), ("b", b"2")])  # worker 22 has not reported
    log.incoming(SharedChunk([], [("c", b"3")], worker=22, applied=2))
    assert log.outgoing() == (0, [("a", b"1"), ("b", b"2"), ("c", b"3")])  # 11 stands at 0
    log.incoming(SharedChunk([], [], worker=11, applied=3))
    assert log.outgoing() == (2, [("c", b"3")]) and len(log) == 1  # both have a and b
    log.new_workers()  # a restarted pool: its workers hold nothing, what is kept is sent
    assert log.outgoing() == (2, [("c", b"3")])
    bounded = SharedMemoLog(workers=2, max_entries=2)  # a worker that never reports
    bounded.incoming(SharedChunk([], [("a", b"1"), ("b", b"2"), ("c", b"3")], worker=11, applied=0))
    assert bounded.outgoing() == (1, [("b", b"2"), ("c", b"3")]) and len(bounded) == 2


def test_number_free_lines_are_remembered_and_bounded():
    nlp = criteria_nlp._default_nlp()
    memo = ItemMemo(nlp, max_items=2)
    asked = []

    def has_number(text):
        asked.append(text)
        return any(ch.isdigit() for ch in text)

    assert memo.number_free("Pregnant or breastfeeding women", has_number)
    assert memo.number_free("Pregnant or breastfeeding women", has_number)
    assert not memo.number_free("Age 18 years or older", has_number)
    assert not memo.number_free("Age 18 years or older", has_number)  # a number: asked again
    assert asked == ["Pregnant or breastfeeding women", "Age 18 years or older", "Age 18 years or older"]
    for text in ("Known HIV infection", "Prior organ transplant", "Pregnant or breastfeeding women"):
        memo.number_free(text, has_number)
    assert asked[-1] == "Pregnant or breastfeeding women"  # the oldest went out, so it is tested again
    assert memo.counts() == (0, 0)  # number-free lines are no lookups


def test_a_memo_run_reads_number_free_items_as_none():
    nlp = criteria_nlp._default_nlp()
    texts = ["History of stroke", "Hemoglobin >= 9 g/dL", "History of stroke", "No prior radiotherapy"]
    items = [Item(kind="exclusion", label=None, text=t, start=0, end=len(t)) for t in texts]
    plain = extract_items(nlp, items)
    memo = ItemMemo(nlp)
    with memo.active():
        assert extract_items(nlp, items) == plain
        assert extract_items(nlp, items) == plain
    assert [len(c) for c in plain] == [0, 1, 0, 0]
    assert memo.counts() == (1, 1)


def test_packed_constraints_come_back_whole_and_fresh():
    from criteria_nlp.pipeline.memo import pack, unpack

    nlp = criteria_nlp._default_nlp()
    text = "Neutrophils >= 1.5 x 10^9/L (1500/uL) and weight under 55 kg (121 lbs); age = 18 years"
    items = [Item(kind="inclusion", label=None, text=text, start=0, end=len(text))]
    found = extract_items(nlp, items)[0]
    assert any(c.alternates for c in found) and len(found) >= 3
    blob = pack(found)
    back = unpack(blob)
    assert [c.model_dump_json() for c in back] == [c.model_dump_json() for c in found]
    assert [c.model_fields_set for c in back] == [c.model_fields_set for c in found]
    assert [a.model_fields_set for c in back for a in c.alternates] == [
        a.model_fields_set for c in found for a in c.alternates
    ]
    # a caller that changes what it got changes nothing the next hit gets
    back[0].variable = "changed"
    back[0].alternates.clear()
    back[1].model_fields_set.add("confidence")
    again = unpack(blob)
    assert again == found and again[0] is not back[0] and again[0].alternates
    assert again[1].model_fields_set == found[1].model_fields_set


def test_what_is_not_a_plain_constraint_is_kept_as_it_is():
    from criteria_nlp.pipeline.memo import pack, unpack

    assert unpack(pack([{"not": "a constraint"}, 3])) == [{"not": "a constraint"}, 3]
    assert unpack(pack([])) == []
