"""Ingestion: delivered snapshot files -> `raw.*` tables, with `audit.*` saying what went where.

One pass over the landing folder materializes every raw table, because a file's dataset is only
known once its name is read, and a file of no known dataset still has to be quarantined.
The asset keys match the dbt sources (`raw.<dataset>`), so lineage into dbt wires itself.

A run tagged `cardreach/rebuild` (`make rebuild`, after replaying the archive) takes a missing
landing folder as "nothing new"; any other run fails on it, saying which setting names it.
"""

import warnings

import dagster as dg

from orchestration.contract.datasets import DATASETS, Column, Dataset, Kind
from orchestration.defs.ingest.lake import export_raw_layer
from orchestration.defs.ingest.load import (
    FILE_LOG_COLUMNS,
    LINEAGE_COLUMNS,
    QUARANTINE_COLUMNS,
    ingest_landing,
)
from orchestration.defs.ingest.validation import typed_columns
from orchestration.engine import on_spark
from orchestration.gate import INGEST_PRIORITY_TAGS
from orchestration.metadata import OWNERS, table_metadata, table_preview, with_descriptions
from orchestration.settings import FEED_AGE_LIMITS, LANDING_ENV, lake_dir
from orchestration.warehouse import Warehouse

# The run tag `make rebuild` sets on the run that follows its replay of the archive.
REBUILD_TAG = "cardreach/rebuild"


# What each kind of contract value is, for the columns the contract leaves undescribed.
KIND_MEANINGS = {
    Kind.TEXT: "Text as delivered, trimmed.",
    Kind.CATEGORY: "A code of the contract's closed list",
    Kind.COUNT: "A whole count (persons or items), read from the delivered text (12.7万 → 127000).",
    Kind.PERCENT: "A percent, 0–100 (8.65 means 8.65%).",
    Kind.MONTH: "The month, stored as its first day.",
    Kind.DATE: "A calendar date.",
    Kind.DATETIME: "A date, or a date and a time of day on the platform's clock.",
    Kind.AMOUNT: "Money in yuan, exact to the fen.",
}

# The columns every raw row carries besides the contract's (ingest/load.py LINEAGE_COLUMNS).
LINEAGE_DESCRIPTIONS = {
    "load_id": "The delivery (one per file ingested) that loaded the row.",
    "file_name": "The delivered file, its path inside the landing folder.",
    "sha256": "The file's sha256, its name in the archive.",
    "line_number": "The row's line in the file (1 = the first data row).",
    "delivered_at": "When the file was ingested (UTC).",
}

AUDIT_DESCRIPTIONS = {
    "load_id": "The delivery that logged the entry (one per file ingested).",
    "file_name": "The entry's path inside the landing folder, readable (GB18030 reading of a"
    " name that is not UTF-8).",
    "sha256": "The file's sha256, its name in the archive; null for a skipped entry.",
    "dataset": "The file's dataset, from its name; null when no dataset is named.",
    "file_format": "csv, jsonl or parquet.",
    "encoding": "The text encoding read (utf-8, utf-8-sig, gb18030).",
    "size_bytes": "The file's size.",
    "rows_loaded": "Rows that reached the raw table.",
    "rows_quarantined": "Rows sent to audit.quarantine.",
    "status": "loaded, partially_loaded, quarantined, duplicate or skipped.",
    "delivered_at": "When the file was ingested (UTC).",
    "archive_path": "Where the archive keeps the file.",
    "message": "What became of the file, in a sentence (the reason of a skip or quarantine).",
    "run_id": "The Dagster run that ingested it.",
    "mtime_ns": "The file's modification time, with its name and size how a later run knows it"
    " without reading it.",
    "file_name_bytes": "The name's exact bytes in hex when they are not UTF-8, else null.",
    "line_number": "The rejected row's line (1 = the first data row); null for a whole file.",
    "column_name": "The column whose value was refused; null for a whole file or row.",
    "raw_value": "The value as delivered (never for personal data: the reason names the column).",
    "reason": "Why it was refused, in words a person can act on.",
    "quarantined_at": "When it was refused (UTC).",
}


def _contract_column_descriptions(column: Column) -> dict[str, str]:
    """The raw table's columns for a contract column, each with what it holds."""
    said = column.description or KIND_MEANINGS[column.kind]
    if column.kind == Kind.CATEGORY:
        said = f"{said}: {', '.join(column.allowed)}." if column.allowed else f"{said}."
    header = f"Header {column.name} or {column.alias}" + ("" if column.required else ", optional")
    described = {column.name: f"{said} {header}."}
    for name, _ in typed_columns(column)[1:]:
        suffix = name.removeprefix(column.name)
        described[name] = {
            "_raw": f"{column.name} as delivered, before it was read.",
            "_step": f"The rounding step the text of {column.name} implies (12.7万: 1000): a change"
            " smaller than it is not growth.",
            "_censored": f"True when {column.name} was delivered as a floor (10万+).",
            "_has_time": f"True when {column.name} was delivered with a time of day.",
        }[suffix]
    return described


def raw_column_schema(dataset: Dataset) -> dg.TableSchema:
    """A raw table's columns, typed as ingestion creates them and described from the contract."""
    typed = dict(LINEAGE_COLUMNS)
    described = dict(LINEAGE_DESCRIPTIONS)
    for column in dataset.columns:
        typed.update(typed_columns(column))
        described.update(_contract_column_descriptions(column))
    typed["extra_columns"] = "JSON"
    described["extra_columns"] = "Columns the contract does not know, as a JSON object."
    return dg.TableSchema(
        columns=[dg.TableColumn(name, type_, described[name]) for name, type_ in typed.items()]
    )


def audit_column_schema(columns: list[tuple[str, str]]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, type_, AUDIT_DESCRIPTIONS[name]) for name, type_ in columns]
    )


def _freshness_stated(dataset: str) -> str:
    """How fresh the feed should be, where the UI shows the asset."""
    if dataset in FEED_AGE_LIMITS:
        column, days = FEED_AGE_LIMITS[dataset]
        return f"latest {column} at most {days} days old (check feed_freshness, a warning)"
    if dataset == "account_snapshots":
        return (
            "latest snapshot_date of each platform recent enough: the Great Expectations suite"
            " account_snapshot_feed on intermediate/int_snapshot_coverage (a warning)"
        )
    return "no as-of date (a registry, a list): delivered when it changes, no age to check"


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
            metadata={
                "dagster/column_schema": raw_column_schema(dataset),
                "freshness": dg.MetadataValue.text(_freshness_stated(dataset.name)),
            },
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
            metadata={"dagster/column_schema": audit_column_schema(FILE_LOG_COLUMNS)},
        ),
        dg.AssetSpec(
            key=["audit", "quarantine"],
            description="Rejected rows (and whole files, line_number null) with the file, sha256,"
            " line, column, raw value and a reason a person can act on.",
            group_name="ingest",
            kinds={"duckdb"},
            owners=OWNERS,
            tags={"layer": "audit"},
            metadata={"dagster/column_schema": audit_column_schema(QUARANTINE_COLUMNS)},
        ),
    ]


@dg.multi_asset(
    name="ingest_landing_files",
    specs=_raw_specs() + _audit_specs(),  # functions: the defs loader collects module-level specs
    description="Reads every new file in the landing folder into the raw and audit tables.",
    op_tags=INGEST_PRIORITY_TAGS,
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
        report = ingest_landing(
            conn, landing, warehouse.archive_dir, today=warehouse.today(), run_id=context.run_id
        )
        if on_spark():  # dbt on Spark reads the raw layer from the lake
            lake = lake_dir(warehouse.warehouse_dir)
            context.log.info(
                f"raw layer to the lake {lake}: {export_raw_layer(conn, lake).summary()}"
            )
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
                    **with_descriptions(
                        table_metadata(
                            conn,
                            table,
                            f"FROM {table} ORDER BY load_id DESC, line_number",
                        ),
                        raw_column_schema(dataset),
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
                **with_descriptions(
                    table_metadata(conn, "audit.file_log"), audit_column_schema(FILE_LOG_COLUMNS)
                ),
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
                **with_descriptions(
                    table_metadata(
                        conn,
                        "audit.quarantine",
                        "FROM audit.quarantine ORDER BY load_id DESC, line_number",
                    ),
                    audit_column_schema(QUARANTINE_COLUMNS),
                ),
                "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined()),
            },
        )


# The UI links the ingest assets to this file (a local path, no repository URL). A beta API of
# Dagster 1.13, whose warning at every load is nothing an operator can act on.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.BetaWarning)
    ingest_landing_files = dg.with_source_code_references([ingest_landing_files])[0]
