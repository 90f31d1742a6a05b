"""The raw layer as Parquet, where Spark reads it (CARDREACH_ENGINE=spark, docs/scaling.md).

Each delivery's rows of each raw table become one Parquet part,
`<lake>/raw/<table>/load_<load_id>-<the file's sha256, 16 digits>.parquet`, written once and never
changed: a delivery's rows never change in `raw` (a later delivery of the same key is a new load,
which staging prefers). The parts hold exactly
the raw table's columns, lineage included, so dbt on Spark reads what dbt on DuckDB reads. Each
table's folder also holds `schema.parquet`, no rows and the table's columns, so that Spark can
declare a table no delivery has reached yet.

The lake follows `raw`, whatever happened to it: a part whose load is no longer in `raw` with the
same file and row count (the warehouse rebuilt from the archive, a delivery purged) is removed,
and the load's rows written again.
"""

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.contract.datasets import DATASETS

PART_PREFIX = "load_"
SCHEMA_PART = "schema.parquet"


@dataclass
class LakeReport:
    """What one export changed, per raw table."""

    parts_written: dict[str, int] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)
    parts_removed: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        written, rows = sum(self.parts_written.values()), sum(self.rows_written.values())
        removed = sum(self.parts_removed.values())
        text = f"{written} Parquet parts written ({rows:,} rows)"
        return text + (f", {removed} parts no longer matching raw removed" if removed else "")


def part_name(load_id: int, sha256: str) -> str:
    return f"{PART_PREFIX}{load_id:010d}-{sha256[:16]}.parquet"


def _copy(conn: duckdb.DuckDBPyConnection, query: str, params: list, target: Path) -> None:
    """Write a query's rows to a Parquet file, beside it first: a reader never sees half a part."""
    partial = target.with_name(f".{target.name}.partial")
    conn.execute(f"COPY ({query}) TO '{partial}' (FORMAT parquet, COMPRESSION zstd)", params)
    partial.replace(target)


def _parts_on_disk(conn: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Row count of each part in a table's folder, by file name (from the files' footers)."""
    parts = sorted(folder.glob(f"{PART_PREFIX}*.parquet"))
    if not parts:
        return {}
    rows = conn.execute(
        "SELECT file_name, num_rows FROM parquet_file_metadata(?)", [[str(p) for p in parts]]
    ).fetchall()
    return {Path(name).name: count for name, count in rows}


def export_raw_layer(conn: duckdb.DuckDBPyConnection, lake: Path) -> LakeReport:
    """Bring the lake up to date with the pipeline database's `raw` tables."""
    report = LakeReport()
    for table in DATASETS:
        folder = lake / "raw" / table
        folder.mkdir(parents=True, exist_ok=True)
        relation = f"raw.{table}"
        _copy(conn, f"SELECT * FROM {relation} LIMIT 0", [], folder / SCHEMA_PART)
        in_raw = {
            part_name(load_id, sha256): (load_id, rows)
            for load_id, sha256, rows in conn.execute(
                f"SELECT load_id, any_value(sha256), count(*) FROM {relation} GROUP BY load_id"
            ).fetchall()
        }
        on_disk = _parts_on_disk(conn, folder)
        for name in sorted(set(on_disk) - set(in_raw)) + sorted(
            name for name, (_, rows) in in_raw.items() if name in on_disk and on_disk[name] != rows
        ):
            (folder / name).unlink()
            report.parts_removed[table] = report.parts_removed.get(table, 0) + 1
        for name, (load_id, rows) in sorted(in_raw.items()):
            if on_disk.get(name) == rows:
                continue
            query = f"SELECT * FROM {relation} WHERE load_id = ? ORDER BY line_number"
            _copy(conn, query, [load_id], folder / name)
            report.parts_written[table] = report.parts_written.get(table, 0) + 1
            report.rows_written[table] = report.rows_written.get(table, 0) + rows
    return report
