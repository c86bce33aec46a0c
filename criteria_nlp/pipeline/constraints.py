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

from spacy.language import Language
from spacy.tokens import Doc

from criteria_nlp.pipeline import lost_signs
from criteria_nlp.pipeline.attach import Chunk, Chunker
from criteria_nlp.pipeline.grammar import Grammar, _norm, alternation, compile_grammar
from criteria_nlp.pipeline.numbers import (
    HAS_NUMBER,
    SUPERSCRIPTS,
    doc_text,
    has_number,
    parse_number,
    parse_roman,
    parse_word_number,
)
from criteria_nlp.schema import Alternate, Constraint

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
DATA_FILES = ("operators.json", "units.json", "context_rules.json", "attachment.json")

for _name, _default in (("constraints", None), ("criterion_kind", None), ("population", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)

_PER = {"l": "L", "ul": "uL", "µl": "uL", "μl": "uL", "mcl": "uL", "mm3": "mm3", "mm³": "mm3", "ml": "mL", "kg": "kg"}
_TIME_UNITS = {"a", "mo", "wk", "d", "h", "min", "s"}
_CLAUSE_END = re.compile(r"[;\n•]|\.\s|,\s(?=[A-Za-z])")
_CLAUSE_END_WIDE = re.compile(r"[;\n•]|\.\s")
_AGE_TEXT = re.compile(r"(?i)\b(?:years?[\s-]old|months?[\s-]old|weeks?[\s-]old|days?[\s-]old|old|older|younger|of age)\b")
_RESTATE_OPEN = re.compile(r"\s*[(\[]\s*(?:(?:or|i\.e\.,?|approximately|approx\.?|about|ca\.?|~|≈)\s*)?")
_RESTATE_SLASH = re.compile(r"\s*/\s*")
_RESTATE_CLOSE = re.compile(r"\s*[)\]]")
_DURATION_GAP = re.compile(r"(?i)[\s,)]*(?:for|during|over|in|within|since|lasting|the|last|past|previous|a|period|of|\s)*")
_FOR_GROUP = re.compile(r"(?i)\s*(?:for|in|among)\s+(?:the\s+)?(?P<who>[a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s*(?:,|and|or|;|,\s*and|,\s*or)\s*")
_BRACKET_GAP = re.compile(r"\s*(?:\S*/\S*\s*)?\((?:[^()]|\([^()]*\))*\)[\s,]*(?:(?:for|during|over|in|within|the|last|past|a|of)\s+)*")
_COMMA_BEFORE = re.compile(r",\s*$")
_WORD = re.compile(r"[A-Za-z][\w\-'/]*")
_DOSE_KINDS = {"dose", "dose per body mass", "dose rate", "mass rate", "dose per body surface area"}


def _is_dose(unit: str | None, kind: str) -> bool:
    # a mass in kg is a body weight; other masses (mg, g, µg) are doses
    return kind in _DOSE_KINDS or (kind == "mass" and unit not in ("kg", "[lb_av]", "g/kg"))

_COORDINATION = re.compile(r"\s*(?:,|/|or|and|and/or|,\s*or|,\s*and)\s*")
_OR_OTHER = re.compile(r"(?i),?\s+(?:and|or)(?:/or)?\s+(?:any\s+)?other\b")
_LOOKBACK = 60
_INLINE_LABEL = re.compile(r"[.)\-]\s+[A-Za-z(]")
_YEAR = re.compile(r"(?:19|20)\d\d")
# No real criterion holds hundreds of comparisons (the longest in Chia and LCT hold a few
# dozen); a text that does is pasted data, not a criterion. Reading stops there, so that a
# megabyte of digits and operators costs seconds in this and the later components.
MAX_CONSTRAINTS = 300
_AFTER_OF = re.compile(r"\s{0,3}(?:of\s+)?")
# "140/90 mmHg": the diastolic pressure after the systolic one, in mmHg
_BP_DIASTOLIC = re.compile(r"\s{0,2}/\s{0,2}(\d{2,3})(?![\d.,])\s{0,2}(mm\s?Hg|mmhg|mm of mercury)(?![A-Za-z])", re.I)
# "6 months since the last dose": the time since an event, named after the bound
_SINCE = re.compile(r"(?i)\s{0,3}since\b")
TRUNCATED_KEY = "criteria_nlp.constraints_truncated"
_log = logging.getLogger(__name__)


class ConstraintExtractor:
    def __init__(self, nlp: Language, name: str, negation: bool = True, max_constraints: int = MAX_CONSTRAINTS):
        self.nlp = nlp
        self.name = name
        self.negation = negation
        self.max_constraints = max_constraints
        self.data = {f: json.loads((RESOURCES / f).read_text(encoding="utf-8")) for f in DATA_FILES}
        self._compile()

    # ------------------------------------------------------------------ data

    def _compile(self) -> None:
        ops = self.data["operators.json"]
        self.grammar: Grammar = compile_grammar(ops, self.data["units.json"])
        self.exclude_before = {_norm(w) for w in ops.get("exclude_before", [])}
        self.stopwords = {w.lower() for w in ops.get("mention_stopwords", [])}
        self.chunker = Chunker(self.data.get("attachment.json", {}))
        self.list_separators = {_norm(w) for w in ops.get("list_separators", [])}
        # Statistics before an operator ("n=20", "p<0.05", "OR > 2"): a lower-case entry
        # matches any case, an entry with capitals only as written, so the odds ratio "OR"
        # does not swallow the conjunction ("BMI < 18.5 or > 30").
        stats = ops.get("exclude_before_operator", [])
        self.exclude_before_operator = {w for w in stats if w == w.lower()}
        self.exclude_before_operator_cased = {w for w in stats if w != w.lower()}
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
        for f, data in self.data.items():
            (path / f).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def from_disk(self, path, exclude=tuple()) -> "ConstraintExtractor":
        for f in DATA_FILES:
            file = Path(path) / f
            if file.exists():
                self.data[f] = json.loads(file.read_text(encoding="utf-8"))
        self._compile()
        return self

    # ------------------------------------------------------------------ running

    def __call__(self, doc: Doc) -> Doc:
        if not has_number(doc):
            doc._.constraints = []
            return doc
        # lost-sign forms ("8805;", "&ge;", "*"): the grammar reads a scan of the same length
        source = doc_text(doc)
        repair = "criteria_repair" in self.nlp.pipe_names
        text, signs = lost_signs.prepare(doc, source, repair)
        ents = [(e.start_char, e.end_char, e.label_, e._.variable or e.text, e.text) for e in doc.ents]
        found: list[Constraint] = []
        prev_end = pos = 0
        search = self.grammar.regex.search
        numbers = HAS_NUMBER.search
        while (hit := numbers(text, pos)) is not None:
            # An expression starts at most a few words before its first number ("greater
            # than or equal to the age of 18"): start the big regex there, not at 0.
            m = search(text, max(pos, hit.start() - _LOOKBACK))
            if m is None:
                break
            c = self._read(m, text, ents, prev_end)
            if c is not None and found:
                c = self._continue_variable(found[-1], c, text, ents)
                c = self._lasting(found[-1], c, text)
                c = self._for_group(found[-1], c, text)
                c = self._same_age(found[-1], c, text)
            pair = _BP_DIASTOLIC.match(text, c.end) if c is not None and c.upper is None else None
            if pair and 20 <= float(pair.group(1)) < c.value <= 300:
                found.extend(self._blood_pressure(c, pair, text, m.end() if m.group("post") else pair.end()))
                prev_end = pos = found[-1].end
                continue
            # A cut list ("≥20 and ≤40 years") is read again from where its first part ends.
            pos = c.end if c is not None and c.end < m.end() else max(m.end(), m.start() + 1)
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
        if found and self.negation and self.negation_cue is not None and self.negation_cue.search(text):
            found = self._negate(doc, found)
        found = lost_signs.finish(doc, source, text, signs, found, repair)
        doc._.constraints = found
        return doc

    def _negate(self, doc: Doc, found: list[Constraint]) -> list[Constraint]:
        # ConText scopes modifiers to sentences; there is no parser, so a criterion's
        # clauses (split at ";" and sentence ends) are its sentences.
        for i, tok in enumerate(doc):
            tok.is_sent_start = i == 0 or doc[i - 1].text in {";", ".", "!", "?"}
        spans = []
        for c in found:
            span = doc.char_span(c.start, c.end, alignment_mode="expand")
            spans.append(span)
        targets = [s for s in spans if s is not None]
        doc.spans["criteria_constraints"] = targets
        if not targets:
            return found
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

    # ------------------------------------------------------------------ one expression

    def _value(self, m: re.Match, tag: str) -> float | None:
        g = m.group
        if g(f"{tag}tv"):
            return float(g(f"{tag}tv"))
        if g(f"{tag}c"):
            v = float(g(f"{tag}c").replace(",", "."))
        elif g(f"{tag}d"):
            v = float(g(f"{tag}d").replace(",", "").replace("·", "."))
        elif g(f"{tag}w"):
            v = float(g(f"{tag}p")) if g(f"{tag}p") else parse_word_number(g(f"{tag}w"))
        elif g(f"{tag}r"):
            r = parse_roman(g(f"{tag}r"))
            v = float(r) if r is not None else None
        else:
            return None
        if v is not None and g(f"{tag}sign"):
            v = -v
        return v

    def _read(self, m: re.Match, text: str, ents, prev_end: int) -> Constraint | None:
        g = m.group
        gr = self.grammar
        start, end = m.span()
        upper = None
        relative_to = None
        unit = unit_text = None
        mention_hint = None
        def post_direction(phrase: str) -> bool:
            return gr.after.get(_norm(phrase), "==") != "=="

        if g("two"):
            lo, hi = parse_number(g("lv")), parse_number(g("rv"))
            if lo is None or hi is None:
                return None
            value, upper = min(lo, hi), max(lo, hi)
            operator = "between"
            written = g("lop") if g("lop") == g("rop") else f"{g('lop')} {g('rop')}"
            mention_hint = (m.start("mid"), m.end("mid"))
            if g("unit2"):
                unit_text = g("unit2")
                unit = gr.units.get(_norm(unit_text)) or gr.units.get(unit_text)
            has_operator = True
        else:
            value = self._value(m, "a")
            if value is None:
                return None
            b = self._value(m, "b")
            cut = False
            pre, temp, post = g("pre"), g("temp"), g("post")
            roman = g("ar") is not None
            if roman and not (g("arkw") or pre or temp):
                return None  # "Type I", "phase II", a pronoun "I"
            if g("at") and not (pre or temp):
                return None  # a ratio "1:1", a time "10:30"
            if b is not None and _norm(g("sep2") or "-") in self.list_separators and (
                g("pre2") or not _grade_list(m, value, b)
            ):
                # "18 or 65", "140/90": not a list of grades; keep the first number alone
                b = None
                cut = True
                end = max(m.end(k) for k in _A_PARTS if g(k))
                if not _BP_DIASTOLIC.match(text, end):
                    post = None  # "160/110 mmHg or more" keeps its operator for both
            if b is not None:
                operator = "between"
                value, upper = min(value, b), max(value, b)
                written = g("opener") or g("sep") or g("sep2")
            elif pre and post and gr.before.get(_norm(pre), "==") == "==" and post_direction(post):
                # "= 5 or higher": the words after the number give the direction a bare
                # "=" before it lost, so the written phrase after it is read as written
                operator = gr.after.get(_norm(post), "==")
                written = post
            elif pre:
                operator = gr.before.get(_norm(pre), "==")
                written = pre
            elif temp:
                operator = gr.temporal.get(_norm(temp), "<=")
                written = temp
            elif post:
                operator = gr.after.get(_norm(post), "==")
                written = post
            else:
                operator, written = "==", None
                if self.distant_cue is not None:
                    cue = self.distant_cue.search(text, self._clause_start(text, start, prev_end), start)
                    if cue:
                        operator, written = self.distant[_norm(cue.group("cue"))], cue.group("cue")
            if b is None and post and (pre or temp):
                pass  # "at least 18 years or older": the first operator stands
            # unit: scientific notation first, then a written unit
            for tag in ("a", "b"):
                if g(f"{tag}exp"):
                    exp = g(f"{tag}exp").translate(SUPERSCRIPTS)
                    per = g(f"{tag}per")
                    unit = f"10*{exp}" + (f"/{_PER.get(per.lower(), per)}" if per else "")
                    unit_text = _sci_text(text, m, tag)
                    break
            if unit is None:
                # a cut list ("< 126 mg/dl and 2 hour ...") keeps its first number's unit
                ut = (g("unit1") or g("unit")) if cut else (g("unit") or g("unit1"))
                if ut:
                    unit_text = ut
                    unit = gr.units.get(_norm(ut)) or gr.units.get(ut)
            for tag in ("a", "b"):
                ref = g(f"{tag}ref") or g(f"{tag}ref2")
                if ref:
                    relative_to = gr.references.get(_norm(ref), "LLN" if "low" in ref.lower() else "ULN")
                elif g(f"{tag}refn") or g(f"{tag}refg"):
                    relative_to = "ULN"
                elif g(f"{tag}mult") and relative_to is None:
                    # "upper limit of normal range of transaminase > 2 times"
                    clause = text[self._clause_start(text, start, prev_end) : start]
                    hit = self.ref_phrase.search(clause)
                    if hit:
                        relative_to = gr.references.get(_norm(hit.group(0)), "ULN")
            if temp and unit not in _TIME_UNITS:
                # "within 2 inches", "in the last five entries": not a time window
                if b is None:
                    operator, written = ("==", None) if not post else (gr.after.get(_norm(post), "=="), post)
                temp = None
            has_operator = bool(pre or temp or post or b is not None)
            if not has_operator and not self._bare_ok(m, text, start, end, value, unit, relative_to, ents, prev_end):
                return None
            if self._excluded(m, text, start, end, value, unit, has_operator):
                return None
        variable, span, category, unit = self._attach(
            text, start, end, unit, relative_to, ents, prev_end, mention_hint, g
        )
        return Constraint(
            variable=variable,
            mention=text[span[0] : span[1]] if span else None,
            mention_start=span[0] if span else None,
            mention_end=span[1] if span else None,
            category=category,
            operator=operator,
            value=value,
            upper=upper,
            unit=unit,
            unit_text=unit_text,
            relative_to=relative_to,
            start=start,
            end=end,
            text=text[start:end],
            written_operator=written,
        )

    def _coordinated(self, c: Constraint, text: str, ents) -> list[Constraint]:
        """'ALT or AST > 3 x ULN' bounds both: one constraint per coordinated variable."""
        idx = next((i for i, e in enumerate(ents) if e[3] == c.variable and e[1] <= c.start), None)
        if idx is None:
            return [c]
        chain = [ents[idx]]
        for e in reversed(ents[:idx]):
            if _COORDINATION.fullmatch(text, e[1], chain[0][0]) and e[3] != c.variable:
                chain.insert(0, e)
            else:
                break
        if len(chain) == 1:
            return [c]
        out = []
        for e in chain:
            category = c.category if c.category in ("temporal", "dose") else e[2]
            out.append(
                c.model_copy(
                    update={"variable": e[3], "mention": e[4], "mention_start": e[0], "mention_end": e[1], "category": category}
                )
            )
        return out

    def _restates(self, prev: Constraint, c: Constraint, text: str) -> bool:
        """Whether ``c`` restates ``prev`` in another unit: right after it in brackets or
        after a slash, with a unit of its own and no other operator."""
        gap = text[prev.end : c.start]
        bracket = _RESTATE_OPEN.fullmatch(gap)
        if not (bracket or _RESTATE_SLASH.fullmatch(gap)):
            return False
        if c.unit is None or (prev.unit is None and prev.relative_to is None) or c.unit == prev.unit:
            return False
        if c.relative_to is not None or (prev.upper is None) != (c.upper is None):
            return False
        if c.operator != prev.operator and not (c.operator == "==" and c.written_operator is None):
            return False
        return not bracket or _RESTATE_CLOSE.match(text, c.end) is not None

    def _blood_pressure(self, c: Constraint, pair: re.Match, text: str, end: int) -> list[Constraint]:
        """'BP ≥ 140/90 mmHg': one bound on the systolic and one on the diastolic pressure,
        both spanning the whole expression (so a lost operator is repaired once for both)."""
        names = ("systolic blood pressure", "diastolic blood pressure")
        if c.variable in names:
            names = (c.variable, c.variable)  # "SBP/DBP" names come apart in the lexicon
        systolic = c.model_copy(
            update={
                "variable": names[0],
                "category": "vital",
                "unit": "mm[Hg]",
                "unit_text": pair.group(2),
                "end": end,
                "text": text[c.start : end],
            }
        )
        return [systolic, systolic.model_copy(update={"variable": names[1], "value": float(pair.group(1))})]

    def _continue_variable(self, prev: Constraint, c: Constraint, text: str, ents) -> Constraint:
        """'BMI < 18.5 or > 30 kg/m2': a second bound joined to the first by a conjunction,
        with no variable of its own, bounds the first one's variable."""
        if c.category != "other" or prev.category == "other" or not _COORDINATION.fullmatch(text[prev.end : c.start]):
            return c
        if c.unit != prev.unit and (c.unit is None or prev.unit is not None):
            # "= 5 for women up to the age of 50 years and = 4": a bare number after a
            # bound with a unit is not that bound's variable; a unit written only on the
            # second bound is shared ("< 18.5 or > 30 kg/m2")
            return c
        if any(prev.end <= e[0] < c.end + 12 for e in ents):
            return c
        return c.model_copy(
            update={
                "variable": prev.variable,
                "mention": prev.mention,
                "mention_start": prev.mention_start,
                "mention_end": prev.mention_end,
                "category": prev.category,
            }
        )

    def _age_words(self, text, start, end, span, g):
        """The words that speak of an age without a lexicon name: an age word in or
        after the expression ("older", "years old"), a person right before it ("women
        older than 40 years"), else the unit ("Over 18 years")."""
        hit = _AGE_TEXT.search(text, start, min(len(text), end + 12))
        if hit:
            return hit.span()
        unit = "unit2" if g("two") else "unit" if g("unit") else "unit1"
        if g(unit):
            return g.__self__.span(unit)  # g is the match's bound group method
        return span if span is not None and self.chunker.is_person(text, Chunk(*span)) else None

    def _with_name_before(self, text, clause_start, span):
        """'Hemoglobin (hgb) > 10': a name in brackets takes the name before it along."""
        if span[0] > 0 and text[span[0] - 1] == "(" and text[span[1] : span[1] + 1] == ")":
            chunk, _ = self.chunker.before(text, clause_start, span[0] - 1)
            if chunk is not None and not chunk.stray and text[chunk.end : span[0] - 1].strip() == "":
                return (chunk.start, span[1] + 1)
        return span

    def _same_age(self, prev: Constraint, c: Constraint, text: str) -> Constraint:
        """'Age >= 21 and <= 60 years', 'age > 21 or less than 2': the second bound of an
        age joined by a conjunction bounds the same age, named where the first was."""
        if prev.category != "age" or prev.mention is None or not _COORDINATION.fullmatch(text[prev.end : c.start]):
            return c
        if c.category == "age" and c.mention_start is not None and c.mention_start >= c.start:
            update = {}  # its own age word or unit only: the first one's name is the name
        elif c.category == "other" and c.unit is None and c.mention is None and not c.relative_to:
            update = {"category": "age", "unit": prev.unit}
        else:
            return c
        update.update(variable="age", mention=prev.mention, mention_start=prev.mention_start, mention_end=prev.mention_end)
        return c.model_copy(update=update)

    def _for_group(self, prev: Constraint, c: Constraint, text: str) -> Constraint:
        """'Hb < 11.5 g/dL for women and < 12.5 g/dL for men': the second bound is the
        first one's thing for another group of people, not a bound on the people."""
        gap = _FOR_GROUP.fullmatch(text, prev.end, c.start)
        if gap is None or prev.mention is None or prev.category == "age" or c.category == "age":
            return c
        if not self.chunker.is_person(text, Chunk(*gap.span("who"))):
            return c
        if c.mention_start is not None and not (gap.start("who") <= c.mention_start < gap.end("who")):
            return c
        category = c.category if c.category in ("temporal",) else prev.category
        return c.model_copy(
            update={
                "variable": prev.variable,
                "mention": prev.mention,
                "mention_start": prev.mention_start,
                "mention_end": prev.mention_end,
                "category": category,
            }
        )

    def _lasting(self, prev: Constraint, c: Constraint, text: str) -> Constraint:
        """'calcium between 2.1 and 2.6 mmol/L for > 3 months': a duration right after a
        bound, naming nothing itself, is how long that bound's thing has held."""
        if c.category != "temporal" or prev.mention is None or prev.category == "age":
            return c
        gap = text[prev.end : c.start]
        if c.mention is not None and c.mention_start >= c.end:
            # "HbA1c < 48 mmol/mol 3 months after surgery": the thing after the window is
            # its anchor; right after a bound, the window is when that bound held
            if gap.strip():
                return c
        elif c.mention is not None:
            # "GFR >= 40 ml/min (estimated by MDRD) in the last 4 months": only a bracket
            # (and a unit the grammar does not know) between the bound and the window
            if not (c.mention_start >= prev.end and _BRACKET_GAP.fullmatch(gap)):
                return c
        elif len(gap) > 30 or _CLAUSE_END.search(gap) or not _DURATION_GAP.fullmatch(gap):
            return c
        return c.model_copy(
            update={"variable": prev.variable, "mention": prev.mention, "mention_start": prev.mention_start, "mention_end": prev.mention_end}
        )

    def _clause_start(self, text: str, start: int, prev_end: int, wide: bool = False) -> int:
        lo = max(prev_end, start - 120)
        cut = lo
        for hit in (_CLAUSE_END_WIDE if wide else _CLAUSE_END).finditer(text, lo, start):
            cut = hit.end()
        return cut

    def _bare_ok(self, m, text, start, end, value, unit, relative_to, ents, prev_end) -> bool:
        """A number without any operator is a constraint only when it is a measured value:
        it has a unit or a reference limit, follows a grade/class keyword, or directly
        follows a lexicon variable ("ECOG 2", "HbA1c 7")."""
        if m.group("arkw"):
            return True
        if relative_to or m.group("aexp"):
            return True
        if unit:
            return True
        lo = max(prev_end, start - 25)
        for _s, e, *_ in ents:
            if lo <= e <= start and not _CLAUSE_END.search(text, e, start):
                return True
        return False

    def _excluded(self, m, text, start, end, value, unit, has_operator) -> bool:
        g = m.group
        digits = g("ad") or ""
        if g("pre"):
            # "n=20" (a sample size), "p<0.05": statistics, not criteria
            word = text[max(0, start - 12) : start].split()
            last = word[-1].strip("(),;:") if word else ""
            if last.lower() in self.exclude_before_operator or last in self.exclude_before_operator_cased:
                return True
        if not has_operator:
            if not unit and (
                (start > 0 and text[start - 1] == "(" and text[end : end + 1] == ")")
                or _INLINE_LABEL.match(text, end)
            ):
                return True  # "(1)", "2- proteinuria", "3. Negative": enumerations
            unit_at = m.start("unit1") if g("unit1") else m.start("unit") if g("unit") else start
            if unit and g("ad") and text[m.end("ad") : unit_at].strip() == "-":
                return True  # "2-hour glucose", "12-lead": a name, not a bound
            # years, dates, phone numbers, item numbers
            if not unit and _YEAR.fullmatch(digits):
                return True
            if len(digits.replace(",", "")) >= 7 and "." not in digits:
                return True
            nxt = text[end : end + 2]
            if len(nxt) == 2 and nxt[0] in "-/." and nxt[1].isdigit():
                return True
        if (g("bd") or "") and _YEAR.fullmatch(digits) and not unit:
            return True  # "2019-10"
        if not (g("pre") or g("temp") or g("opener")):
            before = text[max(0, start - 25) : start].rstrip(" -:#")
            words = before.split()
            if words:
                last = _norm(words[-1])
                last2 = _norm(" ".join(words[-2:]))
                if last in self.exclude_before or last2 in self.exclude_before:
                    return True
        return False

    # ------------------------------------------------------------------ variable

    def _attach(self, text, start, end, unit, relative_to, ents, prev_end, mention_hint, g):
        """(variable, mention span, category, unit) of one bound; see pipeline/attach.py.
        The variable is the lexicon name of the mention when it has one, else the
        mention as written, else None (nothing named)."""
        clause_start = self._clause_start(text, start, prev_end)
        before = text[clause_start:start]
        if before.count(")") > before.count("("):
            # "Major surgery (e.g., requiring anesthesia) <= 30 days": a clause mark inside
            # the brackets does not end the clause the bound sits in
            depth = 0
            for i in range(start - 1, max(prev_end, start - 200) - 1, -1):
                if text[i] == ")":
                    depth += 1
                elif text[i] == "(":
                    depth -= 1
                    if depth == 0 and i < clause_start:
                        clause_start = self._clause_start(text, i, prev_end)
                        break
        clause_end = self._clause_end(text, end)
        kind = self.grammar.unit_kind.get(unit or "", "")
        timed = unit in _TIME_UNITS
        dose = _is_dose(unit, kind)
        chunker = self.chunker
        ent = None
        span = None
        if mention_hint is not None:
            # "between the ages of 18 and 65": the words between the bounds' openers
            for e in ents:
                if e[0] >= mention_hint[0] and e[1] <= mention_hint[1]:
                    ent = e
                    break
        if ent is None:
            # a variable inside the expression or right after it ("18 years of age")
            after = _AFTER_OF.match(text[end : end + 12])
            reach = end + (after.end() if after else 0)
            for e in ents:
                if (e[0] < end and e[1] > start) or (end <= e[0] <= reach):
                    ent = e
                    break
        chunk, verb = chunker.before(text, clause_start, start)
        comma = _COMMA_BEFORE.search(text, max(0, clause_start - 3), start) if timed and g("temp") else None
        if comma and chunk is None and verb is None:
            # "Major surgery, other than biopsy, within 2 weeks": the window after a comma
            clause_start = self._clause_start(text, start, prev_end, wide=True)
            chunk, verb = chunker.before(text, clause_start, comma.start())
        if timed and chunk is not None and not chunk.stray and chunker.anchor_before(text, clause_start, chunk):
            # "heparin therapy prior to CPB within 7 days": CPB anchors the other phrase
            earlier, verb2 = chunker.before(text, clause_start, chunk.start, cross_comma=True)
            if earlier is not None and not earlier.stray:
                chunk, verb = earlier, verb2
        if ent is not None:
            # "Age 18 to 70 years old", "CrCl >= 50 mL/min (Cockcroft-Gault)": the same
            # variable named before the bound names it first
            for e in ents:
                if clause_start <= e[0] and e[1] <= start and (e[2] == "age" == ent[2] or e[3] == ent[3]):
                    ent = e
        if ent is None:
            best = None
            for e in ents:
                if clause_start <= e[0] and e[1] <= start:
                    best = e
            # the last lexicon name in the clause, unless another thing stands between
            # it and the bound ("HbA1c level of", but not "ALT ... and cancer within")
            if best is not None and (
                chunker.only_measure_words(text, best[1], start)
                or chunk is None
                or chunk.stray
                or (chunk.start < best[1] and best[0] < chunk.end and chunker.only_measure_words(text, best[1], chunk.end))
            ):
                ent = best  # (a chunk going on past the name heads elsewhere: "PDA diameter")
        if ent is not None and dose and ent[2] not in ("dose", "other"):
            ent = None  # "steroid pulse therapy (>1.5mg/kg)": a dose, whatever word precedes
        since = timed and self._since.match(text, end)
        instrument = None
        if not timed and not dose and (ent is None or ent[1] <= start):
            instrument = chunker.instrument_after(text, end, clause_end)
        if instrument is not None:
            # "at least 5 on the 10-point rating scale": the scale is what is bounded
            label, variable, span = (ent[2] if ent else None), None, (instrument.start, instrument.end)
            ent = None
        elif ent is not None:
            label, variable, span = ent[2], ent[3], (ent[0], ent[1])
        else:
            label = variable = None
            if mention_hint is not None and not chunker._stray(text, *mention_hint):
                span = _strip_span(text, *mention_hint)
            elif since and (after := chunker.after(text, end, clause_end, need_link=True)) is not None:
                span = (after.start, after.end)  # "4 weeks since prior chemotherapy"
            elif (
                unit is None and relative_to is None and (counted := chunker.counted(text, end, clause_end)) is not None
            ):
                span = (counted.start, counted.end)  # a count counts what follows it
            elif chunk is not None and not chunk.stray:
                span = (chunk.start, chunk.end)
            elif (
                after := chunker.after(text, end, clause_end, need_link=unit is not None or relative_to is not None)
            ) is not None:
                span = (after.start, after.end)  # counts: "at least 2 prior lines of therapy"
            elif timed and verb is not None and not chunker._stray(text, *verb):
                span = verb  # "treated within 4 weeks": the verb names the event
        if ent is not None and span is not None and span[1] <= start:
            span = self._with_name_before(text, clause_start, span)
        category = label or "other"
        if timed and category != "age":
            window_cue = bool(g("temp"))
            if unit in ("a", "mo", "wk", "d") and self._is_age(
                text, clause_start, start, end, ent, chunk, span, unit, window_cue
            ):
                category, variable = "age", "age"
                if ent is None:
                    span = self._age_words(text, start, end, span, g)
            else:
                category = "temporal"
                if label == "dose" and span is not None:
                    variable = text[span[0] : span[1]]  # "aspirin for > 7 days": its use, not its dose
                if span is not None and span != verb and (ent is None or (ent[2] in ("dose", "other") and span[1] <= start)):
                    # the window bounds the whole phrase: "chemotherapy or radiotherapy",
                    # "Treatment with probiotics or prebiotics", "surgery on the knee"
                    wide = self._clause_start(text, start, prev_end, wide=True)
                    phrase = chunker.phrase_back(text, wide, Chunk(*span))
                    span = (phrase.start, phrase.end)
        elif category in ("other", "dose") and dose:
            category = "dose"
        if (
            unit is None
            and not relative_to
            and ent is None
            and category == "other"
            and (age_word := _AGE_TEXT.search(text, start, min(len(text), end + 8))) is not None
            and age_word.start() < end + 2
        ):
            # "55 and older", "Be 60 or older": an age word in the bound itself
            category, span = "age", age_word.span()
        if span is not None and variable is None:
            variable = text[span[0] : span[1]]
        if category == "age":
            variable = "age"
            if unit is None and not relative_to:
                unit = "a"  # "aged 18-70": an age without a unit is in years
        return variable, span, category, unit

    def _clause_end(self, text: str, end: int) -> int:
        limit = min(len(text), end + 80)  # bounded: a long text without clause ends stays linear
        stop = _CLAUSE_END.search(text, end, limit)
        return stop.start() if stop else limit

    def _is_age(self, text, clause_start, start, end, ent, chunk, span, unit, window_cue=False) -> bool:
        """A number of years is an age only when the text speaks of age: an age word
        around it ("aged", "years old", "of age", "older"), a person it is the age of
        ("patients >= 18 years", "children 2 to 12 years"), or nothing else in its clause
        that it could measure (an item "18 years or above")."""
        chunker = self.chunker
        if ent is not None:
            return ent[2] == "age"
        tail_end = min(len(text), end + 15)
        if chunker.speaks_of_age(text, start, tail_end) or self.age_cues.match(text[end:tail_end].lstrip(" ,")):
            return True
        if chunker.speaks_of_age(text, max(clause_start, start - 30), start):
            return True
        if window_cue:
            return False  # "sexually active with males in the past 3 months": a window
        if chunker.is_person(text, chunk):
            if unit != "a" and not chunker.is_young(text, chunk):
                return False  # "women ... 6 weeks postpartum"; but "infants < 28 days"
            return not self.temporal_cues.search(text, chunk.end, start) and not self._since.match(text, end)
        if unit != "a":
            return False
        window = text[clause_start:start]
        return (
            span is None
            and not self.temporal_cues.search(window[-40:])
            and not self.temporal_cues.match(text[end:tail_end].strip())
        )


# groups that belong to the first number of an expression (its end when a list is cut)
_A_PARTS = ("pre", "temp", "arkw", "ac", "ad", "aw", "ap", "ar", "at", "aexp", "aper", "amult", "aref", "aref2", "arefn", "arefg", "unit1")


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in "+%)"):
        end -= 1
    return start, end


def _grade_list(m: re.Match, a: float, b: float) -> bool:
    """'0 or 1', 'I and II', 'grade II/III': small whole numbers, the second above the first."""
    if m.group("ar") or m.group("arkw"):
        return True
    if m.group("aw") or m.group("bw"):
        return False  # "two or three of the following": a count, not a grade list
    return a.is_integer() and b.is_integer() and 0 <= a < b <= 10 and not m.group("unit1")


def _sci_text(text: str, m: re.Match, tag: str) -> str:
    # from the multiplication sign to the end of the per-unit, as written
    stop = m.end(f"{tag}per") if m.group(f"{tag}per") else m.end(f"{tag}exp")
    num_end = m.end(f"{tag}d") if m.group(f"{tag}d") else m.end(f"{tag}exp")
    return text[num_end:stop].strip()


@Language.factory(
    "criteria_constraints",
    default_config={"negation": True, "max_constraints": MAX_CONSTRAINTS},
    assigns=["doc._.constraints"],
    requires=["doc.ents"],
)
def make_constraint_extractor(nlp: Language, name: str, negation: bool, max_constraints: int) -> ConstraintExtractor:
    return ConstraintExtractor(nlp, name, negation=negation, max_constraints=max_constraints)
