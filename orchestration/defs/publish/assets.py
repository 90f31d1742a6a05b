"""Publish: the checked marts, scores and reference tables, copied atomically to the analysts'
database (`analytics.duckdb`). Which tables: every dbt model and seed of the published schemas,
as dbt's manifest lists them, but the confidential ones (the bank's own figures) unless
CARDREACH_PUBLISH_CONFIDENTIAL is true. A table held back by a failed quality check in this run
keeps its previous publication; the others are brought up to date. A run that held nothing back
and built every model the warehouse lacked records the build as complete
(defs/automation/plan.py)."""

import dagster as dg

from orchestration import gate, settings
from orchestration.dbt import confidential_tables, published_asset_keys
from orchestration.defs.automation.plan import record_complete_build
from orchestration.defs.publish.publication import publish_marts
from orchestration.metadata import OWNERS
from orchestration.warehouse import Warehouse

PUBLISHED = published_asset_keys()


@dg.asset(
    key=["publish", "analytics_database"],
    deps=PUBLISHED,
    group_name="publish",
    kinds={"duckdb"},
    owners=OWNERS,
    description="The marts, scores and reference tables with their column docs, published to"
    f" $CARDREACH_WAREHOUSE/{settings.ANALYTICS_DATABASE_FILE}: built under another name, then"
    " renamed over the old one, whose readers keep it. It starts from the publication before the"
    " old one, kept hidden beside it (from a copy of the old one when a reader holds that, a"
    " table is held back or it changed since), and rewrites only the dates that changed. A table"
    " that depends on data a failed quality check holds back keeps its previous publication.",
)
def analytics_database(context: dg.AssetExecutionContext, warehouse: Warehouse):
    held = gate.held_back(context, PUBLISHED)
    gate.log_held_back(context, held, "published")
    if held:  # shown in the UI's run list, so a run that published only part of it stands out
        context.instance.add_run_tags(context.run_id, {gate.HELD_BACK_TAG: str(len(held))})
    with warehouse.connect() as conn:
        # a second guard beside the dbt tag: any published table with an is_confidential column
        marked = {
            f"{schema}.{table}"
            for schema, table in conn.execute(
                "SELECT schema_name, table_name FROM duckdb_columns()"
                " WHERE column_name = 'is_confidential' AND schema_name IN ?"
                " AND database_name = current_database()",
                [list(settings.PUBLISHED_SCHEMAS)],
            ).fetchall()
        }
        withheld = (
            frozenset() if settings.publish_confidential() else confidential_tables() | marked
        )
        if withheld:
            context.log.info(
                f"not published, confidential: {', '.join(sorted(withheld))} (the bank's own"
                f" figures; set {settings.PUBLISH_CONFIDENTIAL_ENV}=true to publish them)"
            )
        publication = publish_marts(
            conn,
            warehouse.analytics_path,
            context.run_id,
            held_back=frozenset(".".join(item.asset.path) for item in held),
            withheld=withheld,
        )
    # what the next run may leave as it is: nothing, while this run held a table back
    recorded = (
        "build not recorded as complete: tables were held back"
        if held
        else record_complete_build(
            warehouse.warehouse_dir,
            gate.materialized_in_run(context),
            context.run_id,
            warehouse.today(),
        )
    )
    context.log.info(recorded)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.path)),
            "published_at": dg.MetadataValue.text(publication.published_at.isoformat() + "Z"),
            "tables": dg.MetadataValue.int(len(publication.tables)),
            "withheld_confidential": dg.MetadataValue.md(
                "\n".join(f"- {name}" for name in sorted(withheld))
                or f"_nothing: {settings.PUBLISH_CONFIDENTIAL_ENV} is true_"
            ),
            "held_back": dg.MetadataValue.md(
                "\n".join(f"- {item.reason}" for item in held) or "_nothing_"
            ),
            "build_record": dg.MetadataValue.text(recorded),
            "size_mb": dg.MetadataValue.float(round(publication.path.stat().st_size / 2**20, 2)),
            "built_as": dg.MetadataValue.text(
                "the publication before the previous one, changed partitions rewritten in place"
                if publication.in_place
                else "a copy of the previous publication, changed partitions rewritten"
                if publication.patched
                else "a new file"
            ),
            "rows_written": dg.MetadataValue.int(
                sum(deleted + inserted for deleted, inserted in publication.changes.values())
            ),
            "rows_by_table": dg.MetadataValue.table(
                records=[
                    dg.TableRecord(
                        {
                            "table": name,
                            "rows": rows,
                            "rows_deleted": publication.changes[name][0],
                            "rows_inserted": publication.changes[name][1],
                        }
                    )
                    for name, rows in publication.tables.items()
                ],
                schema=dg.TableSchema(
                    columns=[
                        dg.TableColumn("table", "string"),
                        dg.TableColumn("rows", "int"),
                        dg.TableColumn("rows_deleted", "int"),
                        dg.TableColumn("rows_inserted", "int"),
                    ]
                ),
            ),
            "connect": dg.MetadataValue.md(
                f"`{settings.DUCKDB_CLI} -readonly {publication.path}` (the DuckDB CLI `make`"
                " installs) — or any DuckDB 1.x client, read-only"
            ),
        }
    )
