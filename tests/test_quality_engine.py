"""The quality engine: real Great Expectations validations of suite files against DataFrames."""

import dataclasses
import datetime as dt
import importlib.util
import json
import re
import subprocess
import sys
import threading
import types

import duckdb
import pandas as pd
import pytest

from orchestration import settings
from orchestration.defs.quality import suites
from orchestration.defs.quality.suites import (
    ExpectationRunError,
    FailedExpectation,
    SuiteError,
    SuiteResult,
    check_suite,
    load_suite,
    read_checked_columns,
    validate_dataframe,
    validate_query,
)

CARD_SUITE = {
    "name": "cards",
    "expectations": [
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": ["card_id", "bank", "fee", "launched_on"]},
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "card_id"},
            "meta": {"notes": "Every card has an id."},
        },
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": ["card_id", "bank"]},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "fee", "min_value": 0, "max_value": 1000},
            "meta": {"notes": "An annual fee is never negative nor absurd."},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "bank", "value_set": ["CMB", "ICBC", "BOC"]},
        },
        {
            "type": "expect_column_values_to_be_in_type_list",
            "kwargs": {"column": "bank", "type_list": ["str"]},
        },
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": 1, "max_value": 100},
        },
        {
            "type": "expect_column_max_to_be_between",
            "kwargs": {
                "column": "launched_on",
                "min_value": "2020-01-01",
                "max_value": "2025-12-31",
            },
        },
    ],
    "meta": {"owner": "tests"},
}

GOOD_SQL = """
    select * from (values
        ('c1', 'CMB', 0, date '2021-03-01'),
        ('c2', 'ICBC', 300, date '2023-07-15'),
        ('c3', 'BOC', 1000, date '2025-12-31')
    ) t(card_id, bank, fee, launched_on)
"""
BAD_SQL = """
    select * from (values
        ('c1', 'CMB', -5, date '2021-03-01'),
        ('c2', 'HSBC', 300, date '2023-07-15'),
        ('c3', 'Citi', 5000, date '2026-01-02'),
        (null, 'BOC', -1, date '2022-01-01')
    ) t(card_id, bank, fee, launched_on)
"""


def frame(sql: str) -> pd.DataFrame:
    """A DataFrame as the asset checks get it: read from DuckDB."""
    return duckdb.sql(sql).df()


def write_suite(tmp_path, suite: dict, name: str | None = None):
    path = tmp_path / f"{name or suite['name']}.json"
    path.write_text(json.dumps(suite, indent=2), encoding="utf-8")
    return path


def suite_of(*expectations: dict, name: str = "checks") -> dict:
    return {"name": name, "expectations": list(expectations)}


def only_failure(result: SuiteResult, expectation_type: str) -> FailedExpectation:
    matches = [f for f in result.failed if f.expectation_type == expectation_type]
    assert len(matches) == 1, result.failed
    return matches[0]


# -- pass and fail ---------------------------------------------------------------------------


def test_suite_passes_on_good_data(tmp_path):
    result = validate_dataframe(write_suite(tmp_path, CARD_SUITE), frame(GOOD_SQL))

    assert result.success
    assert result.suite_name == "cards"
    assert result.evaluated == len(CARD_SUITE["expectations"])
    assert result.failed == [] and result.errors == [] and result.warnings == []
    assert [c.passed for c in result.checked] == [True] * len(CARD_SUITE["expectations"])


def test_suite_fails_on_bad_data_with_counts_and_samples(tmp_path):
    df = frame(BAD_SQL)
    result = validate_dataframe(write_suite(tmp_path, CARD_SUITE), df)

    assert not result.success
    assert result.evaluated == len(CARD_SUITE["expectations"])
    failed_types = [f.expectation_type for f in result.failed]
    # Listed in the suite's order, every one of them an error.
    assert failed_types == [
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_max_to_be_between",
    ]
    assert result.errors == result.failed

    fee = only_failure(result, "expect_column_values_to_be_between")
    assert fee.column == "fee"
    assert fee.kwargs == {"column": "fee", "min_value": 0, "max_value": 1000}
    assert fee.unexpected_count == 3
    assert fee.unexpected_percent == pytest.approx(75.0)
    assert sorted(fee.sample_unexpected) == [-5, -1, 5000]
    assert fee.severity == "error"
    assert fee.notes == "An annual fee is never negative nor absurd."

    bank = only_failure(result, "expect_column_values_to_be_in_set")
    assert (bank.column, bank.unexpected_count) == ("bank", 2)
    assert sorted(bank.sample_unexpected) == ["Citi", "HSBC"]

    # For missing values the sample is the rows that miss them.
    card_id = only_failure(result, "expect_column_values_to_not_be_null")
    assert card_id.unexpected_count == 1
    assert card_id.sample_unexpected == [
        {"card_id": None, "bank": "BOC", "fee": -1, "launched_on": "2022-01-01"}
    ]
    assert card_id.notes == "Every card has an id."

    latest = only_failure(result, "expect_column_max_to_be_between")
    assert latest.unexpected_count is None
    assert latest.observed_value == "2026-01-02"

    # The caller's DataFrame is left as it was.
    assert df.equals(frame(BAD_SQL))
    # Everything reported can go into Dagster metadata as JSON.
    json.dumps([dataclasses.asdict(f) for f in result.failed])


def test_warning_failure_leaves_success_true(tmp_path):
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "fee", "max_value": 500},
            "meta": {"severity": "warning", "notes": "Fees above 500 are rare; look twice."},
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "bank"},
            "meta": {"severity": "error"},
        },
    )
    result = validate_dataframe(write_suite(tmp_path, suite), frame(GOOD_SQL))

    assert result.success
    assert result.errors == []
    [warning] = result.warnings
    assert warning.severity == "warning"
    assert warning.sample_unexpected == [1000]
    assert warning.notes == "Fees above 500 are rare; look twice."
    assert result.failed == [warning]


def test_error_and_warning_together_fail(tmp_path):
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "fee", "max_value": 500},
            "meta": {"severity": "warning"},
        },
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 10}},
    )
    result = validate_dataframe(write_suite(tmp_path, suite), frame(GOOD_SQL))

    assert not result.success
    assert [f.expectation_type for f in result.errors] == ["expect_table_row_count_to_be_between"]
    assert result.errors[0].observed_value == 3
    assert [f.expectation_type for f in result.warnings] == ["expect_column_values_to_be_between"]


def test_ge_native_severity_counts_when_meta_has_none(tmp_path):
    suite = suite_of(
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": 10},
            "severity": "warning",
        }
    )
    result = validate_dataframe(write_suite(tmp_path, suite), frame(GOOD_SQL))

    assert result.success
    assert [f.severity for f in result.warnings] == ["warning"]


# -- the built-ins the marts use, on DuckDB frames -------------------------------------------


def test_table_columns_to_match_set_reports_missing_and_extra_columns(tmp_path):
    suite = suite_of(
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": ["card_id", "bank", "fee", "issuer"]},
        }
    )
    result = validate_dataframe(write_suite(tmp_path, suite), frame(GOOD_SQL))

    [failure] = result.failed
    assert failure.sample_unexpected == [{"unexpected": ["launched_on"], "missing": ["issuer"]}]


def test_compound_uniqueness_samples_the_duplicate_keys(tmp_path):
    suite = suite_of(
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": ["card_id", "bank"]},
        }
    )
    df = frame(GOOD_SQL + " union all select 'c2', 'ICBC', 1, date '2024-01-01'")
    result = validate_dataframe(write_suite(tmp_path, suite), df)

    [failure] = result.failed
    assert failure.column is None
    assert failure.unexpected_count == 2
    assert failure.sample_unexpected == [
        {"card_id": "c2", "bank": "ICBC"},
        {"card_id": "c2", "bank": "ICBC"},
    ]


def test_multicolumn_sum(tmp_path):
    suite = suite_of(
        {
            "type": "expect_multicolumn_sum_to_equal",
            "kwargs": {"column_list": ["male_pct", "female_pct"], "sum_total": 100},
        }
    )
    df = frame(
        "select * from (values (40.0, 60.0), (55.5, 44.5), (70.0, 20.0)) t(male_pct, female_pct)"
    )
    result = validate_dataframe(write_suite(tmp_path, suite), df)

    [failure] = result.failed
    assert failure.unexpected_count == 1
    assert failure.sample_unexpected == [{"male_pct": 70.0, "female_pct": 20.0}]


def test_nullable_integer_columns(tmp_path):
    """DuckDB hands integer columns with nulls over as pandas' nullable Int32/Int64."""
    df = frame("select * from (values (1, 10), (2, null), (3, 99)) t(a, b)")
    assert str(df["b"].dtype) == "Int32"
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_in_type_list",
            "kwargs": {"column": "b", "type_list": ["Int32", "Int64"]},
        },
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "b", "type_": "Int32"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "b", "max_value": 50}},
        {
            "type": "expect_multicolumn_sum_to_equal",
            "kwargs": {
                "column_list": ["a", "b"],
                "sum_total": 11,
                "ignore_row_if": "any_value_is_missing",
            },
        },
    )
    result = validate_dataframe(write_suite(tmp_path, suite), df)

    assert [(f.expectation_type, f.sample_unexpected) for f in result.failed] == [
        ("expect_column_values_to_be_between", [99]),
        ("expect_multicolumn_sum_to_equal", [{"a": 3, "b": 99}]),
    ]


# -- pandas 3 text columns -------------------------------------------------------------------


@pytest.mark.parametrize("type_name", ["str", "string", "object", "StringDtype"])
@pytest.mark.parametrize("dtype", ["str", "object", "string"])
def test_text_type_list_accepts_str_and_object_columns(tmp_path, type_name, dtype):
    df = pd.DataFrame({"bank": pd.Series(["CMB", None, "BOC"], dtype=dtype)})
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_in_type_list",
            "kwargs": {"column": "bank", "type_list": [type_name]},
        },
        {
            "type": "expect_column_values_to_be_of_type",
            "kwargs": {"column": "bank", "type_": type_name},
        },
    )
    result = validate_dataframe(write_suite(tmp_path, suite), df)

    assert result.success, result.as_markdown()
    assert str(df["bank"].dtype) == str(pd.Series(["x"], dtype=dtype).dtype)  # left untouched


def test_duckdb_text_columns_are_pandas_str_and_validate(tmp_path):
    df = frame("select * from (values ('CMB'), ('BOC'), (null)) t(bank)")
    assert df["bank"].dtype == pd.Series(["x"]).dtype  # `str` on pandas 3, object before
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_in_type_list",
            "kwargs": {"column": "bank", "type_list": ["str", "object"]},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "bank", "value_set": ["CMB"]},
        },
    )
    result = validate_dataframe(write_suite(tmp_path, suite), df)

    [failure] = result.failed
    assert (failure.expectation_type, failure.sample_unexpected) == (
        "expect_column_values_to_be_in_set",
        ["BOC"],
    )


def test_text_type_list_rejects_a_number_column(tmp_path):
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_in_type_list",
            "kwargs": {"column": "fee", "type_list": ["str"]},
        }
    )
    result = validate_dataframe(write_suite(tmp_path, suite), frame(GOOD_SQL))

    [failure] = result.failed
    assert failure.column == "fee"
    assert failure.observed_value == "int32"


# -- dates -----------------------------------------------------------------------------------

DATE_BOUNDS = [
    ("2021-01-01", "2024-12-31"),
    ("2021-01-01T00:00:00", "2024-12-31 00:00:00"),
]


@pytest.mark.parametrize(("low", "high"), DATE_BOUNDS)
def test_date_bounds_on_duckdb_dates(tmp_path, low, high):
    df = frame(
        "select * from (values (date '2021-01-01'), (date '2023-05-06'), (date '2025-01-01'),"
        " (null)) t(launched_on)"
    )
    assert pd.api.types.is_datetime64_any_dtype(df["launched_on"])
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "launched_on", "min_value": low, "max_value": high},
        },
        {
            "type": "expect_column_max_to_be_between",
            "kwargs": {"column": "launched_on", "max_value": high},
        },
    )
    result = validate_dataframe(write_suite(tmp_path, suite), df)

    values, latest = result.failed
    assert values.unexpected_count == 1
    assert values.sample_unexpected == ["2025-01-01"]
    assert values.kwargs["min_value"] == low  # reported as the suite says it
    assert latest.observed_value == "2025-01-01"


def test_date_bounds_on_dates_beyond_nanoseconds(tmp_path):
    """A far-future sentinel date cannot be held in nanoseconds: still compared, value by value."""
    df = frame(
        "select * from (values (date '2021-01-01'), (date '9999-12-31'), (null)) t(valid_until)"
    )
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": "valid_until",
                "min_value": "2020-01-01",
                "max_value": "2030-12-31",
            },
        }
    )
    [failure] = validate_dataframe(write_suite(tmp_path, suite), df).failed
    assert failure.sample_unexpected == ["9999-12-31"]


def test_date_bounds_on_python_dates_and_timestamps(tmp_path):
    df = pd.DataFrame(
        {
            "day": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), None],
            "at": pd.to_datetime(["2024-01-01 10:00", "2024-03-01 23:59", None]).tz_localize("UTC"),
        }
    )
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "day", "min_value": "2024-01-01", "max_value": "2024-01-31"},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": "at",
                "min_value": "2024-01-01",
                "max_value": "2024-02-29T23:00:00Z",
            },
        },
    )
    result = validate_dataframe(write_suite(tmp_path, suite), df)

    day, at = result.failed
    assert (day.column, day.sample_unexpected) == ("day", ["2024-02-01"])
    assert (at.column, at.sample_unexpected) == ("at", ["2024-03-01T23:59:00+00:00"])


# -- errors surface --------------------------------------------------------------------------


def test_expectation_ge_cannot_evaluate_raises(tmp_path):
    suite = suite_of(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "no_such_column"}}
    )
    with pytest.raises(ExpectationRunError, match="no_such_column"):
        validate_dataframe(write_suite(tmp_path, suite), frame(GOOD_SQL))


def test_every_expectation_ge_cannot_evaluate_is_named(tmp_path):
    suite = suite_of(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "no_such_column"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "fee", "min_value": 0}},
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "gone", "value_set": [1]},
        },
    )
    with pytest.raises(ExpectationRunError) as raised:
        validate_dataframe(write_suite(tmp_path, suite), frame(GOOD_SQL))
    assert "no_such_column" in str(raised.value) and "gone" in str(raised.value)
    assert "'fee'" not in str(raised.value)


def test_nulls_in_row_wise_checks_raise_with_a_hint(tmp_path):
    df = frame("select * from (values (1, 10), (2, null)) t(a, b)")
    suite = suite_of(
        {
            "type": "expect_multicolumn_sum_to_equal",
            "kwargs": {"column_list": ["a", "b"], "sum_total": 11},
        }
    )
    with pytest.raises(ExpectationRunError, match="ignore_row_if"):
        validate_dataframe(write_suite(tmp_path, suite), df)


def test_text_compared_with_a_date_bound_raises(tmp_path):
    df = pd.DataFrame({"month": ["2024-01", "2024-02"]})
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "month", "min_value": "2024-01-01"},
        }
    )
    with pytest.raises(ExpectationRunError, match="month"):
        validate_dataframe(write_suite(tmp_path, suite), df)


MALFORMED = {
    "not json": ("{'name': 'x'", "not valid JSON"),
    "a list": ("[]", "JSON object"),
    "no name": (json.dumps({"expectations": []}), "name must be provided"),
    "no expectations": (json.dumps({"name": "x"}), "'expectations' list"),
    "unknown suite key": (json.dumps({"name": "x", "expectations": [], "checks": []}), "checks"),
    "no type": (json.dumps(suite_of({"kwargs": {}})), "#1: type: type missing"),
    "unknown type": (
        json.dumps(suite_of({"type": "expect_the_unexpected", "kwargs": {}})),
        "expect_the_unexpected",
    ),
    "bad kwargs": (
        json.dumps(
            suite_of({"type": "expect_column_values_to_be_between", "kwargs": {"column": "a"}})
        ),
        "min_value and max_value cannot both be None",
    ),
    "unknown kwarg": (
        json.dumps(
            suite_of(
                {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": "a", "colour": "red"},
                }
            )
        ),
        "colour",
    ),
    "unknown expectation key": (
        json.dumps(suite_of({"type": "expect_column_to_exist", "kwargs": {}, "column": "a"})),
        "expectation #1 (expect_column_to_exist): column: Unknown field.",
    ),
    "kwargs not an object": (
        json.dumps(suite_of({"type": "expect_column_to_exist", "kwargs": ["a"]})),
        "kwargs: Not a valid mapping type.",
    ),
    "meta not an object": (json.dumps({"name": "x", "expectations": [], "meta": []}), "meta"),
    "bad GE severity": (
        json.dumps(suite_of({"type": "expect_column_to_exist", "kwargs": {}, "severity": "high"})),
        "severity: Must be one of: critical, warning, info.",
    ),
    "bad severity": (
        json.dumps(
            suite_of(
                {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": "a"},
                    "meta": {"severity": "fatal"},
                }
            )
        ),
        "meta.severity",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_suite_raises_a_clear_error(tmp_path, case):
    text, message = MALFORMED[case]
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(SuiteError, match="broken.json") as raised:
        validate_dataframe(path, frame(GOOD_SQL))
    assert message in str(raised.value)
    with pytest.raises(SuiteError):
        check_suite(path)


def test_missing_suite_file_raises(tmp_path):
    with pytest.raises(SuiteError, match="cannot read"):
        load_suite(tmp_path / "absent.json")


def test_load_suite_returns_the_file(tmp_path):
    path = write_suite(tmp_path, CARD_SUITE)
    assert load_suite(path) == CARD_SUITE
    assert check_suite(path) == len(CARD_SUITE["expectations"])


# -- reporting -------------------------------------------------------------------------------


def test_as_markdown_lists_failures(tmp_path):
    result = validate_dataframe(write_suite(tmp_path, CARD_SUITE), frame(BAD_SQL))
    markdown = result.as_markdown()

    assert "| what failed | severity | expectation | unexpected | sample | guards |" in markdown
    assert "`expect_column_values_to_be_in_set(bank)`" in markdown
    # what failed in words first: the figures and the limit
    assert (
        "| 3/4 行fee超出限度（应在 0 到 1,000 之间）：-5；5,000；-1 | error"
        " | `expect_column_values_to_be_between(fee)` | 3 (75.0%)"
    ) in markdown
    assert "launched_on的最大值 2026-01-02，应在 2020-01-01 到 2025-12-31 之间" in markdown
    assert '"HSBC"' in markdown
    assert "An annual fee is never negative nor absurd." in markdown
    assert markdown.count(" | error | `expect_") == len(result.failed)

    passed = validate_dataframe(write_suite(tmp_path, CARD_SUITE), frame(GOOD_SQL))
    assert passed.as_markdown() == "All 8 expectations of suite `cards` passed."


def test_markdown_cells_escape_pipes(tmp_path):
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "bank", "value_set": ["CMB"]},
            "meta": {"notes": "Banks | not others"},
        }
    )
    df = pd.DataFrame({"bank": ["A|B"]})
    markdown = validate_dataframe(write_suite(tmp_path, suite), df).as_markdown()

    row = markdown.splitlines()[-1]
    assert "A\\|B" in row and "Banks \\| not others" in row
    assert row.count(" | ") == 5


# -- reading from DuckDB: only the checked columns ------------------------------------------

WIDE_SQL = """
    select * from (values
        ('c1', 'CMB', 0, date '2021-03-01', 'a long description nobody checks'),
        ('c2', 'ICBC', 300, date '2023-07-15', 'another one'),
        (null, 'BOC', 1000, date '2025-12-31', 'and a third')
    ) t(card_id, bank, fee, launched_on, description)
"""


@pytest.fixture
def cards_db():
    with duckdb.connect() as conn:
        conn.execute(f"create table cards as {WIDE_SQL}")
        yield conn


def test_only_the_checked_columns_are_read(tmp_path, cards_db):
    suite = suite_of(
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": ["card_id", "bank", "issuer"], "exact_match": False},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "fee", "max_value": 500},
        },
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "card_id"}},
    )
    path = write_suite(tmp_path, suite)

    df, columns = read_checked_columns(cards_db, "select * from cards", path)
    assert list(df.columns) == ["card_id", "fee"]  # in the query's order
    assert columns == ["card_id", "bank", "fee", "launched_on", "description"]
    assert df.equals(cards_db.sql("select card_id, fee from cards").df())

    result = validate_dataframe(path, df, table_columns=columns)
    # A column the query lacks still fails the column set, though no column set value is read;
    # without an exact match, only the missing column is the cause.
    column_set = only_failure(result, "expect_table_columns_to_match_set")
    assert column_set.sample_unexpected == [{"missing": ["issuer"]}]
    assert only_failure(result, "expect_column_values_to_be_between").sample_unexpected == [1000]
    # The rows of a missing value hold the columns that were read.
    missing_id = only_failure(result, "expect_column_values_to_not_be_null")
    assert missing_id.sample_unexpected == [{"card_id": None, "fee": 1000}]


def test_column_names_are_checked_without_reading_values(tmp_path, cards_db):
    suite = suite_of(
        {
            "type": "expect_table_columns_to_match_set",  # an exact match, GE's default
            "kwargs": {"column_set": ["card_id", "bank", "fee", "launched_on"]},
        },
        {
            "type": "expect_table_columns_to_match_ordered_list",
            "kwargs": {"column_list": ["card_id", "bank", "fee", "launched_on", "description"]},
        },
        {"type": "expect_table_column_count_to_equal", "kwargs": {"value": 5}},
        {"type": "expect_column_to_exist", "kwargs": {"column": "bank", "column_index": 1}},
        {"type": "expect_table_row_count_to_equal", "kwargs": {"value": 3}},
    )
    path = write_suite(tmp_path, suite)

    df, columns = read_checked_columns(cards_db, "select * from cards", path)
    assert list(df.columns) == [] and len(df) == 3  # the rows, no values

    result = validate_dataframe(path, df, table_columns=columns)
    [failure] = result.failed
    assert failure.expectation_type == "expect_table_columns_to_match_set"
    assert failure.sample_unexpected == [{"unexpected": ["description"]}]


def test_a_checked_column_the_query_lacks_cannot_be_evaluated(tmp_path, cards_db):
    suite = suite_of(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "issuer"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "bank"}},
    )
    path = write_suite(tmp_path, suite)

    df, columns = read_checked_columns(cards_db, "select * from cards", path)
    assert list(df.columns) == ["bank"]
    with pytest.raises(ExpectationRunError, match="issuer"):
        validate_dataframe(path, df, table_columns=columns)


def test_a_row_condition_reads_every_column(tmp_path, cards_db):
    suite = suite_of(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": "fee",
                "max_value": 500,
                "row_condition": "bank != 'BOC'",
                "condition_parser": "pandas",
            },
        }
    )
    path = write_suite(tmp_path, suite)

    df, columns = read_checked_columns(cards_db, "select * from cards", path)
    assert list(df.columns) == columns

    result = validate_dataframe(path, df, table_columns=columns)
    assert result.success  # BOC's fee of 1000 is outside the condition


def test_reading_gives_what_duckdb_df_gives(tmp_path):
    """Read in Arrow batches, the frame has `.df()`'s dtypes and values, batch boundaries and
    nulls in only some batches included (600,000 rows: two batches)."""
    sql = """
        select
            i,
            case when i = 550000 then null else i end as late_null,
            case when i % 7 = 0 then null else i % 2 = 0 end as flag,
            (i / 8)::decimal(12, 3) as amount,
            date '2024-01-01' + (i % 400)::int as day,
            timestamptz '2024-01-02 03:04:05+02' as at,
            case when i % 11 = 0 then null else 'bank ' || (i % 30) end as bank,
            (i % 2)::varchar::enum('0', '1', '2') as kind
        from range(600000) t(i)
    """
    names = ["i", "late_null", "flag", "amount", "day", "at", "bank", "kind"]
    suite = suite_of(
        *[{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": n}} for n in names]
    )
    path = write_suite(tmp_path, suite)
    with duckdb.connect() as conn:
        expected = conn.sql(sql).df()
        df, _ = read_checked_columns(conn, sql, path)
        expected_empty = conn.sql(sql + " limit 0").df()
        empty, _ = read_checked_columns(conn, sql + " limit 0", path)

    assert df.dtypes.to_dict() == expected.dtypes.to_dict()
    assert str(df["late_null"].dtype) == "Int64"
    assert df.equals(expected)
    assert empty.dtypes.to_dict() == expected_empty.dtypes.to_dict()


# 40 accounts' rows, failures spread over the parts of 7 rows: a verdict to flag (13 rows, more
# than a sample holds), missing ids, a fee over its bound, banks outside the set or missing, a
# note that should be empty, a code of the wrong form
PARTS_SQL = """
    select
        i,
        case when i % 9 = 4 then null else 'acct ' || i end as account,
        case when i % 3 = 1 then 'likely_data_error' when i % 5 = 0 then 'event' end as verdict,
        case when i = 33 then 900 else i * 10 end as fee,
        case when i % 8 = 2 then 'XYZ' when i % 10 = 7 then null else 'CMB' end as bank,
        case when i % 13 = 6 then 'check' end as note,
        case when i % 11 = 3 then 'c-' || i else 'C' || i end as code,
        date '2025-01-01' + i::int as day
    from range(40) t(i)
"""
PARTS_SUITE = {
    "name": "parts",
    "meta": {"identify_by": ["account", "day"]},
    "expectations": [
        {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["i", "fee"]}},
        {
            "type": "expect_column_values_to_not_be_in_set",
            "kwargs": {"column": "verdict", "value_set": ["likely_data_error"]},
        },
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "account"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "fee", "min_value": 0, "max_value": 500},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "bank", "value_set": ["CMB", "ICBC"]},
            "meta": {"severity": "warning"},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "day", "min_value": "2024-12-01", "max_value": "2025-12-31"},
        },
        {"type": "expect_column_values_to_be_null", "kwargs": {"column": "note"}},
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "code", "regex": "^C"},
        },
    ],
}


def test_a_row_wise_suite_read_a_part_at_a_time_has_the_whole_tables_outcome(tmp_path):
    """What a large table's check holds in memory is one part: the parts' outcomes added up are
    the outcome on the whole table, count for count, sample for sample, range for range."""
    path = write_suite(tmp_path, PARTS_SUITE)
    with duckdb.connect() as conn:
        whole = validate_query(conn, PARTS_SQL, path, rows_per_part=10**9)
        parts = validate_query(conn, PARTS_SQL, path, rows_per_part=7)
        exact = validate_query(conn, PARTS_SQL, path, rows_per_part=8)  # 40 rows: 5 full parts

    assert (whole.parts, whole.rows) == (1, 40)
    assert parts.parts > 3 and parts.rows == 40
    assert (exact.parts, exact.rows) == (5, 40)
    assert parts.result == whole.result
    assert exact.result == whole.result
    assert len(whole.result.failed) == 7  # every expectation but the date range failed
    # what was added up: more failures than a sample holds, ranges over every part, GE's
    # percentage over the values that are not missing
    verdict = only_failure(parts.result, "expect_column_values_to_not_be_in_set")
    assert verdict.unexpected_count == 13 and len(verdict.sample_unexpected) == 10
    assert verdict.sample_unexpected[0] == {
        "account": "acct 1",
        "day": "2025-01-02",
        "verdict": "likely_data_error",
    }
    bank = only_failure(parts.result, "expect_column_values_to_be_in_set")
    assert bank.unexpected_count == 5 and bank.unexpected_percent == pytest.approx(5 / 36 * 100)
    [day] = [c for c in parts.result.checked if c.columns == ["day"]]
    assert day.passed and day.observed_range == ("2025-01-01", "2025-02-09")


def test_a_suite_that_needs_every_row_at_once_is_read_whole(tmp_path):
    path = write_suite(
        tmp_path,
        suite_of(
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "account"}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "bank"}},
        ),
    )
    with duckdb.connect() as conn:
        validation = validate_query(conn, PARTS_SQL, path, rows_per_part=7)
    assert (validation.parts, validation.rows) == (1, 40)
    # a `mostly` lets a share of failures pass: a share of the whole, so the whole is read too
    path = write_suite(
        tmp_path,
        suite_of(
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "account", "mostly": 0.9},
            }
        ),
    )
    with duckdb.connect() as conn:
        assert validate_query(conn, PARTS_SQL, path, rows_per_part=7).parts == 1
    # a row_condition is pandas text that may name any column: read whole too
    path = write_suite(
        tmp_path,
        suite_of(
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {
                    "column": "fee",
                    "max_value": 500,
                    "row_condition": "bank == 'CMB'",
                    "condition_parser": "pandas",
                },
            }
        ),
    )
    with duckdb.connect() as conn:
        assert validate_query(conn, PARTS_SQL, path, rows_per_part=7).parts == 1


def test_nullable_integers_keep_their_values_for_text_checks(tmp_path):
    """Bounds on a nullable integer column are compared as numbers (as floats, fast); a text
    check on the column still sees integers, and samples are reported as integers."""
    df = frame("select * from (values (10, 1), (null, 2), (99, 3)) t(a, b)")
    suite = suite_of(
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "max_value": 50}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "b", "max_value": 2}},
        {"type": "expect_column_value_lengths_to_equal", "kwargs": {"column": "b", "value": 1}},
    )
    result = validate_dataframe(write_suite(tmp_path, suite), df)

    assert [(f.column, f.sample_unexpected) for f in result.failed] == [("a", [99]), ("b", [3])]
    assert all(type(v) is int for f in result.failed for v in f.sample_unexpected)
    assert str(df["a"].dtype) == "Int32"  # the caller's frame is left as it was


# -- the suites of the repository, and import cost -------------------------------------------


def test_repository_suites_load():
    """Every suite in expectations/ is well formed and known to GE (none yet is fine)."""
    for path in sorted(settings.EXPECTATIONS_DIR.glob("*.json")):
        assert check_suite(path) >= 0, path
        assert load_suite(path)["name"], path


# What a suite must not restate: the contract's value checks (ingestion quarantines such rows)
# and the models' own invariants (dbt tests: grains, keys not null). Column sets are the models'
# code, checked by tests/test_marts.py.
RESTATING_TYPES = {
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_not_be_null",
    "expect_table_columns_to_match_set",
}
# A plain read of one dbt model: named columns, maybe a filter on one of its boolean columns.
PLAIN_READ = re.compile(
    r"SELECT (?P<columns>\*|\w+(, \w+)*) FROM (?P<schema>\w+)\.(?P<model>\w+)( WHERE \w+)?"
)


def test_repository_suites_judge_plausibility_only():
    """Each rule in one place: no suite re-checks what the contract or a dbt test owns, and no
    suite transforms data (its query reads a dbt model as it is; the SQL lives in the model)."""
    from orchestration.contract.datasets import CATEGORY_CODES

    codes = {code for values in CATEGORY_CODES.values() for code in values}
    models = {path.stem for path in (settings.DBT_PROJECT_DIR / "models").rglob("*.sql")}
    suites = sorted(settings.EXPECTATIONS_DIR.glob("*.json"))
    assert suites
    for path in suites:
        suite = load_suite(path)
        read = PLAIN_READ.fullmatch(suite["meta"]["query"])
        assert read, f"{path.name} transforms in its query: {suite['meta']['query']}"
        assert read["schema"] != "raw" and read["model"] in models, path.name
        assert suite["expectations"], f"{path.name} has nothing of its own: delete it"
        for item in suite["expectations"]:
            assert item["type"] not in RESTATING_TYPES, (path.name, item["type"])
            assert not codes & set(item["kwargs"].get("value_set", [])), (path.name, item)


def test_the_finder_hides_pyspark_and_defers_stats_and_altair_in_its_thread_only(monkeypatch):
    monkeypatch.delitem(sys.modules, "pyspark", raising=False)
    finder = suites._GreatExpectationsImports()
    with pytest.raises(ModuleNotFoundError):
        finder.find_spec("pyspark.sql")
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(finder.find_spec("pyspark")))
    thread.start()
    thread.join()
    assert elsewhere == [None]  # the other finders find it there
    assert finder.find_spec("pysparkling") is None
    # scipy.stats and altair: found by the other finders, loaded lazily, in this thread only
    assert isinstance(finder.find_spec("altair").loader, importlib.util.LazyLoader)
    thread = threading.Thread(target=lambda: elsewhere.append(finder.find_spec("altair")))
    thread.start()
    thread.join()
    assert elsewhere == [None, None]
    # a process that has imported pyspark (dbt on Spark) gives GE the real one
    monkeypatch.setitem(sys.modules, "pyspark", types.ModuleType("pyspark"))
    assert suites._GreatExpectationsImports().find_spec("pyspark.sql") is None


def test_great_expectations_is_imported_on_first_use_without_what_the_suites_never_use():
    """pyspark is not imported, and scipy.stats and altair are imported without running their
    code; afterwards each is there for whoever uses it."""
    code = """
import sys
from orchestration.defs.quality import suites
assert 'great_expectations' not in sys.modules, 'imported with the module'
gx = suites._gx()
assert gx.ExpectationSuite and 'pyspark' not in sys.modules, 'GE imported pyspark'
# found and bound, not run: their own submodules are not imported yet
assert 'scipy.stats' in sys.modules and 'altair' in sys.modules, 'GE no longer imports them'
assert 'scipy.stats._stats_py' not in sys.modules, 'scipy.stats ran'
assert 'altair.vegalite' not in sys.modules, 'altair ran'
import pyspark.sql  # still there for a Spark run that needs it
import altair
from scipy import stats
assert stats.norm.cdf(0) == 0.5 and altair.Chart  # run on first use
assert 'scipy.stats._stats_py' in sys.modules and 'altair.vegalite' in sys.modules
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.REPO_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
