"""Ingestion: delivered snapshot files -> `raw.*` tables, with `audit.*` saying what went where.

One pass over the landing folder materializes every raw table, because a file's dataset is only
known once its name is read, and a file of no known dataset still has to be quarantined.
The asset keys match the dbt sources (`raw.<dataset>`), so lineage into dbt wires itself.

A run tagged `cardreach/rebuild` (`make rebuild`, after replaying the archive) takes a missing
landing folder as "nothing new"; any other run fails on it, saying which setting names it.
"""

import dagster as dg

from orchestration.contract.datasets import DATASETS
from orchestration.defs.ingest.load import ingest_landing
from orchestration.metadata import OWNERS, table_metadata, table_preview
from orchestration.settings import LANDING_ENV
from orchestration.warehouse import Warehouse

# The run tag `make rebuild` sets on the run that follows its replay of the archive.
REBUILD_TAG = "cardreach/rebuild"


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
            description="One row per landing entry and content (file_name × sha256): dataset,"
            " status, rows loaded and quarantined, archive path, message and the run that logged"
            " it. status: `loaded`, `partially_loaded` (some rows quarantined), `quarantined`"
            " (every row, or the whole file), `duplicate` (the same content under another name,"
            " loads nothing) or `skipped` (not a delivery, never read nor archived: a symbolic"
            " link, a special file, a temporary or partial name, a hidden file or folder, a folder"
            " or file that cannot be read; the reason in `message`, sha256 null, logged once per"
            " name and reason). file_name is readable UTF-8; when the name's bytes are not UTF-8"
            " (a GBK name from a Windows share) it is their GB18030 reading and file_name_bytes"
            " holds the exact bytes in hex.",
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
        if context.run.tags.get(REBUILD_TAG) == "true":
            context.log.warning(
                f"the landing folder {landing} does not exist: nothing new to ingest after the"
                " rebuild from the archive"
            )
        else:
            raise dg.Failure(
                f"the landing folder {landing} does not exist: create it or set {LANDING_ENV}"
            )
    with warehouse.connect() as conn:
        report = ingest_landing(conn, landing, warehouse.archive_dir, run_id=context.run_id)
        if report.files_mtime_in_future:
            context.log.warning(
                f"{len(report.files_mtime_in_future)} files have a modification time ahead of"
                " this machine's clock; taken in once they held still:"
                f" {', '.join(report.files_mtime_in_future)}"
            )
        if report.files_unsettled:
            context.log.warning(
                f"{len(report.files_unsettled)} files still being written, left for the next run:"
                f" {', '.join(report.files_unsettled)}"
            )
        for outcome in report.outcomes:
            log = (
                context.log.warning
                if outcome.rows_quarantined or outcome.status in ("quarantined", "skipped")
                else context.log.info
            )
            log(f"{outcome.file_name}: {outcome.status} ({outcome.message})")
        context.log.info(
            f"{report.files_seen} files in {landing}: {len(report.outcomes)} new,"
            f" {report.files_unchanged} already ingested, {report.files_skipped} entries skipped"
            f" (not deliveries); {report.rows_loaded()} rows loaded,"
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
                "entries_skipped": dg.MetadataValue.int(report.files_skipped),
                "files_mtime_in_future": dg.MetadataValue.int(len(report.files_mtime_in_future)),
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
