"""Publish: the checked marts and scores, copied atomically to `analytics.duckdb` for analysts."""

import dagster as dg

from orchestration.metadata import OWNERS
from orchestration.publish import publish_marts
from orchestration.warehouse import Warehouse

MART_KEYS = [
    dg.AssetKey(["marts", name])
    for name in (
        "platform_audience_fit",
        "audience_profile",
        "audience_similarity",
        "account_performance",
        "account_latest",
        "bank_presence",
        "account_scores",
        "platform_scores",
    )
]


@dg.asset(
    key=["publish", "analytics_database"],
    deps=MART_KEYS,
    group_name="publish",
    kinds={"duckdb"},
    owners=OWNERS,
    description="The marts, scores and reference tables with their column docs, published to"
    " $CARDREACH_WAREHOUSE/analytics.duckdb (built as a new file, then renamed over the old one;"
    " the new file starts as a copy of the old one and rewrites only the dates that changed)."
    " Downstream of the scores, so a run whose quality gate failed leaves the previous copy.",
)
def analytics_database(context: dg.AssetExecutionContext, warehouse: Warehouse):
    with warehouse.connect() as conn:
        publication = publish_marts(conn, warehouse.analytics_path, context.run_id)
    rows = "\n".join(
        f"| {t} | {n} | {publication.changes[t][0]} | {publication.changes[t][1]} |"
        for t, n in publication.tables.items()
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.path)),
            "published_at": dg.MetadataValue.text(publication.published_at.isoformat() + "Z"),
            "tables": dg.MetadataValue.int(len(publication.tables)),
            "size_mb": dg.MetadataValue.float(round(publication.path.stat().st_size / 2**20, 2)),
            "built_as": dg.MetadataValue.text(
                "the previous publication, changed partitions rewritten"
                if publication.patched
                else "a new file"
            ),
            "rows_written": dg.MetadataValue.int(
                sum(deleted + inserted for deleted, inserted in publication.changes.values())
            ),
            "rows_by_table": dg.MetadataValue.md(
                "| table | rows | rows deleted | rows inserted |\n|---|---|---|---|\n" + rows
            ),
            "connect": dg.MetadataValue.md(
                f"`duckdb -readonly {publication.path}` — or any DuckDB 1.x client, read-only"
            ),
        }
    )
