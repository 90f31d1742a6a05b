"""The one job: every asset, in dependency order."""

import dagster as dg

# Everything, in dependency order: ingest -> dbt -> checks -> scoring -> publish. `make run`
# launches this job; the UI can launch it too, or any subset of its assets.
cardreach_daily = dg.define_asset_job(
    name="cardreach_daily",
    selection=dg.AssetSelection.all(include_sources=False),
    description="Ingest every new landing file, build the marts, check them, score and publish.",
)
