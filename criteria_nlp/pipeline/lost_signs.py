"""Lost-sign forms other than a bare "=": character references, "*", and deleted signs.

Real exports lose a comparison sign in several ways besides writing it "=":

* a character reference left as text, whole ("&#8805;", "&#x2265;", "&ge;", "&gt;") or with
  its "&#" or "&" stripped ("PLT 8805;100 x 10^9/L", "ge; 18"). Before a number it is read
  as the sign, ``repaired`` with ``written_operator`` as written and a confidence estimated
  by simulation (``resources/lost_signs.json``; :mod:`criteria_nlp.evaluation.lost_signs`);
* "*" written for a lost ">=" or "<=" ("HbA1C * 7%", "NIS * 10 and * 130"), in a record
  that writes no sign character an export loses ("≥", "≤": a typed ">=" survives it) and
  uses "*" between a word and a number: read as a
  bare "=" and weighed like one, with the votes of ``criteria_repair``; a "*" glued to a
  word (a footnote mark) or after a number (a product, "2 * ULN") stays as it is;
* a sign deleted outright ("SpO2  94% on room air"): a bare number is read as a bound only
  with evidence - a record without any real sign, and a double space left where the sign
  was, or a variable that needs a bound in a record that shows such traces elsewhere - and
  only when the repair's votes give it a direction; ``written_operator`` stays null.

How it runs: ``criteria_constraints`` reads a *scan* of the text, in which every sign form
found here is replaced, at the same length (offsets hold), by its sign padded with spaces
before it ("8805;" -> "    ≥", "*" -> "="). Afterwards :func:`finish` gives each constraint
back its text as written, its start at the sign form, the written form, and decides the
"*" and deleted-sign readings (only when the repair component is enabled; the decisions
live in :mod:`criteria_nlp.pipeline.lost_sign_decisions`). The bare numbers of a record
without a trace of their own are decided once the whole record is read (:func:`record_pass`,
called by ``extract_items``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from criteria_nlp.schema import Constraint
from criteria_nlp.segment.patterns import holds_any

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
DATA_PATH = RESOURCES / "lost_signs.json"
PROFILE_KEY = "criteria_nlp.lost_sign_profile"
TRACES_KEY = "criteria_nlp.lost_sign_traces"

# Real signs that survive in a record: a record that writes any of them lost none outright.
# (typed two-character signs too: a record that types ">=" did not lose its "≥" to ASCII)
# A written sign: one of the characters, or ">=", "<=", "=>", "=<", ">/=", "</=" not after
# another "<", ">" or "=". The pattern opens with one character class and looks behind only
# then: the engine skips ahead to those characters. (An alternation of one branch per
# character, r"[≥≤⩾⩽≧≦]|>(?<![<>=]>)(?:=|/=)|<(?<![<>=]<)(?:=|/=)|=(?<![<>=]=)[><]", finds
# the same and is tried at every position: 3.7 times slower on real records.)
_REAL_SIGNS = re.compile(r"[≥≤⩾⩽≧≦<>=](?:(?<=[≥≤⩾⩽≧≦])|(?<![<>=][<>])(?<=[<>])/?=|(?<![<>=]=)(?<==)[><])")
_SIGN_CHARACTER = re.compile(r"[=≥≤⩾⩽≧≦]")  # in every match of _REAL_SIGNS
_SIGN_CHAR = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
# What may follow a sign form: an '=' of a typed '>=' ("&gt;=18"), spaces, then a number.
_NUMBER_AHEAD = r"(?=(?:/?=)?[ \t]{0,2}[-−+]?\.?\d)"
# "*" between a word (or a bracket, "%", ":") and a number: "HbA1C * 7%", "and * 130",
# "age*18", "Age: *18", "(*20% of blasts", "(* 6 months)" (not a footnote call "(*1)"); after
# a comma or semicolon ("women, * 18 years"); at the start of an item's text with a space
# after it ("- * 18 years": a bullet "* " is the item's label already; a glued "*18 years" at
# the start may be a bullet the segmenter did not take, "*18 years or older", "*Consent").
# Not glued to the word with a space after ("HbA1c* 7", a footnote mark), not after a number
# ("2 * ULN", "10*9/L"), not doubled ("**"), not in an HLA allele name: a one-letter locus
# glued to it ("HLA-A*02:01", "B*5701"; "DRB1*15" has a digit before the "*"), not before
# a power of ten per unit.
_STAR = re.compile(
    r"(?:(?<=[A-Za-z)\]%:])[ \t]{1,2}\*[ \t]{0,2}|(?<=[A-Za-z])(?<!\b[ABCEG])\*"
    r"|(?<=[(\[])\*(?!\d{1,2}[)\]])[ \t]{0,2}|(?<=[,;])[ \t]{0,2}\*[ \t]{0,2}|^[ \t]{0,2}\*[ \t]{1,2})"
    r"(?![*])(?=[-−]?\.?\d)(?<!\*\*)"
    r"(?!10(?:\^\d{1,2}|9|12) ?/)"  # a product with a power of ten per unit ("1 * 109/L": x 10^9/L)
)
# "?" where an export that could not write "≥"/"≤" put its replacement character: between a
# word (or a bracket, "%", ":", ",", ";", the item's start) and a number, spaced or glued
# ("count ? 1,500/mm3", "rate ?24/min", "? 18 years"); not a question before a list label
# or a code ("Pregnant? 1. Yes", "? 0=none").
_QUESTION = re.compile(
    r"(?:(?<=[A-Za-z)\]%:])[ \t]{0,2}\?[ \t]{0,2}|(?<=[(\[,;])[ \t]{0,2}\?[ \t]{0,2}|^[ \t]{0,2}\?[ \t]{0,2})"
    r"(?![?])(?=[-−]?\.?\d)(?!\d{1,2}[.)](?:\s|$))(?!\d+ ?=)"  # nor before a code, "0=none"
    r"(?!\d[^?\n]{0,40}[A-Za-z0-9]\?(?:[\s,.;:)]|$))"  # nor a lost quote mark: 'the ?5 half-lives? period'
)
# A text that names star alleles of a gene ("UGT1A1*28", "CYP2C19*2", a diplotype "*1/*17"):
# its other "*" before numbers are allele names too ("other than *1 or *28 (e.g., *6)").
_STAR_ALLELES = re.compile(r"[A-Z]{2,}\d+[A-Z]\d+\*\d|\*\d{1,3}[A-Z]?/\*\d")
_STAR_FOOTNOTE = re.compile(r"(?<=[A-Za-z)\]])\*+(?=[\s,;.)]|$)(?![ \t]{0,2}\d)")
# A double space where a sign was: a word, exactly two spaces, a number.
# (not a list label after it: "criteria  2. Age")
_TRACE = re.compile(r"(?<=[A-Za-z0-9%)\]:])  (?=[-−]?\.?\d)(?!\d{1,2}[.)](?:\s|$))")


@dataclass(frozen=True)
class Sign:
    """One sign form in the text: ``text[start:end]`` is the form as written."""

    start: int
    end: int
    operator: str  # ">=", "<=", ">", "<", or "*" (a lost >=/<=, direction unknown)
    form: str  # "entity", "numeric_stripped", "named_stripped", "short_numeric_stripped", "star", "question", "symbol_font"


@dataclass
class Profile:
    """What a record (or a single item) shows of how it writes its signs."""

    real_signs: int = 0
    # of those, the characters an export loses ("≥", "≤", ...: not ASCII); a typed ">="
    # survives the export that turns them into "*", so it says nothing of what "*" stands for
    character_signs: int = 0
    star_numbers: int = 0
    question_numbers: int = 0  # "?" where a sign can stand (see _QUESTION)
    question_marks: int = 0  # every "?"
    star_footnotes: int = 0
    traces: int = 0

    @property
    def stars_are_signs(self) -> bool:
        return self.character_signs == 0 and self.star_numbers > 0 and self.star_numbers > self.star_footnotes

    @property
    def questions_are_signs(self) -> bool:
        """'?' for a lost sign: no sign character survived, and most '?' stand before a number
        (a record that asks questions has its '?' elsewhere)."""
        return self.character_signs == 0 and self.question_numbers > 0 and 2 * self.question_numbers > self.question_marks

    @property
    def may_have_deleted(self) -> bool:
        return self.real_signs == 0


@dataclass
class Data:
    entities: re.Pattern
    forms: dict[str, tuple[str, str]]  # lower-case code -> (operator, family)
    confidence: dict[str, float]
    star: dict = field(default_factory=dict)
    question: dict = field(default_factory=dict)  # "?" for a lost sign: its calibration
    deleted: dict = field(default_factory=dict)
    model: object = None  # lost_sign_model.DeletedModel: the deleted-sign decision, or None
    symbol_font: dict = field(default_factory=dict)  # character -> operator ("³": ">=")
    symbol_regex: re.Pattern | None = None
    money_regex: re.Pattern | None = None
    # a text holding none of these has no sign form but a deleted sign's trace (``prepare``)
    form_characters: tuple[str, ...] = (";", "*", "?")


def _symbol_regexes(rules: dict) -> tuple[dict, re.Pattern | None, re.Pattern | None]:
    """The Symbol-font signs of the rules, the pattern of one before a number (not after a
    digit, "10³"; "³" not after "m", the cubic units "mm³ 2"), and of the money words."""
    signs = dict(rules.get("signs", {}))
    if not signs:
        return signs, None, None
    chars = "".join(re.escape(ch) for ch in signs)
    sign = re.compile(rf"(?<![\d.,])[{chars}](?<!m³)(?=[ \t]?[-−]?\.?\d)")
    words = "|".join(re.escape(w) for w in rules.get("money_words", []))
    money = re.compile(rf"[ \t]?[-−]?[\d.,]+[ \t]*(?:[kK]\b)?[ \t]*(?i:{words})\b") if words else None
    return signs, sign, money


def _entity_regex(forms: dict[str, tuple[str, str]]) -> re.Pattern:
    numeric = sorted((k for k, (_, fam) in forms.items() if fam == "numeric"), key=len, reverse=True)
    named = sorted((k for k, (_, fam) in forms.items() if fam == "named"), key=len, reverse=True)
    num = "|".join(numeric)
    nam = "|".join(named)
    # four-digit and hex codes are distinctive even glued to a word ("BMI8805;18"); the
    # two-digit ones ("62;") and the names ("ge;", as in "age;") only standing alone
    long = "|".join(k for k in numeric if len(k) >= 4)
    short = "|".join(k for k in numeric if len(k) < 4)
    return re.compile(
        rf"(?i:(?P<whole>(?:&amp;|&)#(?:{num});?|&(?:amp;)?(?:{nam});)"
        rf"|(?P<hash>(?<![\w&#;])#(?:{num});)"
        rf"|(?P<num>(?<![\d&#;.,/:^*])(?<![\d][xX])(?:{long});|(?<![\w&#;.,/:^*])(?:{short});)"
        rf"|(?P<name>(?<![\w&#;])(?:{nam});))"
        + _NUMBER_AHEAD
    )


# The files a saved pipeline carries in the folder of ``criteria_constraints``
# (``nlp.to_disk``): the rules, and the weights of the deleted-sign decision.
RULES_FILE = "lost_signs.json"
MODEL_FILE = "lost_sign_deleted.json"


def data_from(raw: dict, model: dict | None = None, origin: str = RULES_FILE) -> Data:
    """The rules of ``raw`` (the content of lost_signs.json) and the weights of ``model``."""
    from criteria_nlp.pipeline.lost_sign_model import DeletedModel

    try:
        forms: dict[str, tuple[str, str]] = {}
        for op, fams in raw["entities"].items():
            for fam, codes in fams.items():
                for code in codes:
                    forms[code.lower()] = (op, fam)
        data = Data(_entity_regex(forms), forms, dict(raw["confidence"]), raw.get("star", {}), raw.get("deleted", {}))
        data.symbol_font, data.symbol_regex, data.money_regex = _symbol_regexes(raw.get("symbol_font", {}))
        data.form_characters = (";", "*", "?", *data.symbol_font)
        data.question = dict(raw.get("question", {}))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{origin}: not a lost-sign rules file (missing or bad {exc})") from exc
    if model is not None:
        data.model = DeletedModel.from_dict(model, MODEL_FILE)
    return data


def component_files(path: str | Path | None = None) -> dict[str, dict]:
    """The JSON objects a pipeline carries: the rules (``path``, or the package's) and the
    shipped deleted-sign weights (absent when no model file exists)."""
    from criteria_nlp.pipeline.lost_sign_model import load_model

    file = Path(path) if path else DATA_PATH
    try:
        files = {RULES_FILE: json.loads(file.read_text(encoding="utf-8"))}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{file}: cannot read the lost-sign rules ({exc})") from exc
    model = load_model()
    if model is not None:
        files[MODEL_FILE] = model.to_dict()
    return files


def read_component_files(folder: Path, default: dict[str, dict]) -> dict[str, dict]:
    """The files a saved pipeline carries in ``folder`` (``from_disk``); one it lacks (a
    folder saved before they travelled) stays as ``default`` has it."""
    files = dict(default)
    for name in (RULES_FILE, MODEL_FILE):
        file = folder / name
        if file.exists():
            try:
                files[name] = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(f"{file}: cannot read ({exc})") from exc
    return files


def data_from_files(files: dict[str, dict]) -> Data:
    return data_from(files[RULES_FILE], files.get(MODEL_FILE))


@lru_cache(maxsize=4)
def load_data(path: str | None = None) -> Data:
    """The package's rules and shipped weights (a pipeline reads the ones it carries)."""
    return data_from_files(component_files(path))


def profile(texts, traces=None) -> Profile:
    """The sign habits of a record from the texts of its items (``traces``: the trace
    offsets of each item when the segmenter collapsed its spaces, see :func:`item_traces`)."""
    p = Profile()
    texts = texts if isinstance(texts, list) else list(texts)
    # One scan of all items for the real signs: no sign spans the line break between two
    # items, and every ASCII sign holds an "=" (a cheap test for the many texts without any).
    joined = "\n".join(texts)
    if _SIGN_CHARACTER.search(joined) is not None:
        found = _REAL_SIGNS.findall(joined)
        p.real_signs = len(found)
        p.character_signs = sum(1 for sign in found if not sign.isascii())
    # (each test on the joined text first: most records have no "*", "?" or double space)
    if "*" in joined or "?" in joined:
        for text in texts:
            if "*" in text:
                if not _STAR_ALLELES.search(text):
                    p.star_numbers += len(_STAR.findall(text))
                p.star_footnotes += len(_STAR_FOOTNOTE.findall(text))
            if "?" in text:
                p.question_numbers += len(_QUESTION.findall(text))
                p.question_marks += text.count("?")
    spaced = "  " in joined
    if traces is not None or spaced:
        for n, text in enumerate(texts):
            known = traces[n] if traces is not None else None
            if known is not None:
                p.traces += len(known)
            elif spaced and "  " in text:
                p.traces += len(_TRACE.findall(text))
    return p


def item_traces(item, source: str) -> set[int] | None:
    """Offsets in ``item.text`` of the numbers that follow a double space in the source
    (the segmenter joins an item's whitespace, so the trace is read from the source);
    None when the item text is a plain slice (its own spaces tell)."""
    pieces = getattr(item, "pieces", None)
    if not pieces:
        return None
    out: set[int] = set()
    if "  " not in source[item.start : item.end]:
        return out
    for m in _TRACE.finditer(source, item.start, item.end):
        src = m.end()
        for t0, s0, n in pieces:
            if s0 <= src < s0 + n:
                out.add(t0 + src - s0)
                break
    return out


def _entity_sign(m: re.Match, data: Data) -> Sign:
    written = m.group(0)
    code = written.lower().lstrip("&").removeprefix("amp;").lstrip("#").rstrip(";")
    op, fam = data.forms[code]
    if m.group("whole"):
        family = "entity"
    elif fam == "numeric" and len(code) <= 3:
        family = "short_numeric_stripped"  # "62;", "60;": two digits, more often a real number
    else:
        family = f"{fam}_stripped"
    return Sign(m.start(), m.end(), op, family)


def _symbol_signs(text: str, data: Data) -> list[Sign]:
    """'³' / '£' standing for a Symbol-font '≥' / '≤' before a number ("Age ³ 18", "£1.5 x ULN");
    a '£' before a sum of money ("a £20 voucher") stays."""
    out = []
    for m in data.symbol_regex.finditer(text):
        op = data.symbol_font[m.group(0)]
        if op == "<=" and data.money_regex is not None and data.money_regex.match(text, m.end()):
            continue
        out.append(Sign(m.start(), m.end(), op, "symbol_font"))
    return out


def _undirected_signs(text: str, pattern: re.Pattern, mark: str, form: str, taken: list[Sign]) -> list[Sign]:
    """The ``mark`` characters ("*", "?") that ``pattern`` finds before a number, outside the
    sign forms already ``taken``: lost signs whose direction the repair weighs."""
    spans = [(s.start, s.end) for s in taken]
    out = []
    for m in pattern.finditer(text):
        at = text.index(mark, m.start())
        if not any(a <= at < b for a, b in spans):
            out.append(Sign(at, at + 1, "*", form))
    return out


def find_signs(
    text: str,
    prof: Profile | None = None,
    data: Data | None = None,
    deleted: bool = False,
    traces: set[int] | None = None,
) -> list[Sign]:
    """Every sign form of ``text`` that stands before a number, in text order (with
    ``deleted``, the traces of deleted signs in a record without real signs too)."""
    data = data or load_data()
    signs: list[Sign] = []
    if ";" in text:
        signs += [_entity_sign(m, data) for m in data.entities.finditer(text)]
    if data.symbol_regex is not None and any(ch in text for ch in data.symbol_font):
        signs += _symbol_signs(text, data)
    if "*" in text:
        prof = prof if prof is not None else profile([text])
        if prof.stars_are_signs and not _STAR_ALLELES.search(text):
            signs += _undirected_signs(text, _STAR, "*", "star", signs)
    if "?" in text:
        prof = prof if prof is not None else profile([text])
        if prof.questions_are_signs:
            signs += _undirected_signs(text, _QUESTION, "?", "question", signs)
    if deleted and (traces or (traces is None and "  " in text)):
        prof = prof if prof is not None else profile([text])
        if prof.may_have_deleted:
            # the trace of a deleted sign: the scan reads it as a bare "=", so that the number
            # is read as a comparison even where a bare number would not be ("DSA  5000 MFI")
            taken = [(s.start, s.end) for s in signs]
            if traces is None:
                spans = [m.span() for m in _TRACE.finditer(text)]
            else:  # the joined single space before each traced number
                spans = [(t - 1, t) for t in sorted(traces) if t > 0 and text[t - 1] == " "]
            for a0, b0 in spans:
                if not any(a < b0 and a0 < b for a, b in taken):
                    signs.append(Sign(a0, b0, "deleted", "deleted"))
    signs.sort(key=lambda s: s.start)
    return signs


def scan_text(text: str, signs: list[Sign]) -> str:
    """``text`` with each sign form replaced by its sign, padded with spaces before it."""
    if not signs:
        return text
    out = []
    pos = 0
    for s in signs:
        out.append(text[pos : s.start])
        char = _scan_char(s)
        out.append(" " * (s.end - s.start - 1) + char)
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def _scan_char(sign: Sign) -> str:
    """The character the scan writes at the end of a sign form (see :func:`scan_text`)."""
    return "=" if sign.operator in ("*", "deleted") else _SIGN_CHAR[sign.operator]


def restore(found: list[Constraint], text: str, signs: list[Sign], data: Data | None = None) -> list[Constraint]:
    """The constraints read from the scan, given back their text as written: a constraint
    that starts at a sign form starts where the form does, writes the form as its
    ``written_operator``, and (for a character reference) is marked repaired."""
    if not signs:
        return found
    data = data or load_data()
    by_end = {s.end - 1: s for s in signs}  # the scan's sign character sits at the form's end
    out = []
    for c in found:
        s = by_end.get(c.start)
        update: dict = {}
        if s is not None and s.operator == "deleted":
            # the number starts after the trace; a bare "=" read from it was never written
            update = {"start": s.end}
            if c.written_operator == "=":
                update["written_operator"] = None
        elif s is not None and not (c.written_operator or "").startswith(_scan_char(s)):
            # the reading did not take the sign form for its operator ("* 0 to 2": a range,
            # its written operator "to"): the form is no sign here, the constraint starts after it
            start = s.end
            while start < c.end and text[start] in " \t":
                start += 1
            update = {"start": start}
        elif s is not None:
            written_rest = (c.written_operator or "")[1:]
            start = s.start
            update = {"start": start, "written_operator": text[start : c.start + 1] + written_rest}
            if s.operator != "*":
                conf = min(0.999, float(data.confidence.get(s.form, 0.9)))
                update.update(
                    repaired=True,
                    confidence=conf,
                    repair_reason=f"'{update['written_operator']}' before a number: {_FORM_REASON[s.form]} "
                    f"'{_SIGN_CHAR[s.operator]}'",
                )
        else:
            # a sign form inside the expression ("5 * NIS * 10"): the text as written
            inner = [x for x in signs if c.start <= x.start < c.end]
            if inner and all(x.operator == "*" for x in inner) and c.written_operator:
                update["written_operator"] = " ".join(text[x.start : x.end] for x in inner)
        start = update.get("start", c.start)
        update["text"] = text[start : c.end]
        out.append(c.model_copy(update=update))
    return out


_FORM_REASON = {
    "entity": "the character reference of",
    "numeric_stripped": "the numeric character reference (its '&#' stripped) of",
    "short_numeric_stripped": "the numeric character reference (its '&#' stripped) of",
    "named_stripped": "the named character reference (its '&' stripped) of",
    "symbol_font": "the Symbol-font character (exported as Latin-1) of",
}


# --------------------------------------------------------------------------- hooks


def record_pass(
    items, found: list[list[Constraint]], population=None, data: Data | None = None, prof: Profile | None = None
) -> list[list[Constraint]]:
    """The record-level reading of bare numbers (see :mod:`criteria_nlp.pipeline.lost_sign_decisions`)."""
    from criteria_nlp.pipeline.lost_sign_decisions import record_pass as run

    return run(items, found, population, data, prof)


def finish(
    doc, text: str, scan: str, signs: list[Sign], found: list[Constraint], repair: bool, data: Data | None = None
) -> list[Constraint]:
    """The hook at the end of ``criteria_constraints``: the text as written back on every
    constraint, then (when the repair is enabled) the '*' and deleted-sign decisions
    (``data``: the rules and weights the component carries; the package's when None)."""
    found = restore(found, text, signs, data)
    if not repair or not found:
        return found
    from criteria_nlp.pipeline.lost_sign_decisions import decide

    prof = doc.user_data.get(PROFILE_KEY)
    return decide(
        found, text, scan, doc._.criterion_kind, doc._.population, prof, data, traces=doc.user_data.get(TRACES_KEY)
    )


def prepare(doc, text: str, repair: bool = True, data: Data | None = None) -> tuple[str, list[Sign]]:
    """The hook at the start of ``criteria_constraints``: the sign forms of the text and the
    scan the value grammar reads (traces of deleted signs only when the repair is on)."""
    traces = doc.user_data.get(TRACES_KEY)
    if not holds_any(text, (data or load_data()).form_characters) and (
        not repair or not (traces or (traces is None and "  " in text))
    ):
        return text, []
    signs = find_signs(text, doc.user_data.get(PROFILE_KEY), data, deleted=repair, traces=traces)
    return scan_text(text, signs), signs
