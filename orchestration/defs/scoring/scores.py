"""Scores: account and platform scores (dbt models tagged `scoring`), built only after the gate.

They are a dbt step of their own, downstream of the marts, so the blocking Great Expectations
checks on the marts run first: when one fails, this step does not run and the previous scores
stay as they were.
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt import (
    SCORING_SELECTOR,
    CardreachTranslator,
    DbtBuildConfig,
    build_selected,
    prepared_manifest,
)
from orchestration.warehouse import Warehouse


@dbt_assets(
    manifest=prepared_manifest(),
    dagster_dbt_translator=CardreachTranslator(),
    select=SCORING_SELECTOR,
    name="cardreach_scores",
)
def cardreach_scores(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: Warehouse,
    config: DbtBuildConfig,
):
    yield from build_selected(context, dbt, warehouse.warehouse_dir, config)
