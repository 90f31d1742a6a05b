"""Dagster metadata that helps an operator: row counts, column schemas and previews of a table."""

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


def markdown_preview(
    conn: duckdb.DuckDBPyConnection, query: str, params=None, limit: int = 10
) -> str:
    """A query's first rows as a markdown table (text cells escaped for the table syntax)."""
    cursor = conn.execute(f"SELECT * FROM ({query}) LIMIT {int(limit)}", params or [])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if not rows:
        return "_no rows_"

    def cell(value) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def table_metadata(conn: duckdb.DuckDBPyConnection, table: str, preview_query: str | None = None):
    """Row count, column schema and a preview: what every table asset reports."""
    row_count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {
        "dagster/row_count": dg.MetadataValue.int(row_count),
        "dagster/column_schema": column_schema(conn, table),
        "dagster/relation_identifier": dg.MetadataValue.text(table),
        "preview": dg.MetadataValue.md(markdown_preview(conn, preview_query or f"FROM {table}")),
    }
