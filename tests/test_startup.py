"""Start-up work kept for the next process (criteria_nlp/textcache.py) gives what building gives.
(The start-up time itself is measured by bench/startup.py by hand, never here.)"""

import os
import subprocess
import sys

from criteria_nlp import textcache
from criteria_nlp.pipeline import repair_rules, trie


def test_a_built_text_is_read_back_and_a_damaged_one_rebuilt(monkeypatch, tmp_path):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    calls = []

    def build():
        calls.append(1)
        return "a\r\nb\n\u2265 é"  # line ends and non-ASCII come back unchanged

    assert textcache.built("t", "inputs", build) == build()
    assert textcache.built("t", "inputs", build) == "a\r\nb\n\u2265 é" and len(calls) == 2
    (file,) = tmp_path.glob("txt-t-*.txt")
    file.write_bytes(file.read_bytes()[:-3])  # truncated: its own hash no longer fits
    assert textcache.built("t", "inputs", build) == "a\r\nb\n\u2265 é" and len(calls) == 3
    assert textcache.built("t", "other inputs", lambda: "other") == "other"
    source = tmp_path / "builder.py"
    source.write_text("v1")
    assert textcache.built("s", "x", lambda: "one", [source]) == "one"
    source.write_text("v2")  # the builder changed: built afresh
    assert textcache.built("s", "x", lambda: "two", [source]) == "two"
    monkeypatch.setenv("CRITERIA_NLP_CACHE", "off")
    assert textcache.built("t", "inputs", lambda: "built") == "built"


def test_the_alias_patterns_are_the_ones_built_without_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    repair_rules._alias_patterns.cache_clear()
    try:
        first = repair_rules._alias_patterns()
        repair_rules._alias_patterns.cache_clear()
        again = repair_rules._alias_patterns()  # read back from tmp_path
    finally:
        repair_rules._alias_patterns.cache_clear()
    folded = [
        a
        for e in repair_rules.lexicon().values()
        for a in e.get("aliases", [])
        if a not in set(e.get("case_sensitive") or [])
    ]
    assert first[0].pattern == again[0].pattern == f"(?:{trie.alternation(folded)})"
    assert first[1].pattern == again[1].pattern


def test_structure_imports_no_mojibake_or_pool_machinery():
    # (charset_normalizer comes with requests, which spaCy imports anyway)
    code = (
        "import sys, criteria_nlp; criteria_nlp.structure('Inclusion Criteria:\\n1. Age >= 18 years\\n'); "
        "print(sorted(m for m in ('ftfy', 'concurrent.futures') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_parsed_data_is_read_back_and_a_damaged_file_parsed_again(monkeypatch, tmp_path):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    calls = []

    def parse(raw):
        calls.append(1)
        return {"w": {"a": 1.5, "\u2265": -2.0}, "meta": {"n": [1, None, True]}}

    want = parse(b"")
    assert textcache.parsed("d", b"raw", parse) == want and len(calls) == 2
    assert textcache.parsed("d", b"raw", parse) == want and len(calls) == 2  # read back
    (file,) = tmp_path.glob("data-d-*.marshal")
    file.write_bytes(file.read_bytes()[:-2])  # truncated: parsed again
    assert textcache.parsed("d", b"raw", parse) == want and len(calls) == 3
    assert textcache.parsed("d", b"other raw", lambda raw: {"x": 1}) == {"x": 1}  # keyed on the bytes
    monkeypatch.setenv("CRITERIA_NLP_CACHE", "off")
    assert textcache.parsed("d", b"raw", parse) == want and len(calls) == 4


def test_the_repair_weights_load_the_same_from_the_cache(monkeypatch, tmp_path):
    import json

    from criteria_nlp.pipeline.repair_model import OperatorModel

    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    path = tmp_path / "weights.json"
    data = {
        "format": "operator-decision/2",
        "weights": {"form:=": 0.5, "w:age": -1},
        "calibration": {"a": 2.0},
    }
    path.write_text(json.dumps(data), "utf-8")
    fresh = OperatorModel.from_dict(data)
    assert OperatorModel.load(path) == fresh == OperatorModel.load(path)  # parsed, then read back
    assert len(list(tmp_path.glob("data-repair-weights-*.marshal"))) == 1
    (file,) = tmp_path.glob("data-repair-weights-*.marshal")
    import marshal

    payload = marshal.dumps({"weights": {}})  # a foreign but intact file: parsed again
    file.write_bytes((textcache._digest(payload) + "\n").encode() + payload)
    assert OperatorModel.load(path) == fresh
    path.write_text("{not json", "utf-8")
    try:
        OperatorModel.load(path)
    except ValueError as exc:
        assert "weights.json" in str(exc)
    else:
        raise AssertionError("a broken weights file must be a clear error")


def test_a_start_keeps_every_compiled_pattern_it_loads(tmp_path):
    """A fresh process that structures records of every kind fills the cache once; a second
    one finds every pattern there and writes nothing (the cache keeps more files than a
    process loads), and medspaCy's package start was not run for ConText."""
    record = (
        "Inclusion Criteria:\\n1. Age = 18 years\\n2. ANC >= 1.5 x 10^9/L\\n"
        "Exclusion Criteria:\\n1. No stroke within 6 months; no chemotherapy\\n"
    )
    code = (
        "import os, sys, criteria_nlp; from criteria_nlp import compiled; "
        f"criteria_nlp.structure('{record}'); "
        "criteria_nlp.structure('Age 18-65; HbA1c 7 to 10% (inclusive); not pregnant'); "
        "print(len(compiled._MEMORY), compiled.KEEP, 'PyRuSH' in sys.modules)"
    )
    env = {**os.environ, "CRITERIA_NLP_CACHE": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    loaded, keep, rush = first.stdout.split()
    assert 10 < int(loaded) < int(keep) / 2 and rush == "False"
    files = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert len([f for f in files if f.startswith("re-")]) == int(loaded)
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == files
