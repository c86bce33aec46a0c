"""The reading text of a field or file, and the map from it back to the text as written.

Registries write layout and escapes into their fields: CRLF line ends, the markdown
escapes of the ClinicalTrials.gov API v2 (``=\\<``, ``\\>=``, ``mm\\^3``), HTML markup in
WHO ICTRP exports (``<p>``, ``<br/>``, ``&lt;``). The segmenter and the pipeline read a
*reading text* with those undone (CR dropped, escapes removed, markup turned into line
breaks, entities into their characters); every offset they find is mapped back through a
``TextMap`` to the text as written, so ``source[start:end] == text`` holds for the output.

A ``TextMap`` is a list of segments, each either copied verbatim from the source or a
replacement of a source span by other reading text. An offset inside a copied segment
maps one to one; a span that touches a replacement grows to cover all of it (a constraint
that starts inside "&lt;" starts at its "&").
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

# ASCII punctuation that a markdown writer escapes with a backslash.
_MD_ESCAPABLE = "\\`*_{}[]()#+-.!<>^~|="
_MD_ESCAPE = re.compile(r"\\([" + re.escape(_MD_ESCAPABLE) + r"])")

# Block-level HTML tags are layout (a line break); inline tags are nothing.
_BLOCK_TAGS = "p|br|div|li|ul|ol|tr|td|th|table|tbody|thead|h[1-6]|hr|dl|dt|dd|blockquote|pre"
_INLINE_TAGS = "b|i|u|em|strong|span|font|small|big|a|s|strike|del|ins|mark|code|tt|abbr"
_TAG = re.compile(
    rf"</?(?:(?P<block>{_BLOCK_TAGS})|(?P<inline>{_INLINE_TAGS})|(?P<sup>sup)|(?P<sub>sub))"
    r"(?:\s[^<>]{0,300}?)?/?>",
    re.I,
)
# Named and numeric character references; "&nbsp;" and friends become their characters.
# An export that escaped twice writes "&amp;lt;": read as "<" too.
_ENTITY = re.compile(r"&(?:amp;)?(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_SPACES = {"\u00a0": " ", "\u2007": " ", "\u202f": " "}
_NEWLINE = re.compile(r"\r\n?")

# Number formats of continental European text: "3.000/mm3" is three thousand, "1,5 mg/dl"
# is one and a half. Read so only in text whose function words are not English.
_WORD = re.compile(r"[^\W\d_]+")
_ENGLISH = frozenset(
    "the and of with or to in for at least than be must have who any are is not no from by on as an".split()
)
_CONTINENTAL = frozenset(
    "de la el los las con y del que por para pacientes o en un una al se "  # es
    "le les des du et avec ou pour dans une sur est "  # fr
    "der die das und mit oder von für bei nicht ein eine ist im den dem "  # de
    "il di e che della dei delle nel per "  # it
    "da do com em os as ou "  # pt
    "het een en met van voor bij niet".split()  # nl
)
# The first digit is matched before the look-behind (not after it) so that the engine can
# skip ahead to digits: the same matches, about four times faster on long criteria texts.
_THOUSANDS = re.compile(r"\d(?<![\d.,]\d)\d{0,2}(?:\.\d{3})+(?![\d]|[.,]\d)")
_DECIMAL_COMMA = re.compile(
    r"\d(?<![\d.,]\d)\d{0,3},\d{1,2}(?![\d,])(?!\s{0,2}(?:o|ó|y|u|ou|et|oder|und|e|of|en|or|and)\b)"
)
# What each of the two needs, led by its punctuation: a search for these is ten times
# cheaper than for the patterns (every digit is a start there), and most texts hold neither.
_THOUSANDS_HINT = re.compile(r"\.\d{3}(?!\d)")
_DECIMAL_COMMA_HINT = re.compile(r",\d{1,2}(?![\d,])")


def continental(text: str) -> bool:
    """True when the text reads as Spanish, French, German, Italian, Portuguese or Dutch
    (more of their function words than English ones)."""
    words = _WORD.findall(text.lower()[:20000])
    english = sum(1 for w in words if w in _ENGLISH)
    other = sum(1 for w in words if w in _CONTINENTAL)
    return other >= 3 and other > 2 * english


@dataclass
class TextMap:
    """Segments ``(reading_start, source_start, reading_len, source_len, copied)``."""

    segments: list[tuple[int, int, int, int, bool]] = field(default_factory=list)
    reading_len: int = 0
    source_len: int = 0
    _cache: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    def _find(self, i: int) -> tuple[int, int, int, int, bool] | None:
        starts = self._starts()
        k = bisect_right(starts, i) - 1
        while k >= 0:
            seg = self.segments[k]
            if seg[2] > 0:  # deletions hold no reading character
                return seg
            k -= 1
        return None

    def _starts(self) -> list[int]:
        if self._cache is None or len(self._cache) != len(self.segments):
            self._cache = [s[0] for s in self.segments]
        return self._cache

    def start(self, i: int) -> int:
        """Source offset where reading character ``i`` starts (``len`` maps to the end)."""
        if i >= self.reading_len:
            return self.source_len
        seg = self._find(i)
        if seg is None:
            return 0
        t0, s0, tn, _sn, copied = seg
        return s0 + (i - t0) if copied else s0

    def end(self, j: int) -> int:
        """Source offset just past reading character ``j - 1``."""
        if j <= 0:
            return self.start(0) if self.reading_len else 0
        seg = self._find(min(j, self.reading_len) - 1)
        if seg is None:
            return 0
        t0, s0, tn, sn, copied = seg
        return s0 + (min(j, self.reading_len) - t0) if copied else s0 + sn

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Source span of reading ``[i, j)``; an empty span stays empty."""
        if j <= i:
            s = self.start(i)
            return s, s
        return self.start(i), self.end(j)

    @property
    def identity(self) -> bool:
        return all(s[4] for s in self.segments)


class _Builder:
    def __init__(self, source: str):
        self.source = source
        self.parts: list[str] = []
        self.map = TextMap(source_len=len(source))
        self.t = 0

    def copy(self, s0: int, s1: int) -> None:
        if s1 <= s0:
            return
        segs = self.map.segments
        if segs and segs[-1][4] and segs[-1][1] + segs[-1][3] == s0:
            t0, a, tn, sn, _ = segs[-1]
            segs[-1] = (t0, a, tn + (s1 - s0), sn + (s1 - s0), True)
        else:
            segs.append((self.t, s0, s1 - s0, s1 - s0, True))
        self.parts.append(self.source[s0:s1])
        self.t += s1 - s0

    def replace(self, s0: int, s1: int, text: str) -> None:
        if text == self.source[s0:s1]:
            self.copy(s0, s1)
            return
        self.map.segments.append((self.t, s0, len(text), s1 - s0, False))
        self.parts.append(text)
        self.t += len(text)

    def done(self) -> tuple[str, TextMap]:
        self.map.reading_len = self.t
        return "".join(self.parts), self.map


def _entity(ref: str) -> str:
    text = html.unescape(ref)
    if ref.startswith("&amp;") and ref != "&amp;":
        text = html.unescape(text)
    if text == ref:
        return ref
    return "".join(_SPACES.get(ch, ch) for ch in text)


def _tag(m: re.Match[str]) -> str:
    if m.group("block"):
        opening = not m.group(0).startswith("</")
        return "\n- " if opening and m.group("block").lower() == "li" else "\n"
    if m.group("sup") and not m.group(0).startswith("</"):
        return "^"
    return ""


def reading_text(
    source: str,
    *,
    markdown: bool = False,
    markup: bool = False,
    drop: Iterable[tuple[int, int]] = (),
    numbers: bool = True,
) -> tuple[str, TextMap]:
    """The reading text of ``source`` and the map back to it.

    Always: CRLF and lone CR become "\\n". ``markdown``: backslash escapes are removed.
    ``markup``: block tags become a line break, inline tags vanish (``<sup>`` becomes
    "^"), character references become their characters. ``drop``: source spans left out of
    the reading. ``numbers``: in Spanish, French, German, ... text (see ``continental``),
    "3.000" reads 3000 and "1,5" reads 1.5 (lines that are not criteria, e.g. a registry form appended to them).
    """
    patterns: list[tuple[re.Pattern[str], object]] = [(_NEWLINE, lambda m: "\n")]
    if markdown:
        patterns.append((_MD_ESCAPE, lambda m: m.group(1)))
    if markup:
        patterns.append((_TAG, _tag))
        patterns.append((_ENTITY, lambda m: _entity(m.group(0))))
    if (
        numbers
        and (
            (_THOUSANDS_HINT.search(source) and _THOUSANDS.search(source))
            or (_DECIMAL_COMMA_HINT.search(source) and _DECIMAL_COMMA.search(source))
        )
        and continental(source)
    ):
        patterns.append((_THOUSANDS, lambda m: m.group(0).replace(".", "")))
        patterns.append((_DECIMAL_COMMA, lambda m: m.group(0).replace(",", ".")))
    events: list[tuple[int, int, str]] = []
    for pattern, repl in patterns:
        for m in pattern.finditer(source):
            events.append((m.start(), m.end(), repl(m)))  # type: ignore[operator]
    for s0, s1 in drop:
        events.append((s0, s1, ""))
    if not events:
        b = _Builder(source)
        b.copy(0, len(source))
        return b.done()
    # Earlier start wins; at one start the longer match wins (a dropped line over its tags).
    events.sort(key=lambda e: (e[0], -(e[1] - e[0])))
    b = _Builder(source)
    pos = 0
    for s0, s1, text in events:
        if s1 <= pos:
            continue  # inside a span already replaced
        if s0 < pos:  # overlaps the end of the one before: replace what is left
            s0 = pos
        b.copy(pos, s0)
        b.replace(s0, s1, text)
        pos = s1
    b.copy(pos, len(source))
    return b.done()
