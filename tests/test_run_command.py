"""`make run` as an operator sees it: a short output with a line per stage and the full log in a
file, then a second run with nothing new that launches nothing and says so."""

import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta

import dagster as dg
import pytest
from conftest import (
    CARDREACH_RUN,
    NEXT_DROP,
    SAMPLE_LANDING,
    Landing,
    cardreach_run,
    cardreach_run_env,
    make_dagster_home,
)

from orchestration import settings
from orchestration.defs.automation.run_tags import (
    DAY_TAG,
    FILE_NAMES_TAG,
    FILES_TAG,
    FINGERPRINT_TAG,
    STARTED_BY_TAG,
    project_fingerprint,
)

STAGES = ("ingest", "freshness", "transform", "quality", "scoring", "publish", "report")
# One worker for the module (pytest -n), and its `make run` on the sample a session fixture: it
# leaves only folders behind, so nothing is gained by ending it with the module.
pytestmark = pytest.mark.xdist_group("run_command")


@pytest.fixture(scope="session")
def sample_cli_run(tmp_path_factory):
    """`make run` on a copy of the sample, in its own warehouse and Dagster instance."""
    root = tmp_path_factory.mktemp("cli")
    Landing(root / "landing").copy_sample()
    make_dagster_home(root / "home")
    env = {
        settings.LANDING_ENV: str(root / "landing"),
        settings.WAREHOUSE_ENV: str(root / "warehouse"),
        "DAGSTER_HOME": str(root / "home"),
    }
    first = cardreach_run(env)
    return root, env, first


def test_a_run_prints_a_line_per_stage_and_where_everything_is(sample_cli_run):
    root, _, first = sample_cli_run
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    lines = first.stdout.splitlines()
    assert len(lines) < 40, first.stdout
    assert first.stderr == ""
    stage_lines = [line.split()[0] for line in lines if line.startswith("  ") and "(" in line]
    assert [s for s in stage_lines if s in STAGES] == list(STAGES)
    delivered = [path for path in SAMPLE_LANDING.iterdir() if path.is_file()]
    [ingest] = [line for line in lines if line.startswith("  ingest ")]
    assert f"{len(delivered)} new files" in ingest
    warehouse = root / "warehouse"
    assert str(warehouse / "cardreach.duckdb") in first.stdout
    assert str(warehouse / "analytics.duckdb") in first.stdout
    assert str(settings.report_path(warehouse)) in first.stdout
    # the full log: Dagster's lines and dbt's, which the terminal no longer shows
    [log] = (warehouse / "logs").glob("run-*.log")
    assert str(log) in first.stdout
    text = log.read_text(encoding="utf-8")
    assert " - dagster - INFO - cardreach_daily - " in text and " of " in text and "PASS" in text
    assert " - dagster - " not in first.stdout and "PASS " not in first.stdout


def test_a_run_is_tagged_with_who_started_it_and_for_which_files(sample_cli_run, monkeypatch):
    root, env, _ = sample_cli_run
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs(dg.RunsFilter(job_name="cardreach_daily"))[-1:]
    delivered = sorted(path.name for path in SAMPLE_LANDING.iterdir() if path.is_file())
    assert run.tags[STARTED_BY_TAG] == "cli"  # over the job's own `ui`
    assert run.tags[FILES_TAG] == str(len(delivered))
    assert run.tags[FILE_NAMES_TAG].startswith(delivered[0])
    assert run.tags[FINGERPRINT_TAG]
    assert run.tags[DAY_TAG] == settings.today().isoformat()  # the session's (tests/conftest.py)


def test_a_second_run_with_nothing_new_launches_nothing_and_says_so(sample_cli_run, monkeypatch):
    root, env, first = sample_cli_run
    assert first.returncode == 0
    second = cardreach_run(env)
    assert second.returncode == 0, second.stdout + second.stderr
    run_id = first.stdout.split()[2]
    delivered = [path for path in SAMPLE_LANDING.iterdir() if path.is_file()]
    assert second.stdout.startswith(f"nothing new since run {run_id} at ")
    assert f"{len(delivered)} files already ingested" in second.stdout
    assert len(second.stdout.splitlines()) <= 2
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs(dg.RunsFilter(job_name="cardreach_daily"))) == 1
    assert len(list((root / "warehouse" / "logs").glob("run-*.log"))) == 1


def test_a_file_delivered_just_before_the_run_is_waited_for_and_built(
    sample_copy, landing, tmp_path
):
    """A delivery copied in just before `make run` may still be being written, which ingestion
    leaves for the next run: the run waits until it has held still, then ingests and builds
    it, rather than building the feed's models for a file it does not read."""
    delivered = landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    make_dagster_home(tmp_path / "home")
    env = {
        settings.LANDING_ENV: str(landing.path),
        settings.WAREHOUSE_ENV: str(sample_copy.warehouse_dir),
        "DAGSTER_HOME": str(tmp_path / "home"),
    }
    said = threading.Event()
    # Modified again and again, until the run says it waits. Each stamp is dated 6 s back, so the
    # run waits the window's last 4 s or so instead of all 10: the newest stamp it sees is a
    # fraction of a second old.
    stamp_age = settings.SETTLE_SECONDS - 4

    def still_writing():
        while not said.is_set():
            stamp = time.time() - stamp_age
            os.utime(delivered, (stamp, stamp))
            time.sleep(0.2)

    writer = threading.Thread(target=still_writing)
    writer.start()
    run = subprocess.Popen(
        CARDREACH_RUN,
        cwd=settings.REPO_ROOT,
        env=cardreach_run_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        waited = run.stdout.readline()
    finally:
        said.set()
        writer.join()
    output, errors = run.communicate(timeout=600)
    assert run.returncode == 0, output[-3000:] + errors[-3000:]
    assert waited.startswith("waiting ") and "1 new files" in waited, waited + output
    header, *rest = [line for line in output.splitlines() if not line.startswith("waiting ")]
    assert header.startswith("cardreach run ") and "1 new or changed files" in header
    [ingest] = [line for line in rest if line.startswith("  ingest ")]
    assert " 1 new files" in ingest and "7 rows loaded" in ingest, ingest
    assert "still being written" not in output


def whats_new(env: dict, monkeypatch):
    from orchestration.cli import whats_new

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        return whats_new(instance)


def test_a_changed_seed_a_setting_or_a_new_file_makes_the_next_run_real(
    sample_cli_run, monkeypatch, tmp_path
):
    root, env, first = sample_cli_run
    assert first.returncode == 0
    assert whats_new(env, monkeypatch).reason is None  # as the second run found
    # an analyst edits a seed (in a copy of the project: the fingerprint reads the folder)
    project = tmp_path / "dbt_project"
    shutil.copytree(settings.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target"))
    with monkeypatch.context() as edited:
        edited.setattr(settings, "DBT_PROJECT_DIR", project)
        assert whats_new(env, edited).reason is None  # a copy is the same project
        seed = project / "seeds" / "score_weights.csv"
        seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        assert "changed since run" in whats_new(env, edited).reason
    # publishing the confidential marts changes what a run publishes
    with monkeypatch.context() as confidential:
        confidential.setenv(settings.PUBLISH_CONFIDENTIAL_ENV, "true")
        assert "settings changed" in whats_new(env, confidential).reason
    # another engine builds everything again (orchestration/engine.py)
    with monkeypatch.context() as engine:
        engine.setenv(settings.ENGINE_ENV, "spark")
        assert "settings changed" in whats_new(env, engine).reason
    # the readers' clock changes the report's times
    with monkeypatch.context() as zone:
        zone.setenv(settings.TIMEZONE_ENV, "Europe/Paris")
        assert "settings changed" in whats_new(env, zone).reason
    # a new day: a feed's age counts from today
    with monkeypatch.context() as day:
        built_on = settings.today()
        day.setenv(settings.TODAY_ENV, (built_on + timedelta(days=1)).isoformat())
        assert whats_new(env, day).reason == (
            "the last complete build does not cover everything (no feed changed;"
            f" a new day ({built_on} was the last build's))"
        )
    # a new delivery
    Landing(root / "landing").csv("accounts__more.csv", [{"platform": "小红书"}])
    found = whats_new(env, monkeypatch)
    assert found.reason == f"1 new or changed files in {root / 'landing'}"
    assert found.new_files == ["accounts__more.csv"]
    (root / "landing" / "accounts__more.csv").unlink()
    assert whats_new(env, monkeypatch).reason is None
    # models the last complete build does not cover (here: no build record at all)
    record = settings.build_record(root / "warehouse")
    kept = record.read_text(encoding="utf-8")
    record.unlink()
    try:
        assert "the last complete build does not cover" in whats_new(env, monkeypatch).reason
    finally:
        record.write_text(kept, encoding="utf-8")
    assert whats_new(env, monkeypatch).reason is None
    # the report gone
    report = settings.report_path(root / "warehouse")
    aside = report.with_suffix(".aside")
    report.rename(aside)
    try:
        assert "the report" in whats_new(env, monkeypatch).reason
    finally:
        aside.rename(report)


def test_the_fingerprint_follows_the_settings(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(tmp_path / "a"))
    first = project_fingerprint()
    assert project_fingerprint() == first
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(tmp_path / "b"))
    assert project_fingerprint() != first


def test_a_later_run_of_part_of_the_pipeline_makes_the_next_run_real(sample_cli_run, monkeypatch):
    """Assets materialized from the UI's graph (another job) or a re-execution of part of a run
    may have rebuilt some tables and not the rest: the next `make run` runs everything."""
    root, env, first = sample_cli_run
    assert first.returncode == 0
    assert whats_new(env, monkeypatch).reason is None
    with dg.DagsterInstance.get() as instance:
        [done] = instance.get_runs(dg.RunsFilter(job_name="cardreach_daily"), limit=1)
        partial = instance.add_run(
            dg.DagsterRun(job_name="__ASSET_JOB", status=dg.DagsterRunStatus.SUCCESS)
        )
        assert "ran part of the pipeline (__ASSET_JOB)" in whats_new(env, monkeypatch).reason
        instance.delete_run(partial.run_id)
        again = instance.add_run(
            dg.DagsterRun(
                job_name="cardreach_daily",
                status=dg.DagsterRunStatus.SUCCESS,
                parent_run_id=done.run_id,
                root_run_id=done.run_id,
                tags=done.tags,
            )
        )
        try:
            assert (
                f"re-executed part of run {done.run_id[:8]}" in whats_new(env, monkeypatch).reason
            )
        finally:
            instance.delete_run(again.run_id)
        assert whats_new(env, monkeypatch).reason is None


def test_a_run_waiting_for_another_says_so_on_the_terminal(tmp_path):
    """While another process writes the warehouse, `make run` says it waits (its own wait goes
    to the log file): the writer's lock is seen held, and free once that process ends."""
    from orchestration.warehouse import writer_lock_held

    assert not writer_lock_held(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            " from orchestration.warehouse import acquire_writer_lock;"
            " lock = acquire_writer_lock(Path(sys.argv[1])); print('held', flush=True);"
            " time.sleep(60)",
            str(tmp_path),
        ],
        cwd=settings.REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert writer_lock_held(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert not writer_lock_held(tmp_path)
