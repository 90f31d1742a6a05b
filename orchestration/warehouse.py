"""The Dagster resource for cardreach's folders and its pipeline database.

Connections are short-lived: open, do one step's work, close, so the file is held for as little
time as possible. Analysts never open this database; they read the published copy.
"""

import ctypes
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from filelock import FileLock, Timeout

from orchestration import settings


class WarehouseLocked(RuntimeError):
    """Another process holds the pipeline database."""


class WarehouseCorrupt(RuntimeError):
    """The pipeline database cannot be opened; it can be rebuilt from the archive."""


def _is_lock_error(error: Exception) -> bool:
    return "lock" in str(error).lower()


def connection_config() -> dict[str, str | int]:
    """DuckDB's settings for the pipeline's connections opened with a config (to the analysts'
    copy, and the checks' conversions): its memory cap (DuckDB's default is 80% of the machine)
    and its threads. Its own database gets them from `open_database`."""
    return {"memory_limit": settings.duckdb_memory_limit(), "threads": settings.duckdb_threads()}


def _is_config_conflict(error: Exception) -> bool:
    """DuckDB's refusal to open a file this process holds open with other settings."""
    return "different configuration" in str(error)


def open_database(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the pipeline database, turning an unreadable file into an error that says what to do.

    Opened with DuckDB's default settings, as dbt-duckdb opens it, then given its memory cap and
    threads with SET: DuckDB refuses a second connection of one process to a file with other
    settings, and dbt, which runs in this process, now and then leaves its connection open after
    a build (reachable: collecting Python's cycles did not free it). A connection opened the same
    way joins it.
    """
    # refused before DuckDB makes a file
    memory_limit, threads = settings.duckdb_memory_limit(), settings.duckdb_threads()
    try:
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as error:
            if not (read_only and _is_config_conflict(error)):
                raise
            # open read-write in this process already: a read-only connection cannot join it
            dg.get_dagster_logger().info(
                f"{path.name} is open read-write in this process (dbt's connection, left"
                " open): reading it through a read-write connection"
            )
            conn = duckdb.connect(str(path))
    except duckdb.Error as error:
        if _is_lock_error(error):
            raise
        if _is_config_conflict(error):  # a connection of this process, still in use
            raise RuntimeError(
                f"cannot open {path} a second time in this process with other settings"
                " (a plain duckdb.connect() with a config is still open): close the other"
                f" connection first. {error}"
            ) from error
        raise WarehouseCorrupt(
            f"cannot open the pipeline database {path}: {error}. Every delivered file is kept in"
            f" {settings.archive_dir(path.parent)}; rebuild the database from it with"
            " `make rebuild` (the broken file is moved aside, not deleted)."
        ) from error
    conn.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
    conn.execute(f"SET threads = {threads:d}")
    return conn


def give_back_memory() -> None:
    """Return the memory a step's work left free to the operating system.

    `make run` runs every step in one process, dbt included: what this
    process keeps after ingesting or checking counts again while dbt works: PyArrow's pool and
    glibc's arenas of the read-ahead thread hold hundreds of MB at scale, and handing them back
    takes well under a millisecond (docs/performance.md). No gc.collect() here: it is slow once
    Great Expectations is loaded, and after a connection closes it freed nothing more (a check's
    frame, held in GE's cycles, is freed as it is validated: defs/quality/suites.py).
    """
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    with suppress(OSError, AttributeError):  # not glibc: nothing to trim this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def acquire_writer_lock(warehouse_dir: Path, say: Callable[[str], object] = print) -> FileLock:
    """The lock that lets one process at a time write the warehouse, waiting for it as long as
    another holds it (saying so every 30 s). Release it with `.release()`."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(settings.writer_lock(warehouse_dir))
    while True:
        try:
            lock.acquire(timeout=30)
            return lock
        except Timeout:
            say(f"another run is writing {warehouse_dir}: waiting")


def _say_who_started(context: dg.InitResourceContext) -> None:
    """A run launched on some assets from the UI's graph runs an implicit job without the daily
    job's `ui` tag, and a re-execution copies its parent's `cli` or `sensor`: both are the UI's.
    Every run opens the warehouse, so this is where each gets its tag."""
    from orchestration.defs.automation.run_tags import STARTED_BY_TAG

    run, instance = context.dagster_run, context.instance
    if run is None or instance is None:
        return
    re_executed = run.parent_run_id is not None and run.tags.get(STARTED_BY_TAG) != "ui"
    if STARTED_BY_TAG not in run.tags or re_executed:
        instance.add_run_tags(run.run_id, {STARTED_BY_TAG: "ui"})


def _fix_the_run_s_day(context: dg.InitResourceContext) -> date:
    """The day the run takes as today: settings.today() as it starts, once it holds the writer's
    lock, tagged on the run (over the tag a re-execution copies from its parent) and said in its
    log. Ingestion, the freshness checks, dbt and the build record all read it, so a run past
    midnight counts every age to one day and records that day. A run that waited past midnight
    takes the new day; if its plan lacked that day's models, its build is not recorded as
    complete and the next run builds them (defs/automation/plan.py)."""
    from orchestration.defs.automation.run_tags import DAY_TAG

    day = settings.today()
    run, instance = context.dagster_run, context.instance
    if run is not None and instance is not None:
        instance.add_run_tags(run.run_id, {DAY_TAG: day.isoformat()})
    if context.log:
        held = (os.environ.get(settings.TODAY_ENV) or "").strip()
        source = settings.TODAY_ENV if held else f"the date in {settings.timezone_name()}"
        context.log.info(f"this run takes {day} as today ({source})")
    return day


def sql_literal(text: str | None) -> str:
    """A SQL string literal of `text` (NULL for None), for statements that take no parameters
    (COMMENT ON, COPY, a CASE built from a list)."""
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def wal_path(database: Path) -> Path:
    """DuckDB's write-ahead log of the database file `database`."""
    return database.with_name(database.name + ".wal")


def write_atomically(text: str, target: Path) -> Path:
    """Write beside the target, then rename over it: a reader (the sensor, `make run`, a browser,
    another run) never sees half a file, and two writers at once leave one's file whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
    return target


def writer_lock_held(warehouse_dir: Path) -> bool:
    """Whether another process holds the writer's lock now (taken and let go at once if not)."""
    if not settings.writer_lock(warehouse_dir).exists():
        return False
    lock = FileLock(settings.writer_lock(warehouse_dir))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


class Warehouse(dg.ConfigurableResource):
    """Landing and warehouse folders; by default CARDREACH_LANDING and CARDREACH_WAREHOUSE."""

    landing: str | None = None
    warehouse: str | None = None
    # How long to wait for another writer to let go of the database before failing the step.
    lock_wait_seconds: float = 30.0

    @property
    def landing_dir(self) -> Path:
        return settings.resolve(self.landing) if self.landing else settings.landing_dir()

    @property
    def warehouse_dir(self) -> Path:
        return settings.resolve(self.warehouse) if self.warehouse else settings.warehouse_dir()

    @property
    def database_path(self) -> Path:
        return settings.pipeline_database(self.warehouse_dir)

    @property
    def analytics_path(self) -> Path:
        return settings.analytics_database(self.warehouse_dir)

    def today(self) -> date:
        """The day this run takes as today, fixed at its start (run_tags.DAY_TAG); outside a
        run, settings.today()."""
        return getattr(self, "_today", None) or settings.today()

    @property
    def archive_dir(self) -> Path:
        return settings.archive_dir(self.warehouse_dir)

    def check_folders(self) -> None:
        """Raise `settings.FolderConflict` when the landing and warehouse folders overlap."""
        settings.check_folders_apart(self.landing_dir, self.warehouse_dir)

    # One writer at a time across processes: `make run`, runs launched from the UI and `make
    # rebuild` all hold this lock for the whole run, so a second run waits instead of failing
    # on DuckDB's file lock halfway through. filelock's lock is the OS's (flock), released by
    # the kernel when a process dies, so a killed run never leaves the warehouse locked.
    # The folders are checked first, before anything is written: a run never starts on
    # overlapping folders.
    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.check_folders()
        _say_who_started(context)
        self._writer_lock = acquire_writer_lock(
            self.warehouse_dir, context.log.info if context.log else lambda message: None
        )
        self._today = _fix_the_run_s_day(context)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        lock = getattr(self, "_writer_lock", None)
        if lock is not None:
            lock.release()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        self.check_folders()
        self.warehouse_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                conn = open_database(self.database_path, read_only=read_only)
                break
            except duckdb.Error as error:  # only a lock: open_database explains the rest
                if time.monotonic() > deadline:
                    raise WarehouseLocked(
                        f"another process holds the pipeline database {self.database_path}"
                        f" (waited {self.lock_wait_seconds:g}s): {error}. Close it there;"
                        f" analysts should open {settings.ANALYTICS_DATABASE_FILE} instead."
                    ) from error
                time.sleep(0.5)
        try:
            yield conn
        finally:
            conn.close()
            give_back_memory()
