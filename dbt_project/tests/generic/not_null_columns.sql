{#
    The model's required columns, in one query: fails with one row per column that holds nulls
    and how many rows do. One test (one scan, one check in Dagster) per model instead of one per
    column: dbt's not_null is a node of its own for each column, and 231 of them cost a run
    about 7 s in dbt alone. A column whose nulls are allowed on some rows keeps its own
    `not_null` with a `where`. It reads the whole table, incremental ones too (one scan): nulls
    a failed build left behind fail every build until they are gone.
#}
{% test not_null_columns(model, columns) %}

with null_counts as (
    select
        {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
)

{% for column in columns %}
select '{{ column }}' as null_column, {{ column }} as null_rows
from null_counts
where {{ column }} > 0
{% if not loop.last %}union all{% endif %}
{% endfor %}

{% endtest %}
