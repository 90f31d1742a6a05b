{#
    The true count a displayed, rounded count allows, as one bound of a closed interval of whole
    numbers: count_interval('low' | 'high', value, step, censored).

    A platform shows 43,000 followers as 4.3万 (value 43000, step 1000). What the true count can
    be depends on how the platform rounds, which no platform documents; the project var
    `count_rounding` (dbt_project.yml) names the assumption:

    - `nearest` (default): rounded half up to the nearest step, so 4.3万 is 42,500 to 43,499
      ([42,500, 43,500) in persons: the low bound is floor(step / 2) below the value, the high
      one ceil(step / 2) − 1 above it);
    - `down`: truncated, so 4.3万 is 43,000 to 43,999.

    Bounds are inclusive (counts are whole persons), so a difference of two counts has the
    inclusive bounds low − high and high − low, and "could be 0" is low ≤ 0 ≤ high. An exact
    count (step 1) is [value, value] under both. A censored count (10万+, "at least") has the
    displayed value as its low bound under both (the "+" rules out a rounded-up display) and no
    high bound (null: unbounded). A null value gives null bounds.
#}
{% macro count_interval(bound, value, step, censored='false') %}
    {%- set rounding = var('count_rounding', 'nearest') -%}
    {%- if rounding not in ('nearest', 'down') -%}
        {{ exceptions.raise_compiler_error(
            "var count_rounding must be 'nearest' or 'down', got '" ~ rounding ~ "'") }}
    {%- endif -%}
    {%- if bound == 'low' -%}
        {%- if rounding == 'nearest' -%}
            {#- "10万+" says at least 100,000: no rounding below the displayed value #}
            (case when coalesce({{ censored }}, false) then {{ value }}
                else {{ value }} - {{ integer_division(step, 2) }} end)
        {%- else -%}
            ({{ value }})
        {%- endif -%}
    {%- elif bound == 'high' -%}
        (case when not coalesce({{ censored }}, false) then
        {%- if rounding == 'nearest' %}
            {{ value }} + {{ integer_division(step ~ ' + 1', 2) }} - 1
        {%- else %}
            {{ value }} + {{ step }} - 1
        {%- endif %}
        end)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "count_interval: bound must be 'low' or 'high', got '" ~ bound ~ "'") }}
    {%- endif -%}
{% endmacro %}
