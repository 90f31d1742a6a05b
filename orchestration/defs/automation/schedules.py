"""A daily run as a safety net, should the sensor be switched off or a change go unnoticed."""

import dagster as dg

from orchestration import settings
from orchestration.defs.automation.plan import plan_for
from orchestration.defs.automation.run_tags import run_tags
from orchestration.warehouse import Warehouse


# Ingestion skips files it already holds; the run rebuilds what the last complete build did not
# cover (defs/automation/plan.py): on an unchanged folder, the models that read today's date.
@dg.schedule(
    name="cardreach_daily_schedule",
    job_name="cardreach_daily",
    cron_schedule="0 6 * * *",
    execution_timezone=settings.timezone_name(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs cardreach_daily every day at 06:00 on the clock of $CARDREACH_TIMEZONE"
    " (Asia/Shanghai by default), whatever the landing sensor saw: ingests anything new,"
    " rebuilds the models the last complete build did not cover (and those that read today's"
    " date), checks, scores and publishes. Its runs are tagged cardreach/started_by=schedule.",
)
def cardreach_daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    plan = plan_for(context, Warehouse())
    return dg.RunRequest(tags=run_tags("schedule"), asset_selection=plan.selection)
