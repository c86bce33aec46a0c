"""``criteria_variables``: finds mentions of constrained quantities (SLEDAI, age, ALT...).

A wrapper around medspaCy's TargetMatcher whose rules come from the variable lexicon
(``resources/variables.jsonl``). Matches become ``doc.ents`` labelled with the lexicon
category; ``span._.variable`` gives the canonical name. The lexicon travels with the
pipeline: ``to_disk`` writes it into the component's folder and ``from_disk`` reads it.
"""

# No `from __future__ import annotations` here: spaCy reads the factory's type hints at run time.
import json
from functools import lru_cache
from pathlib import Path

from medspacy.target_matcher import TargetMatcher, TargetRule
from spacy.language import Language
from spacy.tokens import Doc, Span

from criteria_nlp.pipeline.numbers import HAS_NUMBER

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
LEXICON_FILE = "variables.jsonl"
CATEGORIES = {"age", "lab", "score", "vital", "anthropometric", "dose", "temporal", "other"}

if not Span.has_extension("variable"):
    Span.set_extension("variable", default=None)


def read_lexicon(path: str | Path) -> list[dict]:
    """Entries of a variables.jsonl file; a bad line raises ValueError naming file and line."""
    path = Path(path)
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {lineno} is not JSON ({exc.msg})") from exc
        if not isinstance(entry, dict) or "name" not in entry or entry.get("category") not in CATEGORIES:
            raise ValueError(f"{path}: line {lineno} needs a 'name' and a known 'category'")
        entries.append(entry)
    return entries


@lru_cache(maxsize=1)
def _bundled() -> dict[str, dict]:
    return {e["name"]: e for e in read_lexicon(RESOURCES / LEXICON_FILE)}


def lexicon_entry(name: str, nlp: Language | None = None) -> dict | None:
    """The lexicon entry of canonical variable ``name`` (keys: name, category, aliases,
    abnormal, unit), from ``nlp``'s criteria_variables component when given, else from
    the bundled lexicon; None for a variable outside the lexicon."""
    if nlp is not None and "criteria_variables" in nlp.component_names:
        return nlp.get_pipe("criteria_variables").entries.get(name)
    return _bundled().get(name)


def _rules(entries: list[dict]) -> list[TargetRule]:
    rules = []
    for e in entries:
        attrs = {"variable": e["name"]}
        for alias in e.get("aliases", []) or [e["name"]]:
            rules.append(TargetRule(alias, e["category"], attributes=attrs))
        for alias in e.get("case_sensitive", []) or []:
            # Short abbreviations ("Hb", "PT") would match ordinary words in lowercase.
            rules.append(TargetRule(alias, e["category"], pattern=[{"TEXT": alias}], attributes=attrs))
    return rules


class VariableMatcher:
    def __init__(self, nlp: Language, name: str, only_with_numbers: bool = True):
        self.nlp = nlp
        self.name = name
        # Criteria without any number cannot hold a constraint: skipping them is most of
        # the speed of the pipeline (see bench/run.py).
        self.only_with_numbers = only_with_numbers
        self._load(read_lexicon(RESOURCES / LEXICON_FILE))

    def _load(self, entries: list[dict]) -> None:
        self.entries = {e["name"]: e for e in entries}
        self.matcher = TargetMatcher(self.nlp, name=f"{self.name}_target_matcher", result_type="ents")
        self.matcher.add(_rules(entries))

    def __call__(self, doc: Doc) -> Doc:
        if self.only_with_numbers and not HAS_NUMBER.search(doc.text):
            return doc
        return self.matcher(doc)

    def to_disk(self, path, exclude=tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(e, ensure_ascii=False) for e in self.entries.values()]
        (path / LEXICON_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def from_disk(self, path, exclude=tuple()) -> "VariableMatcher":
        file = Path(path) / LEXICON_FILE
        if file.exists():
            self._load(read_lexicon(file))
        return self


@Language.factory(
    "criteria_variables",
    default_config={"only_with_numbers": True},
    assigns=["doc.ents", "span._.variable"],
)
def make_variable_matcher(nlp: Language, name: str, only_with_numbers: bool) -> VariableMatcher:
    return VariableMatcher(nlp, name, only_with_numbers=only_with_numbers)
