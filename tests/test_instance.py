"""The project's Dagster instance (orchestration/instance.py): Dagster's SQLite storage in
DAGSTER_HOME, its event log keeping each database's connection. Real instances in tmp_path, real
runs of a small job."""

import os
import queue
import sqlite3
import threading
from pathlib import Path

import dagster as dg
import pytest
from conftest import make_dagster_home
from dagster._core.utils import make_new_run_id

from orchestration.instance import (
    KEPT_DATABASES,
    CardreachInstance,
    KeptConnectionSqliteEventLogStorage,
)


def _dagster_defaults(home: Path) -> Path:
    """A DAGSTER_HOME with Dagster's default instance (telemetry off)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


def _job(hold: threading.Event | None = None) -> dg.JobDefinition:
    @dg.asset
    def delivered() -> int:
        return 1

    @dg.asset
    def built(delivered: int) -> int:
        if hold is not None:
            assert hold.wait(timeout=60), "never released"
        return delivered + 1

    return dg.Definitions(assets=[delivered, built]).resolve_implicit_global_asset_job_def()


def test_the_project_s_instance_reads_and_writes_dagster_s_own_files(tmp_path):
    """A DAGSTER_HOME Dagster's default storage wrote goes on with the project's instance, and
    what the project's instance writes reads back with Dagster's default: the same files. The
    instance a run worker rebuilds from its reference (what `dagster dev` starts) is the
    project's too."""
    home = _dagster_defaults(tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance) is dg.DagsterInstance
        assert _job().execute_in_process(instance=instance).success

    make_dagster_home(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance, CardreachInstance)
        assert isinstance(instance.event_log_storage, KeptConnectionSqliteEventLogStorage)
        assert _job().execute_in_process(instance=instance).success
        assert len(instance.get_runs()) == 2
        with dg.DagsterInstance.from_ref(
            dg.deserialize_value(dg.serialize_value(instance.get_ref()))
        ) as worker:
            assert isinstance(worker.event_log_storage, KeptConnectionSqliteEventLogStorage)
            assert len(worker.get_runs()) == 2

    _dagster_defaults(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 2
        for run in runs:
            logs = instance.all_logs(run.run_id)
            kinds = {e.dagster_event.event_type_value for e in logs if e.dagster_event}
            assert {"ASSET_MATERIALIZATION", "PIPELINE_SUCCESS"} <= kinds
        materialized = instance.fetch_materializations(dg.AssetKey("built"), limit=10).records
        assert len(materialized) == 2


def _events_in_database_file(database: Path) -> int:
    """The events in the database file itself, not counting what waits in its WAL."""
    with sqlite3.connect(f"file:{database}?immutable=1", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM event_logs").fetchone()[0]


def test_a_running_run_s_events_reach_its_database_file_and_a_watcher(tmp_path):
    """The UI's live view of a run watches the run's database file: each event must change it
    while the run goes (the connection kept open checkpoints after every write)."""
    hold = threading.Event()
    seen: queue.Queue = queue.Queue()
    home = make_dagster_home(tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_id = make_new_run_id()

        def watched(entry, _cursor):
            if entry.dagster_event is not None:
                seen.put((entry.dagster_event.event_type_value, entry.dagster_event.asset_key))

        instance.event_log_storage.watch(run_id, None, watched)
        results = []
        runner = threading.Thread(
            target=lambda: results.append(
                _job(hold).execute_in_process(instance=instance, run_id=run_id)
            )
        )
        runner.start()
        try:
            while True:  # the first asset's materialization, seen while the second one waits
                kind, key = seen.get(timeout=30)
                if kind == "ASSET_MATERIALIZATION" and key == dg.AssetKey("delivered"):
                    break
        except queue.Empty:
            pytest.fail("the watcher saw no materialization while the run was going")
        finally:
            hold.set()
            runner.join(timeout=120)
        instance.event_log_storage.end_watch(run_id, watched)
        assert results and results[0].success
        # every event in the file, the connection still open
        database = Path(instance.event_log_storage.path_for_shard(run_id))
        assert _events_in_database_file(database) == len(instance.all_logs(run_id))


def _open_event_databases(folder: Path) -> int:
    """This process's open files among the event log's databases."""
    opened = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        opened += target.startswith(str(folder)) and target.endswith(".db")
    return opened


def test_reading_many_runs_keeps_a_bounded_number_of_databases_open(tmp_path):
    """The UI reads many runs' databases: the connections kept are the last ones read, so many
    runs' databases are never all held open."""
    home = make_dagster_home(tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for _ in range(KEPT_DATABASES + 4):
            assert _job().execute_in_process(instance=instance).success
        for run in instance.get_runs():
            assert instance.all_logs(run.run_id)
        events = home / "history" / "runs"
        assert 0 < _open_event_databases(events) <= KEPT_DATABASES
    assert _open_event_databases(events) == 0  # and closed with the instance
