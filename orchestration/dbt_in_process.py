"""dbt run inside the pipeline's process, for dagster-dbt as if it were its subprocess.

A dbt step started a `dbt` process: Python, dbt's imports and the project's parse, about 3.5-5 s
before the first model, twice in every run (the models, then the scores), while the pipeline's
process has already imported dbt (dagster-dbt does) and the models of a daily run take 1-6 s.
On DuckDB, dbt now runs in this process (dbt's programmatic `dbtRunner`), in a thread of its own.
dagster-dbt still does everything else: the step's selection, turning dbt's events into Dagster's
outputs and check results, the errors. It reads the run through `InProcessDbt`, which gives it what
it reads of a subprocess: each event as the JSON line dbt writes with `--log-format json`, then the
exit status. Figures: docs/performance.md ("The in-process round").

On Spark too: the Spark session dbt-spark starts (its JVM, the metastore) then lives on in the
pipeline's process, and the run's next dbt step builds with it instead of starting Spark again
(engine.check_spark_session_is_for).
"""

import contextlib
import ctypes
import logging
import queue
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import orjson
from dagster_dbt import DbtCliInvocation, DbtCliResource
from dagster_dbt.asset_utils import (
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)

from orchestration.dbt_command import reuse_parses_across_database_files
from orchestration.engine import cancel_spark_jobs
from orchestration.warehouse import give_back_memory

# dbt's events a subprocess writes to its JSON stdout: info and above, without the cache's
# bookkeeping (dbt's own stdout filter); debug events (every query) go to dbt.log only.
_QUIET_LEVELS = frozenset({"debug"})
_QUIET_EVENTS = frozenset({"CacheAction", "CacheDumpGraph"})
# Exit statuses of the `dbt` command: 1, the build ran and a node failed; 2, dbt itself failed.
_NODE_FAILED, _DBT_FAILED = 1, 2
_END = object()
# The Python logger dbt writes each build's dbt.log through (dbt/events/logging.py).
DBT_FILE_LOGGER = "file_log"


class _Lines:
    """The stdout dagster-dbt reads: dbt's events as JSON lines, as they happen."""

    def __init__(self, running: Callable[[], bool]):
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self._running = running
        self.closed = False

    def put(self, line) -> None:
        self._lines.put(line)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:  # a timeout, so that an interrupt reaches the step's thread while dbt works
                line = self._lines.get(timeout=0.5)
            except queue.Empty:
                # once dbt's thread is gone nothing more comes: read what is left, then stop,
                # even when it died without its end mark
                if self._running() or not self._lines.empty():
                    continue
                return
            if line is _END:
                return
            yield line

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True


class InProcessDbt:
    """A dbt command running in this process, with what dagster-dbt reads of `subprocess.Popen`:
    `args`, `stdout` (JSON lines), `wait()`, `poll()`, `returncode`, `send_signal()`."""

    def __init__(self, args: list[str], project_dir: Path, target_path: Path | None = None):
        self.args = ["dbt", *args, "--project-dir", str(project_dir)]
        self._target_path = target_path  # where run_results.json goes (invocation_flags)
        self.returncode: int | None = None
        self._raised: BaseException | None = None
        self._interrupted = False
        self._thread = threading.Thread(target=self._run, name="dbt", daemon=True)
        self.stdout = _Lines(running=self._thread.is_alive)
        self._thread.start()

    def _run(self) -> None:
        try:
            try:
                self._build()
            finally:
                _let_go_of_dbt()
        except BaseException as error:  # noqa: BLE001 - handed to the step's thread in wait()
            self._raised, self.returncode = error, _DBT_FAILED
        finally:
            self.stdout.put(_END)

    def _build(self) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        reuse_parses_across_database_files()
        said_an_error = False

        def relay(message) -> None:
            nonlocal said_an_error
            if message.info.level not in _QUIET_LEVELS and message.info.name not in _QUIET_EVENTS:
                said_an_error = said_an_error or message.info.level == "error"
                self.stdout.put(orjson.dumps(msg_to_dict(message)))

        result = dbtRunner(callbacks=[relay]).invoke(self.args[1:])
        # an interrupted build has no result to write (dbt.log says what it did)
        if self._target_path is not None and hasattr(result.result, "write"):
            try:
                result.result.write(str(self._target_path / "run_results.json"))
            except OSError as error:  # the operator's record, never the build's outcome
                dg.get_dagster_logger().warning(f"could not write dbt's run_results.json: {error}")
        if result.exception is not None and not isinstance(result.exception, Exception):
            self._raised = result.exception  # an interrupt, not dbt's outcome
        elif result.exception is not None and not said_an_error:
            # refused before dbt logged anything (a bad flag, say): its reason, as dbt's
            # command line would print it, for dagster-dbt's error
            self.stdout.put(_error_line(result.exception))
        self.returncode = (
            0 if result.success else (_NODE_FAILED if result.exception is None else _DBT_FAILED)
        )

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        if self._thread.is_alive():  # as Popen.wait says it
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        raised, self._raised = self._raised, None
        # the interrupt this step sent dbt is the step's own to raise, not dbt's outcome
        if raised is not None and not (self._interrupted and isinstance(raised, KeyboardInterrupt)):
            raise raised
        return self.returncode

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else self.returncode

    def send_signal(self, _signal: int = signal.SIGINT) -> None:
        """An interrupted step (dagster-dbt forwards it as SIGINT): what SIGINT does to the `dbt`
        command. A KeyboardInterrupt in dbt's thread stops the build (dbt cancels its queries
        and skips the nodes left), and the query running now is cancelled so that it returns."""
        self._interrupted = True
        if self._thread.is_alive() and self._thread.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread.ident), ctypes.py_object(KeyboardInterrupt)
            )
        with contextlib.suppress(Exception):
            from dbt.adapters.factory import FACTORY

            for adapter in FACTORY.adapters.values():
                adapter.cancel_open_connections()
        with contextlib.suppress(Exception):  # dbt-spark's session cannot cancel a statement
            cancel_spark_jobs()


def parse(project_dir: Path, profiles_dir: Path, target_path: Path) -> None:
    """`dbt parse --quiet` (dbt's errors only) in this process, into `target_path`: the manifest
    the definitions read, and a parse every DuckDB warehouse's first dbt step starts from."""
    from dbt.cli.main import dbtRunner

    reuse_parses_across_database_files()
    args = ["parse", "--quiet", "--project-dir", str(project_dir)]
    args += ["--profiles-dir", str(profiles_dir), "--target-path", str(target_path)]
    args += ["--log-path", str(target_path), "--no-send-anonymous-usage-stats"]
    try:
        result = dbtRunner().invoke(args)
    finally:
        _let_go_of_dbt()
    if not result.success:
        raise RuntimeError(f"dbt could not parse the project in {project_dir}: {result.exception}")


def stop(process: "InProcessDbt | subprocess.Popen", timeout: float) -> None:
    """dbt interrupted as dagster-dbt does it, wherever the step's interrupt landed: dagster-dbt
    forwards it only while it waits for dbt's next line, not while it turns one into events.
    Otherwise dbt (in a thread of this process) would go on building while the run ends, and the
    process abort at exit with DuckDB's threads still working. dbt's outcome is not raised: the
    interrupt is the step's error."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        with contextlib.suppress(Exception):
            process.wait(timeout=timeout)


def _error_line(error: Exception) -> bytes:
    return orjson.dumps(
        {
            "info": {"name": "MainEncounteredError", "level": "error", "msg": str(error)},
            "data": {"exc": str(error)},
        }
    )


def _let_go_of_dbt() -> None:
    """What dbt leaves in the process after a build, let go of. Its DuckDB database: after
    `dbtRunner` returns, dbt-duckdb's environment still holds the file open (seen with
    dbt-duckdb 1.11), and DuckDB refuses another connection from this process with other
    settings, such as the read-only one the step reads what dbt built with. Its adapter (which
    holds the manifest), its loggers and callbacks and its dbt.log, kept until the next build
    otherwise. Then the memory DuckDB worked in goes back to the system, for the steps after
    it. Now and then dbt's DuckDB connection stays open all the same: the pipeline's
    connections join it (warehouse.open_database says how)."""
    from dbt.adapters.factory import reset_adapters
    from dbt_common.events.event_manager_client import cleanup_event_logger

    reset_adapters()  # closes the connections dbt's threads used
    with contextlib.suppress(ImportError):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        # dbt-duckdb's close_all_connections only forgets its environment, whose database
        # connection then closes when Python collects it, if nothing holds it: closed here, as
        # dbt-duckdb does itself when it replaces an environment
        with DuckDBConnectionManager._LOCK:  # noqa: SLF001
            environment = DuckDBConnectionManager._ENV  # noqa: SLF001
            DuckDBConnectionManager.close_all_connections()
        if environment is not None:
            with contextlib.suppress(Exception):  # already closed, or closing failed: as before
                environment.close()
    cleanup_event_logger()
    dbt_log = logging.getLogger(DBT_FILE_LOGGER)  # the build's dbt.log, open until closed
    for handler in dbt_log.handlers:
        handler.close()
    dbt_log.handlers.clear()
    give_back_memory()


def invocation_flags(target_path: Path, profiles_dir: str | Path | None) -> list[str]:
    """The flags an in-process dbt command gets in place of the environment dagster-dbt gives
    its subprocess: its folder, its events as JSON lines for dagster-dbt, dbt.log in debug.
    Without dbt's JSON artifacts: at each build dbt wrote the whole manifest twice and pickled
    every node into graph.gpickle, about 0.6 s a step whatever the data, for files nothing
    reads (the definitions read the prepared manifest). InProcessDbt writes run_results.json,
    each node's status and timing, for the operator."""
    flags = [
        "--target-path", str(target_path),
        "--log-path", str(target_path),
        "--no-write-json",
        "--log-format", "json",
        "--log-level", "none",  # stdout: dagster-dbt relays the events itself
        "--log-level-file", "debug",
        "--no-send-anonymous-usage-stats",
    ]  # fmt: skip
    return flags + (["--profiles-dir", str(profiles_dir)] if profiles_dir else [])


def cli(
    resource: DbtCliResource,
    args: list[str],
    *,
    context: dg.AssetExecutionContext,
    target_path: Path,
    translator,
    manifest: dict,
    last_parse: Path,
) -> DbtCliInvocation:
    """`resource.cli(args, context=context, target_path=target_path)`, with dbt in this process:
    the same selection (dagster-dbt's), flags in place of the environment dagster-dbt gives its
    subprocess, and the same reuse of the last parse (`last_parse`, when the invocation's folder
    has no parse of its own yet)."""
    cleaned, selects, excludes = extract_runtime_selection_from_args(args)
    params = get_updated_cli_invocation_params_for_context(
        context=context,
        manifest=manifest,
        dagster_dbt_translator=translator,
        runtime_selects=selects,
        runtime_excludes=excludes,
    )
    project_dir = Path(
        params.dbt_project.project_dir if params.dbt_project else resource.project_dir
    )
    target_path = target_path if target_path.is_absolute() else project_dir / target_path
    seeded = target_path / "partial_parse.msgpack"
    if last_parse.exists() and not seeded.exists():
        seeded.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(last_parse, seeded)
    flags = invocation_flags(target_path, resource.profiles_dir)
    if params.indirect_selection:
        flags += ["--indirect-selection", params.indirect_selection]
    dbt_args = [*resource.global_config_flags, *cleaned, *params.selection_args, *flags]
    process = InProcessDbt(dbt_args, project_dir, target_path)
    return DbtCliInvocation(
        process=process,  # type: ignore[arg-type]  # what dagster-dbt reads of a Popen
        manifest=params.manifest,
        dagster_dbt_translator=params.dagster_dbt_translator,
        project_dir=project_dir,
        target_path=target_path,
        raise_on_error=True,
        context=context,
        adapter=None,
        cli_version=resource._cli_version,  # noqa: SLF001 - the locked dbt-core's
        project=params.dbt_project,
    )
