"""Calendar dates as bounds ("admitted between March 2016 and June 2019"), on sentences
written for these tests: each date form, each bounding word, and the years that stay ignored."""

import json

import pytest

from criteria_nlp.evaluation.lct import GoldComparison, _same_bound
from criteria_nlp.pipeline import build_pipeline, extract_text
from criteria_nlp.pipeline.calendar_dates import DateScan, WrittenDate, decimal_year
from criteria_nlp.pipeline.constraints import RESOURCES
from criteria_nlp.schema import SCHEMA_VERSION, Constraint


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.fixture(scope="module")
def scan():
    return DateScan(json.loads((RESOURCES / "dates.json").read_text(encoding="utf-8")))


def dates(nlp, text):
    return [c for c in extract_text(nlp, text, repair=True) if c.date is not None]


@pytest.mark.parametrize(
    ("text", "written", "lower", "upper"),
    [
        ("Children operated on between April 2012 and October 2014 for scoliosis", "between April 2012 and October 2014", "2012-04", "2014-10"),
        ("Records of births from 5th of June 2001 to 20 August 2003", "from 5th of June 2001 to 20 August 2003", "2001-06-05", "2003-08-20"),
        ("Dialysis started between Feb. 3, 2010 and Nov 28, 2011", "between Feb. 3, 2010 and Nov 28, 2011", "2010-02-03", "2011-11-28"),
        ("Enrolled in the registry from 1998 to 2004.", "from 1998 to 2004", "1998", "2004"),
        ("Seasons 2015-2017 of the survey", "2015-2017", "2015", "2017"),
        ("Stroke between 1 May and 30 June 2022", "between 1 May and 30 June 2022", "2022-05-01", "2022-06-30"),
        # slashes month first (the US convention) unless the first number cannot be a month
        ("Discharged between 3/4/2019 and 10/2/2019", "between 3/4/2019 and 10/2/2019", "2019-03-04", "2019-10-02"),
        ("Discharged between 25/4/2019 and 30/9/2019", "between 25/4/2019 and 30/9/2019", "2019-04-25", "2019-09-30"),
        # one range writes both dates one way: the second shows it is day first
        ("Seen between 05/02/2018 and 28/11/2018", "between 05/02/2018 and 28/11/2018", "2018-02-05", "2018-11-28"),
        # dots day first (the European habit), ISO dates as they are
        ("Seen between 02.03.2017 and 01.12.2017", "between 02.03.2017 and 01.12.2017", "2017-03-02", "2017-12-01"),
        ("Scanned between 2020-01-15 and 2020-07-31", "between 2020-01-15 and 2020-07-31", "2020-01-15", "2020-07-31"),
        # the EU registry languages
        ("Pacientes ingresados entre enero de 2018 y marzo de 2019", "entre enero de 2018 y marzo de 2019", "2018-01", "2019-03"),
        ("Patients hospitalisés entre janvier 2018 et mars 2019", "entre janvier 2018 et mars 2019", "2018-01", "2019-03"),
    ],
)
def test_date_ranges(nlp, text, written, lower, upper):
    (c,) = dates(nlp, text)
    assert (c.text, c.operator, c.date, c.upper_date, c.category) == (written, "between", lower, upper, "temporal")
    assert text[c.start : c.end] == c.text
    assert c.value < c.upper
    assert (c.repaired, c.written_operator) == (False, c.text.split()[0] if c.text[0].isalpha() else "-")


@pytest.mark.parametrize(
    ("text", "operator", "iso", "value"),
    [
        ("Diagnosed since July 2021", ">=", "2021-07", decimal_year(WrittenDate(2021, 7, 1).first_day())),
        ("Vaccinated on or after 1 September 2021", ">=", "2021-09-01", decimal_year(WrittenDate(2021, 9, 1).first_day())),
        # "before 2019" ends where 2019 begins; "after 2019" begins where it ends
        ("Surgery before 2019", "<", "2019", 2019.0),
        ("Surgery after 2019", ">", "2019", decimal_year(WrittenDate(2019).last_day())),
        ("Enrolment until March 2023", "<=", "2023-03", decimal_year(WrittenDate(2023, 3, 31).first_day())),
        ("Cohort followed from 1985 to the present", ">=", "1985", 1985.0),
        ("Operados desde 1 de junio de 2020", ">=", "2020-06-01", decimal_year(WrittenDate(2020, 6, 1).first_day())),
    ],
)
def test_one_sided_dates(nlp, text, operator, iso, value):
    (c,) = dates(nlp, text)
    assert (c.operator, c.date, c.upper_date, c.upper) == (operator, iso, None, None)
    assert c.value == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    [
        "Published in 2018 by the national society",
        "Sites certified to ISO 9001:2015",
        "Protocol version 2019, amendment 3",
        "Affected by the 2017 wildfires",
        "Displaced after the 2011 earthquake",
        "Treated between 2019 and 2016",  # not forward in time
        "Admitted between 30 February 2020 and 3 March 2020",  # no such day
        "Followed for 2 years after surgery",
    ],
)
def test_years_that_bound_nothing(scan, text):
    assert scan.find(text) == []


def test_a_date_wins_over_the_numbers_inside_it(nlp):
    text = "Transplanted between 2 January 2005 and 31 December 2017, aged 18 to 65 years"
    found = extract_text(nlp, text, repair=True)
    assert [(c.text, c.operator) for c in found] == [
        ("between 2 January 2005 and 31 December 2017", "between"),
        ("18 to 65 years", "between"),
    ]
    assert found[1].variable == "age" and found[0].variable != "age"


def test_date_bound_names_its_event(nlp):
    (c,) = dates(nlp, "History of myocardial infarction between March 2015 and May 2016")
    assert c.mention == "myocardial infarction"


def test_negated_date_bound(nlp):
    (c,) = dates(nlp, "No kidney transplant since January 2020")
    assert c.negated


def test_schema_carries_dates():
    assert SCHEMA_VERSION == "2.2"
    fields = Constraint.model_json_schema()["properties"]
    assert {"date", "upper_date"} <= set(fields)


def _gold(text: str, values: list[float]) -> GoldComparison:
    return GoldComparison(id="T1", start=0, end=len(text), text=text, operator=None, values=values,
                          value_text=[], unit_text=None, category="temporal")


def test_lct_matches_a_date_by_its_years(nlp):
    # the corpus takes a date's first numbers as its values (1 and 31 here): years decide
    (c,) = dates(nlp, "from 1st of March 2012 to 31 May 2014")
    assert _same_bound(_gold("1st of March 2012 to 31 May 2014", [1.0, 31.0]), c)
    assert not _same_bound(_gold("1st of March 2012 to 31 May 2015", [1.0, 31.0]), c)


def test_saved_pipeline_keeps_its_date_words(tmp_path):
    import spacy

    nlp = build_pipeline()
    nlp.to_disk(tmp_path / "m")
    dates_file = tmp_path / "m" / "criteria_constraints" / "dates.json"
    data = json.loads(dates_file.read_text(encoding="utf-8"))
    data["open"][">="].append("ever since")
    data["months"]["3"].append("marchember")
    dates_file.write_text(json.dumps(data), encoding="utf-8")
    loaded = spacy.load(tmp_path / "m")
    (c,) = dates(loaded, "Seen ever since Marchember 2011")
    assert (c.operator, c.date) == (">=", "2011-03")
    assert dates(nlp, "Seen ever since Marchember 2011") == []


def test_an_open_end_that_is_no_date(nlp):
    # "to the date of approval" ends nothing: the bound is the first date alone
    (c,) = dates(nlp, "Admitted from 3 February 2021 to the date of ethics approval")
    assert (c.operator, c.date, c.text) == (">=", "2021-02-03", "from 3 February 2021")


def test_a_date_bound_reads_as_its_dates_in_reports(nlp):
    from criteria_nlp.report.text import constraint_reading

    (c,) = dates(nlp, "Myocardial infarction between March 2015 and May 2016")
    assert constraint_reading(c.model_dump()) == "Myocardial infarction between 2015-03 and 2016-05"
