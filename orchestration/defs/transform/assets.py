"""dbt: raw -> staging -> intermediate -> marts; each dbt model an asset, each dbt test a check."""

from orchestration.dbt import SCORING_SELECTOR, dbt_build_step

# Everything but the scores, which wait for the quality gate (defs/scoring).
cardreach_dbt_models = dbt_build_step("cardreach_dbt_models", exclude=SCORING_SELECTOR)
