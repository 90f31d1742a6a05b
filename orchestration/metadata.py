"""Dagster metadata that helps an operator: row counts, column schemas and previews of a table,
as Dagster's own table metadata (the UI renders, sorts and types it)."""

import datetime as dt
from decimal import Decimal

import dagster as dg
import duckdb

# Who answers for cardreach's assets in the UI.
OWNERS = ["team:cardreach-data"]


def column_schema(conn: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    schema, name = table.split(".")
    rows = conn.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns()"
        " WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    return dg.TableSchema(
        columns=[dg.TableColumn(name=c, type=t, description=d) for c, t, d in rows]
    )


def columns_by_table(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str, str]]]:
    """Every table's and view's columns, (name, type, comment) in order, by "schema.table": one
    read of the catalog for many tables."""
    columns: dict[str, list[tuple[str, str, str]]] = {}
    for schema, table, name, data_type, comment in conn.execute(
        "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns()"
        " WHERE NOT internal ORDER BY schema_name, table_name, column_index"
    ).fetchall():
        columns.setdefault(f"{schema}.{table}", []).append((name, data_type, comment))
    return columns


def with_descriptions(metadata: dict, described: dg.TableSchema) -> dict:
    """Table metadata whose column schema (the database's types) carries the descriptions of
    `described` (the contract's), for the columns the database leaves uncommented."""
    schema = metadata.get("dagster/column_schema")
    if schema is None:
        return metadata
    said = {column.name: column.description for column in described.columns}
    return {
        **metadata,
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(
                    name=column.name,
                    type=column.type,
                    description=column.description or said.get(column.name),
                    constraints=column.constraints,
                    tags=column.tags,
                )
                for column in schema.columns
            ]
        ),
    }


def _plain(value):
    """A value the table metadata can carry: numbers and text as they are, the rest as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def table_preview(
    conn: duckdb.DuckDBPyConnection, query: str, params=None, limit: int = 10
) -> dg.MetadataValue:
    """A query's first rows as Dagster table metadata, typed by DuckDB's column types."""
    cursor = conn.execute(f"SELECT * FROM ({query}) LIMIT {int(limit)}", params or [])
    names = [d[0] for d in cursor.description]
    types = [str(d[1]) for d in cursor.description]
    rows = cursor.fetchall()
    return dg.MetadataValue.table(
        records=[dg.TableRecord(dict(zip(names, map(_plain, row), strict=True))) for row in rows],
        schema=dg.TableSchema(
            columns=[dg.TableColumn(n, t) for n, t in zip(names, types, strict=True)]
        ),
    )


def table_metadata(conn: duckdb.DuckDBPyConnection, table: str, preview_query: str | None = None):
    """Row count, column schema and a preview: what every table asset reports."""
    row_count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {
        "dagster/row_count": dg.MetadataValue.int(row_count),
        "dagster/column_schema": column_schema(conn, table),
        "dagster/relation_identifier": dg.MetadataValue.text(table),
        "preview": table_preview(conn, preview_query or f"FROM {table}"),
    }
