{#
    The model's required columns, in one query: fails with one row per column that holds nulls
    and how many rows do. One test (one scan, one check in Dagster) per model instead of one per
    column: dbt's not_null is a node of its own for each column, and 231 of them cost a run
    about 7 s in dbt alone. A column whose nulls are allowed on some rows keeps its own
    `not_null` with a `where`.

    latest_build_column, as in unique_combination: for an incremental model that stamps each
    row with the build that wrote it, only that build's rows are checked (all rows after a full
    refresh); the older ones were checked by the build that wrote them.
#}
{% test not_null_columns(model, columns, latest_build_column=none) %}

with null_counts as (
    select
        {%- for column in columns %}
        sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
    {%- if latest_build_column %}
    where {{ latest_build_column }} = (select max({{ latest_build_column }}) from {{ model }})
    {%- endif %}
)

{% for column in columns %}
select '{{ column }}' as null_column, {{ column }} as null_rows
from null_counts
where {{ column }} > 0
{% if not loop.last %}union all{% endif %}
{% endfor %}

{% endtest %}
