"""``criteria_variables``: finds mentions of constrained quantities (SLEDAI, age, ALT...).

Rules come from the variable lexicon (``resources/variables.jsonl``). Matches become
``doc.ents`` labelled with the lexicon category; ``span._.variable`` gives the canonical name. The lexicon travels with the
pipeline: ``to_disk`` writes it into the component's folder and ``from_disk`` reads it.
"""

# No `from __future__ import annotations` here: spaCy reads the factory's type hints at run time.
import json
import re
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from criteria_nlp.pipeline.numbers import has_number
from criteria_nlp.pipeline.overlap import prune_overlaps as prune_overlapping_matches  # medspaCy's result
from criteria_nlp.pipeline.phrases import alias_tokens, phrase_pattern

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
LEXICON_FILE = "variables.jsonl"
# doc.user_data key: (matcher, [(start_char, end_char, category, variable, text)]) of doc.ents
ENTS_KEY = "criteria_nlp.variables"
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


def _alias_keys(entries: list[dict]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Aliases per variable: matched on lowercase, and matched exactly as written. Short
    abbreviations listed as case-sensitive ("Hb", "PT") would match ordinary words in
    lowercase, so they are matched exactly only."""
    folded: dict[str, list[str]] = {}
    exact: dict[str, list[str]] = {}
    for e in entries:
        sensitive = set(e.get("case_sensitive") or [])
        aliases = e.get("aliases") or [e["name"]]
        folded[e["name"]] = sorted({a.lower() for a in aliases if a not in sensitive})
        exact[e["name"]] = sorted(sensitive)
    return folded, exact


_WORDS = re.compile(r"[\w/.\-]+")


class _LookAlike:
    """Lexicon data beside an alias saying when a match is another thing of the same
    name: ``written`` (the match exactly as written; null: any spelling), ``not_near``
    (words within ``window_chars`` either side that rule the variable out), and
    ``unless_near`` (phrases that keep it anyway, e.g. a clearance unit)."""

    def __init__(self, rule: dict):
        self.written = rule.get("written")
        self.not_near = {w.lower() for w in rule.get("not_near", [])}
        self.unless_near = [w.lower() for w in rule.get("unless_near", [])]
        self.window = int(rule.get("window_chars", 40))

    def rules_out(self, doc: Doc, start: int, end: int) -> bool:
        span = doc[start:end]
        if self.written is not None and span.text != self.written:
            return False
        text = doc.text
        lo, hi = span.start_char, span.end_char
        around = text[max(0, lo - self.window) : lo] + " " + text[hi : hi + self.window]
        words = {w.strip(".-/").lower() for w in _WORDS.findall(around)}
        words |= {p for w in words for p in re.split(r"[-/]", w) if p}
        if not words & self.not_near:
            return False
        low = around.lower()
        return not any(u in low for u in self.unless_near)


class VariableMatcher:
    """Lexicon matching with two spaCy PhraseMatchers (lowercase and exact) whose matches
    are pruned to the longest as medspaCy's TargetMatcher does (``prune_overlapping_matches``).

    The TargetMatcher itself builds one pattern doc per alias by running the pipeline on
    it and matches case-sensitive aliases with a token Matcher; on 6,500 aliases that was
    most of the build time and a third of the run time. The PhraseMatchers are given each
    alias's token hashes, from token texts that are cached (``phrases.py``): no Doc is made."""

    def __init__(self, nlp: Language, name: str, only_with_numbers: bool = True):
        self.nlp = nlp
        self.name = name
        # Criteria without any number cannot hold a constraint: skipping them is most of
        # the speed of the pipeline (see bench/run.py).
        self.only_with_numbers = only_with_numbers
        self._load(read_lexicon(RESOURCES / LEXICON_FILE))

    def _load(self, entries: list[dict]) -> None:
        self.entries = {e["name"]: e for e in entries}
        self.look_alikes = {e["name"]: [_LookAlike(r) for r in e["look_alikes"]] for e in entries if e.get("look_alikes")}
        vocab = self.nlp.vocab
        self.folded = PhraseMatcher(vocab, attr="LOWER")
        self.exact = PhraseMatcher(vocab, attr="ORTH")
        self._label: dict[int, tuple[str, str]] = {}
        folded, exact = _alias_keys(entries)
        tokens = alias_tokens(self.nlp.tokenizer, [a for aliases in (folded, exact) for n in aliases for a in aliases[n]])
        for matcher, aliases, lowercase in ((self.folded, folded, True), (self.exact, exact, False)):
            for n, texts in aliases.items():
                if not texts:
                    continue
                key = vocab.strings.add(n)
                self._label[key] = (self.entries[n]["category"], n)
                matcher.add(n, [phrase_pattern(tokens[text], lowercase) for text in texts])

    def __call__(self, doc: Doc) -> Doc:
        if self.only_with_numbers and not has_number(doc):
            return doc
        matches = prune_overlapping_matches(self.folded(doc) + self.exact(doc))
        if not matches:
            return doc
        spans = []
        found = []
        taken: set[int] = set()
        for key, start, end in matches:
            tokens = set(range(start, end))
            if tokens & taken:
                continue  # the pruning keeps the longer of two neighbours only
            taken |= tokens
            category, variable = self._label[key]
            if variable in self.look_alikes and any(r.rules_out(doc, start, end) for r in self.look_alikes[variable]):
                continue  # "EGFR exon 19 deletion": the gene, not the kidney function
            span = Span(doc, start, end, label=category)
            span._.variable = variable
            spans.append(span)
            found.append((span.start_char, span.end_char, category, variable or span.text, span.text))
        doc.ents = spans
        # what criteria_constraints reads of each entity, without rebuilding the spans
        doc.user_data[ENTS_KEY] = (self, found)
        return doc

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
