{#-
    Where the models find the delivered rows (source 'raw'). On DuckDB they are the pipeline
    database's raw tables, which ingestion writes: nothing to do. On Spark they are Parquet parts in
    the lake, one per delivery (orchestration/defs/ingest/lake.py): at the start of every
    invocation, each raw table its nodes read is declared over its folder, so a new part, a moved
    lake or a new column is seen at once. Dropping such a table (it has a location) never deletes
    its files.

    Only the tables the invocation reads: declaring one reads the footer of every part in its
    folder (mergeSchema), which grows with the history. A daily run's models' step reads the raw
    tables of the models its plan rebuilds, the scores' step none (it reads the marts). A table
    left as an earlier invocation declared it (Spark's catalog keeps it) is declared again before
    anything reads it. What a node reads is what dbt's graph says: a model must call source()
    where dbt sees it when it parses (not only inside is_incremental() or `if execute`), or its
    table may be read as an earlier invocation declared it.
-#}
{% macro declare_raw_layer() %}
    {{ return(adapter.dispatch('declare_raw_layer', 'cardreach')()) }}
{% endmacro %}

{% macro default__declare_raw_layer() %}{% endmacro %}

{% macro spark__declare_raw_layer() %}
    {% if execute %}
        {% set read = raw_tables_read(selected_resources) %}
        {% if read %}
            {% set lake = env_var('CARDREACH_DBT_LAKE') %}
            {% do run_query('create database if not exists raw') %}
        {% endif %}
        {% for source in graph.sources.values() if source.source_name == 'raw' %}
            {% if source.name in read %}
                {% do run_query('drop table if exists raw.' ~ source.name) %}
                {% do run_query(
                    'create table raw.' ~ source.name ~ " using parquet options (mergeSchema 'true')"
                    ~ " location '" ~ lake ~ '/raw/' ~ source.name ~ "'"
                ) %}
            {% endif %}
        {% endfor %}
    {% endif %}
{% endmacro %}

{#-
    The names of the raw tables that `resources` (unique ids, as dbt's selected_resources lists
    them) read: a raw source itself, or one a model or test reads, directly or through an
    ephemeral model (whose SQL is pasted into theirs); a seed reads none. A resource the graph
    does not know reads every raw table, so that a kind of node this rule never met finds its
    tables declared.
-#}
{% macro raw_tables_read(resources) %}
    {% set raw = {} %}
    {% for source in graph.sources.values() if source.source_name == 'raw' %}
        {% do raw.update({source.unique_id: source.name}) %}
    {% endfor %}
    {% set read = [] %}
    {% for unique_id in resources %}
        {% if unique_id in raw %}
            {% do read.append(raw[unique_id]) %}
        {% elif unique_id in graph.nodes %}
            {% for upstream in graph.nodes[unique_id].depends_on.get('nodes', []) %}
                {% if upstream in raw %}
                    {% do read.append(raw[upstream]) %}
                {% elif upstream in graph.nodes
                    and graph.nodes[upstream].config.materialized == 'ephemeral' %}
                    {% do read.extend(raw_tables_read([upstream])) %}
                {% endif %}
            {% endfor %}
        {% elif unique_id not in graph.sources %}
            {% do read.extend(raw.values()) %}
        {% endif %}
    {% endfor %}
    {{ return(read | unique | list) }}
{% endmacro %}
