{#
    weekly_growth_pct(current, previous, days)

    The change from `previous` to `current` over `days` days, compounded to a rate per week, in
    percent: (( current / previous ) ^ (7 / days) − 1) × 100. Snapshots come at uneven gaps, and
    a compounded weekly rate compares a change over 5 days with one over 107 (DOMAIN.md). Null
    when `previous` or `days` is 0 or null. Used for the point estimate and for each bound of the
    range the rounding allows (the bounds pass the interval's ends).
#}
{% macro weekly_growth_pct(current, previous, days) -%}
    (power(({{ current }}) / nullif({{ previous }}, 0), 7.0 / nullif({{ days }}, 0)) - 1) * 100
{%- endmacro %}
