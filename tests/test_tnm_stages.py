"""TNM categories read as bounds, on sentences written for these tests."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def _read(nlp, text):
    return [(c.text, c.variable, c.mention, c.operator, c.value, c.upper) for c in extract_text(nlp, text, repair=True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Resectable gastric cancer staged T2-4 N0-2 M0",
            [("T2-4", "TNM T category", "T", "between", 2, 4), ("N0-2", "TNM N category", "N", "between", 0, 2),
             ("M0", "TNM M category", "M", "==", 0, None)],
        ),
        (
            "Pathology pT1b pN0 after lumpectomy",
            [("pT1b", "TNM T category", "pT", "==", 1, None), ("pN0", "TNM N category", "pN", "==", 0, None)],
        ),
        (
            "Clinical T2N1M0 carcinoma",
            [("T2", "TNM T category", "T", "==", 2, None), ("N1", "TNM N category", "N", "==", 1, None),
             ("M0", "TNM M category", "M", "==", 0, None)],
        ),
        (
            "Tumour cT3 or cT4, any N, M0",
            [("cT3 or cT4", "TNM T category", "cT", "between", 3, 4), ("M0", "TNM M category", "M", "==", 0, None)],
        ),
        ("Primary tumour stage T3 or higher", [("T3 or higher", "TNM T category", "T", ">=", 3, None)]),
        ("Residual disease ypN1, ypN2, or ypN3 after chemotherapy", [("ypN1, ypN2, or ypN3", "TNM N category", "ypN", "between", 1, 3)]),
    ],
)
def test_tnm_categories(nlp, text, expected):
    assert _read(nlp, text) == expected


def test_unknown_categories_bound_nothing(nlp):
    # "Tx" and "Nx" make the group but have no number to bound
    assert _read(nlp, "Disease classed Tx Nx M1") == [("M1", "TNM M category", "M", "==", 1, None)]


def test_a_range_of_a_group_is_no_negative_number(nlp):
    # the value grammar alone read "T1-3" as "== -3"
    assert all(c.value >= 0 for c in extract_text(nlp, "Localised disease T1-3 N0 M0", repair=True))


@pytest.mark.parametrize(
    "text",
    [
        "Lesions hyperintense on T2-weighted images",
        "Known T2DM treated with metformin",
        "Hypointense T1 lesions on MRI",
        "Fracture of T12 or L1 vertebra",
        "Polarised M1 macrophages in the biopsy",
    ],
)
def test_look_alikes_are_no_tnm(nlp, text):
    assert not any((c.variable or "").startswith("TNM") for c in extract_text(nlp, text, repair=True))
