"""A failed expectation reads as a sentence with the figure seen and the limit: real Great
Expectations validations of the repository's suites (and of small suites for the other types) on
small DuckDB tables."""

import json

import duckdb
import pytest

from orchestration.defs.quality.checks import failure_description
from orchestration.defs.quality.sentences import failure_sentence, limit_text, passed_sentence
from orchestration.defs.quality.suites import (
    read_checked_columns,
    suite_path,
    validate_dataframe,
)


def validate(path, sql: str):
    """The suite at `path` on the rows of `sql`, read as a check reads them."""
    with duckdb.connect() as conn:
        conn.execute(f"CREATE TABLE checked AS {sql}")
        frame, columns = read_checked_columns(conn, "SELECT * FROM checked", path)
    return validate_dataframe(path, frame, table_columns=columns)


def sentences(result) -> dict[str, str]:
    return {f.columns[0]: failure_sentence(f) for f in result.failed}


FEED = """
SELECT * FROM (VALUES
  ('小红书', DATE '2025-04-17', 1, DATE '2025-04-03', 7, true, 593),
  ('抖音', DATE '2026-11-30', 5, DATE '2026-11-23', 5, false, 2)
) AS t(platform, snapshot_date, accounts, previous_snapshot_date, previous_accounts, is_partial,
       days_since_latest_snapshot)
"""


def test_a_stale_and_partial_feed_says_how_old_and_how_partial():
    result = validate(suite_path("account_snapshot_feed"), FEED)
    said = sentences(result)
    assert said["days_since_latest_snapshot"] == (
        "最新快照距今 593 天（platform 小红书，snapshot_date 2025-04-17），上限 45 天"
    )
    assert "accounts 1" in said["is_partial"] and "previous_accounts 7" in said["is_partial"]
    assert "抖音" not in said["is_partial"]  # the rows that failed, not the others
    # the check's description, which the run's summary prints: a warning, in words
    description = failure_description(result.failed)
    assert description == "; ".join(said[c] for c in ("is_partial", "days_since_latest_snapshot"))
    assert "expect_" not in description
    # the page shows what a passed bound saw: the range against its limit
    [bound] = [c for c in result.checked if c.columns == ["days_since_latest_snapshot"]]
    assert bound.observed_range == (2, 593)
    assert passed_sentence(bound) == "2 行，实际范围 2–593 天"


def test_shares_over_100_give_the_total_and_the_band():
    sql = "SELECT * FROM (VALUES (120.0), (100.0), (80.5)) AS t(share_total_pct)"
    result = validate(suite_path("audience_share_totals"), sql)
    [failure] = result.failed
    assert failure_sentence(failure) == (
        "2/3 行受众分布合计超出限度（应在 99.5% 到 100.5% 之间）：120%；80.5%"
    )


def test_a_dropped_unit_names_the_account_and_both_figures():
    sql = """
    SELECT * FROM (VALUES
      ('中信银行信用卡', DATE '2025-05-01', 127000, 13, 'likely_data_error', 9),
      ('宁波银行信用卡', DATE '2025-05-01', 47000, 47000, NULL, 9)
    ) AS t(account_name, snapshot_date, previous_followers, followers, follower_drop_verdict,
           refreshed_through_load_id)
    """
    result = validate(suite_path("account_performance"), sql)
    [failure] = result.failed
    assert failure.severity == "error"
    assert failure_sentence(failure) == (
        "1/2 行粉丝下降像数据错误（不得为 {likely_data_error}）：account_name 中信银行信用卡，"
        "snapshot_date 2025-05-01，previous_followers 127,000，followers 13"
    )


def test_a_value_that_must_be_null_is_quoted():
    excess = "宁波银行信用卡 on 2025-04-17: 1 note(s) earn at least 66000 likes+collects"
    sql = f"""
    SELECT * FROM (VALUES ('{excess}', NULL), (NULL, NULL), (NULL, NULL))
    AS t(notes_excess, unscored_notes)
    """
    result = validate(suite_path("note_account_totals"), sql)
    said = f"1/3 行笔记互动超过账号总数（应为 0 行）：{excess}"
    assert sentences(result) == {"notes_excess": said}
    # with a warning beside the error, the description says which is which, the error first
    sql = sql.replace("(NULL, NULL))", "(NULL, '3 notes of 中信银行信用卡 on 2025-04-17'))")
    description = failure_description(validate(suite_path("note_account_totals"), sql).failed)
    assert description == (
        f"error: {said}; warning: 1/3 行无账号快照跟进、不计分的笔记（应为 0 行）："
        "3 notes of 中信银行信用卡 on 2025-04-17"
    )


@pytest.mark.parametrize(
    ("expectation", "sql", "said"),
    [
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "bank"},
                "meta": {"identify_by": ["id"]},
            },
            "SELECT * FROM (VALUES ('a', '招商银行'), ('b', NULL)) AS t(id, bank)",
            "1/2 行bank为空（应无空值）：id b",
        ),
        (
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
            "SELECT * FROM (VALUES ('a'), ('a'), ('b')) AS t(id)",
            "2/3 行id重复（应唯一）：a；a",
        ),
        (
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "tier", "value_set": ["head", "waist"]},
                "meta": {"label": "粉丝层级"},
            },
            "SELECT * FROM (VALUES ('head'), ('tail')) AS t(tier)",
            "1/2 行粉丝层级不在允许值 {head, waist} 内：tail",
        ),
        (
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "mau", "min_value": 1},
                "meta": {"label": "月活", "unit": "人"},
            },
            "SELECT * FROM (VALUES (0), (5)) AS t(mau)",
            "月活 0 人，下限 1 人",
        ),
        (
            {
                "type": "expect_table_columns_to_match_set",
                "kwargs": {"column_set": ["id", "bank"], "exact_match": False},
            },
            "SELECT * FROM (VALUES ('a')) AS t(id)",
            '表的列与约定不符：缺少列 bank（约定 ["id", "bank"]）',
        ),
    ],
)
def test_each_type_says_its_figure_and_limit(tmp_path, expectation, sql, said):
    path = tmp_path / "small.json"
    path.write_text(json.dumps({"name": "small", "expectations": [expectation]}))
    [failure] = validate(path, sql).failed
    assert failure_sentence(failure) == said


def test_limits_in_words():
    between = "expect_column_values_to_be_between"
    assert limit_text(between, {"max_value": 45}, "天") == "上限 45 天"
    assert limit_text(between, {"min_value": 0, "max_value": 6, "strict_max": True}) == (
        "应在 0 到 6（不含） 之间"
    )
    assert limit_text("expect_column_values_to_be_null", {}) == "应为空"


def test_the_failing_rows_of_the_banks_own_figures_stay_off_the_page(monkeypatch):
    """The page lists a suite's failing rows unless it reads a model tagged confidential and the
    bank's figures are not published, the report's rule."""
    from orchestration.defs.quality.checks import _withheld

    funnel = json.loads(suite_path("funnel_date_gaps").read_text(encoding="utf-8"))
    audience = json.loads(suite_path("platform_audience_fit").read_text(encoding="utf-8"))
    monkeypatch.delenv("CARDREACH_PUBLISH_CONFIDENTIAL", raising=False)
    assert _withheld(funnel["meta"]["query"])
    assert not _withheld(audience["meta"]["query"])
    monkeypatch.setenv("CARDREACH_PUBLISH_CONFIDENTIAL", "true")
    assert not _withheld(funnel["meta"]["query"])


def test_a_withheld_suite_names_no_row_of_the_banks_figures_in_its_description():
    """The check's description reaches the UI and the report: while the bank's own figures are
    not published, it says how far off the worst figure is, without the rows that name them."""
    sql = """
    SELECT * FROM (VALUES
      ('招商银行', '小红书', 'app', 'C1', DATE '2024-03-20', 12,
       '招商银行 小红书 app C1: 2024-03-08..2024-03-20', 1)
    ) AS t(bank, platform, channel, campaign_id, funnel_date, missing_days, gap, load_id)
    """
    [failure] = validate(suite_path("funnel_date_gaps"), sql).failed
    published = failure_description([failure])
    withheld = failure_description([failure], withhold=True)
    assert "C1" in published and "2024-03-08" in published
    assert "C1" not in withheld and "2024-03-08" not in withheld and "招商银行" not in withheld
    assert withheld == "1/1 行漏斗连续缺失超出限度（应在 0 天 到 6 天 之间）"  # and the limit
