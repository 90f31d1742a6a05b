"""The one job: every asset, in dependency order."""

import dagster as dg

from orchestration.defs.automation.run_tags import STARTED_BY_TAG

# Everything, in dependency order: ingest -> dbt -> checks -> scoring -> publish. `make run`
# launches this job; the UI can launch it too, or any subset of its assets.
cardreach_daily = dg.define_asset_job(
    name="cardreach_daily",
    selection=dg.AssetSelection.all(include_sources=False),
    description="Ingest every new landing file, build the marts, check them, score and publish.",
    # A run launched from the UI's launchpad says so; `make run`, the sensor and the schedule
    # launch it with their own `cardreach/started_by`, which wins over the job's.
    run_tags={STARTED_BY_TAG: "ui"},
)
