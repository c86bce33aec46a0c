"""How ``criteria_constraints`` reads one numeric expression: its operator, value(s),
unit and reference limit, and whether a number is a bound at all (a bare number, a
year, an enumeration or a statistic is not)."""

import re

from criteria_nlp.pipeline.constraint_mentions import _CLAUSE_END
from criteria_nlp.pipeline.grammar import WINDOW_UNITS, _norm
from criteria_nlp.pipeline.numbers import SUPERSCRIPTS, parse_number, parse_roman, parse_word_number
from criteria_nlp.schema import Constraint

_PER = {"l": "L", "ul": "uL", "µl": "uL", "μl": "uL", "mcl": "uL", "mm3": "mm3", "mm³": "mm3", "ml": "mL", "kg": "kg"}
_INLINE_LABEL = re.compile(r"[.)\-]\s+[A-Za-z(]")
_YEAR = re.compile(r"(?:19|20)\d\d")
# days in each time unit, to write a range of two time units in the second's unit
TIME_IN_DAYS = {"a": 365.25, "mo": 365.25 / 12, "wk": 7.0, "d": 1.0, "h": 1 / 24, "min": 1 / 1440}
# "140/90 mmHg": the diastolic pressure after the systolic one, in mmHg
_BP_DIASTOLIC = re.compile(r"\s{0,2}/\s{0,2}(\d{2,3})(?![\d.,])\s{0,2}(mm\s?Hg|mmhg|mm of mercury)(?![A-Za-z])", re.I)
# "blood pressure > 140/90" with no unit: the second number of a pair after a bound the
# lexicon names a blood pressure (group 2, the unit as written, is empty)
_BP_DIASTOLIC_BARE = re.compile(r"\s{0,2}/\s{0,2}(\d{2,3})(?![\d/]|[.,]\d)()(?!\s{0,2}(?:%|[a-zA-Z]{1,3}/))")


def _constraint(text: str, variable, span, category, *, start: int, end: int, **fields) -> Constraint:
    """A constraint read at ``text[start:end]``, naming the words at ``span`` (None: nothing named)."""
    while end > start + 1 and text[end - 1].isspace():
        end -= 1  # "greater than 3 times " (a multiplier's gap before a word that is no limit)
    return Constraint(
        variable=variable,
        mention=text[span[0] : span[1]] if span else None,
        mention_start=span[0] if span else None,
        mention_end=span[1] if span else None,
        category=category,
        start=start,
        end=end,
        text=text[start:end],
        **fields,
    )


class ValueReading:
    """The reading half of ``ConstraintExtractor``: one regex match to one ``Constraint``."""

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
        elif g(f"{tag}plus"):
            v = float(g(f"{tag}plus").count("+"))
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

        if g("nref"):
            # a sign before a reference limit alone: one times the limit
            ref = g("nref")
            relative_to = gr.references.get(_norm(ref), "LLN" if "low" in ref.lower() else "ULN")
            operator = gr.before.get(_norm(g("nrpre")), "==")
            variable, span, category, _unit = self._attach(text, start, end, None, relative_to, ents, prev_end, None, g)
            return _constraint(
                text, variable, span, category, operator=operator, value=1.0, relative_to=relative_to,
                start=start, end=end, written_operator=g("nrpre"),
            )
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
                unit = gr.unit_code(unit_text)
            has_operator = True
        else:
            value = self._value(m, "a")
            if value is None:
                return None
            b = self._value(m, "b")
            cut = False
            pre, temp, post = g("pre"), g("temp"), g("post")
            if post and _norm(post).startswith("of ") and (g("arkw") or value < 2):
                # "grade 2 of the following toxicities": a grade, not a count of criteria;
                # "one of the following malignancies" names a list to choose from, not a
                # bound to check ("at least one of the following" keeps its own words)
                if value < 2 and not (g("arkw") or pre or temp):
                    return None
                post = None
                end = m.start("post")
                while end > start and text[end - 1].isspace():
                    end -= 1
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
                    unit = gr.unit_code(ut)
            if b is not None and g("unit1") and g("unit"):
                first = gr.unit_code(g("unit1"))
                if first != unit and first in TIME_IN_DAYS and unit in TIME_IN_DAYS:
                    # "between 6 months and 2 years": 0.5 to 2 years (not 2 to 6 years)
                    a = round(self._value(m, "a") * TIME_IN_DAYS[first] / TIME_IN_DAYS[unit], 6)
                    value, upper = min(a, b), max(a, b)
            if unit == "{letters}" and post and written == post:
                # "34 letters or better": more letters read is better vision, so the acuity
                # words' reading applies (after a score or grade, "or better" is a ceiling)
                operator = self.fraction_scan.acuity_post.get(_norm(post), operator)
            for tag in ("a", "b"):
                ref = g(f"{tag}ref") or g(f"{tag}ref2") or g(f"{tag}refx")
                if ref:
                    relative_to = gr.references.get(_norm(ref), "LLN" if "low" in ref.lower() else "ULN")
                elif g(f"{tag}refn") or g(f"{tag}refg") or g(f"{tag}refnorm"):
                    relative_to = "ULN"
                elif g(f"{tag}mult") and relative_to is None:
                    # "upper limit of normal range of transaminase > 2 times"
                    clause = text[self._clause_start(text, start, prev_end) : start]
                    hit = self.ref_phrase.search(clause)
                    if hit:
                        relative_to = gr.references.get(_norm(hit.group(0)), "ULN")
            if temp and unit not in WINDOW_UNITS:
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
        return _constraint(
            text, variable, span, category, operator=operator, value=value, upper=upper, unit=unit,
            unit_text=unit_text, relative_to=relative_to, start=start, end=end, written_operator=written,
        )

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
            named = self.exclude_before_operator_if_named.get(last)
            if named and any(n in text.lower() for n in named):
                return True
        if not has_operator:
            if not unit and (
                (start > 0 and text[start - 1] == "(" and text[end : end + 1] == ")" and not g("arkw"))
                or _INLINE_LABEL.match(text, end)
            ):
                return True  # "(1)", "2- proteinuria", "3. Negative": enumerations
            unit_at = m.start("unit1") if g("unit1") else m.start("unit") if g("unit") else start
            ut = g("unit1") or g("unit") or ""
            glued = len(ut) == 1 and ut.isupper() and unit_at > 0 and text[unit_at - 1].isdigit()
            if glued and (ut in ("D", "M") or re.match(r"-[A-Za-z]", text[unit_at + 1 : unit_at + 3])):
                # "2D echocardiogram", "3D images", "Keratograph 5M", "18F-FDG": a name
                # ("38C" stays a temperature)
                return True
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
        # the unit of this bound, not of a list's second number ("Day 35 or 7 days")
        own_unit = unit and (g("unit1") or (g("unit") and m.start("unit") < end))
        if not (g("pre") or g("temp") or g("opener")) and not (own_unit and not _LABEL_AFTER.match(text, end)):
            # "cycle 2", "visit 3", "DSM 5", "cycle 2 day 1": a numbered thing; "menstrual cycle
            # 21-35 days" or "a visit 4-7 days after surgery" have a unit and are read
            before = text[max(0, start - 25) : start].rstrip(" -:#")
            words = before.split()
            if words:
                last = _norm(words[-1])
                last2 = _norm(" ".join(words[-2:]))
                if last in self.exclude_before or last2 in self.exclude_before:
                    return True
        return False


# a number right after a unit: "cycle 2 day 1" numbers a day of a schedule
_LABEL_AFTER = re.compile(r"\s{0,2}\d")

# groups that belong to the first number of an expression (its end when a list is cut)
_A_PARTS = ("pre", "temp", "arkw", "ac", "ad", "aw", "ap", "ar", "aplus", "at", "aexp", "aper", "amult", "aref", "aref2", "arefn", "arefg", "arefx", "unit1")


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
