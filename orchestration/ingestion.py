"""Loading the landing folder into the `raw` and `audit` schemas, losing nothing.

For each delivered file, in delivery order:
1. it is copied into `archive/` by its sha256 (whatever becomes of its rows);
2. a file already logged under the same name and content is skipped: re-runs change nothing;
3. the same content under another name is logged as a `duplicate` and loads nothing;
4. otherwise its good rows go to `raw.<dataset>` and its bad rows (or the whole file) to
   `audit.quarantine`, and the file to `audit.file_log`, all in one transaction, so a run killed
   mid-way leaves either the whole file or none of it.

Every raw row carries its load id, file, line and delivery time; later deliveries of the same key
supersede earlier ones downstream (in dbt staging), while both stay here.
"""

import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.bulk_validation import ARROW_TYPES, insert_validated
from orchestration.datasets import DATASETS, Dataset
from orchestration.landing import (
    SETTLE_SECONDS,
    DeliveredFile,
    UnreadableFile,
    dataset_name_of,
    discover,
    read_records,
)
from orchestration.validation import HeaderMap, Problem, raw_columns

# Columns every raw row carries: where it came from and when.
LINEAGE_COLUMNS = [
    ("load_id", "BIGINT"),
    ("file_name", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("line_number", "INTEGER"),
    ("delivered_at", "TIMESTAMP"),
]

FILE_LOG_COLUMNS = [
    ("load_id", "BIGINT"),
    ("file_name", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("dataset", "VARCHAR"),
    ("file_format", "VARCHAR"),
    ("encoding", "VARCHAR"),
    ("size_bytes", "BIGINT"),
    ("rows_loaded", "BIGINT"),
    ("rows_quarantined", "BIGINT"),
    ("status", "VARCHAR"),
    ("delivered_at", "TIMESTAMP"),
    ("archive_path", "VARCHAR"),
    ("message", "VARCHAR"),
    ("run_id", "VARCHAR"),  # the Dagster run that ingested it
    ("mtime_ns", "BIGINT"),  # with name and size: how a later run knows it without reading it
]

QUARANTINE_COLUMNS = [
    ("load_id", "BIGINT"),
    ("file_name", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("dataset", "VARCHAR"),
    ("line_number", "INTEGER"),
    ("column_name", "VARCHAR"),
    ("raw_value", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("quarantined_at", "TIMESTAMP"),
]


def raw_table_columns(dataset: Dataset) -> list[tuple[str, str]]:
    return LINEAGE_COLUMNS + raw_columns(dataset) + [("extra_columns", "JSON")]


def _ensure_table(conn: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]):
    """Create the table, or add the columns a newer contract brought (compatible extension)."""
    schema, name = table.split(".")
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    ddl = ", ".join(f'"{c}" {t}' for c, t in columns)
    conn.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{name} ({ddl})")
    existing = {
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    }
    for column, type_ in columns:
        if column not in existing:
            conn.execute(f'ALTER TABLE {schema}.{name} ADD COLUMN "{column}" {type_}')


def ensure_schemas(conn: duckdb.DuckDBPyConnection) -> None:
    _ensure_table(conn, "audit.file_log", FILE_LOG_COLUMNS)
    _ensure_table(conn, "audit.quarantine", QUARANTINE_COLUMNS)
    for dataset in DATASETS.values():
        _ensure_table(conn, f"raw.{dataset.name}", raw_table_columns(dataset))


def _insert(conn, table: str, columns: list[tuple[str, str]], rows: list[dict]) -> None:
    if not rows:
        return
    schema = pa.schema([(name, ARROW_TYPES[type_]) for name, type_ in columns])
    arrow_rows = pa.Table.from_pylist(rows, schema=schema)
    conn.register("incoming_rows", arrow_rows)
    try:
        conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
    finally:
        conn.unregister("incoming_rows")


@dataclass
class FileOutcome:
    file_name: str
    dataset: str
    status: str  # loaded, partially_loaded, quarantined, duplicate
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""


@dataclass
class IngestReport:
    landing: Path
    files_seen: int = 0
    files_unchanged: int = 0  # already ingested in an earlier run: nothing to do
    files_unsettled: list[str] = field(default_factory=list)  # still being written: next run
    outcomes: list[FileOutcome] = field(default_factory=list)

    def rows_loaded(self, dataset: str | None = None) -> int:
        return sum(o.rows_loaded for o in self.outcomes if dataset in (None, o.dataset))

    def rows_quarantined(self, dataset: str | None = None) -> int:
        return sum(o.rows_quarantined for o in self.outcomes if dataset in (None, o.dataset))

    def status_counts(self) -> Counter:
        return Counter(o.status for o in self.outcomes)


# The archive's own record of deliveries, in order, outside the database: what `make rebuild`
# replays when the database is lost. Append-only JSON lines; a line written twice is harmless.
LEDGER_NAME = "deliveries.jsonl"


def record_delivery(archive: Path, delivered: DeliveredFile, archived: str, now: datetime):
    line = json.dumps(
        {
            "file_name": delivered.name,
            "sha256": delivered.sha256,
            "archive_path": archived,
            "delivered_at": now.isoformat(),
        },
        ensure_ascii=False,
    )
    with (archive / LEDGER_NAME).open("a", encoding="utf-8") as ledger:
        ledger.write(line + "\n")
        ledger.flush()
        os.fsync(ledger.fileno())


def read_ledger(archive: Path) -> list[dict]:
    path = archive / LEDGER_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def archive_copy(delivered: DeliveredFile, archive: Path) -> Path:
    """Copy into the content-addressed archive; written under a temporary name, then renamed."""
    target = archive / delivered.sha256[:2] / f"{delivered.sha256}{delivered.extension}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(delivered.path, partial)
        partial.replace(target)
    return target


def _quarantine_rows(delivered, load_id, dataset_name, problems: list[Problem], now) -> list[dict]:
    return [
        {
            "load_id": load_id,
            "file_name": delivered.name,
            "sha256": delivered.sha256,
            "dataset": dataset_name,
            "line_number": p.line_number,
            "column_name": p.column_name,
            "raw_value": p.raw_value,
            "reason": p.reason,
            "quarantined_at": now,
        }
        for p in problems
    ]


def _load_records(conn, delivered, records, dataset, header, load_id, now, today):
    """The file's good rows into its raw table: (rows loaded, problems, rows rejected)."""
    lineage = {
        "load_id": load_id,
        "file_name": delivered.name,
        "sha256": delivered.sha256,
        "delivered_at": now,
    }
    loaded, problems, rejected = insert_validated(
        conn, records, dataset, header, f"raw.{dataset.name}", lineage, today
    )
    problems += [Problem(n, c or None, None, r) for n, c, r in records.unreadable_rows]
    rejected |= {n for n, _, _ in records.unreadable_rows}
    # Problems are reported by line; the rows of a reading error come in line order too.
    problems.sort(key=lambda p: p.line_number or 0)
    return loaded, problems, len(rejected)


def ingest_file(
    conn: duckdb.DuckDBPyConnection,
    delivered: DeliveredFile,
    archive: Path,
    today: date,
    now: datetime,
    run_id: str | None = None,
    replay: bool = False,
) -> FileOutcome | None:
    """Ingest one delivered file; None when this exact file was ingested before."""
    already = conn.execute(
        "SELECT file_name FROM audit.file_log WHERE sha256 = ? ORDER BY load_id",
        [delivered.sha256],
    ).fetchall()
    if any(name == delivered.name for (name,) in already):
        return None
    archived = archive_copy(delivered, archive).relative_to(archive.parent).as_posix()
    if not replay:
        record_delivery(archive, delivered, archived, now)
    load_id = conn.execute("SELECT coalesce(max(load_id), 0) + 1 FROM audit.file_log").fetchone()[0]
    log = {
        "load_id": load_id,
        "file_name": delivered.name,
        "sha256": delivered.sha256,
        "dataset": delivered.dataset_name,
        "file_format": delivered.extension.lstrip("."),
        "encoding": None,
        "size_bytes": delivered.size_bytes,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "delivered_at": now,
        "archive_path": archived,
        "run_id": run_id,
        "mtime_ns": delivered.mtime_ns,
    }
    dataset = delivered.dataset
    records = header = None
    problems: list[Problem] = []
    if already:
        log |= {
            "status": "duplicate",
            "message": f"same content as '{already[0][0]}', loaded before",
        }
    elif dataset is None:
        reason = (
            f"unknown dataset '{delivered.dataset_name}' (from the file name): name the file "
            f"<dataset>__<anything>{delivered.extension or '.csv'} with a dataset among "
            f"{', '.join(DATASETS)}"
        )
        problems = [Problem(None, None, None, reason)]
        log |= {"status": "quarantined", "message": reason}
    else:
        try:
            records = read_records(delivered)
            header = HeaderMap.of(dataset, records.header)
        except UnreadableFile as error:
            records = None
            problems = [Problem(None, None, None, str(error))]
            log |= {"status": "quarantined", "message": str(error)}

    conn.execute("BEGIN TRANSACTION")
    try:
        if records is not None:
            loaded, problems, rejected = _load_records(
                conn, delivered, records, dataset, header, load_id, now, today
            )
            status = "loaded" if not rejected else ("partially_loaded" if loaded else "quarantined")
            log |= {
                "status": status,
                "rows_loaded": loaded,
                "rows_quarantined": rejected,
                "encoding": records.encoding,
                "message": f"{loaded} rows loaded, {rejected} rows quarantined",
            }
        quarantined = _quarantine_rows(
            delivered, load_id, dataset.name if dataset else delivered.dataset_name, problems, now
        )
        _insert(conn, "audit.quarantine", QUARANTINE_COLUMNS, quarantined)
        _insert(conn, "audit.file_log", FILE_LOG_COLUMNS, [log])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return FileOutcome(
        file_name=delivered.name,
        dataset=delivered.dataset_name,
        status=log["status"],
        rows_loaded=log["rows_loaded"],
        rows_quarantined=log["rows_quarantined"],
        message=log["message"],
    )


def ingest_landing(
    conn: duckdb.DuckDBPyConnection,
    landing: Path,
    archive: Path,
    today: date | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> IngestReport:
    """Ingest every new delivery in the landing folder; safe to run any number of times."""
    today = today or date.today()
    ensure_schemas(conn)
    report = IngestReport(landing=landing)
    known = {
        (name, size, mtime_ns): sha256
        for name, size, mtime_ns, sha256 in conn.execute(
            "SELECT file_name, size_bytes, mtime_ns, sha256 FROM audit.file_log"
            " WHERE mtime_ns IS NOT NULL"
        ).fetchall()
    }
    scan = discover(landing, known, settle_seconds)
    report.files_unsettled = scan.unsettled
    for delivered in scan.files:
        report.files_seen += 1
        # Each file has its own delivery time, in delivery order, so supersession is total.
        delivered_at = now or datetime.now(UTC).replace(tzinfo=None)
        outcome = ingest_file(conn, delivered, archive, today, delivered_at, run_id)
        if outcome is None:
            report.files_unchanged += 1
        else:
            report.outcomes.append(outcome)
    return report


def replay_archive(
    conn: duckdb.DuckDBPyConnection, archive: Path, today: date | None = None, run_id=None
) -> IngestReport:
    """Re-ingest every archived delivery in its original order, under its original name and
    delivery time: how a lost or corrupt database is rebuilt without the landing folder."""
    today = today or date.today()
    ensure_schemas(conn)
    report = IngestReport(landing=archive)
    for entry in read_ledger(archive):
        path = archive.parent / entry["archive_path"]
        delivered = DeliveredFile(
            path=path,
            name=entry["file_name"],
            dataset_name=dataset_name_of(entry["file_name"]),
            extension=path.suffix.lower(),
            sha256=entry["sha256"],
            size_bytes=path.stat().st_size,
        )
        report.files_seen += 1
        delivered_at = datetime.fromisoformat(entry["delivered_at"])
        outcome = ingest_file(conn, delivered, archive, today, delivered_at, run_id, replay=True)
        if outcome is None:
            report.files_unchanged += 1
        else:
            report.outcomes.append(outcome)
    return report
