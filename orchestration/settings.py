"""Every path, file name and default cardreach uses, defined once.

Two settings come from the contract (CARDREACH_LANDING, CARDREACH_WAREHOUSE), two size DuckDB's
work (its memory cap, its threads), one lets the bank's own figures reach the analysts' copy, and
the engine's are in docs/scaling.md; everything cardreach writes is a fixed name inside the
warehouse folder. They are read when asked for, not at import, so a test (or an operator's shell)
that sets them before a run is always obeyed. dbt reads the same values through
`dbt_environment()`.
"""

import functools
import os
import re
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
# The Dagster instance's settings, copied into each DAGSTER_HOME (the Makefile, the benchmark).
DAGSTER_YAML = REPO_ROOT / "orchestration" / "dagster.yaml"
# The closed lists of codes (bank types, audience dimensions, ...): a seed the contract reads.
CATEGORY_CODES_SEED = DBT_PROJECT_DIR / "seeds" / "category_codes.csv"
# The venv's own dbt, so Dagster never picks up another dbt from the PATH.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
# The analysts' DuckDB CLI (the duckdb-cli package, at the version of the duckdb module).
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"

LANDING_ENV = "CARDREACH_LANDING"
WAREHOUSE_ENV = "CARDREACH_WAREHOUSE"
DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse"
# DuckDB's memory cap for the pipeline's own work (its connections and dbt's). DuckDB's default,
# 80% of RAM, lets one large window or join take most of the machine; under this cap the same
# work spills to a `.tmp/` folder beside the database and takes about as long.
MEMORY_LIMIT_ENV = "CARDREACH_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"
# DuckDB's worker threads for the same work; by default DuckDB's own choice, one per core. Fewer
# when the machine runs other work beside cardreach (the test suite runs one worker per core).
THREADS_ENV = "CARDREACH_DUCKDB_THREADS"
# Not a user setting: how the pipeline hands dbt's profile the database it writes.
DBT_DATABASE_ENV = "CARDREACH_DBT_DATABASE"

# Which engine dbt builds the models on (docs/scaling.md): DuckDB in the pipeline's database, the
# embedded default, or Spark, reading the raw layer as Parquet from the lake. The name is also
# the dbt target's (dbt_project/profiles.yml).
ENGINE_ENV = "CARDREACH_ENGINE"
ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
# Where the raw layer is written as Parquet for Spark, one part per delivery: a folder every
# Spark worker reads (a shared mount on a cluster); by default the warehouse's `lake` folder.
LAKE_ENV = "CARDREACH_LAKE"
LAKE_FOLDER = "lake"
# Spark in local mode keeps its tables and its catalog (metastore) here, inside the warehouse;
# its tables in SPARK_TABLES_FOLDER (Spark's spark.sql.warehouse.dir), which the pipeline reads
# to copy them back (orchestration/engine.py).
SPARK_FOLDER = "spark"
SPARK_TABLES_FOLDER = "tables"
# Options for the JVM of Spark in local mode (the profile's spark.driver.extraJavaOptions), as the
# java command takes them; by default none, Java's own choices. On small data a local run is
# hundreds of short Spark jobs: the client compiler alone and one collector thread
# (-XX:TieredStopAtLevel=1 -XX:+UseSerialGC) take a quarter of its CPU off; at a quarter of the
# benchmark's default size they slow the scores' windows (docs/scaling.md).
SPARK_JAVA_OPTIONS_ENV = "CARDREACH_SPARK_JAVA_OPTIONS"
# Not user settings: how the pipeline hands dbt's Spark profile the lake and its own folder.
DBT_LAKE_ENV = "CARDREACH_DBT_LAKE"
DBT_SPARK_DIR_ENV = "CARDREACH_DBT_SPARK_DIR"
DBT_SPARK_TABLES_ENV = "CARDREACH_DBT_SPARK_TABLES"

# What cardreach writes, inside the warehouse folder.
PIPELINE_DATABASE_FILE = "cardreach.duckdb"
ANALYTICS_DATABASE_FILE = "analytics.duckdb"
ARCHIVE_FOLDER = "archive"
STAGING_FOLDER = "staging"  # a GB18030 delivery's UTF-8 copy while it is read; emptied after
# The suites' latest results, one JSON file per suite, that the gate's page is rendered from.
QUALITY_RESULTS_FOLDER = "quality_results"
REPORT_FOLDER = "report"
REPORT_FILE = Path(REPORT_FOLDER) / "cardreach_report.html"
QUALITY_PAGE_FILE = Path(REPORT_FOLDER) / "quality.html"
WRITER_LOCK_FILE = ".writer.lock"
# The dbt models' column lineage, kept in dbt's target folder by compiled SQL and schemas, so
# that it is worked out (about a second a model) only when they change.
COLUMN_LINEAGE_FILE = "column_lineage.json"
# What ingestion holds, per delivered file name (its sha256, size and mtime), as a file the
# sensor and `make run` read without opening the database (a run may hold it for minutes).
INGEST_RECORD_FILE = "ingested_files.json"
# What the last complete build covered (defs/automation/plan.py), beside the ingest record.
BUILD_RECORD_FILE = "build_record.json"
# The full log of each `make run` (Dagster's and dbt's lines); the newest few are kept.
RUN_LOGS_FOLDER = "logs"
KEPT_RUN_LOGS = 20

# `make run` prints one line per stage and its summary; true brings every log line back to the
# terminal (as `-v` does).
VERBOSE_ENV = "CARDREACH_VERBOSE"

# The schemas published to analysts: the marts (scores included) and the reference seeds.
PUBLISHED_SCHEMAS = ("marts", "reference")

# The bank's own figures (dbt models tagged `confidential`, such as the funnel marts) reach the
# analysts' copy only when this setting is true; by default they stay in the pipeline's database.
PUBLISH_CONFIDENTIAL_ENV = "CARDREACH_PUBLISH_CONFIDENTIAL"
CONFIDENTIAL_TAG = "confidential"
# dbt models whose rows depend on today's date (a feed's age): rebuilt and checked on the first
# run of each day even when no delivery of theirs changed (defs/automation/plan.py).
AS_OF_TODAY_TAG = "as_of_today"

# The report folder is served read-only over http (orchestration/serve.py, started by `make ui`)
# on this machine only, so the UI's links open it: browsers refuse file:// links from an http page.
REPORT_PORT_ENV = "CARDREACH_REPORT_PORT"
DEFAULT_REPORT_PORT = 3001
REPORT_HOST = "127.0.0.1"

# The clock of the readers (the marketing teams in China): the daily schedule runs on it and the
# report shows its times in it, naming the zone.
TIMEZONE_ENV = "CARDREACH_TIMEZONE"
DEFAULT_TIMEZONE = "Asia/Shanghai"
# The day the pipeline takes as today, on that clock unless set (YYYY-MM-DD): ingestion's rule
# against future dates, a feed's age, the run plan's new day. Set, it holds one day, as the test
# suite does for its session (one that crosses midnight sees no new day); on a live landing
# folder a row dated after it is quarantined as in the future.
TODAY_ENV = "CARDREACH_TODAY"
# The same day as dbt's profile and models read it (macros/today.sql), set at each dbt step.
DBT_TODAY_ENV = "CARDREACH_DBT_TODAY"

# A landing file modified this recently may still be being written: ingestion and the sensor
# leave it for a later look.
SETTLE_SECONDS = 10


def resolve(value: str) -> Path:
    """A setting may be absolute or relative to the repository root (never to the caller's cwd)."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path)


def landing_dir() -> Path:
    """Folder of delivered snapshot files; cardreach never changes or deletes anything in it."""
    return resolve(os.environ.get(LANDING_ENV) or DEFAULT_LANDING)


def warehouse_dir() -> Path:
    """Folder of all state cardreach writes."""
    return resolve(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)


class FolderConflict(ValueError):
    """The landing and warehouse folders overlap; the message names the setting to change."""


def check_folders_apart(landing: Path, warehouse: Path) -> None:
    """Refuse a landing folder and a warehouse folder that are the same or contain each other.

    The warehouse inside the landing folder would make every run ingest (and archive again) the
    platform's own databases, and write into the folder the contract says cardreach never
    changes; the landing folder inside the warehouse would mix deliveries with cardreach's state.
    Symbolic links are resolved, so two names for one folder are caught too.
    """
    landing, warehouse = landing.resolve(), warehouse.resolve()
    settings = (
        f"{LANDING_ENV}={landing}, {WAREHOUSE_ENV}={warehouse}: set one of them so that neither"
        " folder is inside the other"
    )
    if landing == warehouse:
        raise FolderConflict(
            f"the landing and warehouse folders are the same folder ({settings}; the defaults are"
            f" {DEFAULT_LANDING} and {DEFAULT_WAREHOUSE})"
        )
    if warehouse.is_relative_to(landing):
        raise FolderConflict(
            f"the warehouse folder is inside the landing folder: cardreach would ingest its own"
            f" databases and write into deliveries. Change {WAREHOUSE_ENV} to a folder outside"
            f" the landing folder ({settings})"
        )
    if landing.is_relative_to(warehouse):
        raise FolderConflict(
            f"the landing folder is inside the warehouse folder, among cardreach's own state."
            f" Change {LANDING_ENV} to a folder outside the warehouse folder ({settings})"
        )


def pipeline_database(warehouse: Path | None = None) -> Path:
    """The pipeline's own database: one writer at a time, never opened by analysts."""
    return (warehouse or warehouse_dir()) / PIPELINE_DATABASE_FILE


def analytics_database(warehouse: Path | None = None) -> Path:
    """The copy of the marts published for analysts."""
    return (warehouse or warehouse_dir()) / ANALYTICS_DATABASE_FILE


def archive_dir(warehouse: Path | None = None) -> Path:
    """Content-addressed copy of every file ever delivered, by sha256."""
    return (warehouse or warehouse_dir()) / ARCHIVE_FOLDER


def staging_dir(warehouse: Path | None = None) -> Path:
    """Where ingestion writes the UTF-8 copy of a GB18030 file while DuckDB reads it."""
    return (warehouse or warehouse_dir()) / STAGING_FOLDER


def quality_results_dir(warehouse: Path | None = None) -> Path:
    """Each suite's latest result (JSON), from which the gate's page is rendered."""
    return (warehouse or warehouse_dir()) / QUALITY_RESULTS_FOLDER


def report_dir(warehouse: Path | None = None) -> Path:
    """The folder of the report pages, the only one the report server serves."""
    return (warehouse or warehouse_dir()) / REPORT_FOLDER


def report_path(warehouse: Path | None = None) -> Path:
    """The marketing teams' HTML report."""
    return (warehouse or warehouse_dir()) / REPORT_FILE


def ingest_record(warehouse: Path | None = None) -> Path:
    """What has been ingested, by file name: read by the sensor and `make run`'s pre-check."""
    return (warehouse or warehouse_dir()) / INGEST_RECORD_FILE


def build_record(warehouse: Path | None = None) -> Path:
    """What the last complete build covered: which runs may rebuild only what changed."""
    return (warehouse or warehouse_dir()) / BUILD_RECORD_FILE


def run_logs_dir(warehouse: Path | None = None) -> Path:
    """The full logs of `make run`, one file per run."""
    return (warehouse or warehouse_dir()) / RUN_LOGS_FOLDER


def verbose() -> bool:
    """Whether `make run` shows every log line (Dagster's and dbt's) on the terminal."""
    return (os.environ.get(VERBOSE_ENV) or "").strip().lower() in ("1", "true", "yes")


def quality_page_path(warehouse: Path | None = None) -> Path:
    """The quality gate's page: every suite's latest result, beside the report."""
    return (warehouse or warehouse_dir()) / QUALITY_PAGE_FILE


def report_port() -> int:
    """The port of the report server on REPORT_HOST."""
    value = (os.environ.get(REPORT_PORT_ENV) or str(DEFAULT_REPORT_PORT)).strip()
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 65536:
        raise ValueError(f"{REPORT_PORT_ENV}={value!r} is not a port: set it to a number like 3001")
    return int(value)


def report_url(path: Path, warehouse: Path | None = None, fragment: str = "") -> str:
    """The http address of a file of the report folder on the report server."""
    from urllib.parse import quote

    relative = Path(path).resolve().relative_to(report_dir(warehouse).resolve()).as_posix()
    url = f"http://{REPORT_HOST}:{report_port()}/{quote(relative)}"
    return f"{url}#{quote(fragment)}" if fragment else url


def writer_lock(warehouse: Path | None = None) -> Path:
    """The lock file that lets one run at a time write the warehouse."""
    return (warehouse or warehouse_dir()) / WRITER_LOCK_FILE


_MEMORY_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*([KMGT]i?B|B)\s*$", re.IGNORECASE)


def duckdb_memory_limit() -> str:
    """DuckDB's memory_limit for the pipeline's connections, such as `1GB` or `512MB`."""
    value = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
    # DuckDB reads some other texts (a negative number) as "no limit": refuse them here
    if not _MEMORY_SIZE.match(value):
        raise ValueError(
            f"{MEMORY_LIMIT_ENV}={value!r} is not a memory size: write it like 1GB or 512MB."
        )
    return value


def duckdb_threads() -> int:
    """DuckDB's threads for the pipeline's connections and dbt's (THREADS_ENV), by default
    DuckDB's own count."""
    value = (os.environ.get(THREADS_ENV) or "").strip()
    if not value:
        return _duckdb_default_threads()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ValueError(
            f"{THREADS_ENV}={value!r} is not a number of threads: write a whole number such as 1"
            " or 4, or leave it unset for one per core."
        )
    return int(value)


@functools.cache
def _duckdb_default_threads() -> int:
    import duckdb

    with duckdb.connect() as conn:
        return conn.execute("SELECT current_setting('threads')").fetchone()[0]


def publish_confidential() -> bool:
    """Whether the confidential marts are published to the analysts' copy (default: no)."""
    value = (os.environ.get(PUBLISH_CONFIDENTIAL_ENV) or "false").strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(
            f"{PUBLISH_CONFIDENTIAL_ENV}={value!r} is not a yes or no: set it to true to publish"
            " the bank's own figures (the funnel marts) to the analysts' copy, false to keep them"
            " in the pipeline's database"
        )
    return value in ("true", "1", "yes")


def timezone_name() -> str:
    """The IANA name of the readers' time zone, such as Asia/Shanghai (default) or Europe/Paris."""
    value = (os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE).strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{TIMEZONE_ENV}={value!r} is not a time zone: write an IANA name such as"
            f" {DEFAULT_TIMEZONE}"
        ) from None
    return value


def timezone() -> ZoneInfo:
    """The readers' time zone (TIMEZONE_ENV), in which the report shows its times."""
    return ZoneInfo(timezone_name())


def today() -> date:
    """The day the pipeline takes as today (TODAY_ENV): by default the date on the readers'
    clock (settings.timezone), not the machine's, which may be hours behind (a server on UTC)."""
    value = (os.environ.get(TODAY_ENV) or "").strip()
    if not value:
        return datetime.now(timezone()).date()
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(value)  # fromisoformat takes 20261206 and 2026-W49-7 too
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{TODAY_ENV}={value!r} is not a date: write it as YYYY-MM-DD, such as 2026-12-06,"
            f" or leave it unset for today on the clock of {TIMEZONE_ENV}"
        ) from None


def engine() -> str:
    """The engine dbt builds the models on: `duckdb` (default) or `spark`."""
    value = (os.environ.get(ENGINE_ENV) or DEFAULT_ENGINE).strip().lower()
    if value not in ENGINES:
        raise ValueError(
            f"{ENGINE_ENV}={value!r} is not an engine cardreach builds on: set it to"
            f" {' or '.join(ENGINES)} (docs/scaling.md), or unset it for {DEFAULT_ENGINE}"
        )
    return value


def lake_dir(warehouse: Path | None = None) -> Path:
    """The raw layer as Parquet (LAKE_ENV), which dbt on Spark reads."""
    configured = os.environ.get(LAKE_ENV)
    return resolve(configured) if configured else (warehouse or warehouse_dir()) / LAKE_FOLDER


def spark_dir(warehouse: Path | None = None) -> Path:
    """Spark's local tables and catalog, when it runs in local mode on this machine."""
    return (warehouse or warehouse_dir()) / SPARK_FOLDER


def spark_tables_dir(warehouse: Path | None = None) -> Path:
    """The tables Spark builds in local mode, one folder each."""
    return spark_dir(warehouse) / SPARK_TABLES_FOLDER


def spark_java_options() -> list[str]:
    """The options SPARK_JAVA_OPTIONS_ENV gives Spark's JVM in local mode, by default none."""
    value = os.environ.get(SPARK_JAVA_OPTIONS_ENV) or ""
    options = value.split()
    # Spark starts its JVM ignoring options it does not recognise, and reads a word without a
    # dash as the class to run: refuse what is not an option here, by name
    if not all(option.startswith("-") for option in options):
        raise ValueError(
            f"{SPARK_JAVA_OPTIONS_ENV}={value!r} is not a list of Java options: write them as"
            " the java command takes them, each starting with -, such as"
            " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC, or leave it unset."
        )
    return options


def setting_problems() -> list[str]:
    """What is wrong with the settings the environment gives, a sentence each naming its
    variable: `cardreach` says them all before it starts rather than stop on the first one read,
    deep in a run."""
    problems = []
    for read in (
        report_port,
        duckdb_memory_limit,
        duckdb_threads,
        publish_confidential,
        timezone_name,
        today,
        engine,
        spark_java_options,
    ):
        try:
            read()
        except ValueError as error:
            if str(error) not in problems:  # today() reads the time zone too
                problems.append(str(error))
    return problems


def dbt_environment(warehouse: Path | None = None, day: date | None = None) -> dict[str, str]:
    """What dbt's profile and models read (dbt_project/profiles.yml): the engine (its target),
    the day (the run's, else today: macros/today.sql), the database, DuckDB's memory cap and
    threads, and on Spark the lake, Spark's local folder and its JVM's options."""
    return {
        ENGINE_ENV: engine(),
        DBT_TODAY_ENV: (day or today()).isoformat(),
        DBT_DATABASE_ENV: str(pipeline_database(warehouse)),
        MEMORY_LIMIT_ENV: duckdb_memory_limit(),
        THREADS_ENV: str(duckdb_threads()),
        DBT_LAKE_ENV: str(lake_dir(warehouse)),
        DBT_SPARK_DIR_ENV: str(spark_dir(warehouse)),
        DBT_SPARK_TABLES_ENV: str(spark_tables_dir(warehouse)),
        SPARK_JAVA_OPTIONS_ENV: " ".join(spark_java_options()),
    }


# How old each delivered feed's latest figures may be, in days from its latest as-of date (the
# column named) to today, before its raw table's freshness check warns. Monthly figures are dated
# by the month's first day and come out weeks after the month ends; the bank's own daily figures
# should be days old. The account snapshot feed's age is the Great Expectations suite
# account_snapshot_feed's (per platform, 45 days), so it is not stated again here; the registries
# (accounts, campaigns) carry no as-of date.
FEED_AGE_LIMITS: dict[str, tuple[str, int]] = {
    "app_activity": ("month", 75),
    "app_audience": ("month", 75),
    "creator_audience": ("month", 75),
    "notes": ("snapshot_date", 45),
    "topic_snapshots": ("snapshot_date", 45),
    "creators": ("snapshot_date", 45),
    "collaborations": ("date", 90),
    "funnel_daily": ("date", 7),
    "marketing_costs": ("date", 7),
}


def local_time(moment: datetime) -> str:
    """A moment on the readers' clock (settings.timezone), naming the zone: "2026-12-02 16:30
    (Asia/Shanghai)". A naive moment is UTC, as DuckDB's publication stamp is."""
    zone = timezone()
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return f"{aware.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"
