"""`make run`: materialize every asset, print what happened, exit non-zero on any failure.

The run goes through the project's Dagster instance (DAGSTER_HOME), so it also shows in the UI.
"""

import argparse
import os
import subprocess
import sys
from datetime import datetime

import dagster as dg
import duckdb

from orchestration import gate, settings
from orchestration.warehouse import Warehouse, WarehouseCorrupt, acquire_writer_lock, open_database


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


def summarize(result: dg.ExecuteInProcessResult) -> tuple[str, bool]:
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
        lines.append(f"  files     {len(files)} new, {known - len(files)} ingested in earlier runs")
        lines.append(f"  rows      {loaded} loaded, {quarantined} quarantined")
        unsettled = _unsettled_files(result)
        if unsettled:
            lines.append(f"   ! {unsettled} files still being written: left for the next run")
        skipped = sum(f[2] == "skipped" for f in files)
        if skipped:
            lines.append(f"   ! {skipped} entries skipped (not deliveries; logged once each)")
        for name, dataset, status, _loaded, _quarantined, message in files:
            flag = "  " if status == "loaded" else "! "
            of = f" [{dataset}]" if dataset else ""
            lines.append(f"   {flag}{name}{of} {status}: {message}")
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
    return "\n".join(lines), failed


def run(tags: dict[str, str] | None = None) -> int:
    definitions = _definitions()
    job = definitions.resolve_job_def("cardreach_daily")
    with dg.DagsterInstance.get() as instance:
        # INFO: progress per step and file, without Dagster's debug events.
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            tags=tags,
        )
    summary, failed = summarize(result)
    print(summary)
    return 1 if failed else 0


def rebuild() -> int:
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
        if database.exists():
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
            for path in (database, database.with_name(database.name + ".wal")):
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
    return run(tags={REBUILD_TAG: "true"})


def prepare_dbt() -> int:
    """Parse the dbt project for this warehouse (what `make` runs when the project changed)."""
    from orchestration.dbt import prepare

    print(f"dbt manifest prepared: {_rel(prepare())}")
    return 0


def dbt(args: list[str]) -> int:
    """dbt itself on the pipeline's database, with the settings the pipeline hands it."""
    os.environ.update(settings.dbt_environment())
    command = [str(settings.DBT_EXECUTABLE), *args, "--profiles-dir", str(settings.DBT_PROJECT_DIR)]
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
    ):
        print(f"{label + ':':20} {_rel(path)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cardreach")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="materialize every asset on the landing folder")
    commands.add_parser("rebuild", help="rebuild the pipeline database from the archive, then run")
    commands.add_parser("prepare-dbt", help="parse the dbt project for this warehouse")
    commands.add_parser("paths", help="where the databases, archive, report and docs are")
    dbt_command = commands.add_parser("dbt", help="run dbt on the pipeline's database")
    dbt_command.add_argument("dbt_args", nargs=argparse.REMAINDER)
    purge_command = commands.add_parser(
        "purge", help="remove a delivery refused for personal data from the archive"
    )
    purge_command.add_argument("sha256", help="the file's sha256, from audit.file_log")
    args = parser.parse_args(argv)
    if args.command == "dbt":
        return dbt(args.dbt_args)
    if args.command == "purge":
        return purge(args.sha256)
    return {"run": run, "rebuild": rebuild, "prepare-dbt": prepare_dbt, "paths": paths}[
        args.command
    ]()


if __name__ == "__main__":
    sys.exit(main())
