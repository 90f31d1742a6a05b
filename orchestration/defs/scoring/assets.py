"""Scores: account and platform scores (dbt models tagged `scoring`), built after the checks.

A dbt step of its own, downstream of the marts, so the Great Expectations checks on the marts
run first. A score that depends on data a failed check flags is built in the pipeline's database
like everything else, but not published to analysts (`orchestration.gate`).
"""

from orchestration.dbt import SCORING_SELECTOR, dbt_build_step

cardreach_scores = dbt_build_step("cardreach_scores", select=SCORING_SELECTOR)
