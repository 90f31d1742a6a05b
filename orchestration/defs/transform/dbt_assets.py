"""dbt: raw -> staging -> intermediate -> marts; each dbt model an asset, each dbt test a check."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt import CardreachTranslator, prepared_manifest
from orchestration.settings import WAREHOUSE_ENV
from orchestration.warehouse import Warehouse


@dbt_assets(
    manifest=prepared_manifest(),
    dagster_dbt_translator=CardreachTranslator(),
    name="cardreach_dbt_models",
)
def cardreach_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse
):
    # dbt's profile reads the same setting as the warehouse resource: hand it the resolved folder.
    os.environ[WAREHOUSE_ENV] = str(warehouse.warehouse_dir)
    yield from dbt.cli(["build"], context=context).stream()
