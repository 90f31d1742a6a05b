"""Loading the landing folder into the `raw` and `audit` schemas, losing nothing.

For each delivered file, in delivery order:
1. it is copied into `archive/` by its sha256 (whatever becomes of its rows);
2. a file already logged under the same name and content is passed over: re-runs change nothing;
3. the same content under another name is logged as a `duplicate` and loads nothing;
4. otherwise its good rows go to `raw.<dataset>` and its bad rows (or the whole file) to
   `audit.quarantine`, and the file to `audit.file_log`, in one transaction with the other files
   of its batch, so a run killed mid-way leaves each file either whole or absent.

Every other landing entry (a symbolic link, a special file, a temporary name, a hidden file or
folder) is logged once as `skipped` with its reason, and never read.

Files are read by DuckDB's own readers into temporary staging tables (`reading`), and typed in
bulk, a batch of files per query (`bulk_validation`); the Python validator judges every row in an
unusual form and words every problem. Memory stays bounded whatever a file's size: DuckDB spills
to disk, and Python holds a block of rows at a time.

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
import pyarrow.compute as pc

from orchestration import settings
from orchestration.contract.datasets import DATASETS, Dataset
from orchestration.defs.ingest.bulk_validation import ARROW_TYPES, insert_validated
from orchestration.defs.ingest.landing import (
    DeliveredFile,
    LandingEntry,
    UnreadableFile,
    dataset_name_of,
    discover,
)
from orchestration.defs.ingest.personal_data import find_personal_data
from orchestration.defs.ingest.reading import PROBLEMS_TABLE, Stager
from orchestration.defs.ingest.record import write_ingest_record
from orchestration.defs.ingest.validation import Problem, raw_columns
from orchestration.settings import SETTLE_SECONDS, staging_dir

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
    # The name's bytes in hex when they are not UTF-8 (file_name is then their readable form).
    ("file_name_bytes", "VARCHAR"),
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


class IngestError(RuntimeError):
    """Ingestion stopped; the message names the file (and line) it was working on."""


@dataclass
class FileOutcome:
    file_name: str
    dataset: str | None  # None for a skipped entry
    status: str  # loaded, partially_loaded, quarantined, duplicate, skipped
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""


@dataclass
class IngestReport:
    landing: Path
    files_seen: int = 0
    files_unchanged: int = 0  # already ingested in an earlier run: nothing to do
    files_unsettled: list[str] = field(default_factory=list)  # still being written: next run
    files_skipped: int = 0  # no deliveries (logged once each: new ones are among `outcomes`)
    # Taken in although their modification time is ahead of this machine's clock.
    files_mtime_in_future: list[str] = field(default_factory=list)
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
    entry = {
        "file_name": delivered.name,  # readable, always valid UTF-8 (`readable_name`)
        "sha256": delivered.sha256,
        "archive_path": archived,
        "delivered_at": now.isoformat(),
    }
    if delivered.name_bytes:  # the exact name, when its bytes are not UTF-8
        entry["file_name_bytes"] = delivered.name_bytes
    line = json.dumps(entry, ensure_ascii=False)
    with (archive / LEDGER_NAME).open("a", encoding="utf-8") as ledger:
        ledger.write(line + "\n")
        ledger.flush()
        os.fsync(ledger.fileno())


def read_ledger(archive: Path) -> list[dict]:
    path = archive / LEDGER_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def purge_delivery(conn: duckdb.DuckDBPyConnection, archive: Path, sha256: str) -> list[str]:
    """Remove a delivered content from the archive and its ledger, for a file that must not be
    kept (personal data): the archived copy is deleted, the ledger rewritten without it (so a
    rebuild never replays it) and its audit.file_log rows say so. Only a content refused whole
    can be purged: rows of it in raw would be rebuilt from nothing. The names it was delivered
    under; ValueError when there is nothing to purge or it loaded rows."""
    logged = conn.execute(
        "SELECT file_name, status, archive_path FROM audit.file_log WHERE sha256 = ?", [sha256]
    ).fetchall()
    if not logged:
        raise ValueError(f"no delivery has sha256 {sha256} (see audit.file_log)")
    loaded = [name for name, status, _ in logged if status not in ("quarantined", "duplicate")]
    if loaded:
        raise ValueError(
            f"{', '.join(loaded)} loaded rows: purge only a file refused whole (status"
            " quarantined); a loaded file's rows are in raw and the archive rebuilds them"
        )
    for _, _, archived in logged:
        if archived:
            (archive.parent / archived).unlink(missing_ok=True)
    ledger = archive / LEDGER_NAME
    if ledger.exists():
        kept = [e for e in read_ledger(archive) if e["sha256"] != sha256]
        partial = ledger.with_name(LEDGER_NAME + ".partial")
        partial.write_text(
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in kept), encoding="utf-8"
        )
        partial.replace(ledger)
    purged_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    # the refusal's text may quote the file (a header that was a customer's line): replaced
    said = f"refused whole, then purged from the archive at {purged_at} UTC"
    conn.execute(
        "UPDATE audit.file_log SET archive_path = NULL, message = ? WHERE sha256 = ?",
        [said, sha256],
    )
    conn.execute(
        "UPDATE audit.quarantine SET reason = ?, raw_value = NULL WHERE sha256 = ?",
        [said, sha256],
    )
    return [name for name, _, _ in logged]


def archive_copy(delivered: DeliveredFile, archive: Path) -> Path:
    """Copy into the content-addressed archive; written under a temporary name, then renamed."""
    target = archive / delivered.sha256[:2] / f"{delivered.sha256}{delivered.extension}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(delivered.path, partial)
        partial.replace(target)
    return target


# Files are committed in batches of about this many rows: the rows of a batch are typed by one
# query (DuckDB spreads it over the cores), and a commit costs a WAL flush whatever its size.
# Each batch's insert also ends on a part-filled row group of raw (DuckDB's are 122,880 rows):
# at 200,000 rows a batch that cost about a third of the insert's time (docs/performance.md,
# the shared-read round); DuckDB's memory cap bounds what a larger batch holds.
BATCH_ROWS = 500_000


@dataclass
class _PendingFile:
    delivered: DeliveredFile
    load_id: int
    log: dict  # its audit.file_log row; the counts are filled in when the batch commits
    note: str = ""  # said after the counts in its file_log message
    staged: bool = False  # its rows are staged (else it is a duplicate, or refused whole)


class _Batch:
    """Files being ingested together: each is archived and checked as it is added (a CSV is
    staged with the batch's others of its kind at `commit`, any other file at once), and all of
    them go into the database in one transaction at `commit`, so a run killed mid-way leaves
    each file either whole or absent (the next run ingests the absent ones again)."""

    def __init__(self, conn, archive: Path, today: date, run_id: str | None, replay: bool):
        self.conn, self.archive, self.today = conn, archive, today
        self.run_id, self.replay = run_id, replay
        self.stager = Stager(conn, staging_dir(archive.parent))
        self.files: list[_PendingFile] = []
        self.rows = 0
        # (name, content) of every file logged before: most files of a landing folder
        self.logged = set(conn.execute("SELECT file_name, sha256 FROM audit.file_log").fetchall())

    def ingested_before(self, delivered: DeliveredFile) -> bool:
        return (delivered.name, delivered.sha256) in self.logged

    def _names_of(self, sha256: str) -> list[str]:
        """The names this content was logged under, earliest first, this batch included."""
        logged = self.conn.execute(
            "SELECT file_name FROM audit.file_log WHERE sha256 = ? ORDER BY load_id", [sha256]
        ).fetchall()
        batch = [f.delivered.name for f in self.files if f.delivered.sha256 == sha256]
        return [name for (name,) in logged] + batch

    def _next_load_id(self) -> int:
        if self.files:
            return self.files[-1].load_id + 1
        query = "SELECT coalesce(max(load_id), 0) + 1 FROM audit.file_log"
        return self.conn.execute(query).fetchone()[0]

    def add(self, delivered: DeliveredFile, now: datetime) -> bool:
        """Take a file into the batch; False when this exact file was ingested before."""
        already = self._names_of(delivered.sha256)
        if delivered.name in already:
            return False
        copy = archive_copy(delivered, self.archive)
        archived = copy.relative_to(self.archive.parent)
        if not self.replay:
            record_delivery(self.archive, delivered, archived.as_posix(), now)
        pending = _PendingFile(
            delivered=delivered,
            load_id=self._next_load_id(),
            log={
                "file_name": delivered.name,
                "sha256": delivered.sha256,
                "dataset": delivered.dataset_name,
                "file_format": delivered.extension.lstrip("."),
                "encoding": None,
                "size_bytes": delivered.size_bytes,
                "rows_loaded": 0,
                "rows_quarantined": 0,
                "delivered_at": now,
                "archive_path": archived.as_posix(),
                "run_id": self.run_id,
                "mtime_ns": delivered.mtime_ns,
                "file_name_bytes": delivered.name_bytes,
            },
        )
        if delivered.mtime_in_future:
            pending.note = (
                "; its modification time is ahead of this machine's clock (is the sender's clock"
                " fast?): taken in once its size and mtime held still"
            )
        pending.log["load_id"] = pending.load_id
        dataset = delivered.dataset
        if already:
            pending.log |= {
                "status": "duplicate",
                "message": f"same content as '{already[0]}', loaded before",
            }
        elif dataset is None:
            self._refuse(
                pending,
                f"unknown dataset '{delivered.dataset_name}' (from the file name): name the file "
                f"<dataset>__<anything>{delivered.extension or '.csv'} with a dataset among "
                f"{', '.join(DATASETS)}",
            )
        else:
            try:
                # The archived copy is read: it is what was logged, under a name any reader
                # can open (a delivered name may not be valid UTF-8). A CSV is staged with the
                # batch's others of its kind, at commit (reading.Stager.flush).
                pending.log["encoding"] = self.stager.stage(
                    copy, delivered.extension, dataset, pending.load_id, together=True
                )
            except UnreadableFile as error:
                self._refuse(pending, str(error))
            else:
                pending.staged = True
                queued = self.stager.queued_lines(pending.load_id)
                if queued is None:
                    self.rows += self.stager.staged_rows(dataset, pending.load_id)
                else:
                    self.rows += queued
        self.files.append(pending)
        return True

    def _settle(self) -> None:
        """Stage the files waiting to be staged together, then refuse whole the files found
        unreadable meanwhile and those that look like personal data: nothing of them reaches
        raw, nor audit.quarantine's raw values."""
        unreadable = self.stager.flush()
        for pending in self.files:
            if not pending.staged:
                continue
            dataset = pending.delivered.dataset
            reason = unreadable.get(pending.load_id)
            if reason is None and dataset.refuse_personal_data:
                reason = find_personal_data(
                    self.conn, self.stager.table(dataset), dataset, pending.load_id
                )
                if reason:
                    self.stager.discard(dataset, pending.load_id)
            if reason:
                pending.staged = False
                self._refuse(pending, reason)

    def _refuse(self, pending: _PendingFile, reason: str) -> None:
        self.stager.add_problems(pending.load_id, [Problem(None, None, None, reason)])
        pending.log |= {"status": "quarantined", "message": reason}

    def commit(self) -> list[FileOutcome]:
        """Type, check and insert every file of the batch, in one transaction."""
        if not self.files:
            return []
        self._settle()  # a failure here leaves the stager to _ingest's cleanup
        batch_files = pa.Table.from_pylist(
            [
                {k: f.log[k] for k in ("load_id", "file_name", "sha256", "dataset", "delivered_at")}
                for f in self.files
            ],
            schema=pa.schema(
                [
                    ("load_id", pa.int64()),
                    ("file_name", pa.string()),
                    ("sha256", pa.string()),
                    ("dataset", pa.string()),
                    ("delivered_at", pa.timestamp("us")),
                ]
            ),
        )
        loads = [f for f in self.files if f.staged]
        self.conn.execute("BEGIN TRANSACTION")
        try:
            loaded: Counter = Counter()
            for dataset_name in dict.fromkeys(f.delivered.dataset_name for f in loads):
                ids = [f.load_id for f in loads if f.delivered.dataset_name == dataset_name]
                lineage = batch_files.filter(pc.is_in(batch_files["load_id"], pa.array(ids)))
                loaded += insert_validated(
                    self.stager, DATASETS[dataset_name], lineage.drop(["dataset"]), self.today
                )
            self.conn.register("batch_files", batch_files)
            try:
                self.conn.execute(
                    f"""
                    INSERT INTO audit.quarantine BY NAME
                    SELECT p.load_id, f.file_name, f.sha256, f.dataset, p.line_number,
                        p.column_name, p.raw_value, p.reason, f.delivered_at AS quarantined_at
                    FROM {PROBLEMS_TABLE} AS p JOIN batch_files AS f USING (load_id)
                    ORDER BY p.load_id, coalesce(p.line_number, 0), p.seq
                    """
                )
            finally:
                self.conn.unregister("batch_files")
            rejected = dict(
                self.conn.execute(
                    f"SELECT load_id, count(DISTINCT line_number) FROM {PROBLEMS_TABLE}"
                    " GROUP BY load_id"
                ).fetchall()
            )
            for pending in loads:
                self._count(pending, loaded[pending.load_id], rejected.get(pending.load_id, 0))
            _insert(self.conn, "audit.file_log", FILE_LOG_COLUMNS, [f.log for f in self.files])
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self.stager.clear()
        outcomes = [
            FileOutcome(
                file_name=f.delivered.name,
                dataset=f.delivered.dataset_name,
                status=f.log["status"],
                rows_loaded=f.log["rows_loaded"],
                rows_quarantined=f.log["rows_quarantined"],
                message=f.log["message"],
            )
            for f in self.files
        ]
        self.files, self.rows = [], 0
        return outcomes

    @staticmethod
    def _count(pending: _PendingFile, loaded: int, rejected: int) -> None:
        status = "loaded" if not rejected else ("partially_loaded" if loaded else "quarantined")
        pending.log |= {
            "status": status,
            "rows_loaded": loaded,
            "rows_quarantined": rejected,
            "message": f"{loaded} rows loaded, {rejected} rows quarantined{pending.note}",
        }


def _ingest(batch: _Batch, deliveries, report: IngestReport) -> IngestReport:
    """Ingest (delivered file, delivery time) pairs in order, a batch at a time."""

    def commit() -> None:
        names = [f.delivered.name for f in batch.files]
        try:
            report.outcomes.extend(batch.commit())
        except Exception as error:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if names[5:] else "")
            raise IngestError(
                f"loading the batch of {shown} failed, nothing of it was kept:"
                f" {type(error).__name__}: {error}"
            ) from error

    try:
        for delivered, delivered_at in deliveries:
            report.files_seen += 1
            try:
                added = batch.add(delivered, delivered_at)
            except Exception as error:  # not the file's fault (a disk, a bug): say which file
                raise IngestError(f"{delivered.name}: {type(error).__name__}: {error}") from error
            if not added:
                report.files_unchanged += 1
            elif batch.rows >= BATCH_ROWS:
                commit()
        commit()
    finally:  # stopped mid-way: nothing staged, nor any converted copy, outlives the batch
        batch.stager.clear()
    return report


def _log_skipped(conn, entries: list[LandingEntry], now: datetime, run_id: str | None):
    """Log each skipped entry once: an entry is the same while its name and its reason are, so
    a symlink or a stale `.tmp` left in the folder adds one row, not one per run. Whatever
    else changes about it (size, mtime, target) is not looked at; if it becomes a delivery,
    it is ingested as one."""
    logged = set(
        conn.execute(
            "SELECT file_name, message FROM audit.file_log WHERE status = 'skipped'"
        ).fetchall()
    )
    new = [e for e in entries if (e.name, e.skip_reason) not in logged]
    if not new:
        return []
    first = conn.execute("SELECT coalesce(max(load_id), 0) + 1 FROM audit.file_log").fetchone()[0]
    rows = [
        {
            "load_id": first + i,
            "file_name": entry.name,
            "sha256": None,  # never read: a skipped entry has no content of its own
            "dataset": None,
            "file_format": None,
            "encoding": None,
            "size_bytes": entry.size,
            "rows_loaded": 0,
            "rows_quarantined": 0,
            "status": "skipped",
            "delivered_at": now,
            "archive_path": None,
            "message": entry.skip_reason,
            "run_id": run_id,
            "mtime_ns": entry.mtime_ns,
            "file_name_bytes": entry.name_bytes,
        }
        for i, entry in enumerate(new)
    ]
    conn.execute("BEGIN TRANSACTION")
    try:
        _insert(conn, "audit.file_log", FILE_LOG_COLUMNS, rows)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return [FileOutcome(e.name, None, "skipped", message=e.skip_reason) for e in new]


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
    today = today or settings.today()
    ensure_schemas(conn)
    report = IngestReport(landing=landing)
    known = {
        (name, size, mtime_ns): sha256
        for name, size, mtime_ns, sha256 in conn.execute(
            "SELECT file_name, size_bytes, mtime_ns, sha256 FROM audit.file_log"
            " WHERE mtime_ns IS NOT NULL AND sha256 IS NOT NULL"
        ).fetchall()
    }
    scan = discover(landing, known, settle_seconds)
    report.files_unsettled = scan.unsettled
    report.files_skipped = len(scan.skipped)
    report.files_mtime_in_future = [f.name for f in scan.files if f.mtime_in_future]
    report.outcomes += _log_skipped(
        conn, scan.skipped, now or datetime.now(UTC).replace(tzinfo=None), run_id
    )
    # Each file has its own delivery time, in delivery order, so supersession is total.
    deliveries = (
        (delivered, now or datetime.now(UTC).replace(tzinfo=None)) for delivered in scan.files
    )
    _ingest(_Batch(conn, archive, today, run_id, replay=False), deliveries, report)
    # What the sensor and `make run` read to tell what is new, the database being held by a run.
    write_ingest_record(conn, archive.parent, scan.files)
    return report


def replay_archive(
    conn: duckdb.DuckDBPyConnection, archive: Path, today: date | None = None, run_id=None
) -> IngestReport:
    """Re-ingest every archived delivery in its original order, under its original name and
    delivery time: how a lost or corrupt database is rebuilt without the landing folder."""
    today = today or settings.today()
    ensure_schemas(conn)
    report = IngestReport(landing=archive)

    def deliveries():
        for entry in read_ledger(archive):
            path = archive.parent / entry["archive_path"]
            delivered = DeliveredFile(
                path=path,
                name=entry["file_name"],
                dataset_name=dataset_name_of(entry["file_name"]),
                extension=path.suffix.lower(),
                sha256=entry["sha256"],
                size_bytes=path.stat().st_size,
                name_bytes=entry.get("file_name_bytes"),
            )
            yield delivered, datetime.fromisoformat(entry["delivered_at"])

    _ingest(_Batch(conn, archive, today, run_id, replay=True), deliveries(), report)
    write_ingest_record(conn, archive.parent)
    return report
