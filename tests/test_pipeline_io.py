"""The pipeline saves its rules with it and loads in a fresh process without criteria_nlp."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

import criteria_nlp
from criteria_nlp.pipeline import build_pipeline, extract_text

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "criteria_pipeline"
EXAMPLES = sorted((ROOT / "examples").glob("*.txt"))

# Runs in a fresh interpreter: spacy.load comes first, so the factories and the tokenizer
# must be found through the package's entry points, not through an earlier import.
FRESH = r"""
import json, sys
import spacy
already = "criteria_nlp" in sys.modules
nlp = spacy.load(sys.argv[1])
from criteria_nlp import structure
out = {"already_imported": already, "pipes": nlp.pipe_names, "records": {}}
for path in sys.argv[2:]:
    rec = structure(path, nlp=nlp)
    out["records"][path] = [c.model_dump() for cr in rec.criteria for c in cr.constraints]
print(json.dumps(out))
"""


@pytest.mark.skipif(not MODEL.is_dir(), reason="models/criteria_pipeline not built")
def test_saved_model_in_fresh_process_matches_criteria_nlp_load():
    result = subprocess.run(
        [sys.executable, "-c", FRESH, str(MODEL), *map(str, EXAMPLES)],
        capture_output=True, text=True, timeout=240, cwd="/",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    fresh = json.loads(result.stdout.strip().splitlines()[-1])
    assert fresh["already_imported"] is False
    assert fresh["pipes"] == ["criteria_variables", "criteria_constraints", "criteria_repair"]
    nlp = criteria_nlp.load()
    total = 0
    for path in EXAMPLES:
        rec = criteria_nlp.structure(str(path), nlp=nlp)
        here = [c.model_dump() for cr in rec.criteria for c in cr.constraints]
        assert fresh["records"][str(path)] == here, path.name
        total += len(here)
    assert total >= 25  # the seeds hold 34 gold constraints; a dead pipeline fails here


def test_to_disk_carries_the_rules(tmp_path):
    nlp = build_pipeline()
    nlp.to_disk(tmp_path / "m")
    assert (tmp_path / "m" / "criteria_variables" / "variables.jsonl").stat().st_size > 0
    for name in ("operators.json", "units.json", "context_rules.json"):
        assert json.loads((tmp_path / "m" / "criteria_constraints" / name).read_text(encoding="utf-8"))
    # A rule edited in the saved folder is what the loaded pipeline uses.
    ops_file = tmp_path / "m" / "criteria_constraints" / "operators.json"
    ops = json.loads(ops_file.read_text(encoding="utf-8"))
    ops["before"][">="].append("no fewer than a total of")
    ops_file.write_text(json.dumps(ops), encoding="utf-8")
    lex = tmp_path / "m" / "criteria_variables" / "variables.jsonl"
    lex.write_text(
        lex.read_text(encoding="utf-8")
        + json.dumps({"name": "zorblin", "category": "lab", "aliases": ["zorblin level"], "abnormal": "high", "unit": None})
        + "\n",
        encoding="utf-8",
    )
    loaded = spacy.load(tmp_path / "m")
    c = extract_text(loaded, "zorblin level no fewer than a total of 7", repair=False)
    assert [(x.variable, x.operator, x.value, x.written_operator) for x in c] == [
        ("zorblin", ">=", 7, "no fewer than a total of")]
    # the bundled pipeline knows neither
    c = extract_text(nlp, "zorblin level no fewer than a total of 7", repair=False)
    assert [(x.variable, x.category, x.operator) for x in c] != [("zorblin", "lab", ">=")]


def test_extract_items_sets_kind_and_skips_repair():
    from criteria_nlp.pipeline import extract_items
    from criteria_nlp.segment.base import Item

    nlp = build_pipeline()
    items = [Item(kind="inclusion", label=None, text="SLEDAI = 8", start=0, end=10)]
    kept = extract_items(nlp, items, repair=False)[0][0]
    assert (kept.operator, kept.written_operator, kept.repaired) == ("==", "=", False)
    if "criteria_repair" in nlp.pipe_names:
        fixed = extract_items(nlp, items, repair=True)[0][0]
        assert fixed.repaired and fixed.operator == ">="


def test_items_without_numbers_are_skipped_quickly():
    nlp = build_pipeline()
    doc = nlp("Written informed consent form.")
    assert doc._.constraints == [] and len(doc.ents) == 0


def test_load_pipeline_names_a_missing_folder(tmp_path):
    from criteria_nlp.pipeline import load_pipeline

    with pytest.raises(FileNotFoundError, match="no such pipeline folder"):
        load_pipeline(tmp_path / "nope")
