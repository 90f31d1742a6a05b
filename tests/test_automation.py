"""Automation: the landing sensor over real folders, the daily schedule, and the instance queue."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import make_dagster_home

from orchestration import settings
from orchestration.defs.automation.jobs import cardreach_daily
from orchestration.defs.automation.run_tags import (
    DAY_TAG,
    FILE_NAMES_TAG,
    FILES_TAG,
    FINGERPRINT_TAG,
    STARTED_BY_TAG,
    project_fingerprint,
)
from orchestration.defs.automation.schedules import cardreach_daily_schedule
from orchestration.defs.ingest.landing import DeliveredFile
from orchestration.defs.ingest.load import ensure_schemas
from orchestration.defs.ingest.record import write_ingest_record
from orchestration.defs.ingest.sensors import SETTLE_SECONDS, landing_files_sensor

OLD = time.time() - 3600  # an mtime well past the settle period


@pytest.fixture
def landing_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    monkeypatch.setenv(settings.LANDING_ENV, str(folder))
    # the ingest record the sensor reads is in the warehouse folder
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(tmp_path / "warehouse"))
    return folder


def record_as_ingested(warehouse: Path, *paths: Path, sha256: str | None = None) -> None:
    """The ingest record as ingestion writes it, saying these landing files are ingested."""
    warehouse.mkdir(exist_ok=True)
    landing = settings.landing_dir()
    seen = [
        DeliveredFile(
            path=path,
            name=str(path.relative_to(landing)),
            dataset_name="accounts",
            extension=path.suffix,
            sha256=sha256 or sha256_of(path),
            size_bytes=path.stat().st_size,
            mtime_ns=path.stat().st_mtime_ns,
        )
        for path in paths
    ]
    with duckdb.connect(str(warehouse / "cardreach.duckdb")) as conn:
        ensure_schemas(conn)
        write_ingest_record(conn, warehouse, seen)


def deliver(folder: Path, name: str, content: str, mtime: float | None = OLD) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tick(cursor: str | None = None, instance: dg.DagsterInstance | None = None):
    """One evaluation as the daemon does it: the run requests, skip message and new cursor."""
    context = dg.build_sensor_context(
        cursor=cursor, instance=instance or dg.DagsterInstance.ephemeral()
    )
    return landing_files_sensor.evaluate_tick(context)


def test_empty_folder_skips(landing_dir):
    result = tick()
    assert result.run_requests == []
    assert result.skip_message == f"no new or changed files in {landing_dir} (0 files seen)"


def test_missing_folder_skips_saying_so(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.LANDING_ENV, str(tmp_path / "nowhere"))
    result = tick()
    assert result.run_requests == []
    assert "does not exist" in result.skip_message


def test_new_file_requests_one_run_then_nothing(landing_dir):
    deliver(landing_dir, "accounts.csv", "platform,account_name\n小红书,中信银行信用卡\n")
    first = tick()
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.run_key
    assert request.tags[FILES_TAG] == "1"
    assert request.tags[FILE_NAMES_TAG] == "accounts.csv"
    assert request.tags[STARTED_BY_TAG] == "sensor"
    assert request.tags[FINGERPRINT_TAG] == project_fingerprint()
    # nothing per file: only the request it made, so that it is not made again
    assert json.loads(first.cursor) == {"requested": request.run_key}

    again = tick(first.cursor)  # the run is queued or ingesting
    assert again.run_requests == []
    assert again.skip_message == (
        "1 new or changed files already have their run (queued or ingesting): accounts.csv"
    )


def test_files_arriving_during_a_run_wait_for_it_to_end(landing_dir):
    """`make run` (or any run of the job) is ingesting: the sensor requests no second run over
    the same files; once the run is over, what it did not ingest gets its run."""
    instance = dg.DagsterInstance.ephemeral()
    running = instance.add_run(
        dg.DagsterRun(job_name="cardreach_daily", status=dg.DagsterRunStatus.STARTED)
    )
    deliver(landing_dir, "accounts.csv", "platform,account_name\n小红书,中信银行信用卡\n")
    during = tick(instance=instance)
    assert during.run_requests == []
    assert during.skip_message == (
        f"1 new or changed files wait for run {running.run_id[:8]} (started) to end: accounts.csv"
    )
    instance.delete_run(running.run_id)  # over, without having ingested it
    after = tick(during.cursor, instance=instance)
    assert len(after.run_requests) == 1


def test_changed_content_requests_a_new_run_key(landing_dir, tmp_path):
    path = deliver(landing_dir, "accounts.csv", "platform,account_name\n小红书,中信银行信用卡\n")
    first = tick()
    record_as_ingested(tmp_path / "warehouse", path)
    assert tick(first.cursor).run_requests == []
    deliver(landing_dir, "accounts.csv", "platform,account_name\n小红书,招商银行信用卡\n", OLD + 60)
    second = tick(first.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_files_as_ingestion_last_saw_them_are_not_read_again(landing_dir, tmp_path):
    path = deliver(landing_dir, "accounts.csv", "platform\n")
    # the record says another content: trusted without reading, since size and mtime match
    record_as_ingested(tmp_path / "warehouse", path, sha256="recorded-earlier")
    result = tick()
    assert result.run_requests == []
    assert result.skip_message == f"no new or changed files in {landing_dir} (1 files seen)"


def test_touched_file_with_same_content_is_not_a_delivery(landing_dir, tmp_path):
    path = deliver(landing_dir, "accounts.csv", "platform,account_name\n")
    record_as_ingested(tmp_path / "warehouse", path)
    os.utime(path, (OLD + 60, OLD + 60))
    second = tick()
    assert second.run_requests == []
    assert json.loads(second.cursor) == {}


def test_a_file_the_command_line_ingested_requests_no_run(landing, warehouse):
    """`make run` (or any run) ingests: the sensor reads the same record, so the first tick
    after it launches nothing, and a delivery since launches a run for that file alone."""
    from conftest import materialize_ingest

    landing.csv("accounts.csv", [{"platform": "小红书", "account_name": "中信银行信用卡"}])
    assert tick().run_requests  # before ingestion: a run
    assert materialize_ingest(warehouse).success
    after = tick()
    assert after.run_requests == []
    assert "(1 files seen)" in after.skip_message
    landing.csv("accounts__more.csv", [{"platform": "小红书", "account_name": "招商银行信用卡"}])
    [request] = tick(after.cursor).run_requests
    assert request.tags[FILE_NAMES_TAG] == "accounts__more.csv"


def test_the_cursor_stays_small_however_many_files_arrive(landing_dir, tmp_path):
    paths = [
        deliver(landing_dir, f"accounts__{i:04d}.csv", f"platform\n{i}\n") for i in range(2000)
    ]
    first = tick()
    [request] = first.run_requests
    assert request.tags[FILES_TAG] == str(len(paths))
    assert len(request.tags[FILE_NAMES_TAG]) <= 150 and request.tags[FILE_NAMES_TAG].endswith(
        "more"
    )
    assert len(first.cursor) < 200
    record_as_ingested(tmp_path / "warehouse", *paths)
    second = tick(first.cursor)
    assert second.run_requests == []
    assert len(second.cursor) < 200


def test_same_change_gives_the_same_run_key(landing_dir, tmp_path, monkeypatch):
    deliver(landing_dir, "a.csv", "x\n1\n")
    deliver(landing_dir, "b.csv", "x\n2\n")
    first = tick()
    assert first.run_requests[0].tags[FILES_TAG] == "2"
    copy = tmp_path / "copy"
    shutil.copytree(landing_dir, copy)
    monkeypatch.setenv(settings.LANDING_ENV, str(copy))
    assert tick().run_requests[0].run_key == first.run_requests[0].run_key


def test_file_being_written_waits_for_the_next_tick(landing_dir):
    deliver(landing_dir, "done.csv", "x\n1\n")
    first = tick()
    deliver(landing_dir, "app_activity__2025-04.csv", "app,month\n", mtime=None)
    deliver(landing_dir, "sub/accounts.csv", "platform\n", mtime=time.time())
    writing = tick(first.cursor)
    assert writing.run_requests == []
    assert writing.skip_message == (
        "2 files still being written: app_activity__2025-04.csv, sub/accounts.csv"
    )
    # Unchanged since the previous tick: settled, although younger than the settle period.
    settled = tick(writing.cursor)
    assert len(settled.run_requests) == 1
    # done.csv was requested before and has not been ingested since: it is still new
    assert settled.run_requests[0].tags[FILES_TAG] == "3"
    assert "settling" not in json.loads(settled.cursor)
    assert tick(settled.cursor).run_requests == []


def test_file_still_growing_is_not_picked_up_half(landing_dir):
    path = deliver(landing_dir, "accounts.csv", "platform\n", mtime=None)
    first = tick()
    assert first.run_requests == []
    with path.open("a", encoding="utf-8") as handle:
        handle.write("小红书\n")
    os.utime(path, ns=(time.time_ns() + 1_000_000, time.time_ns() + 1_000_000))
    second = tick(first.cursor)
    assert second.run_requests == []
    assert "still being written: accounts.csv" in second.skip_message
    third = tick(second.cursor)
    assert len(third.run_requests) == 1
    assert third.run_requests[0].tags[FILES_TAG] == "1"


def test_old_file_is_settled_at_once(landing_dir):
    deliver(landing_dir, "accounts.csv", "platform\n", mtime=time.time() - SETTLE_SECONDS - 1)
    assert len(tick().run_requests) == 1


def test_ignored_files_never_trigger(landing_dir):
    deliver(landing_dir, "accounts.csv.part", "platform\n")
    deliver(landing_dir, ".accounts.csv", "platform\n")
    deliver(landing_dir, "accounts.csv.tmp", "platform\n", mtime=None)
    deliver(landing_dir, "~$accounts.csv", "platform\n")
    for cursor in (None, tick().cursor):
        result = tick(cursor)
        assert result.run_requests == []
        assert result.skip_message == f"no new or changed files in {landing_dir} (0 files seen)"


def test_sensor_runs_by_default_against_the_daily_job():
    assert landing_files_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert landing_files_sensor.job_name == "cardreach_daily"
    assert 20 <= landing_files_sensor.minimum_interval_seconds <= 60
    assert landing_files_sensor.description


def test_schedule_requests_the_daily_job():
    schedule = cardreach_daily_schedule
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "cardreach_daily"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(instance=dg.DagsterInstance.ephemeral())
    result = schedule.evaluate_tick(context)
    [request] = result.run_requests
    assert request.tags[STARTED_BY_TAG] == "schedule"
    assert request.tags[FINGERPRINT_TAG] == project_fingerprint()


def test_a_run_launched_from_the_ui_says_so_and_a_launcher_tag_wins():
    from orchestration.definitions import defs

    job = defs().resolve_job_def(cardreach_daily.name)
    # the launchpad's default; `make run`'s own tag winning over it: tests/test_run_command.py
    assert job.run_tags[STARTED_BY_TAG] == "ui"


def test_assets_materialized_from_the_ui_graph_are_tagged_ui(tmp_path, monkeypatch):
    """The UI's graph runs an implicit job, without the daily job's tag: the warehouse, which
    every run opens, tags it as the UI's; a launcher's own tag stays."""
    from orchestration.defs.ingest.assets import ingest_landing_files
    from orchestration.warehouse import Warehouse

    (tmp_path / "landing").mkdir()
    warehouse = Warehouse(landing=str(tmp_path / "landing"), warehouse=str(tmp_path / "wh"))
    instance = dg.DagsterInstance.ephemeral()
    graph_run = dg.materialize(
        [ingest_landing_files], resources={"warehouse": warehouse}, instance=instance
    )
    assert instance.get_run_by_id(graph_run.run_id).tags[STARTED_BY_TAG] == "ui"
    cli_run = dg.materialize(
        [ingest_landing_files],
        resources={"warehouse": warehouse},
        instance=instance,
        tags={STARTED_BY_TAG: "cli"},
    )
    assert instance.get_run_by_id(cli_run.run_id).tags[STARTED_BY_TAG] == "cli"


def test_a_run_takes_its_day_as_it_starts_and_keeps_it_past_midnight(tmp_path, monkeypatch):
    """Every step of a run reads the day fixed as it started (Warehouse.today), tagged on the
    run over any tag copied from a parent run; the clock turning while it goes changes nothing."""
    from orchestration.warehouse import Warehouse

    monkeypatch.setenv(settings.TODAY_ENV, "2026-01-31")

    @dg.asset
    def before_midnight(warehouse: Warehouse) -> dg.MaterializeResult:
        day = warehouse.today()
        monkeypatch.setenv(settings.TODAY_ENV, "2026-02-01")  # the clock turns
        return dg.MaterializeResult(metadata={"day": day.isoformat()})

    @dg.asset(deps=[before_midnight])
    def after_midnight(warehouse: Warehouse) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"day": warehouse.today().isoformat()})

    (tmp_path / "landing").mkdir()
    warehouse = Warehouse(landing=str(tmp_path / "landing"), warehouse=str(tmp_path / "wh"))
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [before_midnight, after_midnight],
        resources={"warehouse": warehouse},
        instance=instance,
        tags={DAY_TAG: "2000-01-01"},  # as a re-execution copies its parent's
    )
    assert result.success
    days = {
        event.asset_key.to_user_string(): event.materialization.metadata["day"].value
        for event in result.get_asset_materialization_events()
    }
    assert days == {"before_midnight": "2026-01-31", "after_midnight": "2026-01-31"}
    assert instance.get_run_by_id(result.run_id).tags[DAY_TAG] == "2026-01-31"
    assert settings.today().isoformat() == "2026-02-01" and warehouse.today() == settings.today()


def test_instance_queues_runs_one_at_a_time(tmp_path, monkeypatch):
    from dagster._core.run_coordinator import QueuedRunCoordinator

    make_dagster_home(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        # What the daemon's run queue (and the UI) read: `concurrency: runs:` of the instance.
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.get_settings("telemetry") == {"enabled": False}


def test_definitions_validate_and_list_the_automation(tmp_path):
    home = make_dagster_home(tmp_path / "dagster_home")
    dagster = Path(sys.executable).parent / "dagster"
    completed = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=settings.REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr

    from orchestration.definitions import defs

    definitions = defs()
    sensor = definitions.resolve_sensor_def("landing_files_sensor")
    schedule = definitions.resolve_schedule_def("cardreach_daily_schedule")
    assert sensor.job_name == schedule.job_name == "cardreach_daily"
    assert definitions.resolve_job_def("cardreach_daily")


def test_entries_ingestion_skips_never_trigger(landing_dir, tmp_path):
    outside = deliver(tmp_path, "accounts.csv", "platform\n")
    (landing_dir / "accounts__linked.csv").symlink_to(outside)
    (landing_dir / "linked_folder").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(landing_dir / "accounts__pipe.csv")
    deliver(landing_dir, ".sync/accounts.csv", "platform\n")  # a file in a hidden folder
    for cursor in (None, tick().cursor):
        result = tick(cursor)
        assert result.run_requests == []
        assert result.skip_message == f"no new or changed files in {landing_dir} (0 files seen)"


def test_a_name_that_is_not_utf8_triggers_once_under_its_readable_name(landing_dir):
    path = landing_dir / os.fsdecode(b"account_snapshots__\xd5\xd0\xd0\xd0.csv")  # GBK: 招行
    path.write_text("platform\n", encoding="utf-8")
    os.utime(path, (OLD, OLD))
    first = tick()
    assert len(first.run_requests) == 1
    assert first.run_requests[0].tags[FILE_NAMES_TAG] == "account_snapshots__招行.csv"
    assert tick(first.cursor).run_requests == []


def test_a_file_whose_mtime_is_ahead_triggers_once_it_holds_still(landing_dir):
    ahead = time.time() + 3600
    deliver(landing_dir, "accounts.csv", "platform\n", mtime=ahead)
    first = tick()
    assert first.run_requests == []
    assert "still being written: accounts.csv" in first.skip_message
    assert len(tick(first.cursor).run_requests) == 1


def test_overlapping_folders_launch_nothing_and_say_which_setting(landing_dir, monkeypatch):
    deliver(landing_dir, "accounts.csv", "platform\n")
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(landing_dir / "warehouse"))
    result = tick()
    assert result.run_requests == []
    assert "Change CARDREACH_WAREHOUSE" in result.skip_message
    assert not (landing_dir / "warehouse").exists()
