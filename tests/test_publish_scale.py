"""Publishing patches an earlier analytics.duckdb: only the dates that changed are rewritten.

Real DuckDB files in tmp_path: a small pipeline database with the shapes of the marts (a table
partitioned by date, a table without a date and with duplicate rows, a reference table).
"""

import subprocess
import sys

import duckdb
import pytest

from orchestration import settings
from orchestration.defs.publish.publication import (
    STORAGE_TAG,
    fingerprints_path,
    previous_path,
    publish_marts,
)
from orchestration.warehouse import wal_path

DAYS, ACCOUNTS = 30, 200


@pytest.fixture
def source(tmp_path):
    """The pipeline's database: marts.daily (date × account), marts.pairs, reference.tiers."""
    conn = duckdb.connect(str(tmp_path / "cardreach.duckdb"))
    conn.execute("CREATE SCHEMA marts; CREATE SCHEMA reference")
    conn.execute(
        f"CREATE TABLE marts.daily AS SELECT DATE '2025-01-01' + (i // {ACCOUNTS})::INTEGER"
        f" AS snapshot_date, 'account ' || (i % {ACCOUNTS}) AS account, i * 7 AS followers,"
        f" CASE WHEN i % 5 = 0 THEN NULL ELSE i / 3.0 END AS ratio"
        f" FROM range({DAYS * ACCOUNTS}) t(i)"
    )
    conn.execute("COMMENT ON TABLE marts.daily IS 'One row per account and date.'")
    conn.execute("COMMENT ON COLUMN marts.daily.followers IS 'Followers, persons.'")
    conn.execute(
        "CREATE TABLE marts.pairs AS SELECT * FROM (VALUES ('a', 1), ('a', 1), ('b', 2)) t(k, v)"
    )
    conn.execute("CREATE TABLE reference.tiers AS SELECT * FROM (VALUES ('small', 0)) t(tier, low)")
    yield conn
    conn.close()


def contents(conn: duckdb.DuckDBPyConnection, database: str) -> dict:
    """Every published table's rows (sorted, duplicates kept) and every comment."""
    tables = conn.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables()"
        " WHERE database_name = ? AND schema_name IN ('marts', 'reference') ORDER BY ALL",
        [database],
    ).fetchall()
    columns = conn.execute(
        "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns()"
        " WHERE database_name = ? AND schema_name IN ('marts', 'reference')"
        " ORDER BY schema_name, table_name, column_index",
        [database],
    ).fetchall()
    rows = {
        (s, t): conn.execute(f'SELECT * FROM "{database}"."{s}"."{t}" ORDER BY ALL').fetchall()
        for s, t, _ in tables
    }
    return {"tables": tables, "columns": columns, "rows": rows}


def assert_published(source, target):
    """The publication holds exactly the source's tables, rows and comments, in v1.0.0 format."""
    source.execute(f"ATTACH '{target}' AS published (READ_ONLY)")
    try:
        database = source.execute("SELECT current_database()").fetchone()[0]
        assert contents(source, "published") == contents(source, database)
        [tags] = source.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'published'"
        ).fetchone()
        assert tags["storage_version"] == STORAGE_TAG
    finally:
        source.execute("DETACH published")


def storage(target, table: str) -> list:
    """Where the table's data lies in the file: the same blocks means it was not rewritten."""
    with duckdb.connect(str(target), read_only=True) as conn:
        return conn.execute(
            f"SELECT row_group_id, column_id, segment_id, block_id, block_offset"
            f" FROM pragma_storage_info('{table}') ORDER BY ALL"
        ).fetchall()


def test_a_second_publication_rewrites_only_the_changed_dates(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    first = publish_marts(source, target, "run-1")
    assert not first.patched
    assert_published(source, target)
    untouched = {t: storage(target, t) for t in ("marts.pairs", "reference.tiers")}

    # a daily run: one date recomputed, one date gone, one date new
    source.execute(
        "UPDATE marts.daily SET followers = followers + 1"
        " WHERE account = 'account 3' AND snapshot_date = DATE '2025-01-05'"
    )
    source.execute("DELETE FROM marts.daily WHERE snapshot_date = DATE '2025-01-30'")
    source.execute(
        f"INSERT INTO marts.daily SELECT DATE '2025-02-01', 'account ' || i, i, NULL"
        f" FROM range({ACCOUNTS}) t(i)"
    )
    second = publish_marts(source, target, "run-2")

    assert second.patched
    assert_published(source, target)
    # each date is one partition, rewritten whole; the rest of the file is left as it was
    assert second.changes["marts.daily"] == (2 * ACCOUNTS, 2 * ACCOUNTS)
    assert second.changes["marts.pairs"] == second.changes["reference.tiers"] == (0, 0)
    assert {t: storage(target, t) for t in untouched} == untouched
    assert second.tables["marts.daily"] == DAYS * ACCOUNTS
    with duckdb.connect(str(target), read_only=True) as conn:
        assert conn.execute("SELECT run_id FROM publication").fetchall() == [("run-2",)]


def test_a_change_in_duplicates_of_a_table_without_dates_is_published(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    source.execute("INSERT INTO marts.pairs VALUES ('a', 1)")  # the same row a third time
    publication = publish_marts(source, target, "run-2")
    assert publication.changes["marts.pairs"] == (3, 4)  # one partition: the whole table
    assert_published(source, target)


def test_a_publication_changed_since_or_without_fingerprints_is_read_again(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    with duckdb.connect(str(target)) as stray:  # someone wrote to the analysts' copy
        stray.execute(
            "UPDATE marts.daily SET followers = -1"
            " WHERE account = 'account 7' AND snapshot_date = DATE '2025-01-07'"
        )
    publication = publish_marts(source, target, "run-2")
    assert publication.patched
    assert publication.changes["marts.daily"] == (ACCOUNTS, ACCOUNTS)
    assert_published(source, target)

    fingerprints_path(target).unlink()
    source.execute("UPDATE marts.daily SET ratio = 0 WHERE snapshot_date = DATE '2025-01-10'")
    publication = publish_marts(source, target, "run-3")
    assert publication.changes["marts.daily"] == (ACCOUNTS, ACCOUNTS)
    assert_published(source, target)


def test_an_unreadable_previous_file_is_replaced_by_a_new_one(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    target.write_bytes(b"not a database")
    assert not publish_marts(source, target, "run-1").patched
    assert_published(source, target)


def test_new_changed_and_removed_tables_and_comments(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    source.execute("ALTER TABLE marts.daily ADD COLUMN notes BIGINT DEFAULT 3")
    source.execute("COMMENT ON COLUMN marts.daily.notes IS 'Notes, count.'")
    source.execute("COMMENT ON COLUMN marts.daily.followers IS NULL")
    source.execute("COMMENT ON TABLE reference.tiers IS 'Follower tiers.'")
    source.execute("DROP TABLE marts.pairs")
    source.execute("CREATE TABLE marts.extra AS SELECT 1 AS x")
    publication = publish_marts(source, target, "run-2")
    assert publication.patched
    assert publication.changes["marts.daily"] == (DAYS * ACCOUNTS, DAYS * ACCOUNTS)
    assert "marts.pairs" not in publication.tables
    assert_published(source, target)


def test_a_mostly_rewritten_publication_is_built_anew(source, tmp_path):
    """Rewriting most rows frees most blocks: a publication to start from that is more than a
    third free is not patched again, and a new, compact file is built instead."""
    target = tmp_path / "analytics.duckdb"
    source.execute(
        "CREATE OR REPLACE TABLE marts.daily AS SELECT DATE '2025-01-01' + (i // 1000)::INTEGER"
        " AS snapshot_date, 'account ' || (i % 1000) AS account, i * 7 AS followers,"
        " i / 3.0 AS ratio FROM range(200000) t(i)"
    )
    publish_marts(source, target, "run-1")
    size = target.stat().st_size
    source.execute("UPDATE marts.daily SET followers = followers + 1")
    assert publish_marts(source, target, "run-2").patched  # a copy of run-1's
    assert target.stat().st_size > size * 1.5  # the new rows were written beside the old ones
    source.execute("UPDATE marts.daily SET followers = followers + 1")
    assert publish_marts(source, target, "run-3").in_place  # run-1's file, compact until now
    # the one before (run-2's) and the latest (run-3's) are both mostly free
    rebuilt = publish_marts(source, target, "run-4")
    assert not rebuilt.patched
    assert target.stat().st_size <= size * 1.1
    assert_published(source, target)


def test_the_publication_before_the_latest_is_rewritten_in_place(source, tmp_path):
    """A replaced publication stays under a hidden second name; the run after next rewrites that
    file in place, with what changed over both runs, instead of copying the latest whole."""
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    first = target.stat().st_ino
    source.execute(
        "UPDATE marts.daily SET followers = followers + 1 WHERE snapshot_date = DATE '2025-01-05'"
    )
    second = publish_marts(source, target, "run-2")
    assert second.patched and not second.in_place  # a copy: there was none before run-1's
    assert previous_path(target).stat().st_ino == first  # run-1's file itself, not a copy
    source.execute("DELETE FROM marts.daily WHERE snapshot_date = DATE '2025-01-30'")
    third = publish_marts(source, target, "run-3")
    assert third.in_place and target.stat().st_ino == first
    # run-1's file had both dates as run-1 published them
    assert third.changes["marts.daily"] == (2 * ACCOUNTS, ACCOUNTS)
    assert_published(source, target)
    with duckdb.connect(str(previous_path(target)), read_only=True) as conn:
        assert conn.execute("SELECT run_id FROM publication").fetchall() == [("run-2",)]


# A reader in another process, as an analyst's: a line on stdin asks for the figures again.
READER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
for _ in sys.stdin:
    print(conn.execute("SELECT sum(followers), count(*) FROM marts.daily").fetchone(), flush=True)
"""


def test_a_reader_of_the_publication_before_keeps_it_and_the_run_copies_instead(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def figures() -> str:
        reader.stdin.write("again\n")
        reader.stdin.flush()
        return reader.stdout.readline()

    try:
        opened = figures()
        source.execute("UPDATE marts.daily SET followers = followers + 1")
        publish_marts(source, target, "run-2")  # run-1's file, the reader's, is the one before
        source.execute("DELETE FROM marts.daily WHERE snapshot_date = DATE '2025-01-30'")
        third = publish_marts(source, target, "run-3")
        assert third.patched and not third.in_place  # DuckDB's lock: held by the reader
        assert figures() == opened
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert_published(source, target)


def test_a_publication_before_changed_since_is_not_used(source, tmp_path):
    """Written to since it was published (a stray writer): its fingerprints are no longer
    its own."""
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    publish_marts(source, target, "run-2")
    with duckdb.connect(str(previous_path(target))) as stray:
        stray.execute("UPDATE marts.daily SET followers = -1 WHERE account = 'account 7'")
    third = publish_marts(source, target, "run-3")
    assert third.patched and not third.in_place
    assert_published(source, target)


# A run killed once the publication before the latest has one table rewritten in place: with
# DuckDB's checkpoints far off, as a daily change is, the rewrite is in the file's WAL only.
KILLED_WHILE_REWRITING = """
import os, sys, duckdb
from pathlib import Path
from orchestration.defs.publish import publication
rewrite = publication._sync
def _sync(conn, name, *args):
    changes = rewrite(conn, name, *args)
    if name == "marts.daily":
        os._exit(9)
    return changes
publication._sync = _sync
conn = duckdb.connect(sys.argv[1])
conn.execute("SET checkpoint_threshold = '1GB'")
publication.publish_marts(conn, Path(sys.argv[2]), "run-3")
"""


def test_a_publication_before_left_half_rewritten_is_not_used(source, tmp_path):
    """Its fingerprints go as the rewrite begins: the file's size and time, which tie them to
    it, stay as they were while the rewrite is in the WAL only."""
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    publish_marts(source, target, "run-2")  # nothing changed: run-1's file is the one before
    one_date = "UPDATE marts.daily SET followers = followers {} WHERE snapshot_date = '2025-01-05'"
    source.execute(one_date.format("+ 1"))
    source.close()  # the killed run's process opens it
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_REWRITING, str(tmp_path / "cardreach.duckdb"), target],
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 9, killed.stderr
    assert wal_path(previous_path(target)).exists()
    with duckdb.connect(str(tmp_path / "cardreach.duckdb")) as pipeline:
        pipeline.execute(one_date.format("- 1"))  # back as run-1 published it
        fourth = publish_marts(pipeline, target, "run-4")
        assert not fourth.in_place
        assert_published(pipeline, target)


def test_a_held_back_table_keeps_the_latest_publication_not_the_one_before(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    source.execute("UPDATE reference.tiers SET low = 10")
    publish_marts(source, target, "run-2")
    source.execute("UPDATE reference.tiers SET low = 20")
    third = publish_marts(source, target, "run-3", held_back=frozenset({"reference.tiers"}))
    assert not third.in_place  # only a copy of the latest holds run-2's tiers
    with duckdb.connect(str(target), read_only=True) as conn:
        assert conn.execute("SELECT low FROM reference.tiers").fetchall() == [(10,)]


def test_a_withheld_table_is_not_kept_in_the_publication_before(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    source.execute("CREATE TABLE marts.own_figures AS SELECT 1 AS spend")
    publish_marts(source, target, "run-1")
    withheld = frozenset({"marts.own_figures"})
    second = publish_marts(source, target, "run-2", withheld=withheld)
    assert "marts.own_figures" not in second.tables
    # a new file: a table dropped from a copy leaves its rows in the file's free blocks
    assert not second.patched
    assert not previous_path(target).exists()  # run-1's file published it
    publish_marts(source, target, "run-3", withheld=withheld)
    assert previous_path(target).exists()


def test_a_reader_of_the_previous_publication_keeps_it(source, tmp_path):
    target = tmp_path / "analytics.duckdb"
    publish_marts(source, target, "run-1")
    with duckdb.connect(str(target), read_only=True) as reader:
        source.execute("UPDATE marts.daily SET followers = 0")
        publish_marts(source, target, "run-2")
        assert reader.execute("SELECT max(followers) FROM marts.daily").fetchone()[0] > 0
    with duckdb.connect(str(target), read_only=True) as fresh:
        assert fresh.execute("SELECT max(followers) FROM marts.daily").fetchone() == (0,)
    assert not [p.name for p in tmp_path.iterdir() if ".building" in p.name]


@pytest.mark.parametrize("ordered", [True, False])
def test_the_row_order_option_is_set_back_whatever_happens(source, tmp_path, ordered):
    """The publication lets DuckDB write rows in whatever order its threads finish, then sets
    the option back, failed or not: it is the DuckDB instance's, which dbt's connection shares in
    the pipeline's process."""

    def row_order() -> bool:
        return source.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]

    source.execute(f"SET preserve_insertion_order = {ordered}")
    publish_marts(source, tmp_path / "analytics.duckdb", "run-1")
    assert row_order() is ordered
    with pytest.raises(duckdb.IOException):  # no such folder: the new file cannot be made
        publish_marts(source, tmp_path / "no such folder" / "analytics.duckdb", "run-2")
    assert row_order() is ordered
    assert_published(source, tmp_path / "analytics.duckdb")
