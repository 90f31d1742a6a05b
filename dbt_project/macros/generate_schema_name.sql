{#
    Use the configured schema name as-is (staging, intermediate, marts, reference) instead of
    dbt's default "<target schema>_<custom schema>": the schemas are part of the analysts'
    interface (CONTRACT.md: marts.*), the same in every environment.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
