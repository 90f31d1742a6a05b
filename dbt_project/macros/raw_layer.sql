{#-
    Where the models find the delivered rows (source 'raw'). On DuckDB they are the pipeline
    database's raw tables, which ingestion writes: nothing to do. On Spark they are Parquet parts in
    the lake, one per delivery (orchestration/defs/ingest/lake.py): each raw table is declared over
    its folder at the start of every invocation, so a new part, a moved lake or a new column is
    seen at once. Dropping such a table (it has a location) never deletes its files.
-#}
{% macro declare_raw_layer() %}
    {{ return(adapter.dispatch('declare_raw_layer', 'cardreach')()) }}
{% endmacro %}

{% macro default__declare_raw_layer() %}{% endmacro %}

{% macro spark__declare_raw_layer() %}
    {% if execute %}
        {% set lake = env_var('CARDREACH_DBT_LAKE') %}
        {% do run_query('create database if not exists raw') %}
        {% for source in graph.sources.values() if source.source_name == 'raw' %}
            {% do run_query('drop table if exists raw.' ~ source.name) %}
            {% do run_query(
                'create table raw.' ~ source.name ~ " using parquet options (mergeSchema 'true')"
                ~ " location '" ~ lake ~ '/raw/' ~ source.name ~ "'"
            ) %}
        {% endfor %}
    {% endif %}
{% endmacro %}
