"""The steps of ``criteria_constraints`` that read a bound together with the one before
it: coordinated variables, blood pressure pairs, a second bound continuing the first one's
variable, restatements in another unit, durations, groups of people and ages."""

import re

from criteria_nlp.pipeline.attach import Chunk
from criteria_nlp.pipeline.constraint_mentions import _CLAUSE_END
from criteria_nlp.pipeline.constraint_values import _BP_DIASTOLIC, _BP_DIASTOLIC_BARE
from criteria_nlp.pipeline.entity_index import first_named_before
from criteria_nlp.pipeline.grammar import AGE_UNITS, WINDOW_UNITS
from criteria_nlp.schema import Constraint

_RESTATE_OPEN = re.compile(r"\s*[(\[]\s*(?:(?:or|i\.e\.,?|approximately|approx\.?|about|ca\.?|~|≈)\s*)?")
_RESTATE_SLASH = re.compile(r"\s*/\s*")
_RESTATE_CLOSE = re.compile(r"\s*[)\]]")
_DURATION_GAP = re.compile(
    r"(?i)[\s,)]*(?:for|during|over|in|within|since|lasting|the|last|past|previous|a|period|of|\s)*"
)
_FOR_GROUP = re.compile(
    r"(?i)\s*(?:for|in|among)\s+(?:the\s+)?(?P<who>[a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s*(?:,|and|or|;|,\s*and|,\s*or)\s*"
)
_BRACKET_GAP = re.compile(
    r"\s*(?:\S*/\S*\s*)?\((?:[^()]|\([^()]*\))*\)[\s,]*(?:(?:for|during|over|in|within|the|last|past|a|of)\s+)*"
)
_NOTE_THEN_OR = re.compile(r"\s*(\([^()]{1,30}\))\s*,?\s*(?:or|and|and/or)\s*")
_RANGE_JOIN = re.compile(r"(?i)\s*,?\s*(?:and|but|or|and/or|,)\s*")
_COORDINATION = re.compile(r"\s*(?:,|/|or|and|and/or|,\s*or|,\s*and)\s*")
# "within 30 days or 5 half-lives": another measure of the same window
_ALTERNATIVE = re.compile(r"\s{0,3},?\s{0,3}(?:or|/)\s{0,3}")
# "≥ 20 mm with conventional techniques or ≥ 10 mm", "> 7.2 mg/kg IV or > 9 mg/kg orally":
# a few words (no number, sign or bracket) qualify the first bound, then a conjunction
_QUALIFIER_THEN_OR = re.compile(r"(?i)\s*((?:[a-z][\w.\-]*\s+){0,3}[a-z][\w.\-]*)\s*,?\s*(?:or|and|and/or)\s+")
# between a blood pressure pair and a second one it is joined to ("> 140/90 or < 90/60")
_PAIR_JOIN = re.compile(r"(?i)\s{0,3},?\s{0,3}(?:or|and|but|and/or)?\s{0,3}")
_SHORT_AFTER = 3  # characters at most between a bound and a qualifier word after it ("mg/kg orally")


def named_as(prev: Constraint, c: Constraint, **update) -> Constraint:
    """``c`` bounding the thing ``prev`` names (its variable and mention with offsets),
    with ``update`` on top."""
    return c.model_copy(
        update={
            "variable": prev.variable,
            "mention": prev.mention,
            "mention_start": prev.mention_start,
            "mention_end": prev.mention_end,
            **update,
        }
    )


class NeighbourSteps:
    """The post-steps of ``ConstraintExtractor``: how a bound relates to the one before it."""

    def _coordinated(self, c: Constraint, text: str, ents) -> list[Constraint]:
        """'ALT or AST > 3 x ULN' bounds both: one constraint per coordinated variable."""
        idx = first_named_before(ents, c.variable, c.start)
        if idx is None:
            return [c]
        chain = [ents[idx]]
        for j in range(idx - 1, -1, -1):
            e = ents[j]
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
                    update={
                        "variable": e[3],
                        "mention": e[4],
                        "mention_start": e[0],
                        "mention_end": e[1],
                        "category": category,
                    }
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

    def _pressure_pair(self, c: Constraint, found: list[Constraint], text: str) -> tuple[Constraint, re.Match | None]:
        """``c`` and the diastolic half after it, when ``c`` is the systolic half of a pair:
        "140/90 mmHg", or without a unit after a bound on a blood pressure ("BP > 140/90",
        "... or < 90/60" joined to a pair before it, which then names the pressure)."""
        pair = _BP_DIASTOLIC.match(text, c.end)
        if pair is not None or c.unit is not None:
            return c, pair
        if c.variable in (None, "diastolic blood pressure") and _after_pressure_pair(found, c, text):
            c = named_as(found[-1], c, variable="blood pressure")
        return c, _BP_DIASTOLIC_BARE.match(text, c.end) if c.variable == "blood pressure" else None

    def _blood_pressure(
        self, c: Constraint, pair: re.Match, text: str, end: int, prev: Constraint | None = None, prev_end: int = 0
    ) -> list[Constraint]:
        """'BP ≥ 140/90 mmHg': one bound on the systolic and one on the diastolic pressure,
        both spanning the whole expression (so a lost operator is repaired once for both)."""
        names = ("systolic blood pressure", "diastolic blood pressure")
        if c.variable in names:
            names = (c.variable, c.variable)  # "SBP/DBP" names come apart in the lexicon
        if c.mention_start is not None and c.start <= c.mention_start and c.mention_end <= end:
            # "hypertension (> 170/110 mmHg)": the first number, read without a unit, took
            # the pair's own second half ("110 mmHg") for what it counts; the pressure is
            # named before the pair, or where the other end of its range named it
            c = self._pressure_named_before(c, text, prev, prev_end)
        systolic = c.model_copy(
            update={
                "variable": names[0],
                "category": "vital",
                "unit": "mm[Hg]",
                "unit_text": pair.group(2) or None,
                "end": end,
                "text": text[c.start : end],
            }
        )
        return [systolic, systolic.model_copy(update={"variable": names[1], "value": float(pair.group(1))})]

    def _pressure_named_before(self, c: Constraint, text: str, prev: Constraint | None, prev_end: int) -> Constraint:
        """The thing a blood pressure pair naming nothing of its own bounds: the other end of
        the range it closes ("≥ 135/85 mm Hg but < 170/105 mm Hg"), else the noun chunk
        before it in its clause ("uncontrolled hypertension (> 180/100 mmHg)"), else nothing."""
        if (
            prev is not None
            and prev.mention is not None
            and prev.unit == "mm[Hg]"
            and _RANGE_JOIN.fullmatch(text, prev.end, c.start)
        ):
            return named_as(prev, c)
        chunk, _ = self.chunker.before(text, self._clause_start(text, c.start, prev_end), c.start)
        if chunk is None or chunk.stray:
            return c.model_copy(update={"mention": None, "mention_start": None, "mention_end": None})
        return c.model_copy(
            update={
                "mention": text[chunk.start : chunk.end],
                "mention_start": chunk.start,
                "mention_end": chunk.end,
            }
        )

    def _continue_variable(self, prev: Constraint, c: Constraint, text: str, ents) -> Constraint:
        """'BMI < 18.5 or > 30 kg/m2': a second bound joined to the first by a conjunction,
        with no variable of its own, bounds the first one's variable."""
        if (
            c.category == "temporal" == prev.category
            and c.mention is None
            and prev.mention is not None
            and _COORDINATION.fullmatch(text[prev.end : c.start])
        ):
            return named_as(prev, c)  # "within 30 days or fewer than 5 half-lives": the same event
        note = _NOTE_THEN_OR.fullmatch(text, prev.end, c.start)
        if (
            note
            and prev.mention is not None
            and c.mention_start is not None
            and note.start(1) <= c.mention_start < note.end(1)
        ):
            # "TBI (> 500 cGy (single) or > 800 cGy (fractionated))": the note qualifies the
            # first bound; the second bounds the same thing
            return named_as(prev, c)
        qualified = _QUALIFIER_THEN_OR.fullmatch(text, prev.end, c.start)
        if (
            qualified
            and prev.mention is not None
            and c.mention_start is not None
            and c.unit is not None
            and c.unit == prev.unit
            and (
                qualified.start(1) <= c.mention_start < qualified.end(1)
                or (0 <= c.mention_start - c.end <= _SHORT_AFTER and " " not in (c.mention or " ").strip())
            )
            and not any(prev.end <= e[0] < max(c.end, c.mention_end or c.end) for e in ents)
        ):
            # the words between (or one word right after the second bound) qualify a bound
            # of the same kind: the second bound has no thing of its own
            return named_as(prev, c)
        if (
            c.mention is None
            and prev.mention is not None
            and c.unit is not None
            and c.unit == prev.unit
            and c.category == prev.category
            and _RANGE_JOIN.fullmatch(text, prev.end, c.start)
        ):
            # "protein excretion above 300 mg/day but below 3000 mg/day": the other end of
            # the same thing's range, in its unit, naming nothing itself
            return named_as(prev, c)
        if (
            c.category != "other"
            or prev.category == "other"
            or not _COORDINATION.fullmatch(text[prev.end : c.start])
        ):
            return c
        if c.unit != prev.unit and (c.unit is None or prev.unit is not None):
            # "= 5 for women up to the age of 50 years and = 4": a bare number after a
            # bound with a unit is not that bound's variable; a unit written only on the
            # second bound is shared ("< 18.5 or > 30 kg/m2")
            return c
        if any(prev.end <= e[0] < c.end + 12 for e in ents):
            return c
        return named_as(prev, c, category=prev.category)

    def _alternative_window(self, prev: Constraint, c: Constraint, text: str) -> Constraint:
        """'within 30 days or 5 half-lives, whichever is longer': a bare duration offered
        as another measure of a window is that window, with its operator and its thing."""
        if not (
            c.operator == "==" and c.written_operator is None and c.upper is None
            and c.unit in WINDOW_UNITS and prev.unit in WINDOW_UNITS
            and prev.category == "temporal" and prev.operator in ("<", "<=", ">", ">=")
            and _ALTERNATIVE.fullmatch(text, prev.end, c.start)
        ):
            return c
        update = {"operator": prev.operator, "written_operator": prev.written_operator, "category": "temporal"}
        return named_as(prev, c, **update) if prev.mention is not None else c.model_copy(update=update)

    def _same_age(self, prev: Constraint, c: Constraint, text: str) -> Constraint:
        """'Age >= 21 and <= 60 years', 'age > 21 or less than 2': the second bound of an
        age joined by a conjunction bounds the same age, named where the first was."""
        if (
            prev.category != "age"
            or prev.mention is None
            or not _COORDINATION.fullmatch(text[prev.end : c.start])
        ):
            return c
        if c.category == "age" and c.mention_start is not None and c.mention_start >= c.start:
            if prev.mention_start >= prev.start:
                # "younger than 6 months and older than 80 years": each bound is named by
                # its own age word; no name before them both to share
                return c
            update = {}  # its own age word or unit only: the first one's name is the name
        elif c.category == "other" and c.unit is None and c.mention is None and not c.relative_to:
            update = {"category": "age", "unit": prev.unit}
        elif (
            c.category == "temporal"
            and c.unit in AGE_UNITS
            and prev.unit in AGE_UNITS
            and not c.relative_to
            and (c.mention_start is None or c.mention_start < prev.start)
        ):
            # "whose age >= 24 months and <= 36 months": the other end of the same age, not
            # a window on the thing named before them both
            update = {"category": "age"}
        else:
            return c
        return named_as(prev, c, **update, variable="age")

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
        return named_as(prev, c, category=category)

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
        return named_as(prev, c)


def _after_pressure_pair(found: list[Constraint], c: Constraint, text: str) -> bool:
    """Whether ``c`` follows a systolic/diastolic pair it is joined to ("BP > 140/90 or < 90/60")."""
    return (
        len(found) >= 2
        and _PAIR_JOIN.fullmatch(text, found[-1].end, c.start) is not None
        and found[-1].variable == "diastolic blood pressure"
        and found[-2].variable == "systolic blood pressure"
        and (found[-1].start, found[-1].end) == (found[-2].start, found[-2].end)
    )
