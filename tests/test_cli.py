"""The command line: annotate, summarize, show, structure, schema, evaluate - and clear
messages instead of tracebacks for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from criteria_nlp.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
WHO_PAGE = EXAMPLES / "NCT04077684_who_ictrp_page.txt"
runner = CliRunner()


@pytest.fixture(scope="module")
def pipeline_ok():
    from criteria_nlp import _default_nlp

    _default_nlp()  # the pipeline has landed: failing to load it is a failure


def _run(*args: str, input: str | None = None):
    result = runner.invoke(app, list(args), input=input)
    # Never a traceback: either success or a typer.Exit with a message.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def annotated(tmp_path_factory, pipeline_ok) -> Path:
    out = tmp_path_factory.mktemp("cli") / "examples.jsonl"
    result = _run("annotate", str(EXAMPLES), "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_annotate_writes_one_line_per_example_and_a_summary(annotated: Path):
    recs = [json.loads(line) for line in annotated.read_text(encoding="utf-8").splitlines()]
    assert [Path(r["source"]).name for r in recs] == sorted(p.name for p in EXAMPLES.glob("*.txt"))
    ids = {Path(r["source"]).name.split("_")[0]: r["trial_id"] for r in recs}
    assert all(k == v for k, v in ids.items())


def test_annotate_summary_line_on_stderr(pipeline_ok, tmp_path: Path):
    result = _run("annotate", str(WHO_PAGE), str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 0
    m = re.search(r"(\d+) records, (\d+) items, (\d+) constraints \((\d+) repaired\), (\d+) errors", result.stderr)
    assert m, result.stderr
    assert m.group(1) == "2" and m.group(5) == "1"
    assert int(m.group(2)) > 5


def test_annotate_reads_stdin_and_writes_stdout(pipeline_ok):
    text = "Inclusion Criteria:\n1. Age 18 to 65 years\nExclusion Criteria:\n1. Pregnancy\n"
    result = _run("annotate", "-", input=text)
    assert result.exit_code == 0
    (rec,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert rec["source"] == "<stdin>"
    assert [c["kind"] for c in rec["criteria"]] == ["inclusion", "exclusion"]


def test_summarize_lists_each_record_and_its_constraints(annotated: Path):
    result = _run("summarize", str(annotated))
    assert result.exit_code == 0
    out = result.stdout
    for trial in ("NCT04077684", "NCT02932137", "NCT04136106", "NCT04397107", "NCT05605665"):
        assert trial in out
    recs = [json.loads(line) for line in annotated.read_text(encoding="utf-8").splitlines()]
    n_constraints = sum(len(c["constraints"]) for r in recs for c in r["criteria"])
    n_repaired = sum(k["repaired"] for r in recs for c in r["criteria"] for k in c["constraints"])
    assert out.count("[repaired from") == n_repaired
    assert f"{n_constraints} constraints, {n_repaired} repaired" in out
    assert "warning: the record has no eligibility criteria" in out  # NCT04136106


def test_summarize_names_bad_lines(tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "a.txt", "criteria": []}\nnot json\n[1, 2]\n', encoding="utf-8")
    result = _run("summarize", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:2: not a JSON line" in result.stderr
    assert f"{bad}:3: not a criteria-nlp record" in result.stderr
    assert "a.txt" in result.stdout


def test_show_writes_a_self_contained_page(pipeline_ok, tmp_path: Path):
    page = tmp_path / "show.html"
    result = _run("show", str(WHO_PAGE), "--html", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert "NCT04077684" in html
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)  # no external assets
    assert "<script" not in html
    rec = json.loads(_run("structure", str(WHO_PAGE)).stdout)
    for crit in rec["criteria"]:
        assert f'id="{crit["id"]}"' in html
    constraints = [c for crit in rec["criteria"] for c in crit["constraints"]]
    repaired = [c for c in constraints if c["repaired"]]
    assert constraints
    # Every constraint is marked in its item; repaired ones with their own class.
    marked = re.findall(r'<mark class="(constraint|repaired|negated)"', html)
    assert len(marked) >= len(constraints)
    assert marked.count("repaired") >= len(repaired)


def test_structure_and_schema(pipeline_ok):
    rec = json.loads(_run("structure", str(WHO_PAGE)).stdout)
    assert rec["trial_id"] == "NCT04077684"
    text = WHO_PAGE.read_text(encoding="utf-8")
    for crit in rec["criteria"]:
        for c in crit["constraints"]:
            assert text[c["start"] : c["end"]] == c["text"]
    schema = json.loads(_run("schema").stdout)
    assert "criteria" in schema["properties"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["structure", "no/such.txt"], "no/such.txt: no such file"),
        (["show", "no/such.txt"], "no/such.txt: no such file"),
        (["summarize", "no/such.jsonl"], "no/such.jsonl: no such file"),
        (["annotate", "examples", "--format", "xlsx", "-o", "x.xlsx"], "unknown format 'xlsx'"),
        (["annotate", "examples", "--format", "csv"], "need an output file"),
        (["evaluate", "--gold", "no/such/dir"], "no/such/dir: no such gold folder"),
        (["evaluate", "--corpus", "mimic", "."], "--corpus mimic: unknown corpus"),
    ],
)
def test_bad_input_gives_a_clear_message(args, message):
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_evaluate_says_when_an_evaluator_is_not_available(pipeline_ok, monkeypatch, tmp_path: Path):
    from criteria_nlp.evaluation import runner as ev

    monkeypatch.setitem(ev.EVALUATORS, "chia", ("criteria_nlp.evaluation.not_written", "evaluate_chia_layouts"))
    result = _run("evaluate", "--chia", str(tmp_path))
    assert result.exit_code == 1
    assert "not available yet" in result.stderr


def test_evaluate_gold_table_json_and_html(pipeline_ok, tmp_path: Path):
    html = tmp_path / "report.html"
    result = _run("evaluate", "--gold", str(ROOT / "annotations"), "--json", "--html", str(html))
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    (section,) = report["sections"].values()
    assert "error" not in section, section["error"]
    assert section["records"] == sum(
        1 for p in (ROOT / "annotations").glob("*.jsonl") for line in p.read_text().splitlines() if line.strip()
    )
    page = html.read_text(encoding="utf-8")
    assert "<svg" in page and "constraints_detection" in page
    n_examples = len(section["misses"]) + len(section["false_alarms"])
    assert page.count('class="example"') >= n_examples
    table = _run("evaluate", "--gold", str(ROOT / "annotations"))
    assert "constraints_detection" in table.stdout and "precision" in table.stdout


def test_real_entry_point_has_no_traceback(tmp_path: Path):
    exe = Path(sys.executable).with_name("criteria-nlp")
    if not exe.exists():
        pytest.skip("criteria-nlp is not installed in this environment")
    proc = subprocess.run(
        [str(exe), "structure", str(tmp_path / "none.txt")], capture_output=True, text=True,
        env={**os.environ, "NO_COLOR": "1"}, timeout=120,
    )
    assert proc.returncode == 2
    assert "none.txt: no such file" in proc.stderr and "Traceback" not in proc.stderr
