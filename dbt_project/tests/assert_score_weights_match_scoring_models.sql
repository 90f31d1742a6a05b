-- The weights seed must name exactly the components the score models compute, each with the
-- metric it ranks: a component the model does not know would silently weigh nothing, and a
-- component missing from the seed would have no weight. The models' components are read from
-- the built tables themselves (their `<component>_component` columns), so there is no third list
-- to keep in step. Returns one row per mismatch.
-- Tagged `scoring` so that it runs with the score models; for Dagster it is a check of
-- account_scores (a singular test with several parents needs to be told which).
{{ config(tags=['scoring'], meta={'dagster': {'ref': {'name': 'account_scores'}}}) }}
{%- set scored_models = {'account': ref('account_scores'), 'platform': ref('platform_scores')} %}
{%- set suffix = '_component' %}

{%- set model_components = [] %}
{%- set model_columns = [] %}
{%- if execute %}
    {%- for score, relation in scored_models.items() %}
        {%- for column in adapter.get_columns_in_relation(relation) %}
            {%- set column_name = column.name | lower %}
            {%- do model_columns.append((score, column_name)) %}
            {%- if column_name.endswith(suffix) %}
                {%- do model_components.append((score, column_name[:-(suffix | length)])) %}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}

with

seed as (

    select score, component, metric from {{ ref('score_weights') }}

),

model_components (score, component) as (

    {% if model_components -%}
    values
        {% for score, component in model_components -%}
        ('{{ score }}', '{{ component }}'){% if not loop.last %},{% endif %}
        {% endfor %}
    {%- else -%}
    -- the models are not built: every seed row fails
    select null::varchar, null::varchar where false
    {%- endif %}

),

model_columns (score, column_name) as (

    {% if model_columns -%}
    values
        {% for score, column_name in model_columns -%}
        ('{{ score }}', '{{ column_name }}'){% if not loop.last %},{% endif %}
        {% endfor %}
    {%- else -%}
    select null::varchar, null::varchar where false
    {%- endif %}

)

select seed.score, seed.component, 'component unknown to the score model' as problem
from seed
anti join model_components using (score, component)

union all

select model_components.score, model_components.component, 'component missing from the seed'
from model_components
anti join seed using (score, component)

union all

select seed.score, seed.component, 'metric ' || coalesce(seed.metric, 'null') || ' is not a column of the score model'
from seed
where not exists (
    select 1
    from model_columns
    where model_columns.score = seed.score
        and model_columns.column_name = lower(seed.metric)
)
