"""Freshness: how old each delivered feed's latest figures are, as a check on its raw table.

What an operator asks first is the feed's age: the latest as-of date delivered (a snapshot date,
a month, a day) against today, not when the pipeline last ran (every run rewrites the raw tables,
so a policy on materialization time would always pass). Limits are settings.FEED_AGE_LIMITS. A
stale feed warns and stops nothing: old figures are still the latest there are.
"""

import datetime as dt

import dagster as dg

from orchestration import settings
from orchestration.contract.datasets import DATASETS
from orchestration.settings import FEED_AGE_LIMITS
from orchestration.warehouse import Warehouse

CHECK_NAME = "feed_freshness"


def feed_age(conn, dataset: str, as_of_column: str) -> tuple[dt.date | None, int | None]:
    """The latest as-of date delivered for the dataset and its age in days, today being the
    readers' (settings.timezone); (None, None) before any delivery."""
    today = dt.datetime.now(settings.timezone()).date()
    return conn.execute(
        f'SELECT max("{as_of_column}")::DATE, date_diff(\'day\', max("{as_of_column}")::DATE,'
        f" ?::DATE) FROM raw.{dataset}",
        [today],
    ).fetchone()


def _freshness_check(dataset: str, as_of_column: str, limit_days: int):
    # worded as the report and the quality sentences are, Chinese first: the contract's header
    label = next(c.alias for c in DATASETS[dataset].columns if c.name == as_of_column)

    @dg.asset_check(
        asset=dg.AssetKey(["raw", dataset]),
        name=CHECK_NAME,
        description=(
            f"The {dataset} feed is fresh: its latest {as_of_column} delivered is at most"
            f" {limit_days} days before today (settings.FEED_AGE_LIMITS)."
            " Severity warn: a stale feed is reported and stops nothing."
        ),
        blocking=False,
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as conn:
            latest, age_days = feed_age(conn, dataset, as_of_column)
        limits = {"limit_days": dg.MetadataValue.int(limit_days)}
        if latest is None:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"尚未交付 {dataset}（上限 {limit_days} 天）",
                metadata=limits,
            )
        return dg.AssetCheckResult(
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

    return _check


def freshness_checks() -> list[dg.AssetChecksDefinition]:
    return [
        _freshness_check(dataset, column, days)
        for dataset, (column, days) in FEED_AGE_LIMITS.items()
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=freshness_checks())
