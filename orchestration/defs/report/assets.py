"""The report: one self-contained HTML page of the published marts, for marketing teams.

Downstream of the published copy, so it shows what analysts see: a run whose quality gate failed
leaves the previous report. It reads `analytics.duckdb` read-only and the Dagster instance (the
check results of the run, the quarantine counts); never the pipeline's own database.
"""

import base64

import dagster as dg

from orchestration import settings
from orchestration.defs.report.document import (
    CheckOutcome,
    QualitySummary,
    build_report,
)
from orchestration.gate import asset_graph
from orchestration.metadata import OWNERS
from orchestration.warehouse import Warehouse, write_atomically

QUARANTINE_KEY = dg.AssetKey(["audit", "quarantine"])


def _outcome(evaluation: dg.AssetCheckEvaluation) -> CheckOutcome:
    return CheckOutcome(
        asset=evaluation.asset_key.to_user_string(),
        name=evaluation.check_name,
        passed=evaluation.passed,
        severity=evaluation.severity.value,
        description=evaluation.description,
    )


def quality_summary(context: dg.AssetExecutionContext, warehouse: Warehouse) -> QualitySummary:
    """The check results of this run; when it ran none (the report alone), each check's latest."""
    instance, graph = context.instance, asset_graph(context)
    records = instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    evaluations = [r.dagster_event.asset_check_evaluation_data for r in records]
    scope = f"本报告所在运行（run {context.run_id[:8]}）中执行的检查"
    if not evaluations:
        keys = list(graph.asset_check_keys)
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
        evaluations = [
            record.event.dagster_event.asset_check_evaluation_data
            for record in latest.values()
            if record.event is not None
            and record.event.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]
        latest_of = f"以下为 {len(keys)} 项检查各自最近一次的结果"
        scope = f"本次运行（run {context.run_id[:8]}）未执行检查：{latest_of}"
    quarantine = instance.get_latest_materialization_event(QUARANTINE_KEY)
    metadata = quarantine.asset_materialization.metadata if quarantine else {}
    page = settings.quality_page_path(warehouse.warehouse_dir)
    return QualitySummary(
        scope=scope,
        checks=sorted(
            (_outcome(e) for e in evaluations), key=lambda c: (c.passed, c.asset, c.name)
        ),
        rows_quarantined_last_ingest=(
            metadata["rows_quarantined"].value if "rows_quarantined" in metadata else None
        ),
        rows_in_quarantine=(
            metadata["dagster/row_count"].value if "dagster/row_count" in metadata else None
        ),
        quarantine_run=quarantine.run_id if quarantine else None,
        data_docs=page if page.exists() else None,
    )


def _image(title: str, svg: str) -> dg.MetadataValue:
    """A chart as markdown with the SVG inline as a data URI: the UI's markdown shows it."""
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    alt = title.replace("[", "(").replace("]", ")")
    return dg.MetadataValue.md(f"![{alt}](data:image/svg+xml;base64,{encoded})")


@dg.asset(
    key=["publish", "report"],
    deps=[dg.AssetKey(["publish", "analytics_database"])],
    group_name="publish",
    kinds={"html", "python"},
    owners=OWNERS,
    description="The marketing teams' report, one self-contained HTML file at"
    f" $CARDREACH_WAREHOUSE/{settings.REPORT_FILE}: MAU of the content platforms against"
    " the card-app industry, audience profiles and TGI against the baseline, the account"
    " leaderboard and follower growth, score components, the accounts' content (内容表现: series"
    " against the notes outside any, hits with their age), and the run's data quality. Every figure"
    " cites its source; illustrative and derived figures are marked, in charts too. Charts are"
    " inline SVG (also shown here as metadata); it opens with no network.",
)
def report(context: dg.AssetExecutionContext, warehouse: Warehouse):
    analytics = warehouse.analytics_path
    if not analytics.exists():
        raise dg.Failure(
            f"{analytics} is not published yet: materialize publish/analytics_database"
        )
    target = settings.report_path(warehouse.warehouse_dir)
    summary = quality_summary(context, warehouse)
    document = build_report(analytics, summary, target.parent)
    write_atomically(document.html, target)
    context.log.info(f"report written to {target} ({len(document.charts)} charts)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            # over http: browsers refuse file:// links from the UI (make ui serves the folder)
            "url": dg.MetadataValue.url(settings.report_url(target, warehouse.warehouse_dir)),
            "size_kb": dg.MetadataValue.float(round(target.stat().st_size / 1024, 1)),
            "charts": dg.MetadataValue.int(len(document.charts)),
            "checks_passed": dg.MetadataValue.int(summary.passed),
            "checks_failed": dg.MetadataValue.int(len(summary.failed)),
            "checks_warnings": dg.MetadataValue.int(len(summary.warnings)),
            **{f"chart_{chart.key}": _image(chart.title, chart.svg) for chart in document.charts},
        }
    )
