{#
    The grain test: no two rows share the same values of these columns (dbt_utils'
    unique_combination_of_columns, which we cannot install). Fails with one row per duplicated
    key and how many times it occurs.

    latest_build_column, for an incremental model that stamps each row with the build that wrote
    it (refreshed_through_load_id, staged_through_load_id): only the rows of the latest build are
    checked, all of them after a full refresh. Such a model is built by delete+insert on this key,
    which first removes every stored row whose key the build writes, so only the build's own rows
    can duplicate one; the older rows were checked by the build that wrote them. On a daily build
    this groups one day instead of the whole history. So the rows of a build whose grain test
    failed, or that ran without its tests, drop out of the test once a later build writes rows:
    after fixing the cause, build with --full-refresh, which checks every row.
#}
{% test unique_combination(model, combination_of_columns, latest_build_column=none) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as rows_with_this_key

from {{ model }}
{%- if latest_build_column %}
where {{ latest_build_column }} = (select max({{ latest_build_column }}) from {{ model }})
{%- endif %}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
