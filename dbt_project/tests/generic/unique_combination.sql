{#
    The grain test: no two rows share the same values of these columns (dbt_utils'
    unique_combination_of_columns, which we cannot install). Fails with one row per duplicated
    key and how many times it occurs.
#}
{% test unique_combination(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as rows_with_this_key

from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
