"""dbt: raw -> staging -> intermediate -> marts; each dbt model an asset, each dbt test a check."""

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
    exclude=SCORING_SELECTOR,
    name="cardreach_dbt_models",
)
def cardreach_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: Warehouse,
    config: DbtBuildConfig,
):
    yield from build_selected(context, dbt, warehouse.warehouse_dir, config)
