"""The data-quality gate: every suite in `expectations/` is a Dagster asset check.

A suite names the asset it checks and the SQL that reads it (`meta.asset`, `meta.query`), so
adding a suite file adds a check. Failed *error* expectations fail the check with ERROR severity,
which holds back everything that depends on that asset in the run, and nothing else (the dbt
builds, scoring and publication ask `orchestration.gate`); failed *warning* expectations fail it
with WARN severity, which holds back nothing. A check that cannot be evaluated
is a failed check with the error in its metadata, never a silent pass. A suite with
`meta.new_rows_by` checks only the rows delivered since it last passed (see ledger.py).

A failed expectation is described by the sentence a person needs, its figure and its limit
(sentences.py), in the check's description, which the run's summary prints. Every check, passed
or failed, saves its result and renders the gate's page again (report/quality.py), linked from
its metadata over http (the report server, orchestration/serve.py).
"""

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.defs.quality.ledger import checked_through, record_pass, scope_for
from orchestration.defs.report.quality import render_page, save_result, shown_path
from orchestration.gate import CHECK_PRIORITY_TAGS
from orchestration.warehouse import Warehouse


def suite_files() -> list[Path]:
    """Every suite of expectations/, a JSON file each."""
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
        record = {
            "suite": suite["name"],
            "suite_path": str(path.resolve()),
            "file": shown_path(path),
            "asset": asset_key.to_user_string(),
            "description": meta.get("description"),
            "checked_at": settings.local_time(datetime.now(UTC)),
            "run_id": context.run.run_id,
            "expectations": [],
        }
        try:
            # GE loads only when checking
            from orchestration.defs.quality.suites import PART_ROWS, load_suite, validate_query

            with warehouse.connect() as conn:
                scope = scope_for(conn, path, load_suite(path))
                through = checked_through(conn, scope, query)
                validation = validate_query(
                    conn, scope.query(query), path, data_asset_name=".".join(asset_key.path)
                )
            result, rows = validation.result, validation.rows
            parts = (
                f" in {validation.parts} parts of about {PART_ROWS:,} rows"
                if validation.parts > 1
                else ""
            )
            context.log.info(f"suite {path.name}: {rows:,} rows{parts}, {scope.describe()}")
            # Warnings report what a run delivered (an event, a partial date) and hold nothing
            # back: their rows count as checked, or an event would be warned about, and re-read,
            # on every later run. An error keeps its rows for the next run to check again.
            if not result.errors:
                with warehouse.connect() as conn:
                    record_pass(conn, scope, through, rows, context.run.run_id)
        except Exception as error:  # an unevaluated check is a failed check, with the reason
            context.log.error(f"suite {path.name} could not be evaluated: {error}")
            record |= {"outcome": "error", "error": f"{type(error).__name__}: {error}"}
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=f"could not be evaluated: {error}",
                metadata={
                    "error": dg.MetadataValue.text(f"{type(error).__name__}: {error}"),
                    **_page_links(context, warehouse, record),
                },
            )
        worst = dg.AssetCheckSeverity.ERROR if result.errors else dg.AssetCheckSeverity.WARN
        withhold = bool(result.failed) and _withheld(query)
        record |= {
            "outcome": "failed" if result.errors else "warning" if result.failed else "passed",
            "rows": rows,
            "scope": scope.describe(),
            "expectations": [_expectation_record(c, withhold) for c in result.checked],
        }
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
        metadata |= _page_links(context, warehouse, record)
        return dg.AssetCheckResult(
            passed=not result.failed,
            severity=worst,
            description=failure_description(result.failed, withhold) if result.failed else None,
            metadata=metadata,
        )

    return _check


def failure_description(failed: list, withhold: bool = False) -> str:
    """The check's description: a sentence per failed expectation, errors first. The check's
    severity says error or warning; only a mix of both marks which sentence is which. When the
    suite reads the bank's own figures and they are not published, the sentences name no row:
    the description reaches the UI and the report, as the page's samples would."""
    from orchestration.defs.quality.sentences import failure_sentence

    if withhold:
        failed = [dataclasses.replace(f, sample_unexpected=[]) for f in failed]
    ordered = sorted(failed, key=lambda f: f.severity != "error")
    mixed = len({f.severity for f in failed}) > 1
    return "; ".join((f"{f.severity}: " if mixed else "") + failure_sentence(f) for f in ordered)


def _expectation_record(checked, withhold: bool) -> dict:
    """One expectation of the page, as JSON: its limit, what it saw, its failing rows."""
    from orchestration.defs.quality.sentences import failure_sentence, limit_text, passed_sentence

    failure = checked.failure
    if failure is not None and withhold:
        failure = dataclasses.replace(failure, sample_unexpected=[])
    return {
        "type": checked.expectation_type,
        "columns": checked.columns,
        "label": checked.label,
        "severity": checked.severity,
        "notes": checked.notes,
        "passed": checked.passed,
        "limit": limit_text(checked.expectation_type, checked.kwargs, checked.unit or ""),
        "observed": passed_sentence(checked) if failure is None else failure_sentence(failure),
        "unexpected_count": checked.unexpected_count,
        "sample": [] if failure is None else failure.sample_unexpected,
        "withheld": failure is not None and withhold,
    }


def _withheld(query: str) -> bool:
    """Whether a suite's failing rows stay off the page: it reads a dbt model tagged
    confidential (the bank's own figures) and they are not published (the report's rule)."""
    if settings.publish_confidential():
        return False
    from orchestration.dbt import models_read_by

    return any(
        settings.CONFIDENTIAL_TAG in node["config"].get("tags", [])
        for node in models_read_by(query)
    )


def _page_links(context, warehouse: Warehouse, record: dict) -> dict:
    """Save the result, render the gate's page, and link the suite's section: over http for the
    UI (browsers refuse file:// links from an http page), the file path for whoever opens it
    directly. The page failing to render never changes the check's verdict."""
    try:
        save_result(record, warehouse.warehouse_dir)
        page = render_page(warehouse.warehouse_dir)
        url = settings.report_url(page, warehouse.warehouse_dir, fragment=record["suite"])
    except Exception as error:
        context.log.warning(f"the quality page could not be written or linked: {error}")
        return {}
    return {
        "quality_page": dg.MetadataValue.url(url),
        "quality_page_path": dg.MetadataValue.path(str(page)),
    }


def quality_checks() -> list[dg.AssetChecksDefinition]:
    return [_suite_check(path) for path in suite_files()]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=quality_checks())
