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
from criteria_nlp.schema import Constraint

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
DATA_FILES = ("operators.json", "units.json", "context_rules.json")

for _name, _default in (("constraints", None), ("criterion_kind", None), ("population", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)

_PER = {"l": "L", "ul": "uL", "µl": "uL", "μl": "uL", "mcl": "uL", "mm3": "mm3", "mm³": "mm3", "ml": "mL", "kg": "kg"}
_TIME_UNITS = {"a", "mo", "wk", "d", "h", "min", "s"}
_CLAUSE_END = re.compile(r"[;\n•]|\.\s|,\s(?=[A-Za-z])")
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
_AGE_WORD = re.compile(r"(?i)\b(?:age|aged|old)\b")
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
        text = doc_text(doc)
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
            pair = _BP_DIASTOLIC.match(text, c.end) if c is not None and c.upper is None else None
            if pair and 20 <= float(pair.group(1)) < c.value <= 300:
                found.extend(self._blood_pressure(c, pair, text, m.end() if m.group("post") else pair.end()))
                prev_end = pos = found[-1].end
                continue
            # A cut list ("≥20 and ≤40 years") is read again from where its first part ends.
            pos = c.end if c is not None and c.end < m.end() else max(m.end(), m.start() + 1)
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
                ut = g("unit") or g("unit1")
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
        variable, mention, category, unit = self._attach(
            text, start, end, unit, relative_to, ents, prev_end, mention_hint, g
        )
        return Constraint(
            variable=variable,
            mention=mention,
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
            out.append(c.model_copy(update={"variable": e[3], "mention": e[4], "category": category}))
        return out

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
        return c.model_copy(update={"variable": prev.variable, "mention": prev.mention, "category": prev.category})

    def _clause_start(self, text: str, start: int, prev_end: int) -> int:
        lo = max(prev_end, start - 120)
        cut = lo
        for hit in _CLAUSE_END.finditer(text, lo, start):
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
        clause_start = self._clause_start(text, start, prev_end)
        kind = self.grammar.unit_kind.get(unit or "", "")
        ent = None
        if mention_hint is not None:
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
        if ent is None:
            best = None
            for e in ents:
                if clause_start <= e[0] and e[1] <= start:
                    best = e
            ent = best
        window = text[clause_start:start]
        if ent is not None and _is_dose(unit, kind) and ent[2] not in ("dose", "other"):
            ent = None  # "steroid pulse therapy (>1.5mg/kg)": a dose, whatever word precedes
        if ent is not None:
            label, variable, mention = ent[2], ent[3], ent[4]
        else:
            label = None
            if mention_hint is not None:
                mention = text[mention_hint[0] : mention_hint[1]].strip()
            else:
                mention = self._mention(text, clause_start, start, end, unit, relative_to)
            variable = mention or ""
        category = label or "other"
        if unit in _TIME_UNITS and category != "age":
            if unit == "a" and self._is_age(text, window, start, end, ent):
                category, variable = "age", "age"
                mention = mention or None
            else:
                if label == "dose" and mention:
                    # "corticosteroids in the last 2 months" bounds the drug's use, not its dose
                    variable = mention
                category = "temporal"
        elif category in ("other", "dose") and _is_dose(unit, kind):
            category = "dose"
        if not variable:
            variable = {"age": "age", "temporal": "time"}.get(category, text[start:end])
        if category == "age" and unit is None and not relative_to:
            unit = "a"  # "aged 18-70": an age without a unit is in years
        return variable, mention or None, category, unit

    def _is_age(self, text, window, start, end, ent) -> bool:
        if ent is not None and ent[2] != "age":
            return False
        tail = text[end : end + 15]
        if self.age_cues.search(tail[:12]) or _AGE_WORD.search(window[-30:]):
            return True
        return not self.temporal_cues.search(window[-40:]) and not self.temporal_cues.match(tail.strip())

    def _mention(self, text, clause_start, start, end, unit, relative_to) -> str | None:
        def trim(words):
            while words and words[0].group(0).lower() in self.stopwords:
                words.pop(0)
            while words and words[-1].group(0).lower() in self.stopwords:
                words.pop()
            return words

        words = trim(list(_WORD.finditer(text, clause_start, start))[-4:])
        if not words and unit is None and relative_to is None:
            # counts: "at least 2 prior lines of therapy"
            limit = min(len(text), end + 80)  # bounded: a long text without clause ends stays linear
            stop = _CLAUSE_END.search(text, end, limit)
            words = trim(list(_WORD.finditer(text, end, stop.start() if stop else limit))[:4])
        if not words:
            return None
        mention = text[words[0].start() : words[-1].end()].strip(" (")
        other = _OR_OTHER.search(mention)
        if other and other.start() > 0:
            mention = mention[: other.start()]  # "rituximab or other biologics" -> "rituximab"
        if mention.count("(") > mention.count(")"):
            # "derivative (tuberculin" -> "tuberculin": the words inside the open bracket
            mention = mention[mention.rfind("(") + 1 :].strip() or mention
        return mention


# groups that belong to the first number of an expression (its end when a list is cut)
_A_PARTS = ("pre", "temp", "arkw", "ac", "ad", "aw", "ap", "ar", "at", "aexp", "aper", "amult", "aref", "aref2", "arefn", "arefg", "unit1")


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
