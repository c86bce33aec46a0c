"""structure_partition: the per-partition function for Dask, Spark and the like."""

import json
import pickle
from functools import partial

import pytest

from criteria_nlp.batch import annotate
from criteria_nlp.batch import partition as part
from criteria_nlp.batch.partition import structure_partition


def _study(nct: str, criteria: str, min_age: str | None = "18 Years") -> dict:
    return {"protocolSection": {
        "identificationModule": {"nctId": nct, "briefTitle": f"Trial {nct}"},
        "eligibilityModule": {"eligibilityCriteria": criteria, "minimumAge": min_age},
    }}


STUDIES = [
    _study("NCT90000001", "Inclusion Criteria:\n\n* Age >= 18 years\n* HbA1c between 7% and 10%\n\nExclusion Criteria:\n\n* eGFR < 30 mL/min\n"),
    _study("NCT90000002", "Inclusion Criteria:\n- body mass index (BMI) of 18 to 35 kg/m2\n- BMI = 30 or less\n"),
    _study("NCT90000003", "Inclusion Criteria:\n1. Signed informed consent\nExclusion Criteria:\n1. Pregnancy\n", None),
    _study("NCT90000004", "Key inclusion criteria: platelets > 100 x 10^9/L; no ALT > 3 x ULN"),
]
LINES = [json.dumps(s) for s in STUDIES]


def _without_source(outputs):
    return [{k: v for k, v in json.loads(o).items() if k != "source"} for o in outputs]


def test_each_kind_of_element_gives_one_output_in_order():
    text = "Inclusion Criteria:\n1. Age 18 to 65 years\n"
    out = structure_partition([STUDIES[0], LINES[1], text, text.encode("utf-8"), '{"protocolSection": ', 7])
    assert [o.get("trial_id") for o in out[:2]] == ["NCT90000001", "NCT90000002"]
    assert out[2]["criteria"][0]["constraints"][0]["variable"] == "age"
    assert out[3]["criteria"] == out[2]["criteria"]
    assert "JSON" in out[4]["error"] and out[4]["source"] == "partition#5"
    assert "int" in out[5]["error"]
    assert all(isinstance(o, dict) for o in out)


def test_json_output_is_the_annotate_line(tmp_path):
    src = tmp_path / "studies.jsonl"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    annotate([str(src)], tmp_path / "out.jsonl", progress=False)
    expected = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert structure_partition(LINES, output="json", source=str(src)) == expected
    dicts = structure_partition(LINES, source=str(src))
    assert dicts == [json.loads(line) for line in expected]


def test_the_pipeline_is_loaded_once_per_process():
    structure_partition(LINES[:1])
    loads = part.LOADS["count"]
    structure_partition(LINES[1:])
    structure_partition(LINES[:2], output="json")
    assert part.LOADS["count"] == loads
    assert part.worker_pipeline() is part.worker_pipeline(None)


def test_it_pickles_with_its_options():
    fn = pickle.loads(pickle.dumps(partial(structure_partition, output="json", repair=False)))
    (line,) = fn(LINES[1:2])
    assert json.loads(line)["trial_id"] == "NCT90000002"


def test_a_bad_option_is_refused():
    with pytest.raises(ValueError, match="output"):
        structure_partition(LINES, output="xml")


def test_on_dasks_local_multiprocessing_scheduler():
    db = pytest.importorskip("dask.bag")
    bag = db.from_sequence(LINES * 2, npartitions=4)
    got = bag.map_partitions(partial(structure_partition, output="json")).compute(scheduler="processes", num_workers=2)
    expected = structure_partition(LINES * 2, output="json")
    # Same records in the same order; only the element number in ``source`` restarts per partition.
    assert _without_source(got) == _without_source(expected)
    assert [json.loads(o)["source"] for o in got][:3] == ["partition#1", "partition#2", "partition#1"]
