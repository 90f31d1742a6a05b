"""Scores: account and platform scores (dbt models tagged `scoring`), built after the gate.

A dbt step of its own, downstream of the marts, so the Great Expectations checks on the marts
run first; a score whose mart a failed check holds back is not rebuilt in this run (its previous
rows stay), the others are (`orchestration.gate`).
"""

from orchestration.dbt import SCORING_SELECTOR, dbt_build_step

cardreach_scores = dbt_build_step("cardreach_scores", select=SCORING_SELECTOR)
