{#
    The funnel's stages, in order, and how a rate between two of them is computed: defined once
    for every funnel mart. A rate is a percent of the stage before; null (never 0) when that stage
    is 0 or unknown, since nothing could convert.
#}
{% macro funnel_stages() %}
    {{ return(['impressions', 'clicks', 'applications', 'approvals', 'activations', 'first_spend']) }}
{% endmacro %}

{% macro stage_rate_pct(stage, previous) %}
    case when {{ previous }} > 0 then round(100.0 * {{ stage }} / {{ previous }}, 4) end
{% endmacro %}

{#
    A stage's total over rows: null when any row did not deliver it, so a rate never divides a
    sum over some days by a sum over others.
#}
{% macro stage_total(stage) %}
    case when count({{ stage }}) = count(*) then sum({{ stage }}) end
{% endmacro %}

{% macro per_unit_yuan(amount, units) %}
    case when {{ units }} > 0 then round({{ amount }} / {{ units }}, 2) end
{% endmacro %}
