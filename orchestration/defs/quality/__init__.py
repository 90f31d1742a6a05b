"""Quality: every Great Expectations suite in expectations/ as a Dagster asset check."""
