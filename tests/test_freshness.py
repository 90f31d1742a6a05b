"""Freshness of the delivered feeds: a warning on a raw table whose latest as-of date is older
than its limit, on real ingestions into a warehouse in tmp_path."""

import datetime as dt

import dagster as dg

from orchestration import settings
from orchestration.cli import _Stage
from orchestration.defs.ingest.assets import ingest_landing_files
from orchestration.defs.quality.freshness import CHECK_NAME, freshness_checks
from orchestration.settings import FEED_AGE_LIMITS

APP_ACTIVITY = dg.AssetKey(["raw", "app_activity"])


def _app_activity_month(month: dt.date) -> list[dict]:
    return [
        {
            "app": "小红书",
            "app_category": "content_platform",
            "month": month.strftime("%Y-%m"),
            "mau": "2.32亿",
            "source": "test",
        }
    ]


def _freshness_checks(warehouse) -> list[dg.AssetCheckEvaluation]:
    result = dg.materialize(
        [ingest_landing_files, *freshness_checks()], resources={"warehouse": warehouse}
    )
    assert result.success  # a stale feed warns, it never fails the run
    return [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_NAME]


def _freshness_of(warehouse, asset_key: dg.AssetKey) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in _freshness_checks(warehouse) if e.asset_key == asset_key]
    return evaluation


def test_a_stale_feed_warns_and_a_fresh_delivery_clears_it(landing, warehouse):
    _, limit_days = FEED_AGE_LIMITS["app_activity"]
    this_month = settings.today().replace(day=1)
    stale_month = (this_month - dt.timedelta(days=limit_days + 40)).replace(day=1)
    landing.csv("app_activity__old.csv", _app_activity_month(stale_month))

    stale = _freshness_of(warehouse, APP_ACTIVITY)
    assert not stale.passed
    assert stale.severity == dg.AssetCheckSeverity.WARN
    age = (settings.today() - stale_month).days
    assert stale.description == (
        f"最新月份 {stale_month.isoformat()}，距今 {age} 天，上限 {limit_days} 天"
        "（app_activity.month）"
    )
    assert stale.metadata["age_days"].value == age

    landing.csv("app_activity__new.csv", _app_activity_month(this_month))
    fresh = _freshness_of(warehouse, APP_ACTIVITY)
    assert fresh.passed
    assert fresh.metadata["latest_month"].value == this_month.isoformat()


def test_a_feed_never_delivered_warns(landing, warehouse):
    landing.csv("app_activity__now.csv", _app_activity_month(settings.today().replace(day=1)))
    checks = _freshness_checks(warehouse)
    [never] = [e for e in checks if e.asset_key == dg.AssetKey(["raw", "funnel_daily"])]
    assert not never.passed and never.severity == dg.AssetCheckSeverity.WARN
    assert never.description.startswith("尚未交付 funnel_daily")
    # `make run`'s line tells the feeds never delivered from the stale ones
    stage = _Stage("freshness", started=0.0, checks=checks)
    assert stage.line(ended=1.0) == (
        f"  freshness  {len(FEED_AGE_LIMITS)} feeds' ages: 1 within their limits, 0 past them,"
        f" {len(FEED_AGE_LIMITS) - 1} never delivered (1.0 s)"
    )


def test_every_raw_asset_states_how_fresh_it_should_be():
    from orchestration.contract.datasets import DATASETS
    from orchestration.definitions import defs

    graph = defs().resolve_asset_graph()
    for dataset in DATASETS:
        key = dg.AssetKey(["raw", dataset])
        assert graph.get(key).metadata["freshness"].value, dataset
        has_check = dg.AssetCheckKey(key, CHECK_NAME) in graph.asset_check_keys
        assert has_check == (dataset in FEED_AGE_LIMITS), dataset
