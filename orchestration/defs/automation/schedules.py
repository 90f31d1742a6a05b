"""A daily run as a safety net, should the sensor be switched off or a change go unnoticed."""

import dagster as dg

from orchestration import settings
from orchestration.defs.automation.run_tags import run_tags


def _schedule_tags(context: dg.ScheduleEvaluationContext) -> dict[str, str]:
    return run_tags("schedule")


# Ingestion skips files it already holds, so a run on an unchanged folder only rebuilds and checks.
cardreach_daily_schedule = dg.ScheduleDefinition(
    name="cardreach_daily_schedule",
    job_name="cardreach_daily",
    cron_schedule="0 6 * * *",
    execution_timezone=settings.timezone_name(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags_fn=_schedule_tags,
    description="Runs cardreach_daily every day at 06:00 on the clock of $CARDREACH_TIMEZONE"
    " (Asia/Shanghai by default), whatever the landing sensor saw: ingests anything new,"
    " rebuilds the marts, checks, scores and publishes. Its runs are tagged"
    " cardreach/started_by=schedule.",
)
