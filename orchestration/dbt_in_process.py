"""dbt run inside the pipeline's process, for dagster-dbt as if it were its subprocess.

A dbt step started a `dbt` process: Python, dbt's imports and the project's parse, about 3.5-5 s
before the first model, twice in every run (the models, then the scores), while the pipeline's
process has already imported dbt (dagster-dbt does) and the models of a daily run take 1-6 s.
On DuckDB, dbt now runs in this process (dbt's programmatic `dbtRunner`), in a thread of its own.
dagster-dbt still does everything else: the step's selection, turning dbt's events into Dagster's
outputs and check results, the errors. It reads the run through `InProcessDbt`, which gives it what
it reads of a subprocess: each event as the JSON line dbt writes with `--log-format json`, then the
exit status. Figures: docs/performance.md ("The in-process round").

On Spark, dbt keeps its subprocess: the Spark session it starts (and its JVM, gigabytes) would live
on in the pipeline's process after the step.
"""

import contextlib
import queue
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import orjson
from dagster_dbt import DbtCliInvocation, DbtCliResource
from dagster_dbt.asset_utils import (
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)

from orchestration.warehouse import give_back_memory

# dbt's events a subprocess writes to its JSON stdout: info and above, without the cache's
# bookkeeping (dbt's own stdout filter); debug events (every query) go to dbt.log only.
_QUIET_LEVELS = frozenset({"debug"})
_QUIET_EVENTS = frozenset({"CacheAction", "CacheDumpGraph"})
# Exit statuses of the `dbt` command: 1, the build ran and a node failed; 2, dbt itself failed.
_NODE_FAILED, _DBT_FAILED = 1, 2
_END = object()


class _Lines:
    """The stdout dagster-dbt reads: dbt's events as JSON lines, as they happen."""

    def __init__(self):
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False

    def put(self, line) -> None:
        self._lines.put(line)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:  # a timeout, so that an interrupt reaches the step's thread while dbt works
                line = self._lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is _END:
                return
            yield line

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True


class InProcessDbt:
    """A dbt command running in this process, with what dagster-dbt reads of `subprocess.Popen`:
    `args`, `stdout` (JSON lines), `wait()`, `returncode`, `send_signal()`."""

    def __init__(self, args: list[str], project_dir: Path):
        self.args = ["dbt", *args]
        self.stdout = _Lines()
        self.returncode: int | None = None
        self._raised: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(args, project_dir), name="dbt", daemon=True
        )
        self._thread.start()

    def _run(self, args: list[str], project_dir: Path) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        said_errors = []

        def relay(message) -> None:
            if message.info.level not in _QUIET_LEVELS and message.info.name not in _QUIET_EVENTS:
                said_errors.append(message.info.level == "error")
                self.stdout.put(orjson.dumps(msg_to_dict(message)))

        try:
            result = dbtRunner(callbacks=[relay]).invoke([*args, "--project-dir", str(project_dir)])
            if result.exception is not None and not isinstance(result.exception, Exception):
                self._raised = result.exception  # an interrupt, not dbt's outcome
            elif result.exception is not None and not any(said_errors):
                # refused before dbt logged anything (a bad flag, say): its reason, as dbt's
                # command line would print it, for dagster-dbt's error
                self.stdout.put(_error_line(result.exception))
            self.returncode = (
                0 if result.success else (_NODE_FAILED if result.exception is None else _DBT_FAILED)
            )
        except BaseException as error:  # noqa: BLE001 - handed to the step's thread in wait()
            self._raised, self.returncode = error, _DBT_FAILED
        finally:
            _let_go_of_duckdb()
            self.stdout.put(_END)

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        if self._raised is not None:
            raised, self._raised = self._raised, None
            raise raised
        return self.returncode

    def send_signal(self, _signal: int = signal.SIGINT) -> None:
        """An interrupted step (dagster-dbt forwards it as SIGINT): stop dbt's running query."""
        with contextlib.suppress(Exception):
            from dbt.adapters.factory import FACTORY

            for adapter in FACTORY.adapters.values():
                adapter.cancel_open_connections()


def _error_line(error: Exception) -> bytes:
    return orjson.dumps(
        {
            "info": {"name": "MainEncounteredError", "level": "error", "msg": str(error)},
            "data": {"exc": str(error)},
        }
    )


def _let_go_of_duckdb() -> None:
    """Close dbt's DuckDB database: dbt-duckdb keeps it open between invocations, and the step
    reads what dbt built with a connection of its own (DuckDB refuses a second connection to a
    file open in the same process with other settings). Then the memory DuckDB worked in goes
    back to the system, for the steps after it."""
    with contextlib.suppress(ImportError):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        DuckDBConnectionManager.close_all_connections()
    give_back_memory()


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
    flags = [
        "--target-path", str(target_path),
        "--log-path", str(target_path),
        "--log-format", "json",
        "--log-level", "none",  # stdout: dagster-dbt relays the events itself
        "--log-level-file", "debug",
        "--no-send-anonymous-usage-stats",
    ]  # fmt: skip
    if resource.profiles_dir:
        flags += ["--profiles-dir", str(resource.profiles_dir)]
    if params.indirect_selection:
        flags += ["--indirect-selection", params.indirect_selection]
    dbt_args = [*resource.global_config_flags, *cleaned, *params.selection_args, *flags]
    process = InProcessDbt(dbt_args, project_dir)
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
