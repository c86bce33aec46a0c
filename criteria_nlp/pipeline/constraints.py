"""``criteria_constraints``: the value parser.

Finds every numeric expression of a criterion (``>= 8``, ``18 to 75 years``, ``> 3N``,
``within 6 months``, ``< 3 x 10^9/L``), reads operator, value(s), unit and reference
limit, attaches the variable it constrains (a lexicon match from ``criteria_variables``
or the nearest preceding words) and writes ``criteria_nlp.schema.Constraint`` objects to
``doc._.constraints``. A bare "=" is kept as written (operator "==", written_operator
"="); the ``criteria_repair`` component placed after this one decides what it lost.
Negation comes from medspaCy's ConText, run only on docs that hold a constraint and a
negation cue (it is the slowest step of the pipeline).
"""

# No `from __future__ import annotations` here: spaCy reads the factory's type hints at run time.
import json
import logging
import re
from pathlib import Path

from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from criteria_nlp.pipeline import lost_signs
from criteria_nlp.pipeline.attach import Chunker
from criteria_nlp.pipeline.attach_score import WEIGHTS_FILE, AttachmentScorer, rescore, shipped_weights
from criteria_nlp.pipeline.calendar_dates import DateScan
from criteria_nlp.pipeline.compound_durations import CompoundScan
from criteria_nlp.pipeline.constraint_links import NeighbourSteps
from criteria_nlp.pipeline.constraint_mentions import MentionAttachment
from criteria_nlp.pipeline.constraint_values import ValueReading
from criteria_nlp.pipeline.context_scope import clause_starts, negation_openers, negation_possible
from criteria_nlp.pipeline.entity_index import EntityIndex
from criteria_nlp.pipeline.grade_lists import continue_list, member_pattern
from criteria_nlp.pipeline.grammar import Grammar, _norm, alternation, compile_grammar
from criteria_nlp.pipeline.numbers import NumberScan, doc_text, has_number
from criteria_nlp.pipeline.piece_bounds import with_compounds, with_dates, with_fractions, with_tnm
from criteria_nlp.pipeline.tnm_stages import TnmScan
from criteria_nlp.pipeline.variables import ENTS_KEY
from criteria_nlp.pipeline.written_fractions import FractionScan
from criteria_nlp.schema import Alternate, Constraint

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
DATA_FILES = ("operators.json", "units.json", "context_rules.json", "attachment.json", "dates.json", "fractions.json", "tnm.json")

for _name, _default in (("constraints", None), ("criterion_kind", None), ("population", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)

_LOOKBACK = 60
# No real criterion holds hundreds of comparisons (the longest in Chia and LCT hold a few
# dozen); a text that does is pasted data, not a criterion. Reading stops there, so that a
# megabyte of digits and operators costs seconds in this and the later components.
MAX_CONSTRAINTS = 300
# "6 months since the last dose": the time since an event, named after the bound
_SINCE = re.compile(r"(?i)\s{0,3}since\b")
TRUNCATED_KEY = "criteria_nlp.constraints_truncated"
_log = logging.getLogger(__name__)


def _enabled(nlp: Language, name: str) -> bool:
    """``name in nlp.pipe_names`` without building spaCy's frozen list of names per doc."""
    components, disabled = getattr(nlp, "_components", None), getattr(nlp, "_disabled", None)
    if not isinstance(components, list) or not isinstance(disabled, set):
        return name in nlp.pipe_names
    if name in disabled:
        return False
    for component in components:
        if component[0] == name:
            return True
    return False


def _previous(nlp: Language, component):  # noqa: ANN001, ANN202
    """The enabled component that runs just before ``component`` in ``nlp`` (None if none)."""
    components, disabled = getattr(nlp, "_components", None), getattr(nlp, "_disabled", None)
    if not isinstance(components, list) or not isinstance(disabled, set):
        return None
    before = None
    for name, pipe in components:
        if pipe is component:
            return before
        if name not in disabled:
            before = pipe
    return None


# The reading steps live in one module per concern; this class holds the data, the
# pipeline I/O and the loop over a doc's numbers.
class ConstraintExtractor(ValueReading, MentionAttachment, NeighbourSteps):
    def __init__(self, nlp: Language, name: str, negation: bool = True, max_constraints: int = MAX_CONSTRAINTS):
        self.nlp = nlp
        self.name = name
        self.negation = negation
        self.max_constraints = max_constraints
        self.data = {f: json.loads((RESOURCES / f).read_text(encoding="utf-8")) for f in DATA_FILES}
        # the lost-sign rules and the deleted-sign weights travel with the pipeline too
        self.lost_sign_files = lost_signs.component_files()
        weights = shipped_weights()
        if weights is not None:
            self.data[WEIGHTS_FILE] = weights  # the learned attachment scorer travels with the model
        self._compile()

    # ------------------------------------------------------------------ data

    def _compile(self) -> None:
        self.lost_sign_data = lost_signs.data_from_files(self.lost_sign_files)
        ops = self.data["operators.json"]
        self.grammar: Grammar = compile_grammar(ops, self.data["units.json"])
        self.exclude_before = {_norm(w) for w in ops.get("exclude_before", [])}
        self.stopwords = {w.lower() for w in ops.get("mention_stopwords", [])}
        self.chunker = Chunker(self.data.get("attachment.json", {}))
        self.date_scan = DateScan(self.data["dates.json"])
        self.tnm_scan = TnmScan(self.data["tnm.json"], self.grammar.before, self.grammar.after)
        self.fraction_scan = FractionScan(self.data["fractions.json"], self.grammar, ops["range_openers"], ops["range_separators"])
        merged_ops = {**self.grammar.temporal, **self.grammar.before}
        self.compound_scan = CompoundScan(merged_ops, self.grammar.after, ops["range_openers"], ops["range_separators"])
        grading = alternation(ops["roman_keywords"])
        self.list_members = member_pattern(grading)
        self.grading_word = re.compile(rf"(?i)(?<![\w-])(?:{grading})(?![\w-])")
        self.scorer = AttachmentScorer(self.data[WEIGHTS_FILE]) if WEIGHTS_FILE in self.data else None
        self.list_separators = {_norm(w) for w in ops.get("list_separators", [])}
        # Statistics before an operator ("n=20", "p<0.05", "OR > 2"): a lower-case entry
        # matches any case, an entry with capitals only as written, so the odds ratio "OR"
        # does not swallow the conjunction ("BMI < 18.5 or > 30").
        stats = ops.get("exclude_before_operator", [])
        self.exclude_before_operator = {w for w in stats if w == w.lower()}
        self.exclude_before_operator_cased = {w for w in stats if w != w.lower()}
        # "HR", "RR", "OR": statistics only in an item that names them ("hazard ratio (HR)")
        self.exclude_before_operator_if_named = {
            w: tuple(p.lower() for p in names) for w, names in ops.get("exclude_before_operator_if_named", {}).items()
        }
        self.temporal_cues = re.compile(rf"(?i){alternation(ops.get('temporal_cues', []))}")
        self.age_cues = re.compile(rf"(?i){alternation(ops.get('age_cues', []))}")
        # "a minimum life expectancy of 12 weeks": the bound word names the variable first.
        self._since = _SINCE
        self.distant = {}
        for op, cues in ops.get("distant_before", {}).items():
            for cue in cues:
                self.distant[_norm(cue)] = op
        self.distant_cue = re.compile(
            rf"(?i)(?P<cue>{alternation(list(self.distant))})(?:\s{{1,3}}[A-Za-z][\w\-']*){{1,4}}"
            r"\s{1,3}(?:of|is|was|:)\s{0,3}$"
        ) if self.distant else None
        self.ref_phrase = re.compile(
            rf"(?i){alternation([p for ps in ops['references'].values() for p in ps if p != 'N'])}"
        )
        # ConText is built on first use: importing medspaCy takes seconds, and most
        # records never need it (see the ``context`` property).
        self._context = None
        rules = self.data["context_rules.json"]["context_rules"]
        cues = [r["literal"] for r in rules if str(r.get("category", "")).upper() == "NEGATED_EXISTENCE"]
        # A doc without any negation word cannot have a negated constraint: skip ConText.
        self.negation_cue = re.compile(rf"(?i){alternation(cues)}") if cues else None
        self._openers = None  # see _negation_openers

    @property
    def context(self):
        """medspaCy's ConText with the rules of context_rules.json (built on first use)."""
        if self._context is None:
            from criteria_nlp.pipeline.lazy import context_classes

            ConText, ConTextRule = context_classes()  # noqa: N806 - the classes
            rules = [ConTextRule.from_dict(r) for r in self.data["context_rules.json"]["context_rules"]]
            context = ConText(self.nlp, name=f"{self.name}_context", rules=None, max_scope=None)
            context.add(rules)
            self._context = context
        return self._context

    def to_disk(self, path, exclude=tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for f, data in (*self.data.items(), *self.lost_sign_files.items()):
            (path / f).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def from_disk(self, path, exclude=tuple()) -> "ConstraintExtractor":
        for f in (*DATA_FILES, WEIGHTS_FILE):
            file = Path(path) / f
            if file.exists():
                self.data[f] = json.loads(file.read_text(encoding="utf-8"))
        self.lost_sign_files = lost_signs.read_component_files(Path(path), self.lost_sign_files)
        self._compile()
        return self

    # ------------------------------------------------------------------ running

    def __call__(self, doc: Doc) -> Doc:
        if not has_number(doc):
            doc._.constraints = []
            return doc
        # lost-sign forms ("8805;", "&ge;", "*"): the grammar reads a scan of the same length
        source = doc_text(doc)
        repair = _enabled(self.nlp, "criteria_repair")
        text, signs = lost_signs.prepare(doc, source, repair, self.lost_sign_data)
        ents = EntityIndex(self._entities(doc))  # the same list, with look-ups by position
        found: list[Constraint] = []
        prev_end = pos = 0
        search = self.grammar.regex.search
        numbers = NumberScan(text)
        while (hit := numbers.at(pos)) is not None:
            # An expression starts at most a few words before its first number ("greater
            # than or equal to the age of 18"): start the big regex there, not at 0.
            m = search(text, max(pos, hit - _LOOKBACK))
            if m is None:
                break
            c = self._read(m, text, ents, prev_end)
            if c is not None and found:
                c = self._continue_variable(found[-1], c, text, ents)
                c = self._alternative_window(found[-1], c, text)
                c = self._lasting(found[-1], c, text)
                c = self._for_group(found[-1], c, text)
                c = self._same_age(found[-1], c, text)
            c, pair = self._pressure_pair(c, found, text) if c is not None and c.upper is None else (c, None)
            if pair and 20 <= float(pair.group(1)) < c.value <= 300:
                found.extend(
                    self._blood_pressure(
                        c, pair, text, m.end() if m.group("post") else pair.end(), found[-1] if found else None, prev_end
                    )
                )
                prev_end = pos = found[-1].end
                continue
            if c is not None:
                c = continue_list(c, text, self.list_members, self.grading_word)  # "ASA I, II or III"
            # A cut list ("≥20 and ≤40 years") is read again from where its first part ends.
            pos = c.end if c is not None and c.end < m.end() else max(m.end(), m.start() + 1, c.end if c else 0)
            if c is None and m.group("ar") is not None:
                # A roman numeral that is no value ("5 mg/kg IV or >9 mg/kg orally", "type II
                # or > 3"): what follows it is read on its own, not dropped with it.
                pos = m.end("ar")
            if c is not None and found and self._restates(found[-1], c, text):
                # "ANC >= 1.5 x 10^9/L (1500/uL)": the same bound in another unit
                alt = Alternate(
                    value=c.value, upper=c.upper, unit=c.unit, unit_text=c.unit_text, start=c.start, end=c.end, text=c.text
                )
                last = found[-1]
                for k in range(len(found) - 1, -1, -1):
                    if (found[k].start, found[k].end) != (last.start, last.end):
                        break
                    found[k] = found[k].model_copy(update={"alternates": [*found[k].alternates, alt]})
                prev_end = c.end
                continue
            if c is not None:
                found.extend(self._coordinated(c, text, ents))
                prev_end = c.end
                if len(found) >= self.max_constraints:
                    doc.user_data[TRUNCATED_KEY] = True
                    _log.warning(
                        "a criterion of %d characters holds more than %d comparisons: read up to offset %d only",
                        len(text), self.max_constraints, prev_end,
                    )
                    break
        if found and self.scorer is not None:
            found = rescore(self, self.scorer, text, ents, found)  # the learned attachment step
        # the readers of what the grammar reads in pieces, within the same cap: where the
        # grammar stopped reading (a pasted table), they stop too
        read_to = prev_end if doc.user_data.get(TRUNCATED_KEY) else len(text)
        compounds = self.compound_scan.find(text, read_to, self.max_constraints)
        if compounds:
            found = with_compounds(self, found, compounds, text, ents)
        stages = self.tnm_scan.find(text, read_to, self.max_constraints)
        if stages:
            found = with_tnm(self, found, stages, text)
        fractions = self.fraction_scan.find(text, read_to, self.max_constraints)
        if fractions:
            found = with_fractions(self, found, fractions, text, ents)
        dates = self.date_scan.find(text, read_to, self.max_constraints)
        if dates:
            found = with_dates(self, found, dates, text, ents)
        if len(found) > self.max_constraints:
            found = found[: self.max_constraints]
            doc.user_data[TRUNCATED_KEY] = True
        if found and self.negation and self.negation_cue is not None and self.negation_cue.search(text):
            found = self._negate(doc, found)
        found = lost_signs.finish(doc, source, text, signs, found, repair, self.lost_sign_data)
        doc._.constraints = found
        return doc

    def _entities(self, doc: Doc) -> list[tuple]:
        """(start_char, end_char, label, variable, text) of each of ``doc.ents``: as the
        variable matcher left them when it is the component that ran just before this one
        (nothing can have changed them since), else read from the doc."""
        handoff = doc.user_data.get(ENTS_KEY)
        if handoff is not None and handoff[0] is _previous(self.nlp, self):
            return handoff[1]
        return [(e.start_char, e.end_char, e.label_, e._.variable or e.text, e.text) for e in doc.ents]

    def _negate(self, doc: Doc, found: list[Constraint]) -> list[Constraint]:
        # ConText scopes modifiers to sentences; there is no parser, so a criterion's
        # clauses (split at ";" and sentence ends) are its sentences.
        starts = clause_starts(doc)
        spans = []
        for c in found:
            span = doc.char_span(c.start, c.end, alignment_mode="expand")
            spans.append(span)
        targets = [s for s in spans if s is not None]
        doc.spans["criteria_constraints"] = targets
        if not targets:
            return found
        if not negation_possible(doc, starts, targets, self._negation_openers()):
            return found
        doc.from_array([SENT_START], starts)
        self.context.input_span_type = "group"
        self.context.span_group_name = "criteria_constraints"
        self.context(doc)
        out = []
        group = iter(doc.spans["criteria_constraints"])
        for c, span in zip(found, spans, strict=False):
            if span is None:
                out.append(c)
                continue
            s = next(group)
            negated = any(mod.category == "NEGATED_EXISTENCE" for mod in s._.modifiers)
            out.append(c.model_copy(update={"negated": negated}) if negated else c)
        return out

    def _negation_openers(self):
        """The first tokens (lower case, as string ids) of ConText's negation cues; None
        when a negation rule is a pattern (then ConText always runs)."""
        if self._openers is None:
            rules = [r for r in self.data["context_rules.json"]["context_rules"]
                     if str(r.get("category", "")).upper() == "NEGATED_EXISTENCE"]
            self._openers = (negation_openers(self.nlp, rules),)
        return self._openers[0]


@Language.factory(
    "criteria_constraints",
    default_config={"negation": True, "max_constraints": MAX_CONSTRAINTS},
    assigns=["doc._.constraints"],
    requires=["doc.ents"],
)
def make_constraint_extractor(nlp: Language, name: str, negation: bool, max_constraints: int) -> ConstraintExtractor:
    return ConstraintExtractor(nlp, name, negation=negation, max_constraints=max_constraints)
