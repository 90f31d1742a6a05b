"""Publishing the marts to `analytics.duckdb`, the copy analysts open while the pipeline runs.

A publication is built under another name beside the old one and renamed over it: the rename is
atomic, so a reader sees the previous publication or the new one, never half of one, and a
reader holding the old file open keeps reading it undisturbed (on POSIX the old file lives until
it is closed, and it is rewritten later only when no DuckDB reader holds it). The pipeline never
opens `analytics.duckdb` for writing, so no analyst can block a run.

Writing a table costs far more than reading it (DuckDB compresses every column again), while a
daily run changes one or two dates of it. So the new file starts from an earlier publication,
and only the partitions (the rows of one date) whose fingerprint changed are deleted and
inserted again from the pipeline's database; a table nothing changed in is not written at all.
The fingerprints of a publication are kept beside it, so a run reads only the pipeline's side.

Which earlier publication: the one before the latest, the replaced file itself linked under a
hidden name, rewritten in place when no DuckDB reader has it open, as DuckDB's lock on the file
says (a program that reads it without DuckDB, say to copy it, is not seen). Otherwise (a reader,
a table held back, a file changed since it was published) a byte copy of the latest, which costs
a read and a write of the whole file (2.8 s of a daily run at the benchmark's default size)
whatever the day changed. A replaced publication is kept so when its fingerprints are its own
and it holds no table now withheld.
"""

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.settings import PIPELINE_DATABASE_FILE, PUBLISHED_SCHEMAS
from orchestration.warehouse import sql_literal, wal_path

# Files written by DuckDB 2.x cannot be opened by DuckDB 1.x, which analysts' tools bundle: the
# published file is written in the storage format every DuckDB since 1.0 reads.
STORAGE_VERSION = "v1.0.0"
# How DuckDB tags a file of that format in duckdb_databases(): a previous publication tagged
# otherwise (written by an older cardreach or another DuckDB) is replaced by a new file.
STORAGE_TAG = STORAGE_VERSION + "+"
# Rewritten partitions leave free blocks in the file that later writes reuse; once they are more
# than this share of the previous publication, a new file is built instead of patching it, so
# the file analysts copy around never grows much beyond its data.
MAX_FREE_SHARE = 1 / 3
# The temp tables of partition fingerprints; the file kept beside a publication adds the stamp
# that ties them to it.
PARTITIONS = "(table_name VARCHAR, part DATE, rows BIGINT, fingerprint UBIGINT)"
STAMP_COLUMNS = "published_at, run_id, file_size, file_mtime_ns, duckdb_version"


@dataclass(frozen=True)
class Publication:
    path: Path
    published_at: datetime
    tables: dict[str, int]  # schema.table -> rows
    patched: bool  # True: an earlier publication brought up to date; False: a new file
    in_place: bool  # True: the publication before the latest, rewritten in place
    changes: dict[str, tuple[int, int]]  # schema.table -> (rows deleted, rows inserted)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fingerprints_path(target: Path) -> Path:
    """The fingerprints of the publication at `target`: a hidden file beside it."""
    return target.with_name(f".{target.name.lstrip('.')}.fingerprints.parquet")


def previous_path(target: Path) -> Path:
    """The publication before the one at `target`, kept under a hidden name beside it."""
    return target.with_name(f".{target.name}.previous")


def _catalog(conn: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], tuple]:
    """(comment, [(name, type, comment) of each column, in order]) of each table in the published
    schemas of `database`, by (schema, table), in order: two catalog queries for all the tables
    (a query per table cost 5-7 ms each, about 80 a run)."""
    columns: dict[tuple[str, str], list] = {}
    for schema, table, *column in conn.execute(
        "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns()"
        " WHERE database_name = ? AND schema_name IN ?"
        " ORDER BY schema_name, table_name, column_index",
        [database, list(PUBLISHED_SCHEMAS)],
    ).fetchall():
        columns.setdefault((schema, table), []).append(tuple(column))
    return {
        (schema, table): (comment, columns[schema, table])
        for schema, table, comment in conn.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables()"
            " WHERE database_name = ? AND schema_name IN ? ORDER BY schema_name, table_name",
            [database, list(PUBLISHED_SCHEMAS)],
        ).fetchall()
    }


def _partition(columns: list) -> str | None:
    """The column that splits a table into partitions: its first DATE column (the snapshot date
    or month, which a daily run adds or recomputes); None: the whole table is one partition.
    Any choice is correct, since a partition is compared and replaced whole; this one keeps the
    partitions a daily run changes small."""
    return next((_identifier(name) for name, type_, _ in columns if type_ == "DATE"), None)


def _fingerprint(conn, name: str, table: str, columns: list, into: str) -> None:
    """Add the rows and a fingerprint of each partition of `table` to the temp table `into`.

    The fingerprint is the sum of a hash of every row, so it changes when any value, row or
    number of duplicates changes: two different partitions share one with a probability of
    about 2^-64.
    """
    part = _partition(columns) or "NULL::DATE"
    conn.execute(
        f"INSERT INTO {into} SELECT ?, {part}, count(*),"
        f" (sum(hash(*COLUMNS(*))::HUGEINT) % {2**64})::UBIGINT FROM {table} GROUP BY 2",
        [name],
    )


def _reusable(conn: duckdb.DuckDBPyConnection, withheld: frozenset[str]) -> bool:
    """Whether the attached earlier publication can be patched rather than built anew. Not when
    it holds a table now withheld: a dropped table's rows stay in the file's free blocks."""
    [(tags,)] = conn.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = 'publication'"
    ).fetchall()
    [(free, total)] = conn.execute(
        "SELECT free_blocks, total_blocks FROM pragma_database_size()"
        " WHERE database_name = 'publication'"
    ).fetchall()
    tables = {
        f"{schema}.{table}"
        for schema, table in conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables()"
            " WHERE database_name = 'publication'"
        ).fetchall()
    }
    return (
        "main.publication" in tables
        and tags.get("storage_version") == STORAGE_TAG
        and free <= total * MAX_FREE_SHARE
        and not tables & withheld
    )


def _attach(
    conn: duckdb.DuckDBPyConnection, target: Path, building: Path, withheld: frozenset[str]
) -> bool:
    """Attach `building` as `publication`: a copy of the latest publication, at `target`, when it
    can be patched, else a new empty file. Returns whether it is the copy."""
    if target.exists():
        shutil.copyfile(target, building)
        try:
            conn.execute(f"ATTACH {sql_literal(str(building))} AS publication")
        except duckdb.Error:
            pass  # unreadable (say, not a DuckDB file): a new one replaces it
        else:
            if _reusable(conn, withheld):
                return True
            conn.execute("DETACH publication")
        building.unlink()
    conn.execute(
        f"ATTACH {sql_literal(str(building))} AS publication (STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    return False


def _attach_previous(
    conn: duckdb.DuckDBPyConnection, previous: Path, withheld: frozenset[str]
) -> bool:
    """Attach `previous`, the publication before the latest, as `publication` to rewrite it in
    place, when no DuckDB reader holds it: DuckDB locks a file it opens and refuses to open for
    writing one that another process reads (a reader in this process holding it under another
    name would not be seen: the pipeline holds none), and only when it can be patched and its
    fingerprints are its own: they fill `published_partitions`, and their file is removed.
    Returns whether it was attached."""
    if not previous.exists():
        return False
    stat = previous.stat()
    try:
        conn.execute(f"ATTACH {sql_literal(str(previous))} AS publication")
    except duckdb.Error:  # a reader holds it, or it is unreadable: a copy of the latest instead
        return False
    if _reusable(conn, withheld) and _load_fingerprints(conn, fingerprints_path(previous), stat):
        # no longer the file's from its first write on: a run killed while rewriting it may
        # leave its changes in the WAL only, the file's size and time as they were
        fingerprints_path(previous).unlink()
        return True
    conn.execute("DETACH publication")
    return False


def _may_keep(conn, target: Path, stat: os.stat_result, withheld: frozenset[str]) -> bool:
    """Whether the latest publication at `target` (with `stat`), about to be replaced, is kept as
    the one before it: its fingerprints are the file's own (its size and modification time), so
    that the next run can rewrite it in place, and they name no table now withheld, which is not
    kept even in a hidden file."""
    try:
        found = conn.execute(
            "SELECT DISTINCT file_size, file_mtime_ns, table_name FROM read_parquet(?)",
            [str(fingerprints_path(target))],
        ).fetchall()
    except duckdb.Error:  # missing or unreadable
        return False
    return bool(found) and all(
        (size, mtime) == (stat.st_size, stat.st_mtime_ns) and name not in withheld
        for size, mtime, name in found
    )


def _stamp(published_at: datetime, run_id: str, file: os.stat_result) -> tuple:
    """What ties fingerprints to one publication file: its stamp, its size and modification
    time (so a file changed since is never trusted) and the DuckDB version whose hash made them."""
    return published_at, run_id, file.st_size, file.st_mtime_ns, duckdb.__version__


def _load_fingerprints(conn: duckdb.DuckDBPyConnection, sidecar: Path, file: os.stat_result):
    """Fill `published_partitions` from the fingerprints kept beside the attached publication
    (`file`: the stat of the file it was attached from) when they are that file's; returns
    whether they were. A run killed between the renames, say, leaves older ones."""
    [(published_at, run_id)] = conn.execute(
        "SELECT published_at, run_id FROM publication.main.publication"
    ).fetchall()
    try:
        stamps = conn.execute(
            f"SELECT DISTINCT {STAMP_COLUMNS} FROM read_parquet(?)", [str(sidecar)]
        ).fetchall()
    except duckdb.Error:  # missing or unreadable: the fingerprints are computed again
        return False
    if stamps != [_stamp(published_at, run_id, file)]:
        return False
    conn.execute(
        "INSERT INTO published_partitions SELECT table_name, part, rows, fingerprint"
        " FROM read_parquet(?)",
        [str(sidecar)],
    )
    return True


def _save_fingerprints(conn, sidecar: Path, published_at: datetime, run_id: str, target: Path):
    """Keep the new publication's fingerprints (the source's: it holds the same rows) beside it,
    written to a new file renamed over the old one."""
    building = sidecar.with_name(sidecar.name + ".building")
    stamp = _stamp(published_at, run_id, target.stat())
    conn.execute(
        "COPY (SELECT *, ?::TIMESTAMP AS published_at, ?::VARCHAR AS run_id,"
        " ?::BIGINT AS file_size, ?::BIGINT AS file_mtime_ns, ?::VARCHAR AS duckdb_version"
        f" FROM source_partitions) TO {sql_literal(str(building))} (FORMAT parquet)",
        list(stamp),
    )
    os.replace(building, sidecar)


def _sync(conn, name: str, source: str, copy: str, columns: list) -> tuple[int, int]:
    """Replace the partitions of `copy` whose fingerprint differs from `source`'s: returns
    (rows deleted, rows inserted)."""
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE changed_partitions AS SELECT coalesce(s.part, p.part) AS part"
        " FROM (FROM source_partitions WHERE table_name = $name) AS s"
        " FULL JOIN (FROM published_partitions WHERE table_name = $name) AS p"
        " ON s.part IS NOT DISTINCT FROM p.part"
        " WHERE (s.rows, s.fingerprint) IS DISTINCT FROM (p.rows, p.fingerprint)",
        {"name": name},
    )
    if not conn.execute("SELECT count(*) FROM changed_partitions").fetchone()[0]:
        return 0, 0
    part = _partition(columns)
    if part is None:
        [(deleted,)] = conn.execute(f"DELETE FROM {copy}").fetchall()
        [(inserted,)] = conn.execute(f"INSERT INTO {copy} FROM {source}").fetchall()
        return deleted, inserted
    [(deleted,)] = conn.execute(
        f"DELETE FROM {copy} AS t USING changed_partitions AS c"
        f" WHERE t.{part} IS NOT DISTINCT FROM c.part"
    ).fetchall()
    [(inserted,)] = conn.execute(
        f"INSERT INTO {copy} SELECT * FROM {source} AS s"
        f" SEMI JOIN changed_partitions AS c ON s.{part} IS NOT DISTINCT FROM c.part"
    ).fetchall()
    return deleted, inserted


def _comment(conn, target: str, published: str | None, wanted: str | None) -> None:
    if published != wanted:
        conn.execute(f"COMMENT ON {target} IS {sql_literal(wanted)}")


def _publish_table(
    conn,
    schema: str,
    table: str,
    comment: str | None,
    columns: list,
    published: tuple[str | None, list],
    fingerprinted: bool,
) -> tuple[int, int]:
    """Bring `publication`'s copy of the table in line with the source, comments included:
    returns (rows deleted, rows inserted). `published`: the copy's comment and columns, as
    `_catalog` gives them (None and none: not published yet)."""
    name = f"{schema}.{table}"
    source = f"{_identifier(schema)}.{_identifier(table)}"
    copy = f"publication.{source}"
    published_comment, published_columns = published
    if [c[:2] for c in columns] == [c[:2] for c in published_columns]:
        if not fingerprinted:
            _fingerprint(conn, name, copy, columns, "published_partitions")
        changes = _sync(conn, name, source, copy, columns)
    else:  # new, or its columns changed: copy it whole
        deleted = conn.execute(
            f"SELECT count(*) FROM {copy}" if published_columns else "SELECT 0"
        ).fetchone()[0]
        [(inserted,)] = conn.execute(f"CREATE OR REPLACE TABLE {copy} AS FROM {source}").fetchall()
        changes = (deleted, inserted)
        published_comment = None  # a new table has no comments yet
        published_columns = [(column, type_, None) for column, type_, _ in columns]
    _comment(conn, f"TABLE {copy}", published_comment, comment)
    for (column, _, wanted), (_, _, published) in zip(columns, published_columns, strict=True):
        _comment(conn, f"COLUMN {copy}.{_identifier(column)}", published, wanted)
    return changes


def _carry_over(conn: duckdb.DuckDBPyConnection, previous: Path, kept: set[tuple]) -> None:
    """Copy the held-back tables of the previous publication into a publication built anew."""
    conn.execute(f"ATTACH {sql_literal(str(previous))} AS previous (READ_ONLY)")
    try:
        for schema, table in sorted(kept):
            exists = conn.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'previous'"
                " AND schema_name = ? AND table_name = ?",
                [schema, table],
            ).fetchone()[0]
            if exists:
                name = f"{_identifier(schema)}.{_identifier(table)}"
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS publication.{_identifier(schema)}")
                conn.execute(f"CREATE TABLE publication.{name} AS FROM previous.{name}")
    finally:
        conn.execute("DETACH previous")


def publish_marts(
    conn: duckdb.DuckDBPyConnection,
    target: Path,
    run_id: str,
    held_back: frozenset[str] = frozenset(),
    withheld: frozenset[str] = frozenset(),
) -> Publication:
    """Bring `target` in line with the published schemas of the pipeline's database, comments
    included: a file built beside it (the publication before it rewritten in place, a copy of it
    or a new file), then renamed over it. The tables of `held_back`
    ("schema.table", held by a failed quality check) stay as they were last published; those of
    `withheld` (confidential, not to be published) are absent, removed if published before."""
    held_back = held_back - withheld
    building = target.with_name(target.name + ".building")
    previous = previous_path(target)
    next_previous = previous.with_name(previous.name + ".next")
    for leftover in (building, wal_path(building), next_previous):
        leftover.unlink(missing_ok=True)  # a run killed mid-publication left it: start over
    source_db = conn.execute("SELECT current_database()").fetchone()[0]
    tables = [
        (schema, table, comment, columns)
        for (schema, table), (comment, columns) in _catalog(conn, source_db).items()
        if f"{schema}.{table}" not in held_back | withheld
    ]
    kept = {tuple(name.split(".", 1)) for name in held_back}
    published_at = datetime.now(UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    changes: dict[str, tuple[int, int]] = {}
    conn.execute(f"CREATE OR REPLACE TEMP TABLE source_partitions {PARTITIONS}")
    conn.execute(f"CREATE OR REPLACE TEMP TABLE published_partitions {PARTITIONS}")
    # DuckDB writes a copy that keeps its source's row order one thread at a time once it nears
    # its memory cap; unordered, a new publication took about 0.7 of the time (docs/performance.md,
    # "The copy round"). Published rows promise no order (readers sort with ORDER BY). The option
    # is the DuckDB instance's, which dbt's connection in this process shares: it is set back.
    [(row_order,)] = conn.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
    conn.execute("SET preserve_insertion_order = false")
    try:
        for schema, table, _, columns in tables:
            source = f"{_identifier(schema)}.{_identifier(table)}"
            _fingerprint(conn, f"{schema}.{table}", source, columns, "source_partitions")
        latest = target.stat() if target.exists() else None
        # a table held back keeps the latest publication's rows, which only a copy of it holds
        in_place = latest is not None and not kept and _attach_previous(conn, previous, withheld)
        if in_place:
            built, patched = previous, True
        else:
            built, patched = building, _attach(conn, target, building, withheld)
            if not patched and kept and target.exists():
                _carry_over(conn, target, kept)
        try:
            fingerprinted = in_place or (
                patched and _load_fingerprints(conn, fingerprints_path(target), latest)
            )
            wanted = {(schema, table) for schema, table, _, _ in tables} | kept
            wanted.add(("main", "publication"))
            for schema, table in conn.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()"
                " WHERE database_name = 'publication'"
            ).fetchall():
                if (schema, table) not in wanted:  # no longer in the pipeline's database
                    conn.execute(
                        f"DROP TABLE publication.{_identifier(schema)}.{_identifier(table)}"
                    )
            for schema in PUBLISHED_SCHEMAS:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS publication.{_identifier(schema)}")
            # each table below changes only its own copy: the catalog read once holds for all
            published = _catalog(conn, "publication")
            for schema, table, comment, columns in tables:
                name = f"{schema}.{table}"
                changes[name] = _publish_table(
                    conn,
                    schema,
                    table,
                    comment,
                    columns,
                    published.get((schema, table), (None, [])),
                    fingerprinted,
                )
                counts[name] = conn.execute(
                    f"SELECT count(*) FROM publication.{_identifier(schema)}.{_identifier(table)}"
                ).fetchone()[0]
            for schema, table in sorted(kept):  # their fingerprints are the published copy's
                _, columns = published.get((schema, table), (None, []))
                if columns:
                    copy = f"publication.{_identifier(schema)}.{_identifier(table)}"
                    _fingerprint(conn, f"{schema}.{table}", copy, columns, "source_partitions")
            conn.execute(
                "CREATE OR REPLACE TABLE publication.main.publication AS SELECT ?::TIMESTAMP"
                " AS published_at, ?::VARCHAR AS run_id, ?::VARCHAR AS source_database",
                [published_at, run_id, PIPELINE_DATABASE_FILE],
            )
            conn.execute(
                "COMMENT ON TABLE publication.main.publication IS 'When this copy was published"
                " (UTC) and by which pipeline run.'"
            )
            # the file complete on disk, nothing left in its WAL, before it is renamed
            conn.execute("CHECKPOINT publication")
        finally:
            conn.execute("DETACH publication")
        # the latest publication stays under a second name for the next run to rewrite, when
        # its fingerprints allow and hard links work; the name `target` goes to the new file in
        # one atomic rename
        keep = latest is not None and _may_keep(conn, target, latest, withheld)
        if keep:
            try:
                os.link(target, next_previous)
            except OSError:  # a file system without hard links: the next run copies
                keep = False
        os.replace(built, target)
        # a WAL left by a run killed while rewriting the file of that name is not the next one's
        wal_path(previous).unlink(missing_ok=True)
        if keep:
            os.replace(next_previous, previous)
            os.replace(fingerprints_path(target), fingerprints_path(previous))
        else:
            previous.unlink(missing_ok=True)
            fingerprints_path(previous).unlink(missing_ok=True)
        _save_fingerprints(conn, fingerprints_path(target), published_at, run_id, target)
    finally:
        conn.execute("SET preserve_insertion_order = ?", [row_order])
        for name in ("source_partitions", "published_partitions", "changed_partitions"):
            conn.execute(f"DROP TABLE IF EXISTS {name}")
    return Publication(
        path=target,
        published_at=published_at,
        tables=counts,
        patched=patched,
        in_place=in_place,
        changes=changes,
    )
