import dagster as dg

from orchestration.dbt import dbt_resource
from orchestration.warehouse import Warehouse


@dg.definitions
def resources() -> dg.Definitions:
    # Folders come from CARDREACH_LANDING / CARDREACH_WAREHOUSE, read when a run starts.
    return dg.Definitions(resources={"warehouse": Warehouse(), "dbt": dbt_resource()})
