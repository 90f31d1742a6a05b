{#- The day cardreach takes as today (CARDREACH_TODAY, by default the date on the clock of
    CARDREACH_TIMEZONE; orchestration/settings.py), handed to dbt at each step. Not the database's
    current_date: that is the machine's day on DuckDB and UTC's on Spark, a day behind the
    readers' for eight hours of theirs, and the run plan rebuilds on the readers' new day. -#}
{% macro cardreach_today() -%}
    cast('{{ env_var("CARDREACH_DBT_TODAY") }}' as date)
{%- endmacro %}
