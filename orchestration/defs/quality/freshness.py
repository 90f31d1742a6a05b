"""Freshness: how old each delivered feed's latest figures are, as a check on its raw table.

What an operator asks first is the feed's age: the latest as-of date delivered (a snapshot date,
a month, a day) against the run's day (Warehouse.today), not when the pipeline last ran (every
run rewrites the raw tables, so a policy on materialization time would always pass). Limits are
settings.FEED_AGE_LIMITS. A stale feed warns and stops nothing: old figures are still the latest
there are.

The checks of every feed are one step, which reads each selected feed's age through a single
connection: a step apiece opened the pipeline's database once per feed, and a daily run of the
sample spent about a second on nine such steps for queries of a few milliseconds.
"""

import datetime as dt

import dagster as dg

from orchestration.contract.datasets import DATASETS
from orchestration.gate import CHECK_PRIORITY_TAGS
from orchestration.settings import FEED_AGE_LIMITS
from orchestration.warehouse import Warehouse

CHECK_NAME = "feed_freshness"


def feed_age(
    conn, dataset: str, as_of_column: str, today: dt.date
) -> tuple[dt.date | None, int | None]:
    """The latest as-of date delivered for the dataset and its age in days on `today` (the
    run's: Warehouse.today); (None, None) before any delivery."""
    return conn.execute(
        f'SELECT max("{as_of_column}")::DATE, date_diff(\'day\', max("{as_of_column}")::DATE,'
        f" ?::DATE) FROM raw.{dataset}",
        [today],
    ).fetchone()


def _feed(dataset: str) -> dg.AssetKey:
    """The raw table a feed's check is attached to."""
    return dg.AssetKey(["raw", dataset])


def _spec(dataset: str, as_of_column: str, limit_days: int) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=_feed(dataset),
        description=(
            f"The {dataset} feed is fresh: its latest {as_of_column} delivered is at most"
            f" {limit_days} days before today (settings.FEED_AGE_LIMITS)."
            " Severity warn: a stale feed is reported and stops nothing."
        ),
        blocking=False,
    )


def _result(
    conn, dataset: str, as_of_column: str, limit_days: int, today: dt.date
) -> dg.AssetCheckResult:
    # worded as the report and the quality sentences are, Chinese first: the contract's header
    label = next(c.alias for c in DATASETS[dataset].columns if c.name == as_of_column)
    latest, age_days = feed_age(conn, dataset, as_of_column, today)
    asset = _feed(dataset)
    limits = {"limit_days": dg.MetadataValue.int(limit_days)}
    if latest is None:
        return dg.AssetCheckResult(
            asset_key=asset,
            check_name=CHECK_NAME,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"尚未交付 {dataset}（上限 {limit_days} 天）",
            metadata=limits,
        )
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=CHECK_NAME,
        passed=age_days <= limit_days,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"最新{label} {latest.isoformat()}，距今 {age_days} 天，上限 {limit_days} 天"
            f"（{dataset}.{as_of_column}）"
        ),
        metadata={
            f"latest_{as_of_column}": dg.MetadataValue.text(latest.isoformat()),
            "age_days": dg.MetadataValue.int(age_days),
            **limits,
        },
    )


@dg.multi_asset_check(
    name=CHECK_NAME,
    specs=[_spec(dataset, column, days) for dataset, (column, days) in FEED_AGE_LIMITS.items()],
    description="Each delivered feed's age against its limit (settings.FEED_AGE_LIMITS): warns.",
    can_subset=True,
    # ahead of publication, which asks every check on a built asset for its verdict
    op_tags=CHECK_PRIORITY_TAGS,
)
def feed_freshness(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
    selected = {key.asset_key for key in context.selected_asset_check_keys}
    with warehouse.connect(read_only=True) as conn:
        results = [
            _result(conn, dataset, column, days, warehouse.today())
            for dataset, (column, days) in FEED_AGE_LIMITS.items()
            if _feed(dataset) in selected
        ]
    yield from results


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    return [feed_freshness]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=freshness_checks())
