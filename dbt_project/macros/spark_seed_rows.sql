{#-
    Seeds on Spark: dbt-spark's session connection pastes each cell into the INSERT without
    escaping it, so a cell holding a quote (account's, 3 × the median ...) ends its literal and
    the seed fails. This is dbt-spark's own spark__load_csv_rows with each cell written as an
    escaped literal instead (Spark reads backslash escapes in string literals), and each batch
    of rows (dbt's seed batch size, which every seed here fits in) written as one file, in the
    CSV's order, which Spark reads back in that order: the scores take their components in the
    seed's order (macro in_seed_order).
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set sql %}
            insert into {{ this.render() }} select /*+ COALESCE(1) */ * from values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set type = column_override.get(
                        agate_table.column_names[loop.index0],
                        adapter.convert_type(agate_table, loop.index0)
                    ) -%}
                    {%- if value is none -%}
                        cast(null as {{ type }})
                    {%- else -%}
                        cast('{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                    {%- endif -%}
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}{% do statements.append(sql) %}{% endif %}
    {% endfor %}
    {{ return(statements[0]) }}
{% endmacro %}
