"""Scores: account and platform scores (dbt models tagged `scoring`), built only after the gate.

They are a dbt step of their own, downstream of the marts, so the blocking Great Expectations
checks on the marts run first: when one fails, this step does not run and the previous scores
stay as they were.
"""

from orchestration.dbt import SCORING_SELECTOR, dbt_build_step

cardreach_scores = dbt_build_step("cardreach_scores", select=SCORING_SELECTOR)
