"""The data-quality gate: every suite in `expectations/` is a Dagster asset check.

A suite names the asset it checks and the SQL that reads it (`meta.asset`, `meta.query`), so
adding a suite file adds a check. Failed *error* expectations fail the check with ERROR severity,
which holds back everything that depends on that asset in the run, and nothing else (the dbt
builds, scoring and publication ask `orchestration.gate`); failed *warning* expectations fail it
with WARN severity, which holds back nothing. A check that cannot be evaluated
is a failed check with the error in its metadata, never a silent pass. A suite with
`meta.new_rows_by` checks only the rows delivered since it last passed (see quality_scope).
"""

import gc
import json
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.defs.quality.ledger import checked_through, record_pass, scope_for
from orchestration.gate import CHECK_PRIORITY_TAGS
from orchestration.warehouse import Warehouse, give_back_memory

LARGE_FRAME_ROWS = 100_000


def _suite_files() -> list[Path]:
    return sorted(settings.EXPECTATIONS_DIR.glob("*.json"))


def _suite_check(path: Path) -> dg.AssetChecksDefinition:
    suite = json.loads(path.read_text(encoding="utf-8"))
    meta = suite.get("meta", {})
    asset_key = dg.AssetKey(meta["asset"].split("/"))
    query = meta["query"]

    @dg.asset_check(
        asset=asset_key,
        name=f"ge_{suite['name']}",
        description=(
            f"{meta.get('description', '')} Great Expectations suite expectations/{path.name}"
            f" ({len(suite['expectations'])} expectations)."
        ).strip(),
        # not Dagster-blocking, which would skip every later step whole; first in line instead
        op_tags=CHECK_PRIORITY_TAGS,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        docs_dir = settings.quality_docs_dir(warehouse.warehouse_dir)
        try:
            # GE loads only when checking
            from orchestration.defs.quality.suites import (
                load_suite,
                read_checked_columns,
                validate_dataframe,
            )

            with warehouse.connect() as conn:
                scope = scope_for(conn, path, load_suite(path))
                through = checked_through(conn, scope, query)
                frame, columns = read_checked_columns(conn, scope.query(query), path)
            rows = len(frame)
            context.log.info(f"suite {path.name}: {rows:,} rows, {scope.describe()}")
            result = validate_dataframe(
                path,
                frame,
                docs_dir=docs_dir,
                data_asset_name=".".join(asset_key.path),
                table_columns=columns,
            )
            # The frame (hundreds of MB at scale) goes now and its memory back to the OS: this
            # process would otherwise hold it while dbt scores in a process of its own. GE's
            # objects refer to it in cycles, which only the (slow) cycle collector frees: worth
            # it for a large frame only.
            del frame
            if rows >= LARGE_FRAME_ROWS:
                gc.collect()
            give_back_memory()
            # Warnings report what a run delivered (an event, a partial date) and hold nothing
            # back: their rows count as checked, or an event would be warned about, and re-read,
            # on every later run. An error keeps its rows for the next run to check again.
            if not result.errors:
                with warehouse.connect() as conn:
                    record_pass(conn, scope, through, rows, context.run.run_id)
        except Exception as error:  # an unevaluated check is a failed check, with the reason
            context.log.error(f"suite {path.name} could not be evaluated: {error}")
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=f"could not be evaluated: {error}",
                metadata={"error": dg.MetadataValue.text(f"{type(error).__name__}: {error}")},
            )
        worst = dg.AssetCheckSeverity.ERROR if result.errors else dg.AssetCheckSeverity.WARN
        failed_names = ", ".join(
            f"{f.expectation_type}({f.column or ', '.join(f.columns)})" for f in result.failed
        )
        metadata = {
            "rows_validated": dg.MetadataValue.int(rows),
            "rows_checked": dg.MetadataValue.text(scope.describe()),
            "expectations_evaluated": dg.MetadataValue.int(result.evaluated),
            "expectations_failed": dg.MetadataValue.int(len(result.failed)),
            "failed_errors": dg.MetadataValue.int(len(result.errors)),
            "failed_warnings": dg.MetadataValue.int(len(result.warnings)),
            "failed_expectations": dg.MetadataValue.md(result.as_markdown()),
            "suite": dg.MetadataValue.path(str(path)),
        }
        if result.docs_path is not None:
            metadata["data_docs"] = dg.MetadataValue.url(result.docs_path.resolve().as_uri())
        return dg.AssetCheckResult(
            passed=not result.failed,
            severity=worst,
            description=f"failed: {failed_names}" if result.failed else None,
            metadata=metadata,
        )

    return _check


def quality_checks() -> list[dg.AssetChecksDefinition]:
    return [_suite_check(path) for path in _suite_files()]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=quality_checks())
