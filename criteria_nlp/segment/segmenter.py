"""Split a criteria region into items: find headers, labels and item boundaries.

The scanner walks the region line by line and leaves *marks* (a header, the start of an
item); every item then runs from its mark to the next one. Labels are only believed when
they continue the numbering in force (or start a new level), which is what keeps "2.5 mg",
"grade 3." or a wrapped line that happens to start with a number from splitting an item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from criteria_nlp.segment.base import Item
from criteria_nlp.segment.headers import COMBINED, HeaderLines
from criteria_nlp.segment.patterns import ROMAN, keyword_kind, rules

KEEP = "keep"  # a header mark that closes the item before it but leaves the kind alone
_FIRST = {"num": 1, "alpha": 1, "ALPHA": 1, "roman": 1, "ROMAN": 1}
_RUN = re.compile(r"\S+(?: \S+)*")


@dataclass
class Label:
    text: str
    start: int
    content: int  # offset of the first character after the label and its spacing
    family: str  # "num", "alpha", "ALPHA", "roman", "ROMAN", "bullet"
    style: str  # family plus punctuation (or the bullet itself): levels are per style
    value: int


@dataclass
class Mark:
    pos: int
    header_end: int = -1  # for headers: where the header text ends
    kind: str | None = None  # for headers: "inclusion", "exclusion", COMBINED or KEEP
    label: Label | None = None
    content: int = -1  # for items: where the item's text starts

    @property
    def is_header(self) -> bool:
        return self.header_end >= 0


@dataclass
class _Level:
    style: str
    value: int
    indent: int


@dataclass
class _State:
    stack: list[_Level] = field(default_factory=list)
    item_labelled: bool | None = None  # None: no open item
    section_items: int = 0
    section_kind: str | None = None
    fresh: bool = True  # the line follows a blank line, a header or the region start
    prev_token: str = ""  # last token of the previous non-blank line


def _classify_token(tok: str, punct: str, stack: list[_Level]) -> tuple[str, int]:
    """Family and value of a label token; "i", "v", "x" are letters only when they
    continue a lettered level."""
    if tok.isdigit():
        return "num", int(tok)
    low = tok.lower()
    upper = tok.isupper()
    alpha_family, roman_family = ("ALPHA", "ROMAN") if upper else ("alpha", "roman")
    if len(tok) == 1 and low not in ROMAN:
        return alpha_family, ord(low) - ord("a") + 1
    if len(tok) == 1:
        alpha_value = ord(low) - ord("a") + 1
        for lvl in reversed(stack):
            if lvl.style == alpha_family + punct and lvl.value + 1 == alpha_value:
                return alpha_family, alpha_value
        for lvl in reversed(stack):
            if lvl.style == roman_family + punct and lvl.value + 1 == ROMAN[low]:
                return roman_family, ROMAN[low]
        return (roman_family, 1) if low == "i" else (alpha_family, alpha_value)
    if low in ROMAN and (tok.islower() or tok.isupper()):
        return roman_family, ROMAN[low]
    return "", 0


class Scanner(HeaderLines):
    def __init__(self, text: str, start: int, end: int):
        self.text = text
        self.start = start
        self.end = end
        self.r = rules()
        self.marks: list[Mark] = []
        self.st = _State()

    # ----- labels -------------------------------------------------------------------

    def label_at(self, pos: int, le: int) -> Label | None:
        """The label candidate at ``pos`` (no check that it fits the numbering)."""
        text = self.text
        if pos >= le:
            return None
        ch = text[pos]
        if ch in self.r.bullets:
            nxt = text[pos + 1] if pos + 1 < le else "\n"
            if ch in self.r.bullets_needing_space and not nxt.isspace():
                return None
            if ch == "*" and nxt == "*":
                return None
            content = pos + 1
            while content < le and text[content] in " \t":
                content += 1
            return Label(ch, pos, content, "bullet", "bullet" + ch, 0)
        m = self.r.label.match(text, pos, le)
        if not m:
            return None
        if m.group("dash"):
            tok, punct = m.group("dtok"), "-"
        else:
            tok, punct = m.group("tok"), ("()" if m.group("open") else m.group("punct"))
        family, value = _classify_token(tok, punct, self.st.stack)
        if not family or value > self.r.max_label_number:
            return None
        content = m.end()
        while content < le and text[content] in " \t":
            content += 1
        return Label(text[pos : m.end()], pos, content, family, family + punct, value)

    def _prev_blocks_number(self, token: str) -> bool:
        """Whether the word before a number says the number is a quantity, not a label."""
        if not token:
            return False
        if token[-1] in self.r.number_blocker_chars:
            return True
        return token.lower() in self.r.number_blockers

    def accept(self, lab: Label, indent: int, fresh: bool, prev_token: str) -> bool:
        """Accept a label at the start of a line (or right after a header) and update
        the numbering levels; False leaves the state unchanged."""
        stack = self.st.stack
        if lab.family == "bullet":
            if (
                not fresh
                and stack
                and not prev_token.endswith((":", ";", "."))
                and indent <= stack[-1].indent
                and all(lvl.style != lab.style for lvl in stack)
            ):
                return False  # a wrapped line that starts with a dash ("(15\n- 45mg/d)"), not a sub-list
            for i in range(len(stack) - 1, -1, -1):
                lvl = stack[i]
                if lvl.style == lab.style and abs(lvl.indent - indent) <= 1:
                    del stack[i + 1 :]
                    return True
                if lvl.style == lab.style and lvl.indent < indent:
                    break  # the same bullet indented deeper: a nested level
            stack.append(_Level(lab.style, 0, indent))
            return True
        if lab.family == "num" and not fresh and self._prev_blocks_number(prev_token):
            return False
        first = _FIRST[lab.family]
        for i in range(len(stack) - 1, -1, -1):
            lvl = stack[i]
            if lvl.style != lab.style:
                continue
            if lab.value == lvl.value + 1:
                del stack[i + 1 :]
                lvl.value = lab.value
                return True
            if lab.value == first and indent > lvl.indent + 1:
                break  # a nested list in the same style
            if fresh and lvl.value < lab.value <= lvl.value + 3:
                del stack[i + 1 :]
                lvl.value = lab.value  # numbering with a gap
                return True
            if lab.value == first and (fresh or prev_token.endswith(":")):
                del stack[i + 1 :]
                lvl.value = lab.value
                lvl.indent = indent
                return True
            return False
        if lab.value == first or (not stack and lab.family == "num"):
            stack.append(_Level(lab.style, lab.value, indent))
            return True
        return False

    def inline_level(self, lab: Label, prev_token: str) -> int | None:
        """Index of the numbered level that a number inside a line would continue, or
        None: it must be that level's next number (or a first "1." after a colon)."""
        stack = self.st.stack
        for i in range(len(stack) - 1, -1, -1):
            if stack[i].style == lab.style and lab.value == stack[i].value + 1:
                return i
        if not stack and lab.value == 1 and prev_token.endswith(":"):
            return -1
        return None

    def take_inline(self, lab: Label, level: int) -> None:
        stack = self.st.stack
        if level < 0:
            stack.append(_Level(lab.style, lab.value, 0))
        else:
            del stack[level + 1 :]
            stack[level].value = lab.value
        self.add_item(lab.start, lab, lab.content)

    # ----- headers (a header line itself is read by HeaderLines, segment/headers.py) -----

    def inline_header_ok(self, m: re.Match[str], le: int, line_start: int) -> bool:
        text = self.text
        s = m.start()
        if s > line_start and not text[s - 1].isspace():
            return False
        q = m.end()
        while q < le and text[q] in " \t":
            q += 1
        before = text[line_start:s].rstrip()
        if not m.group(0).rstrip().endswith(":"):
            # "... consent. Exclusion criteria 1. Smokers": without its colon, only between
            # a finished sentence (or the line start) and a first item number.
            lab = self.label_at(q, le) if q < le else None
            prev = before.split()[-1].lower() if before else ""
            return (
                lab is not None and lab.family == "num" and lab.value == 1
                and prev not in self.r.header_sentence_words
            )
        if q >= le:
            return True
        if self.label_at(q, le) is not None:
            return True
        return bool(before) and before[-1] in ".;!?)]"

    # ----- marks --------------------------------------------------------------------

    def add_header(self, start: int, end: int, kind: str) -> None:
        self.marks.append(Mark(start, header_end=end, kind=kind))
        st = self.st
        st.stack.clear()
        st.item_labelled = None
        st.section_items = 0
        if kind != KEEP:
            st.section_kind = None if kind == COMBINED else kind

    def add_item(self, pos: int, label: Label | None, content: int) -> None:
        self.marks.append(Mark(pos, label=label, content=content))
        self.st.item_labelled = label is not None
        self.st.section_items += 1

    # ----- the scan -----------------------------------------------------------------

    def lines(self) -> list[tuple[int, int]]:
        out = []
        p = self.start
        while p < self.end:
            nl = self.text.find("\n", p, self.end)
            le = self.end if nl < 0 else nl
            out.append((p, le))
            p = le + 1
        return out

    def _next_line_labelled(self, lines: list[tuple[int, int]], k: int) -> bool:
        for ls, le in lines[k + 1 :]:
            seg = self.text[ls:le]
            if not seg.strip():
                continue
            pos = ls + len(seg) - len(seg.lstrip())
            return self.label_at(pos, le) is not None
        return False

    def _preamble_kind(self, pos: int, le: int, lines: list[tuple[int, int]], k: int) -> str | None:
        """KEEP/a kind when the unlabelled line is prose introducing a labelled list
        ("Patients must meet all of the following criteria:"), else None."""
        line = self.text[pos:le].rstrip()
        if not line.endswith(":") or not self._next_line_labelled(lines, k):
            return None
        st = self.st
        if st.section_items == 0:
            if st.section_kind is None:
                if self.r.preamble_exclusion.search(line):
                    return "exclusion"
                if self.r.preamble_inclusion.search(line):
                    return "inclusion"
            return KEEP
        if st.section_kind != "exclusion" and self.r.preamble_cue.search(line) and self.r.preamble_exclusion.search(line):
            return "exclusion"
        return None

    def scan(self) -> list[Mark]:
        text = self.text
        lines = self.lines()
        st = self.st
        for k, (ls, le) in enumerate(lines):
            seg = text[ls:le]
            if not seg.strip():
                st.fresh = True
                continue
            indent = len(seg) - len(seg.lstrip())
            pos = ls + indent
            fresh = st.fresh
            lab = self.label_at(pos, le)
            if lab is not None:
                hdr = self.header_at(lab.content, le, labelled=True)
                if hdr is not None:
                    self.add_header(pos, hdr[0], hdr[1])
                    st.fresh, st.prev_token = True, ""
                    continue
            else:
                hdr = self.header_at(pos, le)
                if hdr is not None:
                    self.add_header(pos, hdr[0], hdr[1])
                    pos = hdr[0]
                    while pos < le and text[pos] in " \t":
                        pos += 1
                    fresh = True
                    lab = self.label_at(pos, le)
                    if pos >= le:
                        st.fresh, st.prev_token = True, ""
                        continue
            if lab is not None and self.accept(lab, indent, fresh, st.prev_token):
                self.add_item(lab.start, lab, lab.content)
                scan_from = lab.content
            else:
                kind = self._preamble_kind(pos, le, lines, k)
                if kind is not None:
                    self.add_header(pos, le, kind)
                    st.fresh, st.prev_token = True, ""
                    continue
                if not (st.item_labelled and not fresh):
                    self.add_item(pos, None, pos)  # a new unlabelled item: one per line
                scan_from = pos
            self._scan_inline(scan_from, le, ls, labelled_start=lab is not None and scan_from == lab.content)
            st.fresh = False
            tail = text[ls:le].rsplit(None, 1)
            st.prev_token = tail[-1] if tail else ""
        return self.marks

    def _inline_labels(self, p: int, limit: int, ls: int) -> list[tuple[Label, str]]:
        out = []
        for m in self.r.inline_number.finditer(self.text, p, limit):
            lab = self.label_at(m.start(), limit)
            if lab is not None and lab.family == "num":
                before = self.text[ls : m.start()].split()
                out.append((lab, before[-1] if before else ""))
        return out

    def _pick_inline(self, cands: list[tuple[Label, str]]) -> tuple[Label, int] | None:
        """The number in this stretch that starts the next item: the first occurrence of
        the expected number that does not follow a quantity word ("grade 3."); if every
        occurrence does, the last one, and only when the numbering goes on after it."""
        for n, (lab, prev) in enumerate(cands):
            level = self.inline_level(lab, prev)
            if level is None:
                continue
            same = [(lab, prev)]
            goes_on = False
            for other, oprev in cands[n + 1 :]:
                if other.style != lab.style:
                    continue
                if other.value == lab.value + 1:
                    goes_on = True
                    break
                if other.value == lab.value:
                    same.append((other, oprev))
            free = [c for c in same if not self._prev_blocks_number(c[1])]
            if free:
                return free[0][0], level
            if goes_on:
                return same[-1][0], level
        return None

    def _may_hold_inline(self, p: int, le: int) -> bool:
        """Whether ``text[p:le]`` may hold an inline item number or header (False: surely
        not). Cheap pre-tests first: a digit before "." or ")", one of the header words."""
        text, r = self.text, self.r
        hint = r.inline_number_hint
        if (hint is None or hint.search(text, p, le) is not None) and r.inline_number.search(text, p, le):
            return True
        pieces = r.inline_header_pieces
        if pieces is not None and not any(text.find(w, p, le) >= 0 for w in pieces):
            return False
        return r.inline_header.search(text, p, le) is not None

    def _scan_inline(self, p: int, le: int, ls: int, labelled_start: bool) -> None:
        """Headers and item numbers inside one line (everything-on-one-line layouts)."""
        text = self.text
        if not self._may_hold_inline(p, le):
            return  # nearly every line: no item number and no header inside it
        skip_header_at = p if labelled_start else -1
        while p < le:
            header = None
            for m in self.r.inline_header.finditer(text, p, le):
                if m.start() != skip_header_at and self.inline_header_ok(m, le, ls):
                    header = m
                    break
            limit = header.start() if header else le
            picked = self._pick_inline(self._inline_labels(p, limit, ls))
            if picked is not None:
                self.take_inline(*picked)
                p = skip_header_at = self.marks[-1].content
                continue
            if header is None:
                return
            word = re.search(r"(?i)non-inclusion|inclusion|exclusion", header.group(0))
            self.add_header(header.start(), header.end(), (keyword_kind(word.group(0)) if word else None) or COMBINED)
            q = header.end()
            while q < le and text[q] in " \t":
                q += 1
            lab = self.label_at(q, le)
            if lab is not None and self.accept(lab, 0, True, ""):
                self.add_item(lab.start, lab, lab.content)
                p = skip_header_at = lab.content
            elif q < le:
                self.add_item(q, None, q)
                p = q
            else:
                return


def _item_text(text: str, content: int, end: int) -> tuple[str, list[tuple[int, int, int]]]:
    """Item text with every whitespace run made one space, and its offset map."""
    chunk = text[content:end]
    # Most items are one line whose words are single-spaced: the line as it stands, without
    # its line end. (Every white-space character but the space is unprintable, and rstrip
    # strips what the loop's \s skips: the loop's answer.)
    body = chunk.rstrip()
    if body.isprintable() and "  " not in body and body[:1] not in ("", " "):
        return body, [(0, content, len(body))]
    parts: list[str] = []
    pieces: list[tuple[int, int, int]] = []
    n = 0
    # Runs of non-space characters separated by single spaces are copied verbatim.
    for m in _RUN.finditer(chunk):
        run = chunk[m.start() : m.end()]
        if parts:
            n += 1
        pieces.append((n, content + m.start(), len(run)))
        parts.append(run)
        n += len(run)
    return " ".join(parts), pieces


def build_items(text: str, marks: list[Mark], region_end: int) -> list[tuple[Item, str | None]]:
    """Items from marks, each with the kind of its section (None when no header said)."""
    out: list[tuple[Item, str | None]] = []
    kind: str | None = None
    for i, mark in enumerate(marks):
        nxt = marks[i + 1].pos if i + 1 < len(marks) else region_end
        if mark.is_header:
            if mark.kind != KEEP:
                kind = None if mark.kind == COMBINED else mark.kind
            continue
        body, pieces = _item_text(text, mark.content, nxt)
        if not body:
            continue
        last = pieces[-1]
        item = Item(
            kind=kind or "inclusion",
            label=mark.label.text if mark.label else None,
            text=body,
            start=mark.pos,
            end=last[1] + last[2],
            pieces=pieces,
        )
        out.append((item, kind))
    return out
