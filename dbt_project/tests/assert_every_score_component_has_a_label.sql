-- The report shows each score component by its label in category_codes (score_component): a
-- component added to score_weights needs its row there, or the report would show its code.
{{ config(meta={'dagster': {'ref': {'name': 'score_weights'}}}) }}

select score_weights.score, score_weights.component

from {{ ref('score_weights') }} as score_weights
anti join {{ ref('category_codes') }} as category_codes
    on category_codes.category = 'score_component'
    and category_codes.code = score_weights.component
