"""How ``criteria_constraints`` takes in the bounds of its small readers (calendar dates,
durations in two units, fractions, TNM categories): each replaces what the value grammar read inside its span, is
attached to its thing like any other bound, and takes its place in text order."""

from criteria_nlp.pipeline.calendar_dates import DateBound
from criteria_nlp.pipeline.compound_durations import CompoundBound
from criteria_nlp.pipeline.entity_index import last_named_before
from criteria_nlp.pipeline.tnm_stages import TnmBound
from criteria_nlp.pipeline.written_fractions import FractionBound
from criteria_nlp.schema import Alternate, Constraint


def _without(found: list[Constraint], bounds: list) -> list[Constraint]:
    """``found`` without what the readers' ``bounds`` overlap (they replace it)."""
    return [c for c in found if not any(c.start < b.end and b.start < c.end for b in bounds)]


def _merged(extractor, found: list[Constraint], bounds: list, text: str, ents, build) -> list[Constraint]:
    """``found`` without what overlaps ``bounds``, plus ``build(bound, attachment)`` of each."""
    kept = _without(found, bounds)
    ends = sorted(c.end for c in kept)
    for b in bounds:
        prev_end = max((e for e in ends if e <= b.start), default=0)
        written, slot = b.written, "temp" if isinstance(b, DateBound) else "pre"

        def group(name: str, _written=written, _slot=slot):
            # the reader's bounding word stands where the grammar keeps its kind of word
            return _written if name == _slot else None

        unit = getattr(b, "unit", None)
        attachment = extractor._attach(text, b.start, b.end, unit, None, ents, prev_end, None, group)
        kept.append(build(b, attachment))
    kept.sort(key=lambda c: c.start)
    return kept


def _named(text: str, variable, span) -> dict:
    return {
        "variable": variable,
        "mention": text[span[0] : span[1]] if span else None,
        "mention_start": span[0] if span else None,
        "mention_end": span[1] if span else None,
    }


def with_compounds(extractor, found: list[Constraint], bounds: list[CompoundBound], text: str, ents) -> list[Constraint]:
    """Durations written in two units ("34 weeks 6 days") in place of the parts the value
    grammar read one by one."""

    def build(b: CompoundBound, attachment) -> Constraint:
        variable, span, category, _unit = attachment
        return Constraint(
            **_named(text, variable, span), category=category, operator=b.operator, value=b.value,
            upper=b.upper, unit=b.unit, unit_text=b.unit_text, start=b.start, end=b.end,
            text=text[b.start : b.end], written_operator=b.written,
        )

    return _merged(extractor, found, bounds, text, ents, build)


def with_dates(extractor, found: list[Constraint], dates: list[DateBound], text: str, ents) -> list[Constraint]:
    """Calendar-date bounds; a date wins over a number the value grammar read inside it
    ("between 2 January 2005 and ...")."""

    def build(d: DateBound, attachment) -> Constraint:
        variable, span, _category, _unit = attachment
        if variable == "age":
            variable, span = None, None  # a date is no age ("patients aged ... admitted before 2019")
        value, upper = d.values()
        return Constraint(
            **_named(text, variable, span), category="temporal", operator=d.operator, value=value,
            upper=upper, date=d.lower.iso(), upper_date=d.upper.iso() if d.upper else None,
            start=d.start, end=d.end, text=text[d.start : d.end], written_operator=d.written,
        )

    return _merged(extractor, found, dates, text, ents, build)


def with_fractions(extractor, found: list[Constraint], bounds: list[FractionBound], text: str, ents) -> list[Constraint]:
    """Acuity in Snellen notation and scores out of their scale's top, in place of what the
    value grammar read inside them ("< 1/10" read as "< 1")."""

    def build(b: FractionBound, attachment) -> Constraint:
        variable, span, category, _unit = attachment
        if variable == "age":
            variable, span = None, None
        acuity = extractor.fraction_scan.acuity_variable
        if b.acuity and variable != acuity:
            named = last_named_before(ents, acuity, b.start, 80)
            if named is not None and not any(ch in text[named[1] : b.start] for ch in ";\n"):
                variable, span = acuity, (named[0], named[1])
        if not b.acuity and category == "other":
            category = "score"
        alternates = [
            Alternate(value=v, unit=b.unit, start=s, end=e, text=text[s:e]) for v, s, e in b.alternates
        ]
        return Constraint(
            **_named(text, variable, span), category=category, operator=b.operator, value=b.value,
            upper=b.upper, unit=b.unit, unit_text=b.unit_text, scale_max=b.scale_max, start=b.start,
            end=b.end, text=text[b.start : b.end], written_operator=b.written, alternates=alternates,
        )

    return _merged(extractor, found, bounds, text, ents, build)


def with_tnm(extractor, found: list[Constraint], bounds: list[TnmBound], text: str) -> list[Constraint]:
    """TNM categories ("T1-3 N0 M0"), in place of the numbers the value grammar read in
    them ("== -3"); each bounds its own category, named by its letter (no attachment step)."""
    names = extractor.tnm_scan.variables
    made = [
        Constraint(
            **_named(text, names[b.letter], b.mention), category="score", operator=b.operator,
            value=b.value, upper=b.upper, start=b.start, end=b.end, text=text[b.start : b.end],
            written_operator=b.written,
        )
        for b in bounds
    ]
    return sorted(_without(found, bounds) + made, key=lambda c: c.start)
