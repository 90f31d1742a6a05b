"""Publishing the marts to `analytics.duckdb`, the copy analysts open while the pipeline runs.

The copy is built as a new file beside the old one and renamed over it: the rename is atomic, so
a reader sees the previous publication or the new one, never half of one, and a reader holding
the old file open keeps reading it undisturbed (on POSIX the old file lives until it is closed).
The pipeline never opens `analytics.duckdb` for writing, so no analyst can block a run.
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

# Schemas analysts get: the marts and the reference data (tiers, weights, segments) behind them.
PUBLISHED_SCHEMAS = ("marts", "reference")
# Files written by DuckDB 2.x cannot be opened by DuckDB 1.x, which analysts' tools bundle: the
# published file is written in the storage format every DuckDB since 1.0 reads.
STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class Publication:
    path: Path
    published_at: datetime
    tables: dict[str, int]  # schema.table -> rows


def _literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish_marts(conn: duckdb.DuckDBPyConnection, target: Path, run_id: str) -> Publication:
    """Copy the published schemas, with their comments, from the pipeline's database to `target`."""
    building = target.with_name(target.name + ".building")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)  # a run killed mid-publication left it: start over
    tables = conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables()"
        " WHERE database_name = current_database() AND schema_name IN ?"
        " ORDER BY schema_name, table_name",
        [list(PUBLISHED_SCHEMAS)],
    ).fetchall()
    published_at = datetime.now(UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    conn.execute(
        f"ATTACH {_literal(str(building))} AS publication (STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    try:
        for schema in PUBLISHED_SCHEMAS:
            conn.execute(f"CREATE SCHEMA publication.{_identifier(schema)}")
        for schema, table, comment in tables:
            source = f"{_identifier(schema)}.{_identifier(table)}"
            copy = f"publication.{source}"
            conn.execute(f"CREATE TABLE {copy} AS FROM {source}")
            conn.execute(f"COMMENT ON TABLE {copy} IS {_literal(comment)}")
            for column, column_comment in conn.execute(
                "SELECT column_name, comment FROM duckdb_columns()"
                " WHERE database_name = current_database() AND schema_name = ?"
                " AND table_name = ? AND comment IS NOT NULL",
                [schema, table],
            ).fetchall():
                conn.execute(
                    f"COMMENT ON COLUMN {copy}.{_identifier(column)} IS {_literal(column_comment)}"
                )
            counts[f"{schema}.{table}"] = conn.execute(f"SELECT count(*) FROM {copy}").fetchone()[0]
        conn.execute(
            "CREATE TABLE publication.main.publication AS SELECT ?::TIMESTAMP AS published_at,"
            " ?::VARCHAR AS run_id, ?::VARCHAR AS source_database",
            [published_at, run_id, "cardreach.duckdb"],
        )
        conn.execute(
            "COMMENT ON TABLE publication.main.publication IS 'When this copy was published (UTC)"
            " and by which pipeline run.'"
        )
    finally:
        conn.execute("DETACH publication")  # detaching checkpoints: the file is complete
    os.replace(building, target)
    return Publication(path=target, published_at=published_at, tables=counts)
