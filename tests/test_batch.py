"""Batch annotation: input expansion, one line per record in input order, error lines,
crash-safe output and --resume, table formats, worker processes."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from criteria_nlp.batch import BatchError, annotate, expand_inputs
from criteria_nlp.batch.table import columns, record_rows
from criteria_nlp.batch.writer import JsonlWriter, count_complete_lines, part_path, run_fingerprint

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def pipeline_ok():
    """The batch loads the pipeline up front; load it once for the module."""
    from criteria_nlp import _default_nlp

    _default_nlp()  # the pipeline has landed: failing to load it is a failure


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    """A folder with the bundled examples, a hidden file, a nested folder and a binary file."""
    d = tmp_path / "in"
    d.mkdir()
    for p in sorted(EXAMPLES.glob("*.txt"))[:3]:
        shutil.copy(p, d / p.name)
    (d / ".hidden.txt").write_text("Inclusion Criteria:\n- age >= 18 years\n", encoding="utf-8")
    (d / "sub").mkdir()
    (d / "sub" / "z_criteria.txt").write_text(
        "Inclusion Criteria:\n1. Age 18 to 75 years\n2. SLEDAI >= 6\nExclusion Criteria:\n1. eGFR < 30 mL/min\n",
        encoding="utf-8",
    )
    (d / "sub" / "broken.bin").write_bytes(bytes(range(256)) * 8)
    return d


# ------------------------------------------------------------ inputs (no pipeline needed)


def test_expand_walks_sorted_and_skips_hidden(inputs: Path):
    got = [Path(i.path).relative_to(inputs).as_posix() for i in expand_inputs([str(inputs)])]
    assert got == sorted(got[:3]) + ["sub/broken.bin", "sub/z_criteria.txt"]
    assert not any(".hidden" in g for g in got)


def test_expand_reports_missing_paths_and_empty_globs(tmp_path: Path, inputs: Path):
    got = expand_inputs([str(tmp_path / "nope.txt"), str(inputs / "*.none"), str(inputs / "sub" / "*.txt"), "-"])
    assert got[0].problem == "no such file or directory"
    assert got[1].problem == "no file matches this pattern"
    assert got[2].path.endswith("z_criteria.txt") and got[2].problem is None
    assert got[3].path == "-"


# ------------------------------------------------------------ crash-safe writer (no pipeline needed)


def test_count_complete_lines_ignores_a_half_line(tmp_path: Path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"a": 1}\n{"b": 2}\n{"c": ')
    assert count_complete_lines(p) == (2, len(b'{"a": 1}\n{"b": 2}\n'))


def test_writer_publishes_only_on_commit_and_resume_truncates(tmp_path: Path):
    out = tmp_path / "o.jsonl"
    fp = run_fingerprint(["a"], True, None)
    w = JsonlWriter(out, fp, sync_every=2)
    for i in range(5):
        w.write(json.dumps({"n": i}))
    w.close()  # a run that stopped: nothing published, whole lines kept in OUT.part
    assert not out.exists()
    part = part_path(out)
    part.write_bytes(part.read_bytes() + b'{"n": 5, "half')
    w2 = JsonlWriter(out, fp, resume=True)
    assert w2.skip == 5
    w2.write(json.dumps({"n": 5}))
    w2.commit()
    assert [r["n"] for r in _lines(out)] == list(range(6))
    assert not part.exists()


def test_resume_refuses_other_inputs(tmp_path: Path):
    out = tmp_path / "o.jsonl"
    w = JsonlWriter(out, run_fingerprint(["a"], True, None))
    w.write("{}")
    w.close()
    with pytest.raises(Exception, match="other inputs or options"):
        JsonlWriter(out, run_fingerprint(["b"], True, None), resume=True)


def test_table_has_every_constraint_and_schema_field():
    names = [c for c, _ in columns()]
    assert len(names) == len(set(names))
    from criteria_nlp.schema import Constraint

    assert set(Constraint.model_fields) <= set(names)
    # An error record still gets its row.
    rows = list(record_rows({"source": "x.txt", "error": "x.txt: not a record", "criteria": []}))
    assert len(rows) == 1 and rows[0]["error"] == "x.txt: not a record"


# ------------------------------------------------------------ annotate


def test_one_line_per_record_in_input_order(pipeline_ok, inputs: Path, tmp_path: Path):
    out = tmp_path / "o.jsonl"
    missing = str(tmp_path / "missing.txt")
    stats = annotate([str(inputs), missing], out, progress=False)
    recs = _lines(out)
    expected = [i.path for i in expand_inputs([str(inputs)])] + [missing]
    assert [r["source"] for r in recs] == expected
    assert stats.records == len(recs) == 6
    bad = {r["source"]: r["error"] for r in recs if r["error"]}
    assert set(bad) == {str(inputs / "sub" / "broken.bin"), missing}
    assert "no such file" in bad[missing]
    assert stats.errors == 2
    good = next(r for r in recs if r["source"].endswith("z_criteria.txt"))
    assert [c["kind"] for c in good["criteria"]] == ["inclusion", "inclusion", "exclusion"]
    assert stats.items == sum(len(r["criteria"]) for r in recs)
    assert stats.constraints == sum(len(c["constraints"]) for r in recs for c in r["criteria"])
    assert not part_path(out).exists()


def test_reader_that_raises_still_yields_an_error_line(pipeline_ok, inputs: Path, tmp_path: Path, monkeypatch):
    import criteria_nlp.readers as readers

    real = readers.read_path

    def flaky(path: str):
        yield from real(path)
        if path.endswith("z_criteria.txt"):
            raise RuntimeError("reader bug")

    monkeypatch.setattr(readers, "read_path", flaky)
    out = tmp_path / "o.jsonl"
    annotate([str(inputs / "sub" / "z_criteria.txt"), str(EXAMPLES)], out, progress=False)
    recs = _lines(out)
    assert recs[0]["error"] is None and recs[0]["criteria"]
    assert recs[1]["source"].endswith("z_criteria.txt#2")
    assert "RuntimeError: reader bug" in recs[1]["error"]
    assert len(recs) == 2 + len(list(EXAMPLES.glob("*.txt")))


def test_workers_give_the_same_output_in_the_same_order(pipeline_ok, tmp_path: Path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    annotate([str(EXAMPLES)], one, progress=False)
    annotate([str(EXAMPLES)], two, workers=2, chunk_size=1, progress=False)
    assert one.read_text(encoding="utf-8") == two.read_text(encoding="utf-8")


def test_resume_after_a_kill_gives_the_uninterrupted_output(pipeline_ok, tmp_path: Path):
    full = tmp_path / "full.jsonl"
    annotate([str(EXAMPLES)], full, progress=False)
    data = full.read_bytes()
    cut = data.index(b"\n", data.index(b"\n") + 1) + 1  # two whole lines, then half of the third
    out = tmp_path / "o.jsonl"
    part_path(out).write_bytes(data[: cut + 20])
    stats = annotate([str(EXAMPLES)], out, resume=True, progress=False)
    assert stats.resumed == 2 and stats.records == len(_lines(full)) - 2
    assert out.read_bytes() == data


def test_csv_and_parquet_keep_every_record_item_and_constraint(pipeline_ok, tmp_path: Path):
    jl, cs = tmp_path / "o.jsonl", tmp_path / "o.csv"
    annotate([str(EXAMPLES)], jl, progress=False)
    annotate([str(EXAMPLES)], cs, fmt="csv", progress=False)
    recs = _lines(jl)
    with open(cs, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = sum(
        max(1, len(c["constraints"])) for r in recs for c in r["criteria"]
    ) + sum(1 for r in recs if not r["criteria"])
    assert len(rows) == expected
    assert {r["source"] for r in rows} == {r["source"] for r in recs}
    texts = sorted(c["text"] for r in recs for crit in r["criteria"] for c in crit["constraints"])
    assert sorted(r["text"] for r in rows if r["variable"]) == texts
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow not installed (criteria-nlp[parquet])")
    pa_out = tmp_path / "o.parquet"
    annotate([str(EXAMPLES)], pa_out, fmt="parquet", progress=False)
    table = pq.read_table(pa_out)
    assert table.num_rows == len(rows)
    assert table.column("value").to_pylist() == [float(r["value"]) if r["value"] else None for r in rows]


def test_bad_options_are_batch_errors(tmp_path: Path):
    with pytest.raises(BatchError, match="unknown format"):
        annotate([str(EXAMPLES)], tmp_path / "o.x", fmt="xlsx")
    with pytest.raises(BatchError, match="need an output file"):
        annotate([str(EXAMPLES)], None, fmt="csv")
    with pytest.raises(BatchError, match="is a directory"):
        annotate([str(EXAMPLES)], tmp_path)
