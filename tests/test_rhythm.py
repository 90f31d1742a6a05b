"""Posting rhythm on the shipped sample: the three marts are wired to the notes and to the
platform's active-period audience delivery, and no note is lost between them. The SQL's own
logic (a week gap at 0, a date-only note left out of the hours, 23:30 in a period crossing
midnight) is in the models' dbt unit tests."""

import csv
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from conftest import SAMPLE_LANDING, query

ZHONGXIN = "中信银行信用卡"


def sample_note_rows() -> list[dict[str, str]]:
    with (SAMPLE_LANDING / "notes__2025-04-17.csv").open(encoding="utf-8", newline="") as handle:
        return sorted(csv.DictReader(handle), key=lambda r: r["日期"])


def sample_notes_of(account: str) -> dict[str, str]:
    """note id -> publication time as the file writes it (the latest delivery's)."""
    return {r["笔记ID"]: r["发布时间"] for r in sample_note_rows() if r["账号"] == account}


def sample_active_period_shares() -> dict[str, float]:
    path = SAMPLE_LANDING / "app_audience__active_period_illustrative.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {r["bucket"]: float(r["share_pct"]) for r in csv.DictReader(handle)}


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def test_posting_rhythm_counts_every_note_once_over_consecutive_weeks(sample_run):
    """Every account of the sample, its weeks from its first note's to its latest snapshot's:
    招商's notes stop weeks before its last snapshot, so its rhythm ends in weeks at 0."""
    accounts = sorted({r["账号"] for r in sample_note_rows()})
    assert len(accounts) >= 2
    zero_weeks = 0
    for account in accounts:
        published = sample_notes_of(account)
        latest_snapshot = max(
            date.fromisoformat(r["日期"]) for r in sample_note_rows() if r["账号"] == account
        )
        rows = query(
            sample_run,
            "select week_start, notes_published, notes_without_time, is_partial_week,"
            " notes_published_trailing_4w_avg, account_latest_snapshot_date"
            " from marts.posting_rhythm where account_name = ? order by week_start",
            [account],
        )
        days = [date.fromisoformat(p[:10]) for p in published.values()]
        first, last = monday(min(days)), monday(latest_snapshot)
        expected_weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
        assert [r[0] for r in rows] == expected_weeks, account
        counts = Counter(monday(d) for d in days)
        expected_counts = [counts.get(week, 0) for week in expected_weeks]
        assert [r[1] for r in rows] == expected_counts, account
        assert sum(r[2] for r in rows) == sum(1 for p in published.values() if len(p) == 10)
        # only the last week can be partial: its Sunday after the latest snapshot
        partial = last + timedelta(days=6) > latest_snapshot
        assert [r[3] for r in rows] == [False] * (len(rows) - 1) + [partial], account
        assert {r[5] for r in rows} == {latest_snapshot}
        expected_averages = [
            None
            if i < 3 or (partial and i == len(rows) - 1)
            else sum(expected_counts[i - 3 : i + 1]) / 4
            for i in range(len(rows))
        ]
        averages = [None if r[4] is None else float(r[4]) for r in rows]
        assert averages == pytest.approx(expected_averages, abs=0.005), account
        zero_weeks += expected_counts.count(0)
    # the sample has weeks without a note (招商's pause at the end among them)
    assert zero_weeks > 0


def test_posting_times_places_the_timed_notes_and_counts_the_rest(sample_run):
    published = sample_notes_of(ZHONGXIN)
    timed = [datetime.fromisoformat(p) for p in published.values() if len(p) > 10]
    rows = query(
        sample_run,
        "select weekday, weekday_label, hour_of_day, notes_published, account_timed_notes,"
        " account_notes_without_time from marts.posting_times where account_name = ?",
        [ZHONGXIN],
    )
    assert {(w, h): n for w, _, h, n, *_ in rows} == Counter(
        (t.isoweekday(), t.hour) for t in timed
    )
    assert {r[4:] for r in rows} == {(len(timed), len(published) - len(timed))}
    assert {w: label for w, label, *_ in rows}.get(1) == "周一"


def test_posting_vs_active_periods_reads_the_platforms_illustrative_delivery(sample_run):
    published = sample_notes_of(ZHONGXIN)
    april_timed = [p for p in published.values() if p.startswith("2025-04") and len(p) > 10]
    rows = query(
        sample_run,
        "select active_period_label, timed_notes, notes_in_period, notes_share_pct,"
        " audience_month, audience_active_share_pct, notes_minus_audience_pct_points,"
        " audience_sources, notes_sources from marts.posting_vs_active_periods"
        " where account_name = ? and month = DATE '2025-04-01'",
        [ZHONGXIN],
    )
    shares = sample_active_period_shares()
    assert {r[0] for r in rows} == set(shares)  # every period, those without notes at 0
    by_period = {r[0]: r for r in rows}
    evening = by_period["晚间(18-22点)"]
    in_evening = sum(1 for p in april_timed if 18 <= int(p[11:13]) < 22)
    assert evening[1:3] == (len(april_timed), in_evening)
    assert evening[4] == date(2025, 1, 1)  # the only active_period month delivered
    assert evening[5] == pytest.approx(shares["晚间(18-22点)"])
    assert evening[6] == pytest.approx(
        round(100 * in_evening / len(april_timed) - shares["晚间(18-22点)"], 1)
    )
    assert "illustrative" in evening[7]
    latest = {r["笔记ID"]: r for r in sample_note_rows() if r["账号"] == ZHONGXIN}
    april_sources = sorted(
        {
            r["来源"]
            for r in latest.values()
            if r["发布时间"].startswith("2025-04") and len(r["发布时间"]) > 10
        }
    )
    assert {r[8] for r in rows} == {" | ".join(april_sources)}
    assert sum(r[3] for r in rows) == pytest.approx(100, abs=0.3)
