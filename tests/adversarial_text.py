"""Adversarial text classes for the linear-time checks (tests/test_linear.py, bench/adversarial.py).

``make(name, size, seed)`` gives about ``size`` characters of class ``name``: long runs of one
kind of character without a space (brackets, punctuation, digits, letters, operators), a
seeded mix, very long lines, very many lines, deeply nested numbering, huge numbers, text
that starts like JSON or XML and is not. Every class is written here for the purpose; none
is a corpus sentence.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def _cycle(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _nested(size: int) -> str:
    half = size // 2
    opening = _cycle("([{", half)
    closing = "".join({"(": ")", "[": "]", "{": "}"}[c] for c in reversed(opening))
    return opening + closing


def _mixed(size: int, seed: int, alphabet: str) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(size))


def _random_lines(size: int, seed: int) -> str:
    # very many short lines of invented criteria, numbered, with values
    rng = random.Random(seed)
    words = ["serum", "level", "count", "score", "index", "dose", "weight", "prior", "therapy", "within"]
    ops = [">=", "<", "≤", "=", "more than", "at least", "between"]
    units = ["mg/dL", "years", "%", "x ULN", "kg", "weeks", ""]
    out, n = [], 0
    while n < size:
        line = (
            f"{len(out) + 1}. {rng.choice(words)} {rng.choice(words)} {rng.choice(ops)} "
            f"{rng.randint(0, 999)} {rng.choice(units)}\n"
        )
        out.append(line)
        n += len(line)
    return "".join(out)[:size]


def _deep_numbering(size: int) -> str:
    # labels one level deeper on every line: "1.", "1.1.", "1.1.1.", ... then one huge label
    out, n, depth = [], 0, 1
    while n < size // 2:
        line = "1." * depth + " item\n"
        out.append(line)
        n += len(line)
        depth += 1
    rest = size - n
    out.append(_cycle("1.", max(rest - 6, 2)) + " item\n")
    return "".join(out)


def _huge_numbers(size: int) -> str:
    # a number with thousands separators, a long decimal, and a long plain number
    third = size // 3
    return (
        "1" + _cycle(",000", third) + " mg and 0." + _cycle("5", third) + " x ULN >= " + _cycle("9", third)
    )


CLASSES: dict[str, Callable[[int, int], str]] = {
    "open_brackets": lambda n, s: "(" * n,
    "close_brackets": lambda n, s: ")" * n,
    "nested_brackets": lambda n, s: _nested(n),
    "broken_json": lambda n, s: '{"studies": [' + _nested(n) + " Age >= 18",
    "broken_xml": lambda n, s: "<clinical_study><eligibility>" + _cycle("<a>", n),
    "punctuation": lambda n, s: _cycle(".,;:!?-/*&%$#@'\"", n),
    "digits": lambda n, s: _cycle("0123456789", n),
    "letters": lambda n, s: _cycle("abcdefghijklmnopqrstuvwxyz", n),
    "operators": lambda n, s: _cycle("<>=≥≤~±×", n),
    "glued_comparisons": lambda n, s: _cycle("ALT>3xULN;eGFR<=30mL/min;Age>=18years;", n),
    "mixed": lambda n, s: _mixed(n, s, "()[]{}<>=≥≤.,;:-+/*%0123456789aZ×µ"),
    "mixed_spaced": lambda n, s: _mixed(n, s, "()[]<>=≥≤.,;:- 0123456789aIxZ\n"),
    "long_line": lambda n, s: _cycle("age at least 18 years, ALT < 3 x ULN and (grade 2 or more); ", n),
    "many_lines": lambda n, s: _random_lines(n, s),
    "deep_numbering": lambda n, s: _deep_numbering(n),
    "huge_numbers": lambda n, s: _huge_numbers(n),
    "number_words": lambda n, s: _cycle("twenty one or two hundred thirty ", n),
    "roman": lambda n, s: _cycle("IIIVXIV", n),
    "mojibake": lambda n, s: _cycle("â‰¥18 yrs Ã© â€“ ", n),
    "spaced_brackets": lambda n, s: _cycle("( ", n),
}


def make(name: str, size: int, seed: int = 0) -> str:
    """About ``size`` characters of adversarial class ``name`` (see CLASSES)."""
    return CLASSES[name](size, seed)
