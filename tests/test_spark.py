"""dbt on Spark (CARDREACH_ENGINE=spark, docs/scaling.md).

A deployment moved from DuckDB to Spark and back: `cardreach run` with Spark in local mode
(pyspark, a Java runtime) on a copy of the sample's DuckDB run. Ingestion writes the raw layer to
the lake as Parquet, dbt builds every model again on Spark, from scratch, and the tables come back
into the pipeline's database for the gate, scoring and publication. Every table of the marts and
of the reference seeds must then hold the rows the DuckDB run of the same sample holds, on the
first day and after the next day's drop; back on DuckDB (a planned run in the test's process),
the same again. The Spark runs are made once per session (about two minutes each, most of it
Spark's start and its per-statement cost).
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import (
    NEXT_DROP,
    Landing,
    cardreach_run,
    copy_sample_run,
    make_dagster_home,
    materialize_ingest,
    planned_run,
    run_pipeline,
)

from orchestration import settings
from orchestration.contract.datasets import DATASETS
from orchestration.dbt import prepared_manifest, read_manifest, seed_target_folder
from orchestration.defs.ingest.lake import SCHEMA_PART, export_raw_layer
from orchestration.engine import (
    ENGINE_RECORD,
    _same_flag_value,
    check_spark_session_is_for,
    spark_java_options,
    spark_table_folder,
)

pytestmark = pytest.mark.xdist_group("spark")

COMPARED_SCHEMAS = ("marts", "reference")
# Fractions agree to this relative tolerance: Spark and DuckDB add a group's values in different
# orders, which moves the last bits of a sum (1e-12 of the value on the sample).
RELATIVE_TOLERANCE = 1e-9
FRACTION_TYPES = ("DOUBLE", "FLOAT", "DECIMAL")


def _cli_run(env: dict) -> subprocess.CompletedProcess:
    started = time.monotonic()
    result = cardreach_run(env, timeout=1800)
    print(f"a run of the sample on Spark: {time.monotonic() - started:.0f}s")
    return result


@dataclass
class SparkRuns:
    warehouse: Path
    env: dict
    first: subprocess.CompletedProcess
    first_day: Path
    next_day: subprocess.CompletedProcess


@pytest.fixture(scope="session")
def spark_runs(tmp_path_factory, sample_warehouse):
    """A deployment moved from DuckDB to Spark: a copy of the sample's DuckDB run (its landing
    and warehouse), then `CARDREACH_ENGINE=spark make run` on it, in its own Dagster instance
    and dbt target folder (a manifest parsed for Spark); then the next day's drop
    (conftest.NEXT_DROP) delivered and run again on Spark, which rebuilds only what the drop
    touches. The pipeline database after the first Spark run is kept as `first_day.duckdb`."""
    root = tmp_path_factory.mktemp("spark")
    landing = Landing(root / "landing")
    warehouse = root / "warehouse"
    copy_sample_run(sample_warehouse, landing, warehouse)
    make_dagster_home(root / "home")
    env = {
        settings.ENGINE_ENV: "spark",
        settings.LANDING_ENV: str(landing.path),
        settings.WAREHOUSE_ENV: str(warehouse),
        "DAGSTER_HOME": str(root / "home"),
        "DBT_TARGET_PATH": str(root / "dbt-target"),
    }
    first = _cli_run(env)
    first_day = root / "first_day.duckdb"
    if first.returncode == 0:
        shutil.copy(settings.pipeline_database(warehouse), first_day)
    landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    next_day = _cli_run(env)
    return SparkRuns(warehouse, env, first, first_day, next_day)


def _engine_record(database: Path) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return dict(conn.execute(f"SELECT step, engine FROM {ENGINE_RECORD}").fetchall())


def _table_type(database: Path, relation: str) -> str:
    schema, table = relation.split(".")
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(
            "SELECT table_type FROM information_schema.tables"
            " WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]


def _columns(conn, catalog: str, relation: str) -> dict[str, str]:
    schema, table = relation.split(".")
    return dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_catalog = ? AND table_schema = ? AND table_name = ?"
            " ORDER BY ordinal_position",
            [catalog, schema, table],
        ).fetchall()
    )


def _descriptions(conn, catalog: str, relation: str) -> dict[str, str | None]:
    """The table's comment (key "") and its columns' (dbt's persist_docs; publication passes them
    on to the analysts)."""
    schema, table = relation.split(".")
    [(comment,)] = conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?"
        " AND table_name = ?",
        [catalog, schema, table],
    ).fetchall()
    columns = conn.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = ?"
        " AND schema_name = ? AND table_name = ?",
        [catalog, schema, table],
    ).fetchall()
    return {"": comment, **dict(columns)}


def _rows(conn, catalog: str, relation: str, columns: dict[str, str]) -> list[tuple]:
    """A table's rows in one order on both sides: whole numbers whatever their width, fractions
    as floats, the rest as text; sorted on the exact values first, fractions last and rounded."""
    fractions = [kind.startswith(FRACTION_TYPES) for kind in columns.values()]
    select = ", ".join(
        f'CAST("{name}" AS DOUBLE)' if fraction else f'CAST("{name}" AS VARCHAR)'
        for name, fraction in zip(columns, fractions, strict=True)
    )
    rows = conn.execute(f"SELECT {select} FROM {catalog}.{relation}").fetchall()

    def order(row):
        exact = [str(v) for v, fraction in zip(row, fractions, strict=True) if not fraction]
        rounded = [
            "" if v is None else f"{v:.6g}"
            for v, fraction in zip(row, fractions, strict=True)
            if fraction
        ]
        return exact + rounded

    return sorted(rows, key=order)


def _same(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
    return left == right


def _dbt_tables() -> set[str]:
    """The marts and reference seeds the dbt project defines, as `schema.table`."""
    return {
        f"{node['config']['schema']}.{node['alias']}"
        for node in prepared_manifest()["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["config"].get("schema") in COMPARED_SCHEMAS
    }


def _bookkeeping_columns() -> dict[str, set[str]]:
    """By relation, the incremental models' bookkeeping columns (their descriptions say so):
    which delivery the build that wrote a row had seen, a fact of the build's history."""
    found: dict[str, set[str]] = {}
    for node in prepared_manifest()["nodes"].values():
        for name, column in node.get("columns", {}).items():
            if column.get("description", "").startswith("Bookkeeping of the incremental build"):
                relation = f"{node['config']['schema']}.{node['alias']}"
                found.setdefault(relation, set()).add(name)
    return found


def differences(duckdb_database, spark_database, same_history: bool = True) -> dict[str, str]:
    """What differs between two pipeline databases' marts and reference tables, by relation:
    a table one lacks, different column names or descriptions, a different row count, or the
    columns whose values differ (and in how many rows). Between builds of different histories
    (a full refresh against day-by-day builds) the bookkeeping columns are left out."""
    left_out = {} if same_history else _bookkeeping_columns()
    found = {}
    with duckdb.connect() as conn:
        conn.execute(f"ATTACH '{duckdb_database}' AS cardreach (READ_ONLY)")
        conn.execute(f"ATTACH '{spark_database}' AS spark (READ_ONLY)")
        relations = {
            catalog: {
                f"{schema}.{table}"
                for schema, table in conn.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                    f" WHERE table_catalog = ? AND table_schema IN {COMPARED_SCHEMAS}",
                    [catalog],
                ).fetchall()
            }
            for catalog in ("cardreach", "spark")
        }
        for relation in sorted(relations["cardreach"] ^ relations["spark"]):
            found[relation] = "built by one engine only"
        for relation in sorted(_dbt_tables() - relations["cardreach"] - relations["spark"]):
            found[relation] = "built by neither engine"
        for relation in sorted(relations["cardreach"] & relations["spark"]):
            on_duckdb = {
                name: kind
                for name, kind in _columns(conn, "cardreach", relation).items()
                if name not in left_out.get(relation, ())
            }
            if set(on_duckdb) != set(_columns(conn, "spark", relation)) - left_out.get(
                relation, set()
            ):
                found[relation] = "columns differ"
                continue
            if _descriptions(conn, "cardreach", relation) != _descriptions(conn, "spark", relation):
                found[relation] = "descriptions differ"
                continue
            left = _rows(conn, "cardreach", relation, on_duckdb)
            right = _rows(conn, "spark", relation, on_duckdb)
            if len(left) != len(right):
                found[relation] = f"{len(left)} rows on DuckDB, {len(right)} on Spark"
                continue
            differing = Counter(
                name
                for a, b in zip(left, right, strict=True)
                for name, x, y in zip(on_duckdb, a, b, strict=True)
                if not _same(x, y)
            )
            if differing:
                found[relation] = f"rows differ in (column: rows) {dict(differing)}"
    return found


def _raw_tables_declared(runs: SparkRuns, run: subprocess.CompletedProcess) -> dict[str, set]:
    """By dbt step of `run`, the raw tables its dbt.log shows declared over the lake, which must
    be those its nodes read according to the manifest parsed for Spark and its run_results."""
    target = Path(runs.env["DBT_TARGET_PATH"])
    manifest = read_manifest(target / "manifest.json")
    raw = {k: v["name"] for k, v in manifest["sources"].items() if v["source_name"] == "raw"}
    declared = {}
    for step in ("cardreach_dbt_models", "cardreach_scores"):
        [folder] = target.glob(f"{step}-{run.stdout.split()[2][:7]}-*")  # dbt.dbt_build_step
        results = json.loads((folder / "run_results.json").read_text())["results"]
        read = {
            raw[upstream]
            for result in results
            for upstream in manifest["nodes"][result["unique_id"]]["depends_on"].get("nodes", [])
            if upstream in raw
        }
        log = (folder / "dbt.log").read_text("utf-8")
        declared[step] = set(re.findall(r"create table raw\.(\w+)", log))
        assert declared[step] == read, (folder.name, declared[step], read)
    return declared


def test_spark_builds_every_mart_as_duckdb_does_on_the_first_day_and_the_next(
    spark_runs, sample_warehouse, sample_copy, landing, monkeypatch
):
    runs = spark_runs
    assert runs.first.returncode == 0, runs.first.stdout[-3000:] + runs.first.stderr[-3000:]
    assert "dbt models and seeds built on Spark" in runs.first.stdout  # the operator is told
    # a deployment moved from DuckDB: every table compared was built again by Spark (its
    # Parquet files, copied back over DuckDB's), from the raw layer the lake now holds
    assert _engine_record(runs.first_day) == {
        "cardreach_dbt_models": "spark",
        "cardreach_scores": "spark",
    }
    for relation in _dbt_tables():
        assert list(spark_table_folder(runs.warehouse, relation).rglob("*.parquet")), relation
    assert _table_type(runs.first_day, "staging.stg_notes") == "BASE TABLE"  # a view on DuckDB
    # Hive's session folder is the warehouse's, not a new /tmp/<session id>_resources a step
    assert (settings.spark_dir(runs.warehouse) / "hive_resources").is_dir()
    assert list((settings.lake_dir(runs.warehouse) / "raw" / "account_snapshots").glob("load_*"))
    assert differences(sample_warehouse.database_path, runs.first_day) == {}
    # dbt runs in the pipeline's process: the scores' step built with the session the models'
    # step started, one Spark application in the run (each step names it in the run's log)
    run_id = runs.first.stdout.split()[2]  # "cardreach run <id> (...)"
    log = (settings.run_logs_dir(runs.warehouse) / f"run-{run_id}.log").read_text("utf-8")
    sessions = re.findall(
        r"dbt built on Spark \(application ([^;)]+)(?:; Java options ([^)]*))?\)", log
    )
    assert len(sessions) == 2 and len(set(sessions)) == 1, sessions
    assert log.count("Setting default log level to") == 1  # and one JVM
    # with the options CARDREACH_SPARK_JAVA_OPTIONS gives it in effect (the suite's: conftest)
    assert sessions[0][1].split() == settings.spark_java_options()
    # each dbt step declares over the lake the raw tables its nodes read (macros/raw_layer.sql):
    # the first day's models all of them, the scores' none (they read the marts)
    assert _raw_tables_declared(runs, runs.first) == {
        "cardreach_dbt_models": set(DATASETS),
        "cardreach_scores": set(),
    }

    # the next day: Spark overwrites the dates the drop touched (insert_overwrite), DuckDB
    # deletes and inserts the touched rows; the same tables either way
    assert runs.next_day.returncode == 0, runs.next_day.stdout[-3000:] + runs.next_day.stderr
    assert "builds    everything" not in runs.next_day.stdout  # a daily run, not a first build
    # the raw tables of the models its plan rebuilds: stg_account_snapshots for the drop, and
    # stg_notes, whose suite reads a model the drop feeds (automation/plan.py)
    assert _raw_tables_declared(runs, runs.next_day) == {
        "cardreach_dbt_models": {"account_snapshots", "notes"},
        "cardreach_scores": set(),
    }
    landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    assert run_pipeline().success
    database = settings.pipeline_database(runs.warehouse)
    assert differences(sample_copy.database_path, database) == {}
    with duckdb.connect(str(settings.analytics_database(runs.warehouse)), read_only=True) as conn:
        [(published,)] = conn.execute(
            "SELECT count(*) FROM marts.account_performance WHERE snapshot_date = '2025-05-01'"
        ).fetchall()
    assert published == len(NEXT_DROP)

    # and back to DuckDB: nothing new, yet everything is built again, from scratch. The build
    # recorded was Spark's, so the plan is everything (`make run` launches a run when a setting
    # changed: test_run_command); run here in this process, as it plans it.
    monkeypatch.setenv(settings.LANDING_ENV, runs.env[settings.LANDING_ENV])
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(runs.warehouse))
    monkeypatch.setenv(settings.ENGINE_ENV, "spark")
    assert planned_run().selection is not None  # on Spark still: no model to build
    monkeypatch.delenv(settings.ENGINE_ENV)
    plan = planned_run()
    assert plan.selection is None
    assert plan.summary == "everything: the project changed since the last complete build"
    back = run_pipeline()
    assert back.success, [e.message for e in back.all_events if e.is_failure]
    assert _engine_record(database) == {
        "cardreach_dbt_models": "duckdb",
        "cardreach_scores": "duckdb",
    }
    assert _table_type(database, "staging.stg_notes") == "VIEW"
    # rebuilt from scratch, where the sample's copy was built day by day: the same figures, not
    # the same bookkeeping of which delivery each row's build had seen
    assert differences(sample_copy.database_path, database, same_history=False) == {}


def _adapter_type(manifest: Path) -> str:
    return read_manifest(manifest)["metadata"]["adapter_type"]


def test_back_on_duckdb_the_manifest_parsed_for_spark_is_parsed_again(spark_runs, tmp_path):
    """A process loading the definitions back on DuckDB finds the manifest the Spark runs parsed
    (whose models' materializations differ: macros/portable.sql) and parses the project again
    for DuckDB."""
    target = seed_target_folder(tmp_path / "target", Path(spark_runs.env["DBT_TARGET_PATH"]))
    assert _adapter_type(target / "manifest.json") == "spark"
    environment = {k: v for k, v in os.environ.items() if k != settings.ENGINE_ENV}
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "from orchestration.dbt import prepared_manifest;"
            " print(prepared_manifest()['metadata']['adapter_type'])",
        ],
        cwd=settings.REPO_ROOT,
        env=environment | {"DBT_TARGET_PATH": str(target), settings.WAREHOUSE_ENV: str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert loaded.stdout.split()[-1] == "duckdb"
    assert _adapter_type(target / "manifest.json") == "duckdb"


def test_the_comparison_sees_a_changed_value(spark_runs, sample_warehouse, tmp_path):
    """The comparison above can fail: one changed figure in a copy of Spark's first day."""
    assert spark_runs.first.returncode == 0
    changed = tmp_path / "changed.duckdb"
    shutil.copy(spark_runs.first_day, changed)
    with duckdb.connect(str(changed)) as conn:
        conn.execute(
            "UPDATE marts.platform_audience_fit SET target_share_pct = target_share_pct * 1.001"
            " WHERE target_share_pct > 0"
        )
    found = differences(sample_warehouse.database_path, changed)
    assert list(found) == ["marts.platform_audience_fit"]
    assert "target_share_pct" in found["marts.platform_audience_fit"]


def test_the_lake_holds_one_part_per_delivery_and_follows_raw(warehouse, landing):
    """Each delivery's rows of a raw table are one Parquet part, written once; a part whose load
    no longer matches raw is removed and written again."""
    landing.copy_sample()
    assert materialize_ingest(warehouse).success
    lake = settings.lake_dir(warehouse.warehouse_dir)
    with duckdb.connect(str(warehouse.database_path)) as conn:
        first = export_raw_layer(conn, lake)
        delivered = conn.execute("SELECT count(*) FROM audit.file_log").fetchone()[0]
        assert sum(first.parts_written.values()) == delivered
        assert export_raw_layer(conn, lake).parts_written == {}  # nothing new: nothing written
        for table in ("account_snapshots", "notes", "funnel_daily"):
            in_raw = conn.execute(
                f"SELECT * FROM raw.{table} ORDER BY load_id, line_number"
            ).fetchall()
            in_lake = conn.execute(
                f"SELECT * FROM read_parquet('{lake}/raw/{table}/*.parquet')"
                " ORDER BY load_id, line_number"
            ).fetchall()
            assert in_raw and in_raw == in_lake
            assert (lake / "raw" / table / SCHEMA_PART).exists()
        # a delivery of notes that raw no longer holds as it was (rows dropped)
        [(load_id,)] = conn.execute("SELECT DISTINCT load_id FROM raw.notes LIMIT 1").fetchall()
        conn.execute("DELETE FROM raw.notes WHERE load_id = ? AND line_number = 1", [load_id])
        mended = export_raw_layer(conn, lake)
        assert mended.parts_removed == {"notes": 1} and mended.parts_written == {"notes": 1}
        assert (
            conn.execute(
                f"SELECT count(*) FROM read_parquet('{lake}/raw/notes/*.parquet')"
            ).fetchone()[0]
            == conn.execute("SELECT count(*) FROM raw.notes").fetchone()[0]
        )


# Java options set as CARDREACH_SPARK_JAVA_OPTIONS: a misspelt flag and an empty one, which the
# JVM Spark starts ignores, among three it holds
GIVEN_JAVA_OPTIONS = (
    "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+UseSerialGc -XX:MaxHeapSize=1g -Xss2m -XX:"
)


@pytest.fixture(scope="module")
def spark_in_this_process():
    """pyspark starts one JVM a process, with the Java options of the process's first session;
    later sessions use it. This module's sessions in the test's process start after this one's:
    GIVEN_JAVA_OPTIONS but the heap's, as a session started before the setting changed."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    assert SparkContext._gateway is None, "a JVM started before: its options stand"  # noqa: SLF001
    SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").config(
        "spark.driver.extraJavaOptions", GIVEN_JAVA_OPTIONS.replace("=1g", "=768m")
    ).getOrCreate().stop()


def test_a_spark_session_started_for_another_warehouse_is_refused(
    spark_in_this_process, tmp_path, monkeypatch
):
    """The session a dbt step leaves for the run's next one is fixed to its table folder: a
    process whose session builds into another warehouse's folder stops before dbt builds. The
    same session says which of CARDREACH_SPARK_JAVA_OPTIONS its JVM holds (each Spark step's
    log line): a misspelt flag, or a value the JVM did not take, is ignored without a word."""
    from pyspark.sql import SparkSession

    one = tmp_path / "a warehouse"
    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(settings.spark_tables_dir(tmp_path / "x" / "..")))
        .getOrCreate()
    )
    try:
        monkeypatch.setenv(settings.SPARK_JAVA_OPTIONS_ENV, GIVEN_JAVA_OPTIONS)
        java_options = spark_java_options()
        assert java_options.in_effect == ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss2m"]
        assert java_options.ignored == ["-XX:+UseSerialGc", "-XX:MaxHeapSize=1g", "-XX:"]
        session.sql("SELECT 1").collect()  # Spark now holds the folder as a normalised file: URI
        assert session.conf.get("spark.sql.warehouse.dir").startswith("file:")
        check_spark_session_is_for(tmp_path)  # its own warehouse, however it is spelt
        check_spark_session_is_for(one / "..")
        with pytest.raises(RuntimeError, match="Run each warehouse in a process of its own"):
            check_spark_session_is_for(one)
    finally:
        session.stop()
    check_spark_session_is_for(one)  # stopped: the next step starts its own


def test_a_task_that_fails_is_tried_again_as_on_a_cluster(spark_in_this_process):
    """Spark as dbt's profile starts it makes more than one attempt at a task (docs/scaling.md:
    with one, a build on Spark failed on a task that failed reading back its plan)."""
    from pyspark import TaskContext
    from pyspark.sql import SparkSession

    profile = yaml.safe_load((settings.DBT_PROJECT_DIR / "profiles.yml").read_text())
    master = profile["cardreach"]["outputs"]["spark"]["server_side_parameters"]["spark.master"]

    def fails_at_first_attempt(value: int) -> int:
        if TaskContext.get().attemptNumber() == 0:
            raise RuntimeError("a task's first attempt fails")
        return value * 2

    session = (
        SparkSession.builder.master(master)
        .config("spark.ui.enabled", "false")
        .config("spark.pyspark.python", sys.executable)  # this test's tasks run Python
        .getOrCreate()
    )
    try:
        assert session.sparkContext.master == master  # not a session started before
        numbers = session.sparkContext.parallelize([1, 2, 3], 2)
        assert sorted(numbers.map(fails_at_first_attempt).collect()) == [2, 4, 6]
    finally:
        session.stop()


@pytest.mark.parametrize(
    ("held", "written", "same"),
    [
        ("1073741824", "1g", True),  # the JVM holds sizes in bytes
        ("805306368", "1G", False),
        ("75.0", "75", True),  # and doubles as such
        ("16", "0x10", True),
        ("true", "true", True),
        ("1", "2", False),
    ],
)
def test_a_jvm_flag_is_compared_by_its_value_whatever_the_notation(held, written, same):
    assert _same_flag_value(held, written) is same


@pytest.mark.parametrize("value", ["XX:+UseSerialGC", "-XX:TieredStopAtLevel=1 UseSerialGC"])
def test_java_options_spark_would_take_for_its_class_are_refused_by_name(monkeypatch, value):
    monkeypatch.setenv(settings.SPARK_JAVA_OPTIONS_ENV, value)
    with pytest.raises(ValueError, match="CARDREACH_SPARK_JAVA_OPTIONS=.*each starting with -"):
        settings.dbt_environment()
    monkeypatch.setenv(settings.SPARK_JAVA_OPTIONS_ENV, "  -XX:+UseSerialGC   -Xss4m ")
    assert settings.dbt_environment()[settings.SPARK_JAVA_OPTIONS_ENV] == "-XX:+UseSerialGC -Xss4m"
    monkeypatch.delenv(settings.SPARK_JAVA_OPTIONS_ENV)
    assert settings.dbt_environment()[settings.SPARK_JAVA_OPTIONS_ENV] == ""


def test_an_engine_cardreach_does_not_build_on_is_refused(monkeypatch):
    monkeypatch.setenv(settings.ENGINE_ENV, "snowflake")
    with pytest.raises(ValueError, match="CARDREACH_ENGINE='snowflake'.*duckdb or spark"):
        settings.engine()
    monkeypatch.setenv(settings.ENGINE_ENV, " Spark ")
    assert settings.engine() == "spark"
