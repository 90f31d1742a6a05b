{#
    snapshot_near_edge(snapshots, match_columns, edge, side)

    For each row of the CTE `campaigns` (campaign_id, the columns in match_columns, the date
    column `edge` and edge_tolerance_days), the one row of `snapshots` nearest that edge on one
    side: side 'before' takes the latest snapshot on or before the edge, 'after' the earliest on
    or after it; only snapshots within edge_tolerance_days of the edge qualify, so a campaign with
    none gets nulls (and the mart says why). A snapshot on the far side of an edge would measure
    days outside the window, one far from it a different period: neither is used.
    Selects campaign_id and every column of `snapshots`, as a query (use it as a CTE's body).
#}
{% macro snapshot_near_edge(snapshots, match_columns, edge, side) %}
    {%- if side not in ('before', 'after') -%}
        {{ exceptions.raise_compiler_error(
            "snapshot_near_edge: side must be 'before' or 'after', got '" ~ side ~ "'") }}
    {%- endif %}
    select
        campaigns.campaign_id,
        {{ snapshots }}.*

    from campaigns
    left join {{ snapshots }}
        on
        {%- for column in match_columns %}
            {{ snapshots }}.{{ column }} = campaigns.{{ column }} and
        {%- endfor %}
        {%- if side == 'before' %}
            {{ snapshots }}.snapshot_date between campaigns.{{ edge }} - campaigns.edge_tolerance_days
                and campaigns.{{ edge }}
        {%- else %}
            {{ snapshots }}.snapshot_date between campaigns.{{ edge }}
                and campaigns.{{ edge }} + campaigns.edge_tolerance_days
        {%- endif %}
    qualify row_number() over (
        partition by campaigns.campaign_id
        order by {{ snapshots }}.snapshot_date {{ 'desc' if side == 'before' else 'asc' }}
    ) = 1
{% endmacro %}
