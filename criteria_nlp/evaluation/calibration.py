"""Calibration figures of a confidence: expected calibration error, reliability bins, the
share right above a threshold. Pairs are ``(confidence, right)``."""

from collections.abc import Iterable, Sequence

BINS = 10


def reliability(pairs: Iterable[tuple[float, bool]], bins: int = BINS) -> list[dict]:
    """Equal-width bins of confidence over [0, 1]: each bin's count, mean confidence and
    share right (empty bins are left out)."""
    sums = [[0, 0.0, 0] for _ in range(bins)]
    for conf, right in pairs:
        k = min(int(conf * bins), bins - 1)
        sums[k][0] += 1
        sums[k][1] += conf
        sums[k][2] += bool(right)
    out = []
    for k, (n, total, ok) in enumerate(sums):
        if n:
            out.append(
                {
                    "bin": f"{k / bins:.1f}-{(k + 1) / bins:.1f}",
                    "n": n,
                    "confidence": round(total / n, 4),
                    "accuracy": round(ok / n, 4),
                }
            )
    return out


def expected_calibration_error(pairs: Sequence[tuple[float, bool]], bins: int = BINS) -> float | None:
    """Sum over the bins of (share of readings) x |mean confidence - share right|."""
    n = len(pairs)
    if not n:
        return None
    return round(sum(b["n"] / n * abs(b["confidence"] - b["accuracy"]) for b in reliability(pairs, bins)), 4)


def right_above(pairs: Sequence[tuple[float, bool]], threshold: float = 0.9) -> dict:
    """How many readings have confidence >= ``threshold`` and the share of them right."""
    high = [right for conf, right in pairs if conf >= threshold]
    return {
        "n": len(high),
        "share_of_readings": round(len(high) / len(pairs), 4) if pairs else None,
        "right": round(sum(high) / len(high), 4) if high else None,
    }


def summary(pairs: Sequence[tuple[float, bool]], threshold: float = 0.9) -> dict:
    """The calibration block of a report (a reliability diagram in the HTML report)."""
    above = right_above(pairs, threshold)
    return {
        "readings": len(pairs),
        "right": round(sum(r for _, r in pairs) / len(pairs), 4) if pairs else None,
        "expected_calibration_error": expected_calibration_error(pairs),
        f"readings_at_confidence_{threshold:g}_or_more": above["n"],
        f"right_at_confidence_{threshold:g}_or_more": above["right"],
        "reliability": reliability(pairs),
    }
