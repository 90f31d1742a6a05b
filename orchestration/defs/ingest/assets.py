"""Ingestion: delivered snapshot files -> `raw.*` tables, with `audit.*` saying what went where.

One pass over the landing folder materializes every raw table, because a file's dataset is only
known once its name is read, and a file of no known dataset still has to be quarantined.
The asset keys match the dbt sources (`raw.<dataset>`), so lineage into dbt wires itself.
"""

import dagster as dg

from orchestration.contract.datasets import DATASETS
from orchestration.defs.ingest.load import ingest_landing
from orchestration.metadata import OWNERS, table_metadata, table_preview
from orchestration.warehouse import Warehouse


def _raw_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            key=["raw", dataset.name],
            description=(
                f"{dataset.description} Every delivered row that passed the contract's"
                " checks, typed, with its file, line, load id and delivery time; later deliveries"
                f" of the same key ({', '.join(dataset.key)}) supersede earlier ones downstream,"
                " both stay here."
            ),
            group_name="ingest",
            kinds={"duckdb", "python"},
            owners=OWNERS,
            tags={"layer": "raw"},
        )
        for dataset in DATASETS.values()
    ]


def _audit_specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            key=["audit", "file_log"],
            description="One row per delivered file (name × sha256): dataset, status, rows"
            " loaded and quarantined, archive path and the run that ingested it.",
            group_name="ingest",
            kinds={"duckdb"},
            owners=OWNERS,
            tags={"layer": "audit"},
        ),
        dg.AssetSpec(
            key=["audit", "quarantine"],
            description="Rejected rows (and whole files, line_number null) with the file, sha256,"
            " line, column, raw value and a reason a person can act on.",
            group_name="ingest",
            kinds={"duckdb"},
            owners=OWNERS,
            tags={"layer": "audit"},
        ),
    ]


@dg.multi_asset(
    name="ingest_landing_files",
    specs=_raw_specs() + _audit_specs(),  # functions: the defs loader collects module-level specs
    description="Reads every new file in the landing folder into the raw and audit tables.",
)
def ingest_landing_files(context: dg.AssetExecutionContext, warehouse: Warehouse):
    landing = warehouse.landing_dir
    if not landing.is_dir():
        raise dg.Failure(
            f"the landing folder {landing} does not exist: create it or set CARDREACH_LANDING"
        )
    with warehouse.connect() as conn:
        report = ingest_landing(conn, landing, warehouse.archive_dir, run_id=context.run_id)
        if report.files_unsettled:
            context.log.warning(
                f"{len(report.files_unsettled)} files still being written, left for the next run:"
                f" {', '.join(report.files_unsettled)}"
            )
        for outcome in report.outcomes:
            log = (
                context.log.warning
                if outcome.rows_quarantined or outcome.status == "quarantined"
                else context.log.info
            )
            log(f"{outcome.file_name}: {outcome.status} ({outcome.message})")
        context.log.info(
            f"{report.files_seen} files in {landing}: {len(report.outcomes)} new,"
            f" {report.files_unchanged} already ingested; {report.rows_loaded()} rows loaded,"
            f" {report.rows_quarantined()} rows quarantined"
        )
        for dataset in DATASETS.values():
            table = f"raw.{dataset.name}"
            files = [o for o in report.outcomes if o.dataset == dataset.name]
            yield dg.MaterializeResult(
                asset_key=["raw", dataset.name],
                metadata={
                    **table_metadata(
                        conn,
                        table,
                        f"FROM {table} ORDER BY load_id DESC, line_number",
                    ),
                    "files_ingested": dg.MetadataValue.int(len(files)),
                    "rows_loaded": dg.MetadataValue.int(report.rows_loaded(dataset.name)),
                    "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined(dataset.name)),
                    "landing": dg.MetadataValue.path(str(landing)),
                },
            )
        run_files = "FROM audit.file_log WHERE run_id = ? ORDER BY load_id"
        yield dg.MaterializeResult(
            asset_key=["audit", "file_log"],
            metadata={
                **table_metadata(conn, "audit.file_log"),
                "files_seen": dg.MetadataValue.int(report.files_seen),
                "files_new": dg.MetadataValue.int(len(report.outcomes)),
                "files_unchanged": dg.MetadataValue.int(report.files_unchanged),
                "files_still_being_written": dg.MetadataValue.int(len(report.files_unsettled)),
                **{
                    f"files_{status}": dg.MetadataValue.int(count)
                    for status, count in sorted(report.status_counts().items())
                },
                "this_run": table_preview(
                    conn,
                    "SELECT file_name, dataset, status, rows_loaded, rows_quarantined, message "
                    + run_files,
                    [context.run_id],
                    limit=50,
                ),
            },
        )
        yield dg.MaterializeResult(
            asset_key=["audit", "quarantine"],
            metadata={
                **table_metadata(
                    conn,
                    "audit.quarantine",
                    "FROM audit.quarantine ORDER BY load_id DESC, line_number",
                ),
                "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined()),
            },
        )
