"""The project's one validation split, shared by every evaluation and every training command.

Each corpus is split by trial before anything is tuned on it:

- LCT: batches 11-14 are the validation part (its batches are already a split by trial);
- every other corpus (Chia, the CT.gov CSV, ``ctgov_unlabelled``, LLF, ...): a fixed 20% of
  its trials, chosen by a stable hash of the trial id.

Rules and settings are chosen on the training part only, by cross-validation grouped by
trial (:func:`cv_fold`); the validation part is scored once per finished change and its
misses are never read. The hash is the one the inclusion/exclusion classifier was trained
with since session 1, so its held-out Chia trials stay the validation part.
"""

import hashlib
import re

VALIDATION_PERCENT = 20
LCT_VALIDATION_BATCHES = frozenset({"batch11", "batch12", "batch13", "batch14"})
CV_FOLDS = 5

_BATCH = re.compile(r"batch(\d+)", re.I)


def _digest(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16)


def normal_trial_id(trial_id: str) -> str:
    """Trial ids compare upper-case and without surrounding space ("nct01 " is "NCT01")."""
    return trial_id.strip().upper()


def is_validation_trial(trial_id: str) -> bool:
    """The hash part: about 20% of trial ids, the same on every machine and in every corpus."""
    return _digest(normal_trial_id(trial_id)) % 100 < VALIDATION_PERCENT


def is_validation_lct_batch(batch: str) -> bool:
    """LCT's validation part is its batches 11-14 (``batch11`` ... or a path holding it)."""
    m = _BATCH.search(batch)
    return bool(m) and f"batch{int(m.group(1))}" in LCT_VALIDATION_BATCHES


def is_validation(corpus: str, trial_id: str, batch: str | None = None) -> bool:
    """Whether a trial of ``corpus`` belongs to the validation part.

    ``batch`` is needed for LCT only (its split is by batch, not by hash)."""
    if corpus == "lct":
        if batch is None:
            raise ValueError("an LCT trial's split is its batch: pass batch=")
        return is_validation_lct_batch(batch)
    return is_validation_trial(trial_id)


def part_of(corpus: str, trial_id: str, batch: str | None = None) -> str:
    """'validation' or 'train'."""
    return "validation" if is_validation(corpus, trial_id, batch) else "train"


def cv_fold(trial_id: str, folds: int = CV_FOLDS) -> int:
    """Cross-validation fold of a training trial: a hash independent of the validation split,
    so every trial's comparisons fall in one fold (CV grouped by trial)."""
    return _digest("fold:" + normal_trial_id(trial_id)) % folds
