"""From raw records to TrialRecord: segmentation, then the spaCy pipeline on every item."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language

from criteria_nlp.budget import DEFAULT, RecordTimeout, resolve, time_budget, timeout_message
from criteria_nlp.pipeline.lost_signs import item_traces
from criteria_nlp.readers.base import CriteriaText, RawRecord, RecordError
from criteria_nlp.schema import Constraint, Criterion, TrialRecord, is_plain, rebuilt
from criteria_nlp.segment import segment
from criteria_nlp.segment.base import Item

NO_CRITERIA_WARNING = "the record has no eligibility criteria"


def _placer(item: Item, ct: CriteriaText):
    """Item-text offsets -> offsets of the field or file as written (wrapped lines joined in
    the item, escapes/markup/CR undone in the reading text: both maps are followed)."""
    if ct.source_map is None:
        return item.source_span  # the field as written is the reading text

    def place(i: int, j: int) -> tuple[int, int]:
        a, b = item.source_span(i, j)
        return ct.to_source(a, b)

    return place


def _updated(model, update: dict):  # noqa: ANN001, ANN202 - a pydantic model, the same class
    """``model.model_copy(update=update)`` without pydantic's generic copy steps (these
    models have no extra fields and no private attributes: then the result is the same)."""
    if not is_plain(model):
        return model.model_copy(update=update)
    return rebuilt(type(model), {**model.__dict__, **update}, model.__pydantic_fields_set__ | update.keys())


def _place_constraint(c: Constraint, place, written: str) -> Constraint:
    # The text becomes the source slice, line breaks included, so source[start:end] == text.
    start, end = place(c.start, c.end)
    update: dict = {"start": start, "end": end, "text": written[start:end]}
    if c.mention_start is not None and c.mention_end is not None:
        ms, me = place(c.mention_start, c.mention_end)
        update.update(mention_start=ms, mention_end=me, mention=written[ms:me])
    if c.alternates:
        alts = []
        for a in c.alternates:
            s, e = place(a.start, a.end)
            alts.append(_updated(a, {"start": s, "end": e, "text": written[s:e]}))
        update["alternates"] = alts
    return _updated(c, update)


def _criterion(item: Item, number: int, ct: CriteriaText, constraints: list[Constraint]) -> Criterion:
    prefix = "inc" if item.kind == "inclusion" else "exc"
    place = _placer(item, ct)
    written = ct.written
    placed = [_place_constraint(c, place, written) for c in constraints]
    start, end = ct.to_source(item.start, item.end)
    return Criterion(
        id=f"{prefix}-{number}",
        kind=item.kind,
        kind_source=item.kind_source,
        kind_confidence=item.kind_confidence,
        label=item.label,
        text=item.text,
        start=start,
        end=end,
        field=ct.field,
        constraints=placed,
    )


def _constraint_cap(nlp: Language | None) -> int | None:
    """How many comparisons the extractor reads per item at most (None: no cap known)."""
    if nlp is None or "criteria_constraints" not in nlp.component_names:
        return None
    return getattr(nlp.get_pipe("criteria_constraints"), "max_constraints", None)


def structure_raw(raw: RawRecord | RecordError, nlp: Language | None, repair: bool = True) -> TrialRecord:
    """Structure one record read by a reader. Never raises for bad content: a record
    that fails gets ``error`` set instead."""
    if isinstance(raw, RecordError):
        return TrialRecord(source=raw.source, source_format=raw.source_format, error=raw.problem)
    record = TrialRecord(
        source=raw.source,
        source_format=raw.source_format,
        trial_id=raw.trial_id,
        title=raw.title,
        conditions=list(raw.conditions),
        population=raw.population,
        warnings=list(raw.warnings),
    )
    items: list[tuple[Item, CriteriaText]] = []
    for ct in raw.criteria:
        for item in segment(ct):
            # the double spaces a deleted sign left, which the item text joined (lost_signs)
            item.lost_sign_traces = item_traces(item, ct.text)
            items.append((item, ct))
    if not items:
        if NO_CRITERIA_WARNING not in record.warnings:
            record.warnings.append(NO_CRITERIA_WARNING)
        return record
    found: list[list[Constraint]]
    cut_at = record_cap = None
    if nlp is None:
        found = [[] for _ in items]
    else:
        from criteria_nlp import pipeline

        record_cap = pipeline.MAX_RECORD_CONSTRAINTS
        found = pipeline.extract_items(
            nlp, [it for it, _ in items], population=raw.population, repair=repair, max_record_constraints=record_cap
        )
        cut_at = found.cut_at
    counters = {"inclusion": 0, "exclusion": 0}
    cap = _constraint_cap(nlp)
    for n, ((item, ct), constraints) in enumerate(zip(items, found, strict=True)):
        counters[item.kind] += 1
        criterion = _criterion(item, counters[item.kind], ct, constraints)
        record.criteria.append(criterion)
        if n == cut_at:
            record.warnings.append(
                f"only the first {record_cap:,} comparisons of the record were read: "
                f"{criterion.id} and the {len(items) - n - 1:,} items after it were not read "
                "(a record that holds more is not one trial's criteria)"
            )
        if cap is not None and len(constraints) >= cap:
            record.warnings.append(
                f"{criterion.id}: only the first {cap} comparisons were read "
                f"(an item of {len(item.text):,} characters is not a single criterion)"
            )
    if nlp is not None and "criteria_variables" in nlp.component_names:
        from criteria_nlp.abbreviations import teach_abbreviations

        texts = [ct.text[ct.start : ct.end] for ct in raw.criteria]
        teach_abbreviations(record, texts, nlp.get_pipe("criteria_variables").entries)
    if nlp is not None and repair:
        from criteria_nlp.pipeline.repair import harmonize_record

        harmonize_record(record)
    return record


def structure_records(
    raws: Iterable[RawRecord | RecordError], nlp: Language | None, repair: bool = True, record_timeout=DEFAULT
) -> Iterator[TrialRecord]:
    """Structure each record; ``record_timeout`` seconds at most per record (DEFAULT: the
    process default, 120 s unless set; None: no budget). See ``criteria_nlp.budget``."""
    seconds = resolve(record_timeout)
    for raw in raws:
        source = getattr(raw, "source", "<unknown>")
        try:
            with time_budget(seconds):
                record = structure_raw(raw, nlp, repair=repair)
        except RecordTimeout as exc:  # a record that stalls becomes an error, the run goes on
            record = TrialRecord(
                source=source,
                source_format=getattr(raw, "source_format", None),
                trial_id=getattr(raw, "trial_id", None),
                error=timeout_message(exc.seconds),
            )
        except Exception as exc:  # a batch never loses a record: report it and go on
            record = TrialRecord(source=source, error=f"internal error while structuring: {type(exc).__name__}: {exc}")
        yield record
