"""Which rows a suite checks in this run: all of them, or only those delivered since it last passed.

A raw table only grows: ingestion appends rows under a new `load_id`, higher than every earlier
one, and never changes a stored row. A suite whose expectations judge each row on its own (null,
bounds, sets; the column names) reaches the same verdict on the old rows every run, so checking
them again costs time in every daily run and changes nothing (docs/performance.md).

Such a suite says so in its file, `"meta": {"new_rows_by": "load_id"}`. Its check then reads
only the rows whose `load_id` is above the highest one it had read when it last passed with no
error (warnings allowed: a warning reports what that run delivered, once), and records that in
`audit.quality_checked_through`. Every row is still checked, once. The record counts only for
the suite file it was made with (by its sha256), so an edited suite checks every row again; a
run with an error records nothing, so its rows are checked again in the next run, next to the
new ones. A suite whose verdict depends on rows together
(uniqueness, a count per date) must not declare it, with one exception below.

dbt's incremental marts work the same way with `refreshed_through_load_id`, the highest load_id
of the build that (re)wrote a row: a daily build rewrites the affected dates' rows with a higher
stamp and leaves the rest as they were. Its delete+insert removes every stored row whose key it
writes, so a duplicate key can only be among the rewritten rows, and a uniqueness expectation on
them is exact too. A full refresh (or a first build) rewrites every row without raising the stamp:
the model records it in the ledger itself (the dbt macro `record_rewrite`, a pre-hook, so a
refresh from dbt's own command line counts too), and every suite on that column checks all rows
again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

LEDGER = "audit.quality_checked_through"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Scope:
    """The rows of a suite's query this run checks."""

    suite: str
    suite_sha256: str
    column: str | None  # the suite's `new_rows_by`, or None: every row, every run
    after: int | None  # only rows with `column` above this (or null); None: every row
    ledger_position: int = 0  # the newest ledger event when the scope was read

    def query(self, query: str) -> str:
        if self.after is None:
            return query
        return (
            f'SELECT * FROM ({query}) AS suite_rows WHERE "{self.column}" > {int(self.after)}'
            f' OR "{self.column}" IS NULL'  # a row without a stamp is never taken as checked
        )

    def describe(self) -> str:
        if self.column is None:
            return "every row"
        if self.after is None:
            return (
                "every row (no earlier pass of this suite file on record;"
                f" new rows by {self.column})"
            )
        return (
            f"rows with {self.column} above {self.after}: the rows up to it passed this suite"
            " file in an earlier run"
        )


def _ensure_ledger(conn: duckdb.DuckDBPyConnection) -> None:
    # event 'passed': `suite` passed on every row up to `checked_through`; event 'rewritten':
    # every row stamped with `column_name` was rewritten (suite and checked_through are null).
    # Events are ordered by event_id, never by clock: time zones and clocks differ between
    # processes, a sequence does not.
    conn.execute("CREATE SCHEMA IF NOT EXISTS audit")
    conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {LEDGER}_event")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {LEDGER} ("
        f" event_id BIGINT DEFAULT nextval('{LEDGER}_event') PRIMARY KEY,"
        " event VARCHAR NOT NULL, suite VARCHAR, suite_sha256 VARCHAR, column_name VARCHAR,"
        " checked_through BIGINT, rows_checked BIGINT,"
        " recorded_at TIMESTAMPTZ DEFAULT current_timestamp, run_id VARCHAR)"
    )


def scope_for(conn: duckdb.DuckDBPyConnection, suite_path: Path, suite: dict) -> Scope:
    """The rows the suite at `suite_path` (already parsed as `suite`) checks in this run."""
    column = suite.get("meta", {}).get("new_rows_by")
    if column is None:
        return Scope(suite["name"], "", None, None)  # nothing recorded: no hash needed
    if not isinstance(column, str) or not _IDENTIFIER.match(column):
        raise ValueError(
            f"suite {Path(suite_path).name}: meta.new_rows_by must name one column of its query,"
            f" such as load_id; got {column!r}"
        )
    sha = hashlib.sha256(Path(suite_path).read_bytes()).hexdigest()
    _ensure_ledger(conn)
    [(after, position)] = conn.execute(
        "SELECT max(checked_through) FILTER (WHERE event = 'passed' AND suite = ?"
        "   AND suite_sha256 = ? AND column_name = ? AND event_id > coalesce(("
        f"     SELECT max(event_id) FROM {LEDGER}"
        "      WHERE event = 'rewritten' AND column_name = ?), 0)),"
        f" coalesce(max(event_id), 0) FROM {LEDGER}",
        [suite["name"], sha, column, column],
    ).fetchall()
    return Scope(suite["name"], sha, column, after, position)


def checked_through(conn: duckdb.DuckDBPyConnection, scope: Scope, query: str) -> int | None:
    """The highest `new_rows_by` value among the rows this run checks: read before validating,
    in the same connection as the rows, so what is recorded is exactly what was read."""
    if scope.column is None:
        return None
    [(highest,)] = conn.execute(
        f'SELECT max("{scope.column}") FROM ({scope.query(query)}) AS checked'
    ).fetchall()
    return highest


def record_rewrite(conn: duckdb.DuckDBPyConnection, column: str, run_id: str | None) -> None:
    """Every row stamped with `column` was rewritten without a higher stamp: the suites on it read
    every row again. What the dbt macro record_rewrite does on DuckDB; on Spark the pipeline
    records it when it copies such a table back (orchestration/engine.py)."""
    _ensure_ledger(conn)
    conn.execute(
        f"INSERT INTO {LEDGER} (event, column_name, run_id) VALUES ('rewritten', ?, ?)",
        [column, run_id],
    )


def record_pass(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    through: int | None,
    rows_checked: int,
    run_id: str | None,
) -> None:
    """The suite passed with no failure on every row up to `through`: later runs start after it.
    Not recorded when the rows were rewritten since the scope was read: what passed is gone."""
    if scope.column is None or through is None:
        return
    # the ledger exists: scope_for made it when it read this scope
    conn.execute(
        f"INSERT INTO {LEDGER} (event, suite, suite_sha256, column_name, checked_through,"
        " rows_checked, run_id) SELECT 'passed', ?, ?, ?, ?, ?, ?"
        f" WHERE NOT EXISTS (SELECT 1 FROM {LEDGER}"
        "   WHERE event = 'rewritten' AND column_name = ? AND event_id > ?)",
        [
            scope.suite,
            scope.suite_sha256,
            scope.column,
            through,
            rows_checked,
            run_id,
            scope.column,
            scope.ledger_position,
        ],
    )
