"""`make run`: materialize every asset, print what happened, exit non-zero on any failure.

The run goes through the project's Dagster instance (DAGSTER_HOME), so it also shows in the UI.
Before launching it, `run` looks whether anything is new (`whats_new`): a delivery the warehouse
has not ingested, a change of the project or its settings since the last successful run, or a
last run that did not succeed; when nothing is, it says so and launches nothing (`--force` runs
everything anyway). While the run goes, one line per stage; Dagster's and dbt's own lines go to
a log file the output names (`-v` or CARDREACH_VERBOSE=1 brings them back to the terminal).
"""

import argparse
import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import dagster as dg
import duckdb

from orchestration import engine, gate, settings
from orchestration.warehouse import (
    Warehouse,
    WarehouseCorrupt,
    acquire_writer_lock,
    open_database,
    wal_path,
    writer_lock_held,
)


def _definitions() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs()


def _rel(path) -> str:
    try:
        return str(path.relative_to(settings.REPO_ROOT))
    except ValueError:
        return str(path)


def _check_results(result: dg.ExecuteInProcessResult) -> list[dg.AssetCheckEvaluation]:
    return [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def _unsettled_files(result: dg.ExecuteInProcessResult) -> int:
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key == dg.AssetKey(["audit", "file_log"]):
            value = materialization.metadata.get("files_still_being_written")
            return value.value if value is not None else 0
    return 0


def _check_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    checks = _check_results(result)
    errors = [c for c in checks if _is_error(c)]
    warnings = [c for c in checks if not c.passed and c.severity != dg.AssetCheckSeverity.ERROR]
    passed = len(checks) - len(errors) - len(warnings)
    lines = [f"  checks    {passed} passed, {len(errors)} failed, {len(warnings)} warnings"]
    for level, group in (("failed", errors), ("warning", warnings)):
        for check in group:
            lines.append(
                f"   ! {level}: {check.asset_key.to_user_string()} {check.check_name}"
                + (f": {check.description}" if check.description else "")
            )
    return lines


def _asset_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """What was materialized and what not (a failure upstream), what a failed check held back
    from publication, and why steps failed."""
    from orchestration.dbt import published_asset_keys

    graph = result.job_def.asset_layer.asset_graph
    planned = result.job_def.asset_layer.executable_asset_keys
    done = {e.asset_key for e in result.get_asset_materialization_events()}
    missing = sorted(k.to_user_string() for k in planned - done)
    failed = gate.failed_by_asset(_check_results(result))
    held = [
        f"{item.asset.to_user_string()} ({item.causes_text})"
        for item in gate.hold_back(graph, published_asset_keys(), failed)
    ]
    lines = [f"  assets    {len(done)} materialized, {len(missing)} not materialized"]
    if missing:
        lines.append(f"   ! not materialized: {', '.join(missing)}")
    if held:
        lines.append(
            "   ! held back from publication (analysts keep the previous copy): "
            + "\n       ".join(held)
        )
    lines += _failure_lines(result)
    return lines


def _failure_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """Why steps failed, or the run failed before any step (a resource refused to start)."""
    # The same cause (a locked database, say) may fail several steps: said once, with each.
    causes: dict[str, list[str]] = {}
    for failure in result.get_step_failure_events():
        error = failure.step_failure_data.error if failure.step_failure_data else None
        causes.setdefault(error_reason(error), []).append(failure.step_key)
    lines = []
    for reason, steps in causes.items():
        label = f"step {steps[0]}" if len(steps) == 1 else f"steps {', '.join(steps)}"
        lines.append(f"   ! {label} failed: " + _indented(reason))
    if not causes:
        for event in result.all_events:
            error = getattr(event.event_specific_data, "error", None)
            if event.event_type_value == "PIPELINE_FAILURE" and error is not None:
                lines.append(
                    "   ! the run failed before any step: " + _indented(error_reason(error))
                )
    return lines


def _indented(reason: str) -> str:
    return "\n       ".join([m.strip() for m in reason.strip().splitlines() if m.strip()][:8])


# cardreach's own errors say what happened in their message; others need their type named.
_OWN_ERRORS = ("Failure", "IngestError", "FolderConflict", "WarehouseCorrupt", "WarehouseLocked")


def error_reason(error) -> str:
    """What stopped a step or a run, as the code's own error says it, not Dagster's wrapper.

    Dagster wraps an exception raised by a step ("Error occurred while executing op …") or by a
    resource ("Error executing resource_fn …") in errors of its own, whose `cause` is the
    exception the code raised: that one names the file, the line or the setting to change.
    """
    while error is not None and error.cls_name.startswith("Dagster") and error.cause is not None:
        error = error.cause
    if error is None:
        return "(no error recorded)"
    message = error.message.strip()
    # The recorded message starts with the exception's qualified class name.
    qualified, sep, rest = message.partition(": ")
    if sep and qualified.rsplit(".", 1)[-1] == error.cls_name:
        message = rest.strip()
    return message if error.cls_name in _OWN_ERRORS else f"{error.cls_name}: {message}"


def _is_error(check: dg.AssetCheckEvaluation) -> bool:
    return not check.passed and check.severity == dg.AssetCheckSeverity.ERROR


def summarize(result: dg.ExecuteInProcessResult, log: Path | None = None) -> tuple[str, bool]:
    """The run's summary for a person, and whether anything failed."""
    lines = []
    failed = not result.success or any(_is_error(c) for c in _check_results(result))
    database = settings.pipeline_database()
    lines.append(f"cardreach run {result.run_id[:8]}: {'FAILED' if failed else 'succeeded'}")
    landing = settings.landing_dir()
    absent = "" if landing.is_dir() else " (absent: nothing ingested from it)"
    lines.append(f"  landing   {_rel(landing)}{absent}")
    conn = None
    if database.exists():
        try:
            conn = open_database(database, read_only=True)
        except WarehouseCorrupt as error:
            lines.append(f"  ! {error}")
            return "\n".join(lines), True
        except duckdb.Error as error:  # a lock: another process writes the database
            lines.append(
                f"   ! another process holds {_rel(database)}: no file log to show ({error})"
            )
    if conn is not None:
        with conn:
            files = conn.execute(
                "SELECT file_name, dataset, status, rows_loaded, rows_quarantined, message"
                " FROM audit.file_log WHERE run_id = ? ORDER BY load_id",
                [result.run_id],
            ).fetchall()
            known = conn.execute("SELECT count(*) FROM audit.file_log").fetchone()[0]
        loaded = sum(f[3] for f in files)
        quarantined = sum(f[4] for f in files)
        clean = sum(f[2] == "loaded" and not f[4] for f in files)
        cleanly = f" ({clean} loaded cleanly)" if files else ""
        lines.append(
            f"  files     {len(files)} new{cleanly}, {known - len(files)} ingested in earlier runs"
        )
        lines.append(f"  rows      {loaded} loaded, {quarantined} quarantined")
        unsettled = _unsettled_files(result)
        if unsettled:
            lines.append(f"   ! {unsettled} files still being written: left for the next run")
        skipped = sum(f[2] == "skipped" for f in files)
        if skipped:
            lines.append(f"   ! {skipped} entries skipped (not deliveries; logged once each)")
        # Each file that needs a look on a line of its own; the clean loads are in the log.
        for name, dataset, status, _loaded, quarantined_rows, message in files:
            if status == "loaded" and not quarantined_rows:
                continue
            of = f" [{dataset}]" if dataset else ""
            lines.append(f"   ! {name}{of} {status}: {message}")
        if quarantined or any(f[2] == "quarantined" for f in files):
            lines.append(
                "            reasons: SELECT * FROM audit.quarantine ORDER BY load_id DESC"
            )
    lines += _check_lines(result)
    lines += _asset_lines(result)
    lines.append(f"  database  {_rel(database)} (the pipeline's)")
    published = settings.analytics_database()
    if published.exists():
        lines.append(f"  analysts  {_rel(published)} (read-only copy: what passed its checks)")
    report = settings.report_path()
    if report.exists():
        lines.append(f"  report    {_rel(report)}")
    if log is not None:
        lines.append(f"  log       {_rel(log)} (Dagster's and dbt's lines)")
    return "\n".join(lines), failed


JOB_NAME = "cardreach_daily"


@dataclass
class WhatIsNew:
    """What `make run` found before launching anything."""

    new_files: list[str] = field(default_factory=list)  # deliveries not ingested yet
    # when the newest of them will have held still settings.SETTLE_SECONDS (epoch seconds; a
    # file whose modification time is ahead of the clock is ingestion's to judge)
    settles_at: float = 0.0
    reason: str | None = None  # why a run is needed; None: nothing is new
    message: list[str] = field(default_factory=list)  # what to say when nothing is


def whats_new(instance: dg.DagsterInstance) -> WhatIsNew:
    """Whether a run would change anything: a delivery the warehouse has not ingested (by the
    ingest record: a file as ingestion last saw it is not read), a missing database, analysts'
    copy or report, or a last run of the job that did not succeed, held tables back, was
    launched from the UI or ran another version of the project or its settings."""
    from orchestration.defs.automation.plan import staleness
    from orchestration.defs.automation.run_tags import FINGERPRINT_TAG, project_fingerprint
    from orchestration.defs.ingest.landing import scan_landing
    from orchestration.defs.ingest.record import IngestRecord, new_deliveries

    warehouse = Warehouse()
    try:
        warehouse.check_folders()
    except settings.FolderConflict:
        return WhatIsNew(reason="the folders overlap")  # the run refuses, saying which setting
    landing = warehouse.landing_dir
    if not landing.is_dir():
        return WhatIsNew(reason=f"the landing folder {_rel(landing)} is missing")
    entries = scan_landing(landing)
    state = new_deliveries(entries, IngestRecord.read(warehouse.warehouse_dir))
    now_ns = time.time_ns()
    modified = [e.mtime_ns for e in entries if e.name in state.new and e.mtime_ns <= now_ns]
    found = WhatIsNew(
        new_files=sorted(state.new),
        settles_at=max(modified) / 1e9 + settings.SETTLE_SECONDS if modified else 0.0,
    )
    if state.new:
        found.reason = f"{len(state.new)} new or changed files in {_rel(landing)}"
        return found
    report = settings.report_path(warehouse.warehouse_dir)
    for label, path in (
        ("the pipeline database", warehouse.database_path),
        ("the analysts' copy", warehouse.analytics_path),
        ("the report", report),
    ):
        if not path.exists():
            found.reason = f"{label} {_rel(path)} is missing"
            return found
    # the latest run of any job: one launched on some assets from the UI's graph (another job)
    # or a re-execution of part of a run may have rebuilt some tables and not the rest
    records = instance.get_run_records(limit=1)
    if not records:
        found.reason = "no earlier run in this Dagster instance"
        return found
    last = records[0]
    run, short = last.dagster_run, last.dagster_run.run_id[:8]
    ended = datetime.fromtimestamp(last.end_time or last.create_timestamp.timestamp(), UTC)
    if run.job_name != JOB_NAME:
        found.reason = f"the last run {short} ran part of the pipeline ({run.job_name})"
    elif run.parent_run_id is not None:
        found.reason = f"the last run {short} re-executed part of run {run.parent_run_id[:8]}"
    elif run.status != dg.DagsterRunStatus.SUCCESS:
        found.reason = f"the last run {short} did not succeed ({run.status.value.lower()})"
    elif run.tags.get(gate.HELD_BACK_TAG):
        found.reason = f"the last run {short} held tables back from publication"
    elif run.tags.get(FINGERPRINT_TAG) is None:
        # launched from the UI, maybe on some assets only: what it built is not known here
        found.reason = f"the last run {short} was launched from the UI"
    elif run.tags[FINGERPRINT_TAG] != project_fingerprint():
        found.reason = (
            f"the dbt project, the suites, the code or the settings changed since run {short}"
        )
    if found.reason:
        return found
    # a delivery ingested by a run that did not build its models (it landed after that run was
    # planned), a warehouse built before the build record existed, or a new day (a feed's age
    # counts from today: the run plan's models settings.AS_OF_TODAY_TAG)
    stale = staleness(warehouse.warehouse_dir)
    if stale.models is None or stale.models:
        found.reason = f"the last complete build does not cover everything ({stale.why})"
        return found
    found.message = [
        f"nothing new since run {short} at {settings.local_time(ended)}: {state.deliveries} files"
        " already ingested; the marts, the analysts' copy and the report are as published",
        f"  report {_rel(report)}; to run everything anyway: make run FORCE=1",
    ]
    return found


# The stage each step of the job belongs to; any other step is a quality suite's check.
def _stage_names() -> dict[str, str]:
    from orchestration.defs.ingest.assets import ingest_landing_files
    from orchestration.defs.publish.assets import analytics_database
    from orchestration.defs.quality.freshness import feed_freshness
    from orchestration.defs.report.assets import report
    from orchestration.defs.scoring.assets import cardreach_scores
    from orchestration.defs.transform.assets import cardreach_dbt_models

    return {
        ingest_landing_files.op.name: "ingest",
        # the feeds' ages, checked once ingestion is done, ahead of the models (gate.py)
        feed_freshness.node_def.name: "freshness",
        cardreach_dbt_models.op.name: "transform",
        cardreach_scores.op.name: "scoring",
        analytics_database.op.name: "publish",
        report.op.name: "report",
    }


def _value(metadata: dict, key: str, default=0):
    value = metadata.get(key)
    return value.value if value is not None else default


@dataclass
class _Stage:
    name: str
    started: float
    materializations: list = field(default_factory=list)
    checks: list[dg.AssetCheckEvaluation] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def line(self, ended: float) -> str:
        details = self._details()
        if self.failures:
            details = f"FAILED: {self.failures[0]}" + (f"; {details}" if details else "")
        return f"  {self.name:10} {details} ({ended - self.started:.1f} s)"

    def _check_counts(self) -> tuple[int, int, int]:
        failed = sum(_is_error(c) for c in self.checks)
        warned = sum(not c.passed and not _is_error(c) for c in self.checks)
        return len(self.checks) - failed - warned, warned, failed

    def _details(self) -> str:
        by_key = {m.asset_key: m.metadata for m in self.materializations}
        passed, warned, failed = self._check_counts()
        if self.name == "ingest":
            log = by_key.get(dg.AssetKey(["audit", "file_log"]), {})
            raw = [meta for key, meta in by_key.items() if key.path[0] == "raw"]
            statuses = ", ".join(
                f"{_value(log, f'files_{status}')} {status.replace('_', ' ')}"
                for status in ("loaded", "partially_loaded", "quarantined", "duplicate", "skipped")
                if _value(log, f"files_{status}")
            )
            return (
                f"{_value(log, 'files_new')} new files"
                + (f" ({statuses})" if statuses else "")
                + f", {_value(log, 'files_unchanged')} already ingested;"
                f" {sum(_value(m, 'rows_loaded') for m in raw):,} rows loaded,"
                f" {sum(_value(m, 'rows_quarantined') for m in raw):,} quarantined"
            )
        if self.name in ("transform", "scoring"):
            return (
                f"{len(self.materializations)} dbt models and seeds built"
                + (" on Spark" if engine.on_spark() else "")
                + "; dbt tests:"
                f" {passed} passed, {failed} failed" + (f", {warned} warned" if warned else "")
            )
        if self.name == "freshness":
            # a feed never delivered has no age (defs/quality/freshness.py)
            undelivered = sum(not c.passed and "age_days" not in c.metadata for c in self.checks)
            return (
                f"{len(self.checks)} feeds' ages: {passed} within their limits,"
                f" {warned - undelivered} past them"
                + (f", {undelivered} never delivered" if undelivered else "")
            )
        if self.name == "quality":
            return (
                f"{len(self.checks)} suite checks: {passed} passed, {warned} warned,"
                f" {failed} failed"
            )
        if self.name == "publish":
            meta = next(iter(by_key.values()), {})
            published = _rel(settings.analytics_database())
            return f"{_value(meta, 'tables')} tables published to {published}"
        if self.name == "report":
            return _rel(settings.report_path()) if self.materializations else ""
        return f"{len(self.materializations)} assets built, {len(self.checks)} checks"


class StageProgress:
    """Says one line per stage as the run goes, from the run's events (an instance listener
    is called in the running process as each event is stored)."""

    def __init__(self, say: Callable[[str], object]):
        self.say = say
        self.stages = _stage_names()
        self.stage: _Stage | None = None

    def on_event(self, entry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            name = self.stages.get(entry.step_key, "quality")
            if self.stage is None or self.stage.name != name:
                self.finish()
                self.stage = _Stage(name, entry.timestamp)
        elif self.stage is None:
            return
        elif kind == "ASSET_MATERIALIZATION":
            self.stage.materializations.append(event.event_specific_data.materialization)
        elif kind == "ASSET_CHECK_EVALUATION":
            self.stage.checks.append(event.event_specific_data)
        elif kind == "STEP_FAILURE":
            data = event.step_failure_data
            self.stage.failures.append(error_reason(data.error if data else None).splitlines()[0])

    def finish(self) -> None:
        if self.stage is not None:
            self.say(self.stage.line(time.time()))
            self.stage = None


@contextmanager
def _output_to(log: Path) -> Iterator[TextIO]:
    """Everything written to stdout and stderr (Dagster's console logger, dbt's lines relayed
    by dagster-dbt, warnings, subprocesses) goes to `log`; yields a stream to the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    with log.open("a", encoding="utf-8") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            terminal.close()


def _prune_run_logs(folder: Path, keep: int = settings.KEPT_RUN_LOGS) -> None:
    logs = sorted(folder.glob("run-*.log"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in logs[keep:]:
        old.unlink(missing_ok=True)


# How long `make run` waits for new deliveries still being written (modified within
# settings.SETTLE_SECONDS, which ingestion leaves for the next run) before it plans: a file
# copied in just before the command is this run's. One still changing after this long is left
# for the next run, as ingestion leaves it.
SETTLE_WAIT_LIMIT_SECONDS = 60


def _once_new_files_settle(instance: dg.DagsterInstance, found: WhatIsNew) -> WhatIsNew:
    """What is new once the new deliveries have settled: planned before, a build would run for
    a file that ingestion then leaves for the next run (and the next run build it again)."""
    deadline = time.monotonic() + SETTLE_WAIT_LIMIT_SECONDS
    while (wait := found.settles_at - time.time()) > 0 and time.monotonic() + wait <= deadline:
        print(
            f"waiting {wait:.0f} s: {len(found.new_files)} new files, some modified in the last"
            f" {settings.SETTLE_SECONDS} s, may still be being written",
            flush=True,
        )
        time.sleep(wait + 0.1)
        found = whats_new(instance)
    return found


def run(
    tags: dict[str, str] | None = None, force: bool = False, verbose: bool | None = None
) -> int:
    from dagster._core.utils import make_new_run_id

    from orchestration.defs.automation.plan import plan_run
    from orchestration.defs.automation.run_tags import run_tags

    verbose = settings.verbose() if verbose is None else verbose
    with dg.DagsterInstance.get() as instance:
        found = _once_new_files_settle(instance, whats_new(instance))
        if found.reason is None and not force:
            print("\n".join(found.message))
            return 0
        job = _definitions().resolve_job_def(JOB_NAME)
        # What is loaded now (Dagster, dbt's manifest, the definitions) lives as long as the
        # run: Python's cyclic collector need not walk it again at each full collection, which
        # the run's own work (a JSON Lines file, dbt's nodes) triggers many times.
        gc.freeze()
        plan = plan_run(
            job.asset_layer.asset_graph.materializable_asset_keys,
            settings.warehouse_dir(),
            found.new_files,
            force=force,
        )
        run_id = make_new_run_id()
        logs = settings.run_logs_dir()
        logs.mkdir(parents=True, exist_ok=True)
        # -v: every line on the terminal as it comes, no log file
        log = None if verbose else logs / f"run-{run_id[:8]}.log"
        why = "forced" if found.reason is None else found.reason
        said = f"; full log: {_rel(log)}" if log else ""
        print(f"cardreach run {run_id[:8]} ({why}){said}", flush=True)
        print(f"  builds    {plan.summary}", flush=True)
        if writer_lock_held(settings.warehouse_dir()):
            # the run's own wait is said in the log: the terminal would show nothing for minutes
            print(
                f"  waiting   another run is writing {_rel(settings.warehouse_dir())}; this one"
                " starts when it ends",
                flush=True,
            )
        if log:
            os.environ.setdefault("DBT_USE_COLORS", "false")  # no escape codes in the file
        with _terminal() if log is None else _output_to(log) as terminal:
            progress = StageProgress(lambda line: print(line, file=terminal, flush=True))
            instance.add_event_listener(run_id, progress.on_event)
            # INFO: progress per step and file, without Dagster's debug events.
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
                run_id=run_id,
                asset_selection=plan.selection,
                tags={**run_tags("cli", found.new_files), **(tags or {})},
            )
            progress.finish()
    summary, failed = summarize(result, log)
    print(summary)
    if log:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(summary + "\n")
    _prune_run_logs(logs)
    return 1 if failed else 0


@contextmanager
def _terminal() -> Iterator[TextIO]:
    yield sys.stdout


def rebuild(verbose: bool | None = None) -> int:
    """Rebuild the pipeline database from the archive, then run everything on it; the landing
    folder may be gone (then the run after the replay has nothing new to ingest)."""
    from orchestration.defs.ingest.assets import REBUILD_TAG
    from orchestration.defs.ingest.load import replay_archive

    warehouse = Warehouse()
    try:
        warehouse.check_folders()  # before anything is moved aside
    except settings.FolderConflict as conflict:
        print(f"cardreach rebuild refused: {conflict}")
        return 1
    database = warehouse.database_path
    # The writer's lock while the database is moved aside and replayed, so that no run (from the
    # UI, the sensor) writes meanwhile; released for the run that follows, which takes it itself.
    lock = acquire_writer_lock(warehouse.warehouse_dir)
    try:
        # the record describes the database being set aside: a replay that fails half-way must
        # not leave it saying every file is in (the replay writes it anew when it completes)
        settings.ingest_record(warehouse.warehouse_dir).unlink(missing_ok=True)
        settings.build_record(warehouse.warehouse_dir).unlink(missing_ok=True)
        if database.exists():
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
            for path in (database, wal_path(database)):
                if path.exists():
                    aside = path.with_name(f"{path.name}.broken-{stamp}")
                    path.rename(aside)
                    print(f"moved {_rel(path)} aside to {_rel(aside)}")
        with warehouse.connect() as conn:
            report = replay_archive(conn, warehouse.archive_dir, run_id="rebuild")
    finally:
        lock.release()
    print(
        f"replayed {len(report.outcomes)} archived deliveries from {_rel(warehouse.archive_dir)}:"
        f" {report.rows_loaded()} rows loaded, {report.rows_quarantined()} rows quarantined"
    )
    return run(tags={REBUILD_TAG: "true"}, force=True, verbose=verbose)


def prepare_dbt() -> int:
    """Parse the dbt project (what `make` runs when the project changed)."""
    from orchestration.dbt import prepare

    print(f"dbt manifest prepared: {_rel(prepare())}")
    return 0


def dbt(args: list[str]) -> int:
    """dbt itself on the pipeline's database, with the settings the pipeline hands it."""
    os.environ.update(settings.dbt_environment())
    # dbt as its command runs it, with the pipeline's check of a saved parse (so that the two
    # reuse each other's parse: orchestration/dbt_command.py)
    command = [sys.executable, "-m", "orchestration.dbt_command", *args]
    command += ["--profiles-dir", str(settings.DBT_PROJECT_DIR)]
    lock = acquire_writer_lock(settings.warehouse_dir())  # one writer: not while a run writes
    try:
        return subprocess.run(command, cwd=settings.DBT_PROJECT_DIR).returncode
    finally:
        lock.release()


def purge(sha256: str) -> int:
    """Remove a refused delivery (personal data) from the archive and its ledger."""
    from orchestration.defs.ingest.load import purge_delivery

    warehouse = Warehouse()
    lock = acquire_writer_lock(warehouse.warehouse_dir)
    try:
        with warehouse.connect() as conn:
            names = purge_delivery(conn, warehouse.archive_dir, sha256)
    except ValueError as error:
        print(f"cardreach purge refused: {error}")
        return 1
    finally:
        lock.release()
    print(
        f"purged {sha256} ({', '.join(names)}) from {_rel(warehouse.archive_dir)}; delete it"
        " from the landing folder and from wherever it was sent from too"
    )
    return 0


def paths() -> int:
    """Where everything cardreach writes is, for this warehouse."""
    for label, path in (
        ("landing", settings.landing_dir()),
        ("pipeline database", settings.pipeline_database()),
        ("analysts' copy", settings.analytics_database()),
        ("archive", settings.archive_dir()),
        ("report", settings.report_path()),
        ("data quality page", settings.quality_page_path()),
        ("run logs", settings.run_logs_dir()),
        ("ingest record", settings.ingest_record()),
        ("build record", settings.build_record()),
    ):
        print(f"{label + ':':20} {_rel(path)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cardreach")
    commands = parser.add_subparsers(dest="command", required=True)
    run_command = commands.add_parser(
        "run", help="materialize every asset on the landing folder, when anything is new"
    )
    run_command.add_argument(
        "--force", action="store_true", help="run everything even when nothing is new"
    )
    rebuild_command = commands.add_parser(
        "rebuild", help="rebuild the pipeline database from the archive, then run"
    )
    for command in (run_command, rebuild_command):
        command.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=None,
            help=f"show Dagster's and dbt's lines here too (or {settings.VERBOSE_ENV}=1)",
        )
    commands.add_parser("prepare-dbt", help="parse the dbt project")
    commands.add_parser("paths", help="where the databases, archive, report and docs are")
    dbt_command = commands.add_parser("dbt", help="run dbt on the pipeline's database")
    dbt_command.add_argument("dbt_args", nargs=argparse.REMAINDER)
    purge_command = commands.add_parser(
        "purge", help="remove a delivery refused for personal data from the archive"
    )
    purge_command.add_argument("sha256", help="the file's sha256, from audit.file_log")
    args = parser.parse_args(argv)
    if problems := settings.setting_problems():
        for problem in problems:
            print(f"cardreach {args.command} refused: {problem}", file=sys.stderr)
        return 2
    if args.command == "dbt":
        return dbt(args.dbt_args)
    if args.command == "purge":
        return purge(args.sha256)
    if args.command == "run":
        return run(force=args.force, verbose=args.verbose)
    if args.command == "rebuild":
        return rebuild(verbose=args.verbose)
    return {"prepare-dbt": prepare_dbt, "paths": paths}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
