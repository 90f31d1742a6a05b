{#- Whether an hour of day (0-23) lies in a period [hour_start, hour_end) of the day; a period
    whose end is below its start crosses midnight (22 to 2 holds 22, 23, 0 and 1). One
    definition, used by posting_vs_active_periods and the seed test of the periods. -#}
{% macro hour_in_period(hour, hour_start, hour_end) -%}
    (
        ({{ hour_start }} < {{ hour_end }} and {{ hour }} >= {{ hour_start }} and {{ hour }} < {{ hour_end }})
        or ({{ hour_start }} > {{ hour_end }} and ({{ hour }} >= {{ hour_start }} or {{ hour }} < {{ hour_end }}))
    )
{%- endmacro %}
