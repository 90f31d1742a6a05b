"""The ingest record: what the warehouse holds of the landing folder, readable without DuckDB.

`audit.file_log` is the truth, but a run holds the pipeline database for minutes, and the sensor
and `make run` need to know what is new while it does. So ingestion writes, after every pass,
`ingested_files.json` in the warehouse folder: per delivered file name, the sha256 of the content
it last ingested (or found already ingested), with that file's size and mtime_ns as last seen.

A landing file whose size and mtime match its entry is known without being read; one that
differs is hashed, and it is new only when its content differs too. The file is replaced whole
(written beside it, then renamed), so a reader never sees half of it; a missing or unreadable
record means "nothing known", which can only cause a run that finds nothing to do.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.defs.ingest.landing import DeliveredFile, LandingEntry, file_sha256
from orchestration.warehouse import write_atomically

RECORD_VERSION = 1


@dataclass(frozen=True)
class IngestedFile:
    sha256: str
    size: int
    mtime_ns: int


@dataclass
class IngestRecord:
    files: dict[str, IngestedFile] = field(default_factory=dict)

    @classmethod
    def read(cls, warehouse: Path) -> "IngestRecord":
        try:
            content = json.loads(settings.ingest_record(warehouse).read_text(encoding="utf-8"))
            return cls(
                {
                    name: IngestedFile(entry["sha256"], entry["size"], entry["mtime_ns"])
                    for name, entry in content["files"].items()
                }
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()  # nothing known: the next run ingests what is new and writes it again

    def knows_stat(self, entry: LandingEntry) -> bool:
        """The file is as ingestion last saw it (same size and mtime): no need to read it."""
        known = self.files.get(entry.name)
        return known is not None and (known.size, known.mtime_ns) == (entry.size, entry.mtime_ns)

    def knows_content(self, name: str, sha256: str) -> bool:
        known = self.files.get(name)
        return known is not None and known.sha256 == sha256


def write_ingest_record(
    conn: duckdb.DuckDBPyConnection, warehouse: Path, seen: list[DeliveredFile] = ()
) -> None:
    """Record every file name audit.file_log holds with the content last logged under it, then
    the landing files this pass saw (all of them ingested now or before) as they are now, so
    that a touched file is not read again at the next look."""
    files: dict[str, dict] = {}
    for name, sha256, size, mtime_ns in conn.execute(
        "SELECT file_name, sha256, size_bytes, coalesce(mtime_ns, 0) FROM audit.file_log"
        " WHERE sha256 IS NOT NULL ORDER BY load_id"
    ).fetchall():
        files[name] = {"sha256": sha256, "size": size, "mtime_ns": mtime_ns}
    for delivered in seen:
        files[delivered.name] = {
            "sha256": delivered.sha256,
            "size": delivered.size_bytes,
            "mtime_ns": delivered.mtime_ns,
        }
    write_atomically(
        json.dumps({"version": RECORD_VERSION, "files": files}, ensure_ascii=False),
        settings.ingest_record(warehouse),
    )


@dataclass
class LandingState:
    """The deliveries in the landing folder against the record."""

    deliveries: int = 0
    new: dict[str, str] = field(default_factory=dict)  # name -> sha256 of content not ingested
    unreadable: list[str] = field(default_factory=list)


def new_deliveries(entries: list[LandingEntry], record: IngestRecord) -> LandingState:
    """Which deliveries hold content the warehouse has not ingested (skipped entries are no
    deliveries: the next run logs them whatever starts it)."""
    state = LandingState()
    for entry in entries:
        if entry.skip_reason is not None:
            continue
        state.deliveries += 1
        if record.knows_stat(entry):
            continue
        try:
            sha256 = file_sha256(entry.path)
        except OSError:
            state.unreadable.append(entry.name)  # the run logs why
            continue
        if not record.knows_content(entry.name, sha256):
            state.new[entry.name] = sha256
    return state
