"""Campaigns on the shipped sample (marts.campaign_performance): the 2024 campaigns of 招行 counted
from their file, the uplift recomputed from the weekly account snapshots, the unmeasured ones and
why; the gate (a topic's notes count that falls holds back the mart); the report's 活动表现."""

import csv
import json
import re
from datetime import date, timedelta

import dagster as dg
import duckdb
from conftest import SAMPLE_LANDING, query, run_pipeline

from orchestration import settings

CAMPAIGNS_FILE = SAMPLE_LANDING / "campaigns__招行_2024.csv"
WEEKLY_FILE = SAMPLE_LANDING / "account_snapshots__招行_2024_weekly_illustrative.csv"
SETTINGS_FILE = settings.REPO_ROOT / "dbt_project" / "seeds" / "campaign_settings.csv"
NAMED = {"分享你的'618攻略'", "聊一聊你最推荐的小众旅游地", "晒今年最满意的一笔积分兑换"}


def sample_campaigns() -> list[dict]:
    with CAMPAIGNS_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def campaign_settings() -> dict[str, int]:
    with SETTINGS_FILE.open(encoding="utf-8", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    return {key: int(value) for key, value in row.items()}


def account_snapshot_dates_by_file() -> dict[str, dict[str, set[date]]]:
    """Each sample account_snapshots file's snapshot dates of each account (either header)."""
    by_file: dict[str, dict[str, set[date]]] = {}
    for path in SAMPLE_LANDING.glob("account_snapshots__*"):
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        else:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
        dates = by_file.setdefault(path.name, {})
        for r in rows:
            account, day = (
                r.get("account_name", r.get("账号")),
                r.get("snapshot_date", r.get("日期")),
            )
            dates.setdefault(account, set()).add(date.fromisoformat(day))
    return by_file


def account_snapshot_dates() -> dict[str, set[date]]:
    """Every snapshot date of each account in the sample."""
    dates: dict[str, set[date]] = {}
    for by_account in account_snapshot_dates_by_file().values():
        for account, days in by_account.items():
            dates.setdefault(account, set()).update(days)
    return dates


def weekly_followers() -> dict[date, int]:
    with WEEKLY_FILE.open(encoding="utf-8", newline="") as handle:
        return {date.fromisoformat(r["日期"]): int(r["粉丝数"]) for r in csv.DictReader(handle)}


def nearest(dates: set[date], edge: date, side: str, tolerance: int) -> date | None:
    """The snapshot the mart reads for an edge: the latest on or before, or the earliest on or
    after, within the tolerance."""
    if side == "before":
        found = [d for d in dates if edge - timedelta(days=tolerance) <= d <= edge]
        return max(found, default=None)
    found = [d for d in dates if edge <= d <= edge + timedelta(days=tolerance)]
    return min(found, default=None)


def edges(campaign: dict, dates: set[date], config: dict) -> tuple:
    start = date.fromisoformat(campaign["开始日期"])
    end = date.fromisoformat(campaign["结束日期"])
    tolerance = config["edge_tolerance_days"]
    return (
        nearest(dates, start - timedelta(days=config["baseline_days"]), "before", tolerance),
        nearest(dates, start, "before", tolerance),
        nearest(dates, end, "after", tolerance),
    )


def weekly_rate(current: int, previous: int, days: int) -> float:
    return ((current / previous) ** (7 / days) - 1) * 100


def test_the_2024_campaigns_of_zhaoshang_are_counted_with_the_three_the_report_names(sample_run):
    expected = [
        c
        for c in sample_campaigns()
        if c["银行"] == "招商银行" and c["开始日期"].startswith("2024")
    ]
    assert len(expected) >= 20  # the report's "20+"
    [(count,)] = query(
        sample_run,
        "select count(*) from marts.campaign_performance"
        " where bank = '招商银行' and year(start_date) = 2024",
    )
    assert count == len(expected)
    names = {
        name
        for (name,) in query(
            sample_run,
            "select name from marts.campaign_performance"
            " where bank = '招商银行' and year(start_date) = 2024",
        )
    }
    assert names == {c["活动名称"] for c in expected}
    assert names >= NAMED


def test_uplift_is_the_window_rate_against_the_accounts_rate_before_it(sample_run):
    """Recomputed in Python from the weekly file, for every campaign whose three edges are weekly
    snapshots no other file also delivers (the mid-year and year-end figures are rounded)."""
    config = campaign_settings()
    followers = weekly_followers()
    all_dates = account_snapshot_dates()
    others = set().union(
        *(
            days
            for name, by_account in account_snapshot_dates_by_file().items()
            if name != WEEKLY_FILE.name
            for days in by_account.values()
        )
    )
    mart = {
        r[0]: r[1:]
        for r in query(
            sample_run,
            "select campaign_id, baseline_snapshot_date, start_snapshot_date, end_snapshot_date,"
            " window_weekly_growth_pct, baseline_weekly_growth_pct, uplift_pct_points,"
            " uplift_pct_points_low, uplift_pct_points_high, uplift_verdict"
            " from marts.campaign_performance",
        )
    }
    checked = []
    for campaign in sample_campaigns():
        if campaign["账号"] != "招商银行信用卡申请":
            continue
        baseline, start, end = edges(campaign, all_dates[campaign["账号"]], config)
        if None in (baseline, start, end) or {baseline, start, end} & others:
            continue
        window = weekly_rate(followers[end], followers[start], (end - start).days)
        trend = weekly_rate(followers[start], followers[baseline], (start - baseline).days)
        row = mart[campaign["活动ID"]]
        assert row[:3] == (baseline, start, end)
        assert abs(row[3] - window) < 1e-9 and abs(row[4] - trend) < 1e-9
        # exact counts: the range is the point
        assert abs(row[5] - (window - trend)) < 1e-9 and row[6] == row[5] == row[7]
        assert row[8] == ("above_trend" if window > trend else "below_trend")
        checked.append(campaign["活动名称"])
    assert "聊一聊你最推荐的小众旅游地" in checked and len(checked) >= 10


def test_a_campaign_is_unmeasured_exactly_when_an_edge_has_no_snapshot_and_says_which(sample_run):
    config = campaign_settings()
    dates = account_snapshot_dates()
    rows = {
        r[0]: r[1:]
        for r in query(
            sample_run,
            "select campaign_id, uplift_verdict, unmeasured_reason, overlapping_campaigns"
            " from marts.campaign_performance",
        )
    }
    unmeasured = set()
    for campaign in sample_campaigns():
        verdict, reason, _ = rows[campaign["活动ID"]]
        baseline, start, end = edges(campaign, dates.get(campaign["账号"], set()), config)
        if None in (baseline, start, end):
            unmeasured.add(campaign["活动ID"])
            assert verdict is None and reason
            assert ("no baseline" in reason) == (baseline is None)
            assert (f"before the start {campaign['开始日期']}" in reason) == (start is None)
            assert (f"after the end {campaign['结束日期']}" in reason) == (end is None)
        else:
            assert verdict in {"above_trend", "below_trend", "within_rounding"} and reason is None
    # the 2025 and 中信 campaigns have no weekly snapshots around them
    assert {c["活动ID"] for c in sample_campaigns() if c["开始日期"] >= "2025"} <= unmeasured


def test_cost_is_the_known_costs_of_the_collaborations_naming_the_campaign(sample_run):
    with (SAMPLE_LANDING / "collaborations__2024.csv").open(encoding="utf-8") as handle:
        collaborations = [r for r in csv.DictReader(handle) if r["活动ID"]]
    for campaign_id, count, cost, without in query(
        sample_run,
        "select campaign_id, collaborations, collaboration_cost_yuan,"
        " collaborations_without_cost from marts.campaign_performance",
    ):
        named = [r for r in collaborations if r["活动ID"] == campaign_id]
        costs = [float(r["费用"]) for r in named if r["费用"]]
        assert count == len(named)
        assert (float(cost) if cost is not None else None) == (sum(costs) if costs else None)
        assert without == len(named) - len(costs)


def test_the_report_shows_which_campaigns_lifted_growth_above_the_trend(sample_run):
    html = settings.report_path(sample_run.warehouse_dir).read_text(encoding="utf-8")
    match = re.search(r'<section id="campaigns">(.*?)</section>', html, re.S)
    assert match, "no 活动表现 section"
    section = match.group(1)
    assert "活动表现" in section
    for name in NAMED:
        assert name.replace("'", "&#39;") in section or name in section
    above = query(
        sample_run,
        "select name from marts.campaign_performance where uplift_verdict = 'above_trend'",
    )
    assert above
    sentence = re.search(r"把账号粉丝周增长拉到自身趋势之上的活动有 (\d+) 个", section)
    assert sentence and int(sentence.group(1)) == len(
        query(
            sample_run,
            "select 1 from marts.campaign_performance"
            " where uplift_verdict = 'above_trend' and bank = '招商银行'",
        )
    )
    assert "高于趋势" in section and "低于趋势" in section
    # unmeasured campaigns say why, and illustrative figures are marked
    assert "未测量" in section and "天内无账号快照" in section
    assert "illustrative" in section and "*" in section


# ---- the gate: a topic's notes count that falls holds back campaign_performance ----

CAMPAIGN = {
    "campaign_id": "T-1",
    "platform": "小红书",
    "bank": "招商银行",
    "account_name": "招商银行信用卡申请",
    "name": "测试活动",
    "topic": "#测试话题#",
    "mechanic": "ugc_post",
    "start_date": "2025-03-03",
    "end_date": "2025-03-09",
    "source": "test",
}


def topic_on(snapshot_date: str, notes_count: str) -> dict:
    return {
        "platform": "小红书",
        "topic": "测试话题",
        "snapshot_date": snapshot_date,
        "notes_count": notes_count,
        "views": "1万",
        "source": "test",
    }


def account_on(snapshot_date: str, followers: str, notes: str) -> dict:
    """A snapshot of the sample's 招行 account between its 2024-12-31 (4.2万, 180 notes, 26万 likes
    and collects) and 2025-04-17 (4.3万, 209, 30.1万) snapshots, its counts between theirs."""
    return {
        "platform": "小红书",
        "account_name": "招商银行信用卡申请",
        "snapshot_date": snapshot_date,
        "followers": followers,
        "notes": notes,
        "likes_and_collects": "28万",
        "source": "test",
    }


def published(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse.analytics_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_a_topic_whose_notes_count_falls_holds_back_campaign_performance(
    landing, sample_copy, warehouse
):
    """On the sample's run: a campaign of its 招行 account in March 2025. No snapshot of the
    sample lies within a week of its edges, nor do its new snapshots lie near the edges of the
    sample's campaigns of that account (the last ended 2025-02-09)."""
    landing.csv("campaigns__t.csv", [CAMPAIGN])
    landing.csv("account_snapshots__t.csv", [account_on("2025-03-02", "42500", "190")])
    landing.csv("topic_snapshots__t1.csv", [topic_on("2025-03-02", "100")])
    first = run_pipeline()
    assert first.success, [e.message for e in first.all_events if e.is_failure]
    before = published(warehouse, "SELECT * FROM marts.campaign_performance ORDER BY ALL")
    assert [row for row in before if row[0] == "T-1"], before

    # the end of the window is delivered: the topic's count falls from 100 to 60
    landing.csv("topic_snapshots__t2.csv", [topic_on("2025-03-09", "60")])
    landing.csv("account_snapshots__t2.csv", [account_on("2025-03-09", "43000", "195")])
    result = run_pipeline()
    # the run goes on (held back, not failed): the check fails with ERROR severity
    [failed] = [
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "ge_topic_note_counts" and not c.passed
    ]
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.asset_key == dg.AssetKey(["staging", "stg_topic_snapshots"])
    # the failure says which topic fell and when
    assert "#测试话题# on 小红书, 2025-03-02 → 2025-03-09: notes_count 100 → 60" in (
        failed.metadata["failed_expectations"].value
    )
    # built in the pipeline's database for the operator, not published for analysts
    assert query(
        warehouse,
        "SELECT ugc_notes_gained FROM marts.campaign_performance WHERE campaign_id = 'T-1'",
    ) == [(-40,)]
    assert published(warehouse, "SELECT * FROM marts.campaign_performance ORDER BY ALL") == before
    # the account marts, which do not read topics, were published
    assert published(
        warehouse,
        "SELECT count(*) FROM marts.account_performance WHERE snapshot_date = DATE '2025-03-09'",
    ) == [(1,)]

    # a corrected delivery of that date supersedes the misread figure: the next run publishes
    landing.csv("topic_snapshots__t2_fixed.csv", [topic_on("2025-03-09", "160")])
    fixed = run_pipeline()
    assert fixed.success, [e.message for e in fixed.all_events if e.is_failure]
    assert published(
        warehouse,
        "SELECT ugc_notes_gained, followers_change FROM marts.campaign_performance"
        " WHERE campaign_id = 'T-1'",
    ) == [(60, 500)]
