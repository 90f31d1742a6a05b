"""The benchmark of the pipeline against a hand-written DuckDB baseline.

- `generate`: a synthetic landing folder in the contract's formats (deterministic from a seed).
- `baseline`: the hand-written DuckDB script (`baseline.sql`) and its runner, in a fresh process.
- `run`: generates, runs the pipeline (full, then one more day), runs the baseline, and reports.

None of this is loaded by Dagster: it measures the pipeline from the outside, as `make run` runs.
"""
