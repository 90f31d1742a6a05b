{#
    The relationships test on a composite key: every row's key (columns) exists in the `to`
    model's key (to_columns, the same names by default), among the `to` rows that match
    `to_where` when given (e.g. one category of the seed category_codes). Rows whose key has a
    null part are skipped, as dbt's own relationships test does. Fails with one row per missing
    key.
#}
{% test relationships_on_key(model, columns, to, to_columns=none, to_where=none) %}

{%- set to_columns = to_columns or columns -%}

with

child as (

    select distinct {{ columns | join(', ') }}
    from {{ model }}
    where
        {% for column in columns -%}
        {{ column }} is not null{% if not loop.last %} and {% endif %}
        {%- endfor %}

),

parent as (

    select distinct
        {% for column in to_columns -%}
        {{ column }} as {{ columns[loop.index0] }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ to }}
    {%- if to_where %}
    where {{ to_where }}
    {%- endif %}

),

missing as (

    select child.*
    from child
    anti join parent using ({{ columns | join(', ') }})

)

select * from missing

{% endtest %}
