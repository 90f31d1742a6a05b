{#- The day cardreach takes as today (CARDREACH_TODAY, by default the date on the clock of
    CARDREACH_TIMEZONE; orchestration/settings.py), fixed for a run and handed to dbt at each
    step. Not the database's current_date: that is the machine's day on DuckDB and UTC's on
    Spark, a day behind the readers' for eight hours of theirs, and the run plan rebuilds on the
    readers' new day. Read when a model runs, not when the project is parsed: dbt would keep the
    value in its saved parse and parse again on every new day. -#}
{% macro cardreach_today() -%}
    {%- if execute -%}
        cast('{{ env_var("CARDREACH_DBT_TODAY") }}' as date)
    {%- else -%}
        cast(null as date)
    {%- endif -%}
{%- endmacro %}
