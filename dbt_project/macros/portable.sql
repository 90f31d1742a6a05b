{#-
    Where DuckDB's SQL and Spark's differ, said once (docs/scaling.md). The models use the syntax
    both engines read wherever there is one (`cast(x as string)`, `count(*) filter (where ...)`,
    `qualify`, `median`, `x -> ...` lambdas) and dbt's own cross-database macros (dbt.datediff,
    dbt.dateadd); what neither offers is here, each macro dispatched to the engine's spelling.
-#}

{#- The distinct non-null values of `expression` in a group, sorted, joined by `delimiter`;
    null when there are none (string_agg's answer, which Spark's array_join does not give). -#}
{% macro distinct_list(expression, delimiter, where=none) %}
    {{ return(adapter.dispatch('distinct_list', 'cardreach')(expression, delimiter, where)) }}
{% endmacro %}

{% macro default__distinct_list(expression, delimiter, where) -%}
    string_agg(distinct {{ expression }}, '{{ delimiter }}' order by {{ expression }})
    {%- if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}

{% macro spark__distinct_list(expression, delimiter, where) -%}
    {%- set only_where -%}{% if where %} filter (where {{ where }}){% endif %}{%- endset -%}
    case when count({{ expression }}){{ only_where }} > 0 then
        array_join(array_sort(collect_set({{ expression }}){{ only_where }}), '{{ delimiter }}')
    end
{%- endmacro %}

{#- The values of `expression` in a group, in the order of `order_by`, joined by `delimiter`.
    Say `nulls last` after a key that can be null: Spark puts nulls first in an ascending order,
    DuckDB last. -#}
{% macro ordered_list(expression, delimiter, order_by) %}
    {{ return(adapter.dispatch('ordered_list', 'cardreach')(expression, delimiter, order_by)) }}
{% endmacro %}

{% macro default__ordered_list(expression, delimiter, order_by) -%}
    string_agg({{ expression }}, '{{ delimiter }}' order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_list(expression, delimiter, order_by) -%}
    listagg({{ expression }}, '{{ delimiter }}') within group (order by {{ order_by }})
{%- endmacro %}

{#- An array of the expressions given. -#}
{% macro array_of(expressions) %}
    {{ return(adapter.dispatch('array_of', 'cardreach')(expressions)) }}
{% endmacro %}

{% macro default__array_of(expressions) -%}
    [{{ expressions | join(', ') }}]
{%- endmacro %}

{% macro spark__array_of(expressions) -%}
    array({{ expressions | join(', ') }})
{%- endmacro %}

{#- The elements of an array of texts, distinct and sorted, joined by `delimiter`. -#}
{% macro joined_array(array_expression, delimiter) %}
    {{ return(adapter.dispatch('joined_array', 'cardreach')(array_expression, delimiter)) }}
{% endmacro %}

{% macro default__joined_array(array_expression, delimiter) -%}
    array_to_string(array_sort(array_distinct({{ array_expression }})), '{{ delimiter }}')
{%- endmacro %}

{% macro spark__joined_array(array_expression, delimiter) -%}
    array_join(array_sort(array_distinct({{ array_expression }})), '{{ delimiter }}')
{%- endmacro %}

{#- Whole-number division, truncated towards zero (DuckDB's //, Spark's div). -#}
{% macro integer_division(dividend, divisor) %}
    {{ return(adapter.dispatch('integer_division', 'cardreach')(dividend, divisor)) }}
{% endmacro %}

{% macro default__integer_division(dividend, divisor) -%}
    ({{ dividend }}) // ({{ divisor }})
{%- endmacro %}

{% macro spark__integer_division(dividend, divisor) -%}
    ({{ dividend }}) div ({{ divisor }})
{%- endmacro %}

{#- The distinct non-null values of `expression` in a group as an array; null when there are none
    (Spark's collect_set would give an empty array). -#}
{% macro distinct_array(expression) %}
    {{ return(adapter.dispatch('distinct_array', 'cardreach')(expression)) }}
{% endmacro %}

{% macro default__distinct_array(expression) -%}
    list(distinct {{ expression }}) filter (where {{ expression }} is not null)
{%- endmacro %}

{% macro spark__distinct_array(expression) -%}
    case when count({{ expression }}) > 0 then collect_set({{ expression }}) end
{%- endmacro %}

{#- One row per date from `start` to `stop` (dates), both included, `step_days` apart: a
    set-returning expression for a select list, of dates. `start` must not be after `stop`:
    DuckDB gives no row, Spark's sequence stops the query. -#}
{% macro each_date(start, stop, step_days) %}
    {{ return(adapter.dispatch('each_date', 'cardreach')(start, stop, step_days)) }}
{% endmacro %}

{% macro default__each_date(start, stop, step_days) -%}
    cast(unnest(generate_series({{ start }}, {{ stop }}, interval {{ step_days }} day)) as date)
{%- endmacro %}

{% macro spark__each_date(start, stop, step_days) -%}
    explode(sequence({{ start }}, {{ stop }}, interval {{ step_days }} day))
{%- endmacro %}

{#- The product of the non-null values of `expression` in a group, as a double; null when there
    are none (DuckDB's product; Spark's fold would give 1). -#}
{% macro product_of(expression) %}
    {{ return(adapter.dispatch('product_of', 'cardreach')(expression)) }}
{% endmacro %}

{% macro default__product_of(expression) -%}
    product({{ expression }})
{%- endmacro %}

{% macro spark__product_of(expression) -%}
    case when count({{ expression }}) > 0 then
        aggregate(collect_list(cast({{ expression }} as double)), cast(1 as double), (acc, x) -> acc * x)
    end
{%- endmacro %}

{#- An ORDER BY that reads a seed's rows in the order of its CSV file. DuckDB numbers a table's
    rows as they were inserted (rowid); a Spark seed is one file written in the CSV's order
    (macros/spark_seed_rows.sql), which Spark reads back in that order. -#}
{% macro in_seed_order() %}
    {{ return(adapter.dispatch('in_seed_order', 'cardreach')()) }}
{% endmacro %}

{% macro default__in_seed_order() -%}
    order by rowid
{%- endmacro %}

{% macro spark__in_seed_order() -%}
{%- endmacro %}

{#- A hint on how a CTE is computed (`materialized` or `not materialized`): DuckDB's, which
    decides whether a CTE read several times is computed once. Spark decides that itself. -#}
{% macro cte_hint(hint) %}
    {{ return(adapter.dispatch('cte_hint', 'cardreach')(hint)) }}
{% endmacro %}

{% macro default__cte_hint(hint) -%}
    {{ hint }}
{%- endmacro %}

{% macro spark__cte_hint(hint) -%}
{%- endmacro %}

{#-
    The configuration of an incremental model of the account snapshots, keyed by
    (platform, account_name, snapshot_date), whose incremental build recomputes some rows:
    - DuckDB: delete+insert on the key, whatever rows the build recomputes.
    - Spark (Parquet tables): a table has no row-level delete, so a model whose incremental build
      recomputes whole (platform, snapshot_date) partitions (`whole_dates`) overwrites those
      partitions (insert_overwrite); a model that recomputes single rows is rebuilt whole, a
      table. On a cluster with Delta Lake or Iceberg, `merge` on the key would do what
      delete+insert does (docs/scaling.md).
-#}
{% macro snapshot_upsert(whole_dates) %}
    {{ return(adapter.dispatch('snapshot_upsert', 'cardreach')(whole_dates)) }}
{% endmacro %}

{% macro default__snapshot_upsert(whole_dates) %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': ['platform', 'account_name', 'snapshot_date'],
    }) }}
{% endmacro %}

{% macro spark__snapshot_upsert(whole_dates) %}
    {% if whole_dates %}
        {{ return({
            'materialized': 'incremental',
            'incremental_strategy': 'insert_overwrite',
            'partition_by': ['platform', 'snapshot_date'],
        }) }}
    {% endif %}
    {{ return({'materialized': 'table'}) }}
{% endmacro %}

{#- The row of `right` nearest a row of the CTE `left` on `date`, among those of the same `keys`
    on or after it (comparison '<=') or on or before it ('>='), as a left join aliased `alias`.
    `right` holds one row per keys and date. DuckDB has the ASOF join; Spark finds the nearest
    date with a range join first. -#}
{% macro nearest_row_join(left, right, alias, keys, comparison, date='snapshot_date') %}
    {{ return(adapter.dispatch('nearest_row_join', 'cardreach')(
        left, right, alias, keys, comparison, date)) }}
{% endmacro %}

{% macro default__nearest_row_join(left, right, alias, keys, comparison, date) -%}
    asof left join {{ right }} as {{ alias }}
        on {% for key in keys %}{{ left }}.{{ key }} = {{ alias }}.{{ key }}
        and {% endfor %}{{ left }}.{{ date }} {{ comparison }} {{ alias }}.{{ date }}
{%- endmacro %}

{% macro spark__nearest_row_join(left, right, alias, keys, comparison, date) -%}
    left join (
        select
            {%- for key in keys %} {{ left }}.{{ key }},{% endfor %}
            {{ left }}.{{ date }} as at_date,
            {{ 'min' if comparison == '<=' else 'max' }}({{ right }}.{{ date }}) as nearest_date
        from {{ left }}
        inner join {{ right }}
            on {% for key in keys %}{{ left }}.{{ key }} = {{ right }}.{{ key }}
            and {% endfor %}{{ left }}.{{ date }} {{ comparison }} {{ right }}.{{ date }}
        group by {% for key in keys %}{{ left }}.{{ key }}, {% endfor %}{{ left }}.{{ date }}
    ) as {{ alias }}_nearest
        on {% for key in keys %}{{ left }}.{{ key }} = {{ alias }}_nearest.{{ key }}
        and {% endfor %}{{ left }}.{{ date }} = {{ alias }}_nearest.at_date
    left join {{ right }} as {{ alias }}
        on {% for key in keys %}{{ alias }}_nearest.{{ key }} = {{ alias }}.{{ key }}
        and {% endfor %}{{ alias }}_nearest.nearest_date = {{ alias }}.{{ date }}
{%- endmacro %}

{#- `moment` (a date or a timestamp) minus a whole number of days. -#}
{% macro days_before(moment, days) %}
    {{ return(adapter.dispatch('days_before', 'cardreach')(moment, days)) }}
{% endmacro %}

{% macro default__days_before(moment, days) -%}
    {{ moment }} - to_days({{ days }})
{%- endmacro %}

{% macro spark__days_before(moment, days) -%}
    timestampadd(day, -({{ days }}), {{ moment }})
{%- endmacro %}

{#- One row per part of `text` split where the regular expression `pattern` matches: a
    set-returning expression for a select list. Spark reads backslashes in string literals as
    escapes, so the pattern's are doubled there. -#}
{% macro each_part(text, pattern) %}
    {{ return(adapter.dispatch('each_part', 'cardreach')(text, pattern)) }}
{% endmacro %}

{% macro default__each_part(text, pattern) -%}
    unnest(string_split_regex({{ text }}, '{{ pattern }}'))
{%- endmacro %}

{% macro spark__each_part(text, pattern) -%}
    explode(split({{ text }}, '{{ pattern | replace("\\", "\\\\") }}'))
{%- endmacro %}

{#- The ISO day of the week of a date or timestamp: 1 for Monday to 7 for Sunday. -#}
{% macro iso_weekday(moment) %}
    {{ return(adapter.dispatch('iso_weekday', 'cardreach')(moment)) }}
{% endmacro %}

{% macro default__iso_weekday(moment) -%}
    isodow({{ moment }})
{%- endmacro %}

{% macro spark__iso_weekday(moment) -%}
    extract(dayofweek_iso from {{ moment }})
{%- endmacro %}

{#- `text` with every match of the regular expression `pattern` replaced by `replacement`
    (DuckDB replaces the first match unless told 'g'; Spark replaces all, and reads backslashes
    in string literals as escapes). -#}
{% macro replace_matches(text, pattern, replacement) %}
    {{ return(adapter.dispatch('replace_matches', 'cardreach')(text, pattern, replacement)) }}
{% endmacro %}

{% macro default__replace_matches(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__replace_matches(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern | replace("\\", "\\\\") }}', '{{ replacement }}')
{%- endmacro %}
