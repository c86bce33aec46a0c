"""Bytes to text: BOMs, UTF-8/UTF-16, legacy encodings, binary files and mojibake.

What the rest of criteria-nlp indexes with character offsets is the text these functions
return: decoded (the codec drops the BOM, as ``open(path, encoding=...)`` does) and mojibake
repaired; line ends are kept as the file has them (what ``open(path, newline="")``
gives), so offsets index the file as the user has it. The segmenter reads a copy without
CR (readers/reading.py) whose offsets are mapped back. Every step that changes more than
the BOM is reported as a warning on the record.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from criteria_nlp.readers.base import InputError

# How much of a file is looked at to decide binary/encoding/format before streaming it.
SNIFF_BYTES = 64 * 1024

# Only the repairs of text decoded with the wrong encoding: everything else ftfy can do
# (curly quotes, ligatures, full-width forms, NFC, HTML entities, control characters)
# would rewrite what the registry wrote, and the user asked for the record as written.
# (ftfy and charset-normalizer are imported on first need: ~0.1 s of every start otherwise)
@lru_cache(maxsize=1)
def _mojibake_only():
    import ftfy

    return ftfy, ftfy.TextFixerConfig(
        unescape_html=False,
        remove_terminal_escapes=False,
        fix_encoding=True,
        restore_byte_a0=True,
        replace_lossy_sequences=True,
        decode_inconsistent_utf8=True,
        fix_c1_controls=True,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        fix_surrogates=True,
        remove_control_chars=False,
        normalization=None,
        explain=False,
    )


_MAGIC = [
    (b"\x1f\x8b", "a gzip archive; decompress it first"),
    (b"PK\x03\x04", "a zip archive; extract the records first"),
    (b"%PDF", "a PDF document; save the page as text"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document; save it as text"),
]

# Control characters that never occur in text files (tab, LF, FF, CR and ESC excluded).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


@dataclass
class Decoded:
    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 saved without a BOM: mostly-ASCII text has a NUL in every other byte."""
    sample = head[: 4096 - 4096 % 2]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0) / (len(sample) / 2)
    odd_nul = sample[1::2].count(0) / (len(sample) / 2)
    if odd_nul > 0.6 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.6 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def binary_problem(head: bytes) -> str | None:
    """Why ``head`` (the start of a file) is not text, or None when it looks like text."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"binary file, not text (looks like {what})"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(head):
        return None
    if b"\x00" in head:
        return "binary file, not text (it holds NUL bytes)"
    sample = head[:8192]
    if sample and sum(sample.count(c) for c in _CONTROL) / len(sample) > 0.05:
        return "binary file, not text (too many control bytes)"
    return None


def _utf8_prefix_ok(head: bytes, at_eof: bool) -> bool:
    """True when ``head`` is UTF-8 (a sequence cut by the end of the sniffed head is fine)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=at_eof)
        return True
    except UnicodeDecodeError:
        return False


def _xml_declared_encoding(head: bytes) -> str | None:
    m = re.match(rb"\s*<\?xml[^>]*\bencoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", head)
    if not m:
        return None
    name = m.group(1).decode("ascii")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def choose_encoding(head: bytes, at_eof: bool) -> tuple[str, list[str]]:
    """The encoding of a file from its first bytes, and warnings about the choice.

    Raises InputError(problem) for a file that is not text; ``source`` is left empty for
    the caller to fill in.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", []
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", []
    problem = binary_problem(head)
    if problem:
        raise InputError("", problem)
    bare16 = _utf16_without_bom(head)
    if bare16:
        return bare16, [f"decoded as {bare16} (UTF-16 without a byte order mark)"]
    if _utf8_prefix_ok(head, at_eof):
        return "utf-8", []
    declared = _xml_declared_encoding(head)
    if declared and declared != "utf-8":
        return declared, []
    encoding = guess_legacy_encoding(head)
    if encoding is None:
        raise InputError("", "binary file, not text (no text encoding fits its bytes)")
    return encoding, [_legacy_warning(encoding)]


def _legacy_warning(encoding: str) -> str:
    return f"the file is not UTF-8; decoded as {encoding} (guessed by charset-normalizer)"


# How much more "chaos" than the best guess windows-1252 may show and still be preferred.
_CP1252_MARGIN = 0.03


def guess_legacy_encoding(data: bytes) -> str | None:
    """The legacy encoding of non-UTF-8 text, by charset-normalizer.

    Short Western texts fit many code pages about equally well (a French criterion reads
    as mac-latin2 with "chaos" 0.008 and as windows-1252 with 0.022); registry exports in
    a legacy encoding are overwhelmingly windows-1252, so it wins whenever it fits about
    as well as the best guess. Cyrillic, Greek or CJK text does not fit it and keeps its own.
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = min(m.chaos for m in matches)
    for m in matches:
        if codecs.lookup(m.encoding).name == "cp1252" and m.chaos <= best + _CP1252_MARGIN:
            return "cp1252"
    return codecs.lookup(matches[0].encoding).name


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ftfy takes ~1.5 s per MB even on clean text, too slow for a 550,000-study dump. Mojibake
# of UTF-8 read as windows-1252 or latin-1 (by far the common kind) always shows a lead
# byte (U+00C2..U+00F4) followed by a continuation byte (U+0080..U+00BF, or the
# windows-1252 letters at 0x80..0x9F), or a bare C1 control; text without one is clean.
_CP1252_HIGH = "\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178"
# One character class first, then what must follow a lead byte: the engine skips ahead to
# those characters (the alternation "[lead][continuation]|[C1]" is tried at every position
# and took 2.7 times as long on real records).
_MOJIBAKE_HINT = re.compile(f"[\u0080-\u009f\u00c2-\u00f4](?:(?<=[\u0080-\u009f])|[\u0080-\u00bf{_CP1252_HIGH}])")


def repair_mojibake(text: str) -> tuple[str, str | None]:
    """Undo UTF-8 read as windows-1252/latin-1 ("â‰¥" -> "≥", "Ã©" -> "é").

    Returns the text and a warning when something was repaired. Text without the mark
    of such mojibake (see _MOJIBAKE_HINT) is returned at once.
    """
    if text.isascii() or not _MOJIBAKE_HINT.search(text):
        return text, None
    ftfy, config = _mojibake_only()
    fixed = "".join(ftfy.fix_text(piece, config=config) for piece in _ftfy_pieces(text))
    if fixed == text:
        return text, None
    return fixed, f"repaired mojibake{_example(text, fixed)}; offsets index the repaired text"


_EXAMPLE_LINE = 1000  # longest line compared whole for the warning's example
_FTFY_PIECE = 16384  # ftfy is super-linear on one long line (256 KB: 1.8 s, 64 KB: 0.04 s)


def _ftfy_pieces(text: str) -> list[str]:
    """``text`` in pieces of at most _FTFY_PIECE characters for ftfy. ftfy repairs each line
    on its own, so pieces that end with a line break change nothing; only a longer line
    (no real record has one) is cut, at a space, else between two ASCII characters."""
    if len(text) <= _FTFY_PIECE:
        return [text]
    pieces, pos, n = [], 0, len(text)
    while pos < n:
        end = min(n, pos + _FTFY_PIECE)
        if end < n:
            cut = text.rfind("\n", pos, end) + 1
            if cut <= pos:
                cut = text.rfind(" ", pos + _FTFY_PIECE // 2, end) + 1
            if cut <= pos:
                cut = next((i for i in range(end, pos + _FTFY_PIECE // 2, -1) if text[i - 1 : i + 1].isascii()), end)
            end = cut
        pieces.append(text[pos:end])
        pos = end
    return pieces


def _example(before: str, after: str) -> str:
    """The first repair, for the warning: " (e.g. 'â‰¥' -> '≥')"."""
    for old_line, new_line in zip(before.splitlines(), after.splitlines(), strict=False):
        if old_line == new_line:
            continue
        if max(len(old_line), len(new_line)) > _EXAMPLE_LINE:
            # SequenceMatcher is quadratic (4,000 characters of mojibake on one line took a
            # minute): on a long line, compare a window from the first difference on
            k = next((i for i, (a, b) in enumerate(zip(old_line, new_line, strict=False)) if a != b), 0)
            old_line, new_line = old_line[k : k + _EXAMPLE_LINE], new_line[k : k + _EXAMPLE_LINE]
        for op, i1, i2, j1, j2 in SequenceMatcher(None, old_line, new_line, autojunk=False).get_opcodes():
            if op != "equal":
                return f" (e.g. {old_line[i1:i2]!r} -> {new_line[j1:j2]!r})"
    return ""


def decode_bytes(data: bytes, source: str) -> Decoded:
    """Decode a whole file. Raises InputError naming ``source`` for a file that is not text."""
    if not data.strip():
        # Whitespace-only UTF-16 is not b"" but decodes to whitespace: checked again below.
        raise InputError(source, "empty file")
    try:
        encoding, warnings = choose_encoding(data[:SNIFF_BYTES], at_eof=len(data) <= SNIFF_BYTES)
    except InputError as exc:
        raise InputError(source, exc.problem) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        # The start was UTF-8 but a later part is not: guess from the whole file instead.
        guessed = guess_legacy_encoding(data) if encoding == "utf-8" else None
        if guessed is not None:
            encoding, warnings = guessed, [_legacy_warning(guessed)]
            text = data.decode(guessed, errors="replace")
        else:
            raise InputError(
                source,
                f"cannot decode the file as {encoding}: invalid byte 0x{data[exc.start]:02x} at byte {exc.start}",
            ) from None
    if not text.strip():
        raise InputError(source, "empty file")
    return Decoded(text=text, encoding=encoding, warnings=warnings)
