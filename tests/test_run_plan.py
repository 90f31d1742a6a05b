"""A run rebuilds what the warehouse's last complete build did not cover, and publishes what a run
of everything would (orchestration/defs/automation/plan.py). A check that holds its data back
leaves its feed stale for the next run: tests/test_quality_gate.py, with the dropped unit."""

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from conftest import (
    NEXT_DROP,
    Landing,
    copy_sample_run,
    materialize_ingest,
    planned_run,
    point_settings_at,
    run_pipeline,
)

from orchestration import settings
from orchestration.dbt import as_of_today_models, dbt_asset_keys, models_downstream_of
from orchestration.defs.automation.plan import BuildRecord, feed_digests, staleness
from orchestration.defs.ingest.record import IngestRecord

PERFORMANCE = dg.AssetKey(["marts", "account_performance"])
AUDIENCE_FIT = dg.AssetKey(["marts", "platform_audience_fit"])
COVERAGE = dg.AssetKey(["intermediate", "int_snapshot_coverage"])
STG_NOTES = dg.AssetKey(["staging", "stg_notes"])


def copy_of_sample(sample_warehouse, root: Path, monkeypatch):
    """A copy of the shared sample run in `root`, the settings pointing at it."""
    landing = Landing(root / "landing")
    copy_sample_run(sample_warehouse, landing, root / "warehouse")
    return landing, point_settings_at(monkeypatch, landing, root / "warehouse")


def published_tables(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name <> 'main'"
        ).fetchall()
        return {
            f"{schema}.{table}": conn.execute(
                f'SELECT * FROM "{schema}"."{table}" ORDER BY ALL'
            ).fetchall()
            for schema, table in tables
        }


def test_the_sample_run_recorded_its_build_as_complete(sample_run):
    record = BuildRecord.read(Path(sample_run.warehouse))
    assert record is not None
    assert record.feeds == feed_digests(IngestRecord.read(Path(sample_run.warehouse)))
    assert staleness(Path(sample_run.warehouse)).models == frozenset()


def test_a_delivery_rebuilds_its_feeds_models_only_and_publishes_what_a_whole_run_does(
    sample_warehouse, tmp_path, monkeypatch
):
    # the same delivery on two copies of the sample run: one run of everything, one planned
    landing, whole = copy_of_sample(sample_warehouse, tmp_path / "whole", monkeypatch)
    landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    assert run_pipeline(whole=True).success

    landing, planned = copy_of_sample(sample_warehouse, tmp_path / "planned", monkeypatch)
    landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    plan = planned_run()
    result = run_pipeline()
    assert result.success
    built = {e.asset_key for e in result.get_asset_materialization_events()}
    # and stg_notes, the asset the suite note_account_totals judges: it reads
    # int_note_account_totals, which the account snapshots build too
    expected = models_downstream_of(["account_snapshots"]) | {STG_NOTES}
    assert built & dbt_asset_keys() == expected
    assert PERFORMANCE in built and AUDIENCE_FIT not in built
    assert plan.summary == (
        f"{len(expected)} of {len(dbt_asset_keys())} dbt models and seeds:"
        " new deliveries of account_snapshots"
    )
    # only the checks of what was built ran
    checked = {e.check_name for e in result.get_asset_check_evaluations()}
    assert "ge_platform_audience_fit" not in checked
    assert {"ge_account_performance", "ge_note_account_totals"} <= checked

    assert published_tables(planned.analytics_path) == published_tables(whole.analytics_path)
    # the build is complete again: nothing stale
    assert staleness(planned.warehouse_dir).models == frozenset()


def test_what_is_stale(sample_copy, landing, monkeypatch):
    warehouse = sample_copy.warehouse_dir
    record = BuildRecord.read(warehouse)
    assert staleness(warehouse).models == frozenset()
    assert staleness(warehouse, force=True).models is None
    # a file in the landing folder, not ingested yet: its feed's models
    stale = staleness(warehouse, ["notes__2025-05-01.csv"])
    assert stale.models == models_downstream_of(["notes"]) and PERFORMANCE not in stale.models
    # the account snapshots: their models, and the assets whose suites read one of them
    stale = staleness(warehouse, ["account_snapshots__2025-05-01.csv"])
    assert stale.models == models_downstream_of(["account_snapshots"]) | {STG_NOTES}
    # a file of no known feed is quarantined at ingest: nothing to rebuild
    assert staleness(warehouse, ["readme.txt"]).models == frozenset()
    # a delivery ingested by a run that built nothing (the UI's ingest asset alone)
    landing.csv("app_activity__2025-05.csv", [{"app": "小红书", "month": "2025-05", "mau": "3亿"}])
    assert materialize_ingest(sample_copy).success
    assert staleness(warehouse).models == models_downstream_of(["app_activity"])
    record = BuildRecord(record.fingerprint, record.day, feed_digests(IngestRecord.read(warehouse)))
    record.write(warehouse)
    assert staleness(warehouse).models == frozenset()
    # a new day: the models that read today's date
    BuildRecord(record.fingerprint, "2000-01-01", record.feeds).write(warehouse)
    assert staleness(warehouse).models == as_of_today_models() == {COVERAGE}
    # another version of the project, no record, no database: everything
    BuildRecord("another", record.day, record.feeds).write(warehouse)
    assert staleness(warehouse).models is None
    settings.build_record(warehouse).unlink()
    assert staleness(warehouse).models is None
    record.write(warehouse)
    assert staleness(warehouse).models == frozenset()
    sample_copy.database_path.unlink()
    assert staleness(warehouse).models is None


def test_today_is_the_readers_day_unless_set(monkeypatch):
    """Today is the date on the readers' clock, not the machine's: on the two sides of the date
    line (UTC+14 and UTC-11) it is never the same day. CARDREACH_TODAY sets it, and a value that
    is not a date is refused by name."""
    monkeypatch.delenv(settings.TODAY_ENV, raising=False)
    days = {}
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        monkeypatch.setenv(settings.TIMEZONE_ENV, zone)
        before = datetime.now(ZoneInfo(zone)).date()
        days[zone] = settings.today()
        assert days[zone] in {before, datetime.now(ZoneInfo(zone)).date()}
    assert days["Pacific/Kiritimati"] > days["Pacific/Pago_Pago"]
    monkeypatch.setenv(settings.TODAY_ENV, "2025-05-01")
    assert settings.today() == date(2025, 5, 1)
    assert settings.dbt_environment()[settings.DBT_TODAY_ENV] == "2025-05-01"
    for value in ("2025/05/01", "20250501", "2025-02-30"):
        monkeypatch.setenv(settings.TODAY_ENV, value)
        with pytest.raises(ValueError, match=f"{settings.TODAY_ENV}='{value}' is not a date"):
            settings.today()


def test_a_new_day_rebuilds_what_counts_to_it_and_records_the_day(sample_copy, monkeypatch):
    """The first run of a day, nothing delivered: the models that count to today are built
    again (with their checks), counting to the new day, and the build is recorded for it."""
    warehouse = sample_copy.warehouse_dir
    built_on = BuildRecord.read(warehouse).day
    later = date.fromisoformat(built_on) + timedelta(days=30)
    monkeypatch.setenv(settings.TODAY_ENV, later.isoformat())
    assert planned_run().summary == (
        f"1 of {len(dbt_asset_keys())} dbt models and seeds: no feed changed;"
        f" a new day ({built_on} was the last build's)"
    )
    result = run_pipeline()
    assert result.success
    assert {e.asset_key for e in result.get_asset_materialization_events()} & dbt_asset_keys() == {
        COVERAGE
    }
    # the data's route, though nothing of the model's is ingested in this run
    started = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert started[:2] == ["ingest_landing_files", "feed_freshness"]
    assert started.index("cardreach_dbt_models") < started.index("publish__analytics_database")
    assert "ge_account_snapshot_feed" in {
        e.check_name for e in result.get_asset_check_evaluations()
    }
    with duckdb.connect(str(sample_copy.database_path), read_only=True) as conn:
        ages = conn.execute(
            "SELECT snapshot_date, days_since_latest_snapshot"
            " FROM intermediate.int_snapshot_coverage WHERE is_latest_date"
        ).fetchall()
    assert ages and all(age == (later - latest).days for latest, age in ages)
    freshness = [
        e.metadata for e in result.get_asset_check_evaluations() if "age_days" in e.metadata
    ]
    assert freshness and all(
        meta["age_days"].value
        == (
            later
            - date.fromisoformat(next(v.value for k, v in meta.items() if k.startswith("latest_")))
        ).days
        for meta in freshness
    )
    assert BuildRecord.read(warehouse).day == later.isoformat()
    assert staleness(warehouse).models == frozenset()
    next_day = later + timedelta(days=1)
    assert staleness(warehouse, today=next_day).models == {COVERAGE}


def test_every_model_that_reads_todays_date_reads_the_runs_day_and_is_tagged_so():
    """A model counts to the run's day (macros/today.sql), never to the database's clock (the
    machine's day on DuckDB, UTC's on Spark), nor does a macro; and it is rebuilt on a new day
    whatever was delivered."""
    database_clock = re.compile(
        r"\b(current_date|current_timestamp|now\(\)|today\(\))", re.IGNORECASE
    )

    def code(path: Path) -> str:  # without SQL's and Jinja's comments
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        return "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))

    models = {
        path.stem: code(path) for path in (settings.DBT_PROJECT_DIR / "models").rglob("*.sql")
    }
    macros = {
        path.name: code(path) for path in (settings.DBT_PROJECT_DIR / "macros").rglob("*.sql")
    }
    assert not {name for name, sql in (models | macros).items() if database_clock.search(sql)}
    reading = {name for name, sql in models.items() if "cardreach_today()" in sql}
    assert reading, "the pattern finds the model that counts a feed's age"
    assert {key.path[-1] for key in as_of_today_models()} == reading


def test_the_sensor_and_the_schedule_request_the_planned_subset(sample_copy, landing):
    """The landing sensor and the daily schedule launch what `make run` would: with the code
    location's assets, the stale models only (a context without them plans everything)."""
    from orchestration.definitions import defs
    from orchestration.defs.automation.schedules import cardreach_daily_schedule
    from orchestration.defs.ingest.sensors import landing_files_sensor

    repository = defs().get_repository_def()
    instance = dg.DagsterInstance.ephemeral()
    publish = dg.AssetKey(["publish", "analytics_database"])
    # nothing new, the same day: ingestion, publication and the report, no dbt model
    tick = cardreach_daily_schedule.evaluate_tick(
        dg.build_schedule_context(instance=instance, repository_def=repository)
    )
    [request] = tick.run_requests
    assert publish in request.asset_selection
    assert not set(request.asset_selection) & dbt_asset_keys()
    # a delivery of the account snapshots: their models, not the audience's
    landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    result = landing_files_sensor.evaluate_tick(
        dg.build_sensor_context(instance=instance, repository_def=repository)
    )
    [request] = result.run_requests
    assert set(request.asset_selection) & dbt_asset_keys() == (
        models_downstream_of(["account_snapshots"]) | {STG_NOTES}
    )
    assert publish in request.asset_selection and AUDIENCE_FIT not in request.asset_selection
