"""How ``criteria_constraints`` attaches a bound to what it constrains: the clause it
sits in, the lexicon variable or the words that name it, and its category (age, time
window, dose). The chunking rules themselves are in ``criteria_nlp.pipeline.attach``."""

import re

from criteria_nlp.pipeline.attach import Chunk
from criteria_nlp.pipeline.entity_index import starting_in, touching
from criteria_nlp.pipeline.grammar import AGE_UNITS, WINDOW_UNITS

# a full stop ends a clause, not the one of an abbreviation ("e.g. oxycodone", "St. John's wort")
# (the dot first: the look-behinds are tried at dots only)
_STOP = r"\.(?<![eE]\.[gG]\.)(?<![iI]\.[eE]\.)(?<!\b[vV]s\.)(?<!\bSt\.)(?<!\bDr\.)(?<!\bapprox\.)\s"
# words that can open an exception or an anchor phrase (a cheap test before the phrase is read)
_EXCEPT_OR_ANCHOR = re.compile(
    r"(?i)\b(?:except|other\s+than|excluding|besides|apart|but|before|after|following|prior)\b"
)
_NOTE_BEFORE = re.compile(r"\)\s*$")
_RELATIVE = re.compile(r"(?i)\b(?:that|which)\b")
_CLAUSE_END = re.compile(rf"[;\n•]|{_STOP}|,\s(?=[A-Za-z])")
_CLAUSE_END_WIDE = re.compile(rf"[;\n•]|{_STOP}")
_AGE_TEXT = re.compile(
    r"(?i)\b(?:years?[\s-]old|months?[\s-]old|weeks?[\s-]old|days?[\s-]old|old|older|younger|of age)\b"
)
# an abbreviated unit that says "years old" itself ("> 18 y.o.", "=35yo"); written out,
# "one year old" may be a thing's age ("transplants less than one year old"): _is_age
_AGE_UNIT_TEXT = re.compile(r"(?i)(?<=[\d\s])(?:y\.\s?o\.?|y/o|yo)(?![\w/])")
# what may follow a person's bare age: the end of the clause or a word that goes on about
# the person, not a noun the number counts ("patients >= 2 prior lines")
_PERSON_AGE_AFTER = re.compile(
    r"(?i)\s*(?:$|[,;.)]|(?:who|with|and|or|that|which|undergoing|presenting|scheduled|admitted|"
    r"referred|diagnosed|having|at|in|on|of\s+(?:both|either|any))\b)"
)
_INTEGERS = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d[.,]\d")
_LOOK_BACK_CUE = re.compile(r"(?i)\b(?:last|past|previous|preceding)\b")
_COMMA_BEFORE = re.compile(r",\s*$")
_DETERMINER_BEFORE = re.compile(r"(?i)\b(?:a|an|the)\s+$")
_ANCHOR_AFTER = re.compile(r"(?i)\s{0,3}(?:before|after|prior\s+to|following|preceding)\b")
_AND_THEN = re.compile(r"(?i)\s*,?\s*(?:and|or|and/or)\s+(?:for\s+|in\s+|until\s+|up\s+to\s+)?")
# a word right after a bare number that reads as a unit the grammar does not know
# ("> 25 EU/ml", "> 750K", "> 1500 MFI"): not what is counted when a thing is named before
_UNIT_LIKE = re.compile(r"[A-Za-zµ]{1,5}(?:/[A-Za-z0-9µ.]{1,6})+|[A-Z]{1,4}")
_MEASURED = {"lab", "vital", "score", "anthropometric", "measurement"}
_DOSE_KINDS = {"dose", "dose per body mass", "dose rate", "mass rate", "dose per body surface area"}
_AFTER_OF = re.compile(r"\s{0,3}(?:of\s+)?")


def _is_dose(unit: str | None, kind: str) -> bool:
    # a mass in kg is a body weight; other masses (mg, g, µg) are doses
    return kind in _DOSE_KINDS or (kind == "mass" and unit not in ("kg", "[lb_av]", "g/kg"))


class MentionAttachment:
    """The attachment half of ``ConstraintExtractor``: the variable, mention and category of a bound."""

    def _clause_start(self, text: str, start: int, prev_end: int, wide: bool = False) -> int:
        lo = max(prev_end, start - 120)
        cut = lo
        for hit in (_CLAUSE_END_WIDE if wide else _CLAUSE_END).finditer(text, lo, start):
            cut = hit.end()
        return cut

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
        timed = unit in WINDOW_UNITS
        dose = _is_dose(unit, kind)
        chunker = self.chunker
        ent = None
        span = None
        if mention_hint is not None:
            # "between the ages of 18 and 65": the words between the bounds' openers
            for e in starting_in(ents, mention_hint[0], mention_hint[1]):
                if e[0] >= mention_hint[0] and e[1] <= mention_hint[1]:
                    ent = e
                    break
        if ent is None:
            # a variable inside the expression or right after it ("18 years of age")
            after = _AFTER_OF.match(text[end : end + 12])
            reach = end + (after.end() if after else 0)
            # a multiple of a limit ends its phrase: "Bilirubin < 1.5 times normal | SGOT < 2
            # times normal" names nothing after it, unless "of" leads there
            ahead_ok = relative_to is None or "of" in text[end:reach]
            for e in touching(ents, start, end, reach):
                if unit == "a" and e[0] >= end and e[2] in _MEASURED:
                    # "over 18 years weighing 65 kg": years do not measure what follows
                    # (hours may: "2 hour glucose")
                    continue
                if (e[0] < end and e[1] > start) or (ahead_ok and end <= e[0] <= reach):
                    ent = e
                    break
        chunk, verb = chunker.before(text, clause_start, start)
        if (
            ent is not None
            and ent[2] == "age"
            and timed
            and chunker.age_of_a_thing(text, ent[0], ent[1], chunk)
            and not chunker.names_a_person(text, clause_start, start)
        ):
            ent = None  # "transplants less than one year old": the thing's age, a window on it
        # a window cue before the number ("within"), or an anchor after it ("15 days before
        # the test"): either way a window after a comma may bound the thing before the comma
        cued = timed and (g("temp") or _ANCHOR_AFTER.match(text, end))
        comma = _COMMA_BEFORE.search(text, max(0, clause_start - 3), start) if cued else None
        excepted = None  # where an exception or an anchor phrase begins ("other than | aspirin")
        if comma and chunk is None and verb is None:
            # "Major surgery, other than biopsy, within 2 weeks": the window after a comma
            clause_start = self._clause_start(text, start, prev_end, wide=True)
            chunk, verb = chunker.before(text, clause_start, comma.start())
            aside = chunker.aside_start(text, clause_start, comma.start())
            if aside is not None:
                # "an infection, as judged by the investigator, within 2 months": the aside
                # says how the thing before it is known, the window bounds that thing
                earlier, verb2 = chunker.before(text, clause_start, aside)
                if earlier is not None and not earlier.stray:
                    chunk, verb, excepted = earlier, verb2, aside
        if timed and chunk is not None and not chunk.stray:
            anchored = None
            if _EXCEPT_OR_ANCHOR.search(text, clause_start, chunk.start):
                phrase = chunker.phrase_back(text, clause_start, chunk)
                anchored = next(
                    (c for c in (chunk, phrase) if chunker.anchor_before(text, clause_start, c)), None
                )
            if (
                anchored is None
                and _AND_THEN.fullmatch(text, chunk.end, start)
                and chunker.period_of(text, clause_start, chunk)
            ):
                # "contraception during treatment and for 30 days after": the period the
                # earlier thing holds in, then the window it goes on for
                anchored = chunk
            opened = text.rfind("(", clause_start, anchored.start) if anchored is not None else -1
            if opened >= 0 and text.find(")", opened, start) < 0:
                anchored = None  # "(except steroids for 3 months)": the window is the exception's own
            if anchored is not None:
                # "heparin therapy prior to CPB within 7 days": CPB anchors the other phrase;
                # "malignancy except for treated carcinoma in situ in the past 5 years"
                earlier, verb2 = chunker.before(text, clause_start, anchored.start, cross_comma=True)
                if earlier is not None and not earlier.stray:
                    chunk, verb, excepted = earlier, verb2, anchored.start
        if (
            timed
            and excepted is None
            and chunk is not None
            and not chunk.stray
            and _RELATIVE.search(text, clause_start, chunk.start)
        ):
            head = chunker.relative_head(text, clause_start, chunk)
            if head is not None:
                # "medications that may affect sleep within 2 weeks": the medications
                chunk, verb, excepted = head, None, head.end
        noted = False
        if (
            timed
            and excepted is None
            and (note := _NOTE_BEFORE.search(text, clause_start, start)) is not None
        ):
            # "asthma exacerbation (requiring oral steroids) within 6 weeks": the bracket is a
            # note on the thing before it, and a name inside it is not what the window bounds
            opened = _opening(text, clause_start, note.start())
            if (
                opened is not None
                and opened > clause_start
                and chunker.is_note(text, opened + 1, note.start())
            ):
                earlier, verb2 = chunker.before(text, clause_start, opened)
                if earlier is not None and not earlier.stray:
                    chunk, verb, excepted = earlier, verb2, opened
                    noted = True
                elif verb2 is not None:
                    chunk, verb, excepted = None, verb2, opened  # "Sterilised (tubal ligation) 3 months ago"
        if timed and chunk is not None and not chunk.stray and (excepted is None or noted):
            # "pneumonia requiring antibiotics within 10 days", "heart failure controlled on
            # medication for 6 weeks": the event that needed the treatment, the thing whose
            # state has lasted, not the treatment named after the verb
            head = (
                chunker.need_head(text, clause_start, chunk)
                or chunker.state_head(text, clause_start, chunk)
                or chunker.route_head(text, clause_start, chunk)
            )
            if head is not None:
                chunk, verb, excepted = head, None, head.end
        if timed and (chunk is None or chunk.stray) and (listed := chunker.listed_after(text, clause_start, start, end)):
            chunk, verb = listed, None  # "any of the following within 6 months: stroke, ..."
        ahead = chunker.after_bracket(text, start, end, clause_end, timed) if not dose else None
        if (
            ahead is None
            and not timed
            and not dose
            and ent is None
            and chunk is not None
            and not chunk.stray
            and text[chunk.start : chunk.end].lower().endswith(("score", "scores"))
        ):
            wide = self._clause_start(text, start, prev_end, wide=True)
            instrument_first = chunker.instrument_before(text, min(wide, clause_start), chunk)
            if instrument_first is not None:
                chunk = ahead = instrument_first  # "Beck Depression Inventory for depression score >= 20"
        if ahead is not None and ent is None:
            # "recent (< 6 months) cardiac event": the thing after the bracket (its lexicon
            # name when the name is the whole thing: "change in body mass" is not the weight)
            chunk, verb = ahead, None
            ent = next(
                (
                    e
                    for e in starting_in(ents, ahead.start, ahead.end)
                    if (e[0], e[1]) == (ahead.start, ahead.end)
                ),
                None,
            )
        if ent is not None:
            # "Age 18 to 70 years old", "CrCl >= 50 mL/min (Cockcroft-Gault)": the same
            # variable named before the bound names it first
            for e in starting_in(ents, clause_start, start):
                if clause_start <= e[0] and e[1] <= start and (e[2] == "age" == ent[2] or e[3] == ent[3]):
                    ent = e
        best = None
        counts_ahead = unit is None and relative_to is None and not timed and chunker.counts_after(text, end)
        if ent is None and ahead is None and not counts_ahead:
            for e in starting_in(ents, clause_start, start):
                if clause_start <= e[0] and e[1] <= start and (excepted is None or e[1] <= excepted):
                    best = e  # (not a name inside the exception or the anchor phrase)
            # the last lexicon name in the clause, unless another thing stands between
            # it and the bound ("HbA1c level of", but not "ALT ... and cancer within")
            if best is not None and (
                chunker.only_measure_words(text, best[1], start)
                or chunk is None
                or chunk.stray
                or (
                    chunk.start < best[1]
                    and best[0] < chunk.end
                    and chunker.only_measure_words(text, best[1], chunk.end)
                )
            ):
                ent = best  # (a chunk going on past the name heads elsewhere: "PDA diameter")
        if ent is None and ahead is None and not timed and not dose and chunk is not None and not chunk.stray:
            setting = chunker.setting_start(text, clause_start, chunk)
            inside = text.count("(", clause_start, chunk.start) != text.count(")", clause_start, chunk.start)
            if (
                setting is not None
                and not inside
                and ")" not in text[chunk.end : start]
                and chunker.only_measure_words(text, chunk.end, start)
            ):
                # "oxygen saturation on room air < 92%": the measurement, not where it was taken
                gap = [w.lower() for w in text[best[1] : setting].split()] if best is not None else []
                if (
                    best is not None
                    and best[1] <= setting
                    and best[2] in _MEASURED
                    and all(w in chunker.measure for w in gap)
                ):
                    ent = best
                elif (measured := chunker.measured_before(text, clause_start, setting)) is not None:
                    chunk = measured
        if ent is not None and dose and ent[2] not in ("dose", "other"):
            ent = None  # "steroid pulse therapy (>1.5mg/kg)": a dose, whatever word precedes
        if (
            ent is None
            and unit == "%"
            and (share := chunker.share_of(text, clause_start, start, end, clause_end))
        ):
            chunk, verb = share, None  # "radiation to more than 10% of bone": the share of bone
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
                unit is None
                and relative_to is None
                and not timed
                and (counted := chunker.counted(text, end, clause_end)) is not None
                and not (
                    _UNIT_LIKE.fullmatch(text, counted.start, counted.end)
                    and chunk is not None
                    and not chunk.stray
                )
            ):
                span = (counted.start, counted.end)  # a count counts what follows it
            elif (
                _DETERMINER_BEFORE.search(text, max(clause_start, start - 6), start)
                and (held := chunker.after(text, end, clause_end, need_link=False)) is not None
                and held.start - end <= 2
            ):
                span = (held.start, held.end)  # "women with a > 20% | lifetime risk": the bound is its modifier
            elif chunk is not None and not chunk.stray:
                span = (chunk.start, chunk.end)
            elif (
                not (timed and unit is None)  # ("5 half-lives": the measure of time, not the thing)
                and (
                    after := chunker.after(
                        text, end, clause_end, need_link=unit is not None or relative_to is not None
                    )
                )
                is not None
            ):
                span = (after.start, after.end)  # counts: "at least 2 prior lines of therapy"
            elif timed and verb is not None and not chunker._stray(text, *verb):
                span = verb  # "treated within 4 weeks": the verb names the event
        if ent is not None and span is not None and span[1] <= start:
            span = self._with_name_before(text, clause_start, span)
        category = label or "other"
        if timed and category != "age":
            window_cue = g("temp") or ""
            if unit in AGE_UNITS and (
                _AGE_UNIT_TEXT.search(text, start, end) is not None
                or self._is_age(text, clause_start, start, end, ent, chunk, span, unit, window_cue)
            ):
                category, variable = "age", "age"
                if ent is None:
                    span = self._age_words(text, start, end, span, g)
            else:
                category = "temporal"
                if label == "dose" and span is not None:
                    variable = text[span[0] : span[1]]  # "aspirin for > 7 days": its use, not its dose
                if (
                    span is not None
                    and span != verb
                    and (ent is None or (ent[2] in ("dose", "other") and span[1] <= start))
                ):
                    # the window bounds the whole phrase: "chemotherapy or radiotherapy",
                    # "Treatment with probiotics or prebiotics", "surgery on the knee",
                    # "pain medications, e.g. oxycodone"
                    wide = self._clause_start(text, start, prev_end, wide=True)
                    # a phrase after the bound runs back to the bound, not over it ("within
                    # 5 half-lives | of the study drug")
                    phrase = chunker.phrase_back(text, end if span[0] >= end else wide, Chunk(*span))
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
        elif (
            unit is None
            and not relative_to
            and ent is None
            and category == "other"
            and chunker.is_person(text, chunk)
            and not text[chunk.end : start].strip()
            and _PERSON_AGE_AFTER.match(text, end)
            and all(1 <= int(n) <= 120 for n in _INTEGERS.findall(text, start, end))
            and not _DECIMAL.search(text, start, end)
        ):
            # "patients < 18", "any patient >= 18 who presents": a whole number right after a
            # person, with nothing after it that it counts, is the person's age
            category, span = "age", (chunk.start, chunk.end)
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

    def _is_age(self, text, clause_start, start, end, ent, chunk, span, unit, window_cue="") -> bool:
        """A number of years is an age only when the text speaks of age: an age word
        around it ("aged", "years old", "of age", "older"), a person it is the age of
        ("patients >= 18 years", "children 2 to 12 years"), or nothing else in its clause
        that it could measure (an item "18 years or above")."""
        chunker = self.chunker
        if ent is not None:
            return ent[2] == "age"
        if _LOOK_BACK_CUE.search(window_cue):
            # "in the last 6 months", "within the past 2 years": a span of time looked back
            # over is a window, whatever age word or person is near ("the young adult
            # mean) within the past 24 months", "in the last 6 months, patients with")
            return False
        tail_end = min(len(text), end + 15)
        cue = self.age_cues.match(text[end:tail_end].lstrip(" ,"))
        if (
            chunker.speaks_of_age(text, start, tail_end)
            or cue
            or chunker.speaks_of_age(text, max(clause_start, start - 30), start)
        ):
            # an age, unless only "older"/"old" is said of a thing: "ulcers older than 1
            # year" is how long the thing has lasted
            return not (
                (cue is None or cue.group(0).lower() in chunker.relative_age)
                and chunker.age_of_a_thing(text, max(clause_start, start - 30), tail_end, chunk)
                and not chunker.names_a_person(text, clause_start, start)
            )
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


def _opening(text: str, lo: int, close: int) -> int | None:
    """The "(" the ")" at ``close`` closes, not before ``lo``."""
    depth = 0
    for i in range(close, lo - 1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return None


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in "+%)"):
        end -= 1
    return start, end
