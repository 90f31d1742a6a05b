"""Account figures an analyst can defend, on the shipped sample (a real ingestion and dbt build):
rounded counts as intervals, and engagement counted as analysts count it. The edge cases of both
are dbt unit tests in account_performance.yml and int_account_snapshot_changes.yml."""

from datetime import date

import pytest
from conftest import query

SAMPLE_DEFINITION = "likes+collects (comments and shares not delivered)"


def test_a_one_step_change_is_a_real_increase_not_rounding(sample_run):
    """招商银行信用卡申请, 4.2万 on 2024-12-31 and 4.3万 on 2025-04-17: under the default rounding
    to the nearest 1,000 the true counts are 41,500-42,499 and 42,500-43,499, so the change is
    1 to 1,999 persons: certainly an increase, with every figure derived from it an interval."""
    [row] = query(
        sample_run,
        "SELECT followers_low, followers_high, followers_change_low, followers_change_high,"
        " followers_change_pct_low, followers_change_pct_high, follower_growth_weekly_pct_low,"
        " follower_growth_weekly_pct, follower_growth_weekly_pct_high,"
        " followers_change_within_rounding"
        " FROM marts.account_performance WHERE account_name = '招商银行信用卡申请'"
        " AND snapshot_date = DATE '2025-04-17'",
    )
    (low, high, change_low, change_high, pct_low, pct_high) = row[:6]
    (weekly_low, weekly, weekly_high, within_rounding) = row[6:]
    assert (low, high) == (42_500, 43_499)
    assert (change_low, change_high) == (1, 1_999)
    assert pct_low == pytest.approx((42_500 / 42_499 - 1) * 100)
    assert pct_high == pytest.approx((43_499 / 41_500 - 1) * 100)
    assert 0 < weekly_low < weekly < weekly_high
    assert weekly_high == pytest.approx(((43_499 / 41_500) ** (7 / 107) - 1) * 100)
    assert within_rounding is False
    # An account's first snapshot has its interval but no change, so no verdict on it.
    assert query(
        sample_run,
        "SELECT followers_low, followers_high, followers_change_low,"
        " followers_change_within_rounding FROM marts.account_performance"
        " WHERE account_name = '中信银行信用卡'",
    ) == [(126_500, 127_499, None, None)]


def test_the_published_copy_has_the_intervals(sample_run):
    """The analysts' copy carries the bounds too, on account_latest as on account_performance."""
    import duckdb

    with duckdb.connect(str(sample_run.analytics_path), read_only=True) as conn:
        rows = conn.execute(
            "SELECT followers_low, followers_high, followers_change_within_rounding"
            " FROM marts.account_latest WHERE account_name = '招商银行信用卡申请'"
        ).fetchall()
    assert rows == [(42_500, 43_499, False)]


def test_interactions_name_their_definition_and_the_window_compares_like_with_like(sample_run):
    """The sample's 小红书 profiles deliver likes and collects (combined in 2024, split in 2025)
    but no comments or shares: interactions say so, and both snapshots count the same things,
    so the window between them has an engagement."""
    rows = query(
        sample_run,
        "SELECT snapshot_date, interactions, interactions_definition, interactions_per_note,"
        " interactions_per_follower, interactions_gained, notes_gained, interactions_per_new_note,"
        " window_engagement_rate_pct, window_engagement_rate_weekly_pct"
        " FROM marts.account_performance WHERE account_name = '招商银行信用卡申请'"
        " ORDER BY snapshot_date",
    )
    # 2024 holds weekly illustrative snapshots before the report's end-of-year figure
    first, before_previous, previous, latest = rows[0], rows[-3], rows[-2], rows[-1]
    assert {r[2] for r in rows} == {SAMPLE_DEFINITION}
    assert first[5:] == (None, None, None, None, None)  # no earlier snapshot: no window
    # 2025-04-17: likes 21.6万 + collects 8.5万; 2024-12-31: 获赞与收藏 26万
    assert latest[0] == date(2025, 4, 17)
    assert latest[1] == 216_000 + 85_000
    assert latest[3] == pytest.approx(301_000 / 209)
    assert latest[4] == pytest.approx(301_000 / 43_000)
    assert latest[5:8] == (41_000, 29, pytest.approx(41_000 / 29))
    # over the window from 2024-12-31 (42,000 followers at its start), 107 days
    assert latest[8] == pytest.approx(41_000 / 42_000 * 100)
    assert latest[9] == pytest.approx(41_000 / 42_000 * 100 / 107 * 7)
    assert previous[0] == date(2024, 12, 31)
    assert previous[1] == 260_000 and previous[5] == 260_000 - before_previous[1]
    # every account of the sample counts the same things
    assert query(
        sample_run, "SELECT DISTINCT interactions_definition FROM marts.account_performance"
    ) == [(SAMPLE_DEFINITION,)]


def test_the_sample_has_no_follower_drop_alert(sample_run):
    assert query(sample_run, "SELECT count(*) FROM marts.account_alerts") == [(0,)]
    assert query(
        sample_run,
        "SELECT count(*) FROM marts.account_performance WHERE follower_drop_verdict IS NOT NULL",
    ) == [(0,)]
