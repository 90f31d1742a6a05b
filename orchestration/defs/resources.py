"""The resources every stage shares, and the executor: one process, one writer at a time."""

import dagster as dg

from orchestration.dbt import dbt_resource
from orchestration.warehouse import Warehouse


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        # Folders come from CARDREACH_LANDING / CARDREACH_WAREHOUSE, read when a run starts.
        resources={"warehouse": Warehouse(), "dbt": dbt_resource()},
        # DuckDB takes one writer at a time: a run's steps go one after another in one process.
        executor=dg.in_process_executor,
    )
