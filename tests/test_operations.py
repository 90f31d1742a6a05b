"""Operations with real processes: analysts reading while runs write, killed runs, rebuilds.

A run again on the same landing, and a failed check's publication: tests/test_quality_gate.py."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from conftest import (
    NEXT_DROP,
    SAMPLE_LANDING,
    Landing,
    cardreach_dbt,
    cardreach_run,
    make_dagster_home,
    mart_tables,
    query,
    run_pipeline,
)

from orchestration import settings


def cli(*args: str, env_extra: dict | None = None, dagster_home: Path) -> subprocess.Popen:
    make_dagster_home(dagster_home)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=settings.REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a kill reaches all of it
    )


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    conn = duckdb.connect(path, read_only=True)  # held open for the whole run
    queries = 0
    import os
    while not os.path.exists(stop):
        conn.execute("SELECT count(*), max(followers) FROM marts.account_performance").fetchall()
        queries += 1
        time.sleep(0.05)
    print(queries)
    """
)


def test_a_reader_holding_the_published_copy_never_blocks_a_run(
    landing, sample_copy, warehouse, tmp_path
):
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse.analytics_path), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1)
        landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
        result = run_pipeline()
        assert result.success
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert int(out) > 10  # it kept querying throughout the run
    # the pipeline's own database has the new rows (one per account and snapshot date)...
    assert query(warehouse, "SELECT count(*) FROM marts.account_performance") == query(
        warehouse,
        "SELECT count(*) FROM (SELECT DISTINCT platform, account_name, snapshot_date"
        " FROM raw.account_snapshots)",
    )
    assert query(
        warehouse,
        "SELECT count(*) FROM marts.account_performance WHERE snapshot_date = DATE '2025-05-01'",
    ) == [(len(NEXT_DROP),)]
    with duckdb.connect(str(warehouse.analytics_path), read_only=True) as fresh:
        assert fresh.execute(
            "SELECT followers FROM marts.account_latest WHERE account_name = '中信银行信用卡'"
        ).fetchall() == [(129000,)]  # ...and so does a fresh connection to the published copy


def _run_logs(warehouse_dir: Path) -> set[Path]:
    return set((warehouse_dir / "logs").glob("run-*.log"))


def _run_until_dbt_builds(env: dict, dagster_home: Path) -> subprocess.Popen:
    """`cardreach run`, returned once dbt builds: `env` sets CARDREACH_VERBOSE=0, so that the run
    writes its log file, where dbt's lines (dbt runs inside the run's process, relayed by
    dagster-dbt as they come) say when it has started building a model."""
    warehouse_dir = Path(env[settings.WAREHOUSE_ENV])
    earlier = _run_logs(warehouse_dir)
    run = cli("run", env_extra=env, dagster_home=dagster_home)
    deadline = time.monotonic() + 300
    while not any(
        " START sql " in log.read_text(encoding="utf-8", errors="replace")
        for log in _run_logs(warehouse_dir) - earlier
    ):
        assert run.poll() is None, run.stdout.read()[-2000:]
        assert time.monotonic() < deadline, "dbt never started"
        time.sleep(0.2)
    return run


def test_runs_killed_or_interrupted_during_dbt_then_rerun_equal_an_uninterrupted_run(
    tmp_path, sample_warehouse
):
    """A run killed outright while dbt builds, its deliveries just loaded; then Ctrl-C while the
    next run's dbt builds (dbt runs inside the run's process, orchestration/dbt_in_process.py):
    dbt stops within seconds and the run says which step was interrupted. Neither recorded
    anything as built: the next run, with nothing new delivered, builds everything, and its marts
    are the uninterrupted run's, each file loaded once."""
    warehouse = tmp_path / "warehouse"
    env = {
        settings.LANDING_ENV: str(Landing(tmp_path / "landing").copy_sample().path),
        settings.WAREHOUSE_ENV: str(warehouse),
        settings.VERBOSE_ENV: "0",
    }
    killed = _run_until_dbt_builds(env, tmp_path / "home")
    time.sleep(2)  # well inside dbt build
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL

    interrupted = _run_until_dbt_builds(env, tmp_path / "home")
    time.sleep(2)
    os.kill(interrupted.pid, signal.SIGINT)
    output, _ = interrupted.communicate(timeout=60)
    assert interrupted.returncode == 1, output[-3000:]
    assert "step cardreach_dbt_models failed: DagsterExecutionInterruptedError" in output

    rerun = cli("run", env_extra=env, dagster_home=tmp_path / "home")
    output, _ = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, output[-3000:]
    assert "builds    everything" in output  # nothing was recorded as built
    # the uninterrupted run: the shared one on the same sample
    assert mart_tables(warehouse / "cardreach.duckdb") == mart_tables(
        sample_warehouse.database_path
    )
    delivered = [path for path in SAMPLE_LANDING.iterdir() if path.is_file()]
    with duckdb.connect(str(warehouse / "cardreach.duckdb"), read_only=True) as conn:
        assert conn.execute(
            "SELECT count(*), count(DISTINCT sha256) FROM audit.file_log"
        ).fetchone() == (len(delivered), len(delivered))


HOLDER = textwrap.dedent(
    """
    import fcntl, sys, time
    with open(sys.argv[1], "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(3)
        open(sys.argv[2], "w").write(repr(time.time()))
    """
)


def hold_the_writer_lock(warehouse_dir: Path, released: Path) -> subprocess.Popen:
    """Another process holding the warehouse's writer lock for 3 s; it writes the time it let go
    into `released`. Returns once the lock is held."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(settings.writer_lock(warehouse_dir)), str(released)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_corrupt_database_says_how_to_rebuild_and_make_rebuild_does(
    tmp_path, landing, sample_copy, warehouse
):
    before = mart_tables(warehouse.database_path)
    # The landing folder is gone too: the archive alone must be enough.
    shutil.rmtree(landing.path)
    warehouse.database_path.write_bytes(b"this is not a duckdb file" * 1000)
    env = {
        settings.LANDING_ENV: str(landing.path),
        settings.WAREHOUSE_ENV: str(warehouse.warehouse_dir),
    }
    broken = cli("run", env_extra=env, dagster_home=tmp_path / "home")
    output, _ = broken.communicate(timeout=600)
    assert broken.returncode == 1
    assert "make rebuild" in output and "archive" in output
    # Another writer (a run the UI started) holds the warehouse: the rebuild waits for it before
    # it moves anything aside.
    released = tmp_path / "released"
    holder = hold_the_writer_lock(warehouse.warehouse_dir, released)
    rebuild = cli("rebuild", env_extra=env, dagster_home=tmp_path / "home")
    holder.wait(timeout=60)
    output, _ = rebuild.communicate(timeout=900)
    assert rebuild.returncode == 0, output[-3000:]
    delivered = len([path for path in SAMPLE_LANDING.iterdir() if path.is_file()])
    assert f"replayed {delivered} archived deliveries" in output
    assert "(absent: nothing ingested from it)" in output  # nothing new, not an error
    assert "FAILED" not in output
    [aside] = warehouse.warehouse_dir.glob("cardreach.duckdb.broken-*")
    assert aside.stat().st_ctime >= float(released.read_text()) - 1  # moved after the release
    assert mart_tables(warehouse.database_path) == before


def test_a_second_writer_waits_for_the_first_instead_of_failing(landing, warehouse, tmp_path):
    from conftest import materialize_ingest

    landing.copy_sample()
    warehouse.warehouse_dir.mkdir(parents=True)
    released = tmp_path / "released"
    holder = hold_the_writer_lock(warehouse.warehouse_dir, released)
    result = materialize_ingest(warehouse)
    holder.wait(timeout=30)
    assert result.success
    release_time = float(released.read_text())
    [(first_delivery,)] = query(warehouse, "SELECT min(epoch(delivered_at)) FROM audit.file_log")
    assert first_delivery >= release_time - 1  # it ingested only after the other writer let go


def test_a_connection_dbt_leaves_open_does_not_stop_the_next_step(warehouse, caplog):
    """dbt, in the pipeline's process, now and then leaves its DuckDB connection open after a
    build (read-write, DuckDB's default settings): the steps after it, whose connections DuckDB
    refused for their other settings, read and write through it, a read-only one included, and
    the log says so. A connection of the process with other settings is refused with what to
    do."""
    with warehouse.connect() as conn:
        conn.execute("CREATE TABLE t AS SELECT 1 AS x")
    dbt_left = duckdb.connect(str(warehouse.database_path))  # as dbt-duckdb opens it
    try:
        with warehouse.connect(read_only=True) as conn:
            assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
            assert conn.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert "open read-write in this process" in caplog.text
        with warehouse.connect() as conn:
            conn.execute("INSERT INTO t VALUES (2)")
        assert dbt_left.execute("SELECT count(*) FROM t").fetchone() == (2,)
    finally:
        dbt_left.close()
    other_settings = {"memory_limit": "123MB"}
    with duckdb.connect(str(warehouse.database_path), config=other_settings) as held:
        assert held.execute("SELECT count(*) FROM t").fetchone() == (2,)
        refused = pytest.raises(RuntimeError, match="close the other connection first")
        with refused, warehouse.connect(read_only=True):
            pass


def test_dbt_invocation_folders_are_pruned_to_the_newest_few(tmp_path):
    from orchestration.dbt import prune_invocation_folders

    target = tmp_path / "target"
    for i in range(13):
        folder = target / f"cardreach_scores-{i:02d}"
        (folder / "run").mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 + i, 1_000_000 + i))
    (target / "cardreach_dbt_models-00").mkdir()  # another step's: not counted, not removed
    (target / "manifest.json").write_text("{}")  # the prepared manifest: never touched

    prune_invocation_folders(target, "cardreach_scores", keep=10)
    assert sorted(p.name for p in target.iterdir()) == [
        "cardreach_dbt_models-00",
        *(f"cardreach_scores-{i:02d}" for i in range(3, 13)),
        "manifest.json",
    ]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        *((settings.MEMORY_LIMIT_ENV, value) for value in ["-5", "lots", "80%"]),
        *((settings.THREADS_ENV, value) for value in ["0", "-2", "two", "1.5"]),
    ],
)
def test_a_setting_duckdb_cannot_honour_is_refused_by_name(tmp_path, monkeypatch, variable, value):
    from orchestration.warehouse import Warehouse

    monkeypatch.setenv(variable, value)
    warehouse = Warehouse(landing=str(tmp_path / "landing"), warehouse=str(tmp_path / "wh"))
    with pytest.raises(ValueError, match=variable), warehouse.connect():
        pass
    assert not warehouse.database_path.exists()  # refused before DuckDB made a file


def test_cardreach_refuses_to_start_on_bad_settings_and_names_each(tmp_path):
    """Every setting that cannot be honoured is said in a line naming its variable, before
    anything is read or written, and the command exits 2: no traceback from deep in a run."""
    done = cardreach_run(
        {
            settings.LANDING_ENV: str(tmp_path / "landing"),
            settings.WAREHOUSE_ENV: str(tmp_path / "warehouse"),
            settings.TIMEZONE_ENV: "Mars/Base",
            settings.TODAY_ENV: "2027-2-1",
            settings.THREADS_ENV: "x",
        }
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert [line.split(":")[0] for line in done.stderr.splitlines()] == [
        "cardreach run refused"
    ] * 3
    for variable in (settings.TIMEZONE_ENV, settings.TODAY_ENV, settings.THREADS_ENV):
        assert f"refused: {variable}=" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "warehouse").exists()


def test_duckdb_s_threads_are_the_setting_s_in_the_pipeline_s_connections_and_dbt_s(
    tmp_path, monkeypatch
):
    """CARDREACH_DUCKDB_THREADS sizes DuckDB's work as the memory cap does: the pipeline's
    connections and dbt's (`make dbt` hands dbt the same settings as a run's steps). Unset, DuckDB
    keeps its own count."""
    from orchestration.warehouse import Warehouse, connection_config

    warehouse = Warehouse(landing=str(tmp_path / "landing"), warehouse=str(tmp_path / "wh"))
    monkeypatch.delenv(settings.THREADS_ENV, raising=False)
    with duckdb.connect() as fresh, warehouse.connect() as conn:
        default = fresh.execute("SELECT current_setting('threads')").fetchone()
        assert conn.execute("SELECT current_setting('threads')").fetchone() == default

    monkeypatch.setenv(settings.THREADS_ENV, "3")
    monkeypatch.setenv(settings.MEMORY_LIMIT_ENV, "700MB")
    with warehouse.connect() as conn:
        assert conn.execute("SELECT current_setting('threads')").fetchone() == (3,)
    # the analysts' copy, as the report opens it
    with duckdb.connect(str(tmp_path / "copy.duckdb"), config=connection_config()) as conn:
        assert conn.execute("SELECT current_setting('threads')").fetchone() == (3,)
    shown = cardreach_dbt(
        warehouse.warehouse_dir,
        "show",
        "--inline",
        "select current_setting('threads') as threads, current_setting('memory_limit') as cap",
    )
    assert shown.returncode == 0, shown.stdout[-3000:]
    [row] = [line for line in shown.stdout.splitlines() if "MiB" in line]
    assert [cell.strip() for cell in row.strip("|").split("|")] == ["3", "667.5 MiB"]
