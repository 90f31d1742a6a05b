"""Fixtures: small landing folders and warehouses in tmp_path, and real Dagster materializations."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from filelock import FileLock

from orchestration import settings
from orchestration.warehouse import Warehouse, open_database

SAMPLE_LANDING = settings.REPO_ROOT / "data" / "landing"


def _a_dbt_target_per_worker() -> None:
    """Under pytest -n, each worker its own dbt target folder (DBT_TARGET_PATH, which dagster-dbt,
    `cardreach dbt` and `dagster dev` all follow), seeded with what `make` prepared so that no
    worker parses again. dbt rewrites manifest.json and partial_parse.msgpack in place whenever a
    test runs it, while a process of the other worker may be reading them; the column lineage
    cache would lose the other worker's entries."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or "DBT_TARGET_PATH" in os.environ:
        return
    from orchestration.dbt import seed_target_folder

    project_target = settings.DBT_PROJECT_DIR / "target"
    own = project_target / f"pytest-{worker}"
    os.environ["DBT_TARGET_PATH"] = str(seed_target_folder(own, project_target))


_a_dbt_target_per_worker()

# Under pytest -n, one worker per core: DuckDB's threads, one per core in each worker's runs (its
# connections, dbt's, those of the runs they start), only wait on each other. 6% less time on
# four of the pipeline's test modules (docs/performance.md, "The threads round").
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault(settings.THREADS_ENV, "1")

# Spark's JVM in the suite's runs, on the sample: the client compiler alone and one collector
# thread. The Spark test's runs then take about a quarter less CPU, which the other worker gets
# back (docs/performance.md, "The JIT round").
SMALL_DATA_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
os.environ.setdefault(settings.SPARK_JAVA_OPTIONS_ENV, SMALL_DATA_JAVA_OPTIONS)

# One day for the whole session, set before pytest -n starts its workers (they inherit it) and
# followed by every run and `cardreach` process a test starts: the shared sample run records its
# build's day, and a session crossing midnight on the readers' clock would find that build a day
# old (the run plan's new day). tests/test_run_plan.py covers the clock itself.
os.environ.setdefault(settings.TODAY_ENV, settings.today().isoformat())


def _interrupts_as_from_a_terminal() -> None:
    """Ctrl-C and SIGTERM act on the suite and the processes its tests start as they do from a
    terminal, however it was started. A shell starts a command in the background without job
    control (`make test &` in a script) with SIGINT ignored, which every process a test starts
    inherits. `dagster dev` then ignored the browser tests' Ctrl-C (30 s, then killed). After a
    run in this process Dagster sets SIGTERM to SIGINT's handler, so SIGTERM was ignored as well,
    and a later run's log capture waited 30 s each on its `tail` and the watcher of it, which
    ignored their SIGTERM: 87 s of two tests in a suite started so (docs/performance.md, "The
    signal round"). SIGTERM ignored from the start is set back too."""
    for signum, handler in (
        (signal.SIGINT, signal.default_int_handler),
        (signal.SIGTERM, signal.SIG_DFL),
    ):
        if signal.getsignal(signum) is signal.SIG_IGN:
            signal.signal(signum, handler)


_interrupts_as_from_a_terminal()

# No test may phone home or write Dagster state outside tmp_path.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")


# The next day's drop: every account of the sample, two weeks on (a partial drop would mark its
# date partial).
NEXT_DROP = [
    {
        "platform": "小红书",
        "account_name": name,
        "snapshot_date": "2025-05-01",
        "followers": followers,
        "notes": notes,
        "likes": "5万",
        "collects": "2万",
        "source": "test",
    }
    for name, followers, notes in [
        ("中信银行信用卡", "12.9万", "362"),
        ("宁波银行信用卡", "4.7万", "88"),
        ("招商银行信用卡申请", "4.4万", "212"),
        ("平安银行信用卡中心", "3.6万", "233"),
        ("交通银行信用卡买单吧", "3.4万", "310"),
        ("兴业银行信用卡", "2.9万", "116"),
        ("北京银行信用卡", "1.2万", "338"),
    ]
]


def snapshot_on(snapshot_date: str, account_name: str, followers: str) -> dict:
    return {
        "platform": "小红书",
        "account_name": account_name,
        "snapshot_date": snapshot_date,
        "followers": followers,
        "notes": "400",
        "likes": "5万",
        "collects": "2万",
        "source": "t",
    }


class Landing:
    """A landing folder a test writes deliveries into, in delivery order."""

    def __init__(self, path: Path):
        self.path = path
        self.path.mkdir(parents=True, exist_ok=True)
        self._clock = 1_700_000_000  # deliveries get increasing modification times

    def _stamp(self, path: Path) -> Path:
        self._clock += 10
        os.utime(path, (self._clock, self._clock))
        return path

    def csv(self, name: str, rows: list[dict] | list[list], encoding: str = "utf-8") -> Path:
        path = self.path / name
        with path.open("w", encoding=encoding, newline="") as handle:
            if rows and isinstance(rows[0], dict):
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            else:
                csv.writer(handle).writerows(rows)
        return self._stamp(path)

    def jsonl(self, name: str, rows: list[dict]) -> Path:
        path = self.path / name
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
        return self._stamp(path)

    def parquet(self, name: str, rows: list[dict]) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self.path / name
        pq.write_table(pa.Table.from_pylist(rows), path)
        return self._stamp(path)

    def raw(self, name: str, content: bytes) -> Path:
        path = self.path / name
        path.write_bytes(content)
        return self._stamp(path)

    def copy_sample(self) -> "Landing":
        for source in sorted(SAMPLE_LANDING.iterdir()):
            self._stamp(Path(shutil.copy2(source, self.path / source.name)))
        return self


@pytest.fixture
def landing(tmp_path) -> Landing:
    return Landing(tmp_path / "landing")


def point_settings_at(monkeypatch, landing: Landing, folder: Path) -> Warehouse:
    """The warehouse resource on a test folder; the settings point there too (dbt reads them)."""
    monkeypatch.setenv(settings.LANDING_ENV, str(landing.path))
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(folder))
    return Warehouse(landing=str(landing.path), warehouse=str(folder), lock_wait_seconds=2)


@pytest.fixture
def warehouse(tmp_path, landing, monkeypatch) -> Warehouse:
    return point_settings_at(monkeypatch, landing, tmp_path / "warehouse")


def _run_sample(root: Path) -> tuple[Warehouse, dg.ExecuteInProcessResult]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        warehouse = point_settings_at(
            monkeypatch, Landing(root / "landing").copy_sample(), root / "warehouse"
        )
        result = run_pipeline()
        assert result.success, [e.message for e in result.all_events if e.is_failure]
    return warehouse, result


# What a run on the sample leaves in its root folder: what another worker copies.
SAMPLE_FOLDERS = ("landing", "warehouse")


@pytest.fixture(scope="session")
def sample_pipeline(tmp_path_factory) -> tuple[Warehouse, dg.ExecuteInProcessResult]:
    """One `cardreach_daily` run on the shipped sample per test session: a run costs about a
    minute whatever the data, so every test that only reads its outcome shares it. Use
    `sample_run` to read it and `sample_copy` to change it.

    Under pytest -n the first worker to need it runs it and leaves an untouched copy of its
    folders (28 MB) and the run's events in the session's folder; the other workers copy those
    into their own instead of running it again (a copy each: no worker reads a file another
    one's tests may have open), the first worker's folder in the events (the report's path, say)
    rewritten to theirs."""
    root = tmp_path_factory.mktemp("sample")
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _run_sample(root)
    shared = tmp_path_factory.getbasetemp().parent / "sample"
    with FileLock(shared.with_name("sample.lock")):
        if not shared.exists():
            warehouse, result = _run_sample(root)
            building = shared.with_name("sample.building")
            shutil.rmtree(building, ignore_errors=True)
            for folder in SAMPLE_FOLDERS:
                shutil.copytree(root / folder, building / folder)  # modification times kept
            events = dg.serialize_value([result.dagster_run, list(result.all_events)])
            (building / "run.json").write_text(json.dumps({"root": str(root), "events": events}))
            building.rename(shared)
            return warehouse, result
    for folder in SAMPLE_FOLDERS:
        shutil.copytree(shared / folder, root / folder)
    saved = json.loads((shared / "run.json").read_text())
    run, events = dg.deserialize_value(saved["events"].replace(saved["root"], str(root)))
    from orchestration.definitions import defs

    job = defs().resolve_job_def("cardreach_daily")
    with pytest.MonkeyPatch.context() as monkeypatch:
        warehouse = point_settings_at(monkeypatch, Landing(root / "landing"), root / "warehouse")
    return warehouse, dg.ExecuteInProcessResult(events, run, output_capture=None, job_def=job)


@pytest.fixture(scope="session")
def sample_warehouse(sample_pipeline) -> Warehouse:
    return sample_pipeline[0]


@pytest.fixture
def sample_run(sample_warehouse, monkeypatch) -> Warehouse:
    """The shared sample run, read only, with the settings pointing at it for the test."""
    monkeypatch.setenv(settings.LANDING_ENV, sample_warehouse.landing)
    monkeypatch.setenv(settings.WAREHOUSE_ENV, sample_warehouse.warehouse)
    return sample_warehouse


def copy_sample_run(sample: Warehouse, landing: Landing, warehouse_dir: Path) -> None:
    """A copy of the shared sample run into `landing` and `warehouse_dir` (modification times
    kept, later deliveries stamped after them)."""
    shutil.copytree(sample.landing, landing.path, dirs_exist_ok=True)
    landing._clock = max(int(p.stat().st_mtime) for p in landing.path.iterdir())
    shutil.copytree(sample.warehouse, warehouse_dir, dirs_exist_ok=True)


@pytest.fixture
def sample_copy(sample_warehouse, landing, warehouse) -> Warehouse:
    """The test's `landing` and `warehouse` holding a copy of the shared sample run: where a test
    would first run the pipeline on the sample, then deliver, publish or edit something and run
    again."""
    copy_sample_run(sample_warehouse, landing, warehouse.warehouse_dir)
    return warehouse


def query(warehouse: Warehouse, sql: str, params=None) -> list[tuple]:
    """Read the pipeline's database as the pipeline's process does (warehouse.open_database): a
    test that ran the pipeline in this process may find dbt's connection still open."""
    with open_database(warehouse.database_path, read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def mart_tables(database: Path) -> dict[str, list[tuple]]:
    """Every mart table's rows, sorted, without timestamp columns (when things ran differs); read
    as `query` reads (dbt's connection may still be open after a run in this process)."""
    with open_database(database, read_only=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
        ).fetchall()
        contents = {}
        for (table,) in tables:
            columns = [
                name
                for name, type_ in conn.execute(
                    "SELECT column_name, data_type FROM duckdb_columns()"
                    " WHERE schema_name = 'marts' AND table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if not type_.startswith("TIMESTAMP")
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            contents[table] = conn.execute(
                f"SELECT {select} FROM marts.{table} ORDER BY ALL"
            ).fetchall()
    return contents


def make_dagster_home(folder: Path) -> Path:
    """A Dagster instance's folder as `make` makes DAGSTER_HOME: the project's dagster.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(settings.DAGSTER_YAML, folder)
    return folder


CARDREACH_RUN = [sys.executable, "-m", "orchestration.cli", "run"]


def cardreach_run_env(env: dict) -> dict:
    """`env` over this process's environment, CARDREACH_VERBOSE left out: the tests read the
    short summary."""
    return {k: v for k, v in (os.environ | env).items() if k != settings.VERBOSE_ENV}


def cardreach_run(env: dict, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    """`cardreach run ...` as an operator runs it, with `env` (cardreach_run_env)."""
    return subprocess.run(
        [*CARDREACH_RUN, *args],
        cwd=settings.REPO_ROOT,
        env=cardreach_run_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cardreach_dbt(warehouse_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """`cardreach dbt ...` on the warehouse in `warehouse_dir`, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "dbt", *args],
        cwd=settings.REPO_ROOT,
        env=os.environ | {settings.WAREHOUSE_ENV: str(warehouse_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def materialize_ingest(warehouse: Warehouse) -> dg.ExecuteInProcessResult:
    from orchestration.defs.ingest.assets import ingest_landing_files

    return dg.materialize([ingest_landing_files], resources={"warehouse": warehouse})


def planned_run():
    """What `make run` would launch now on the folders the settings name: the RunPlan of
    orchestration/defs/automation/plan.py (the assets the last complete build lacks)."""
    from orchestration.definitions import defs
    from orchestration.defs.automation.plan import plan_run
    from orchestration.defs.ingest.landing import scan_landing
    from orchestration.defs.ingest.record import IngestRecord, new_deliveries

    job = defs().resolve_job_def("cardreach_daily")
    warehouse = settings.warehouse_dir()
    new = new_deliveries(scan_landing(settings.landing_dir()), IngestRecord.read(warehouse)).new
    return plan_run(job.asset_layer.asset_graph.materializable_asset_keys, warehouse, sorted(new))


def run_pipeline(full_refresh: bool = False, whole: bool = False) -> dg.ExecuteInProcessResult:
    """The `cardreach_daily` job as `make run` launches it, on the folders the settings name: on
    the assets its plan selects. `whole` runs every asset, as the launchpad does, and so does
    `full_refresh` (the launchpad's option of the dbt steps)."""
    from orchestration.definitions import defs

    job = defs().resolve_job_def("cardreach_daily")
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        asset_selection=None if whole or full_refresh else planned_run().selection,
        run_config={
            "ops": {
                step: {"config": {"full_refresh": True}}
                for step in ("cardreach_dbt_models", "cardreach_scores")
            }
        }
        if full_refresh
        else None,
    )
