"""cardreach: the Dagster code location that turns snapshot files into DuckDB marts."""
