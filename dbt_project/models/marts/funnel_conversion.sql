-- CONFIDENTIAL: the bank's own funnel per bank, platform, channel and campaign, by week and by
-- month: each stage's total, the rate from each stage to the next (null when the stage before
-- is 0), and what the cards cost and spent where the costs are known: the bank's own
-- marketing_costs, and for the kol channel the creators' fees of the campaign's collaborations.
-- Published to analysts only when CARDREACH_PUBLISH_CONFIDENTIAL allows it (tag confidential).

{% set stages = funnel_stages() %}

with

funnel as (

    select * from {{ ref('stg_funnel_daily') }}

),

marketing_costs as (

    select * from {{ ref('stg_marketing_costs') }}

),

collaborations as (

    select * from {{ ref('stg_collaborations') }}

),

periods as (

    select 'week' as period_type
    union all
    select 'month'

),

costs as (

    -- one cost line per day and grain: the bank's own, and creators' fees on the kol channel
    select cost_date, bank, platform, channel, campaign_id, cost, source
    from marketing_costs
    where cost is not null

    union all

    select collaboration_date, bank, platform, 'kol', campaign_id, cost, source
    from collaborations
    where cost is not null

),

funnel_by_period as (

    select
        funnel.bank,
        funnel.platform,
        funnel.channel,
        funnel.campaign_id,
        periods.period_type,
        cast(date_trunc(periods.period_type, funnel.funnel_date) as date) as period_start,
        count(*) as days_with_figures,
        min(funnel.funnel_date) as first_date,
        max(funnel.funnel_date) as last_date,
        {%- for stage in stages %}
        {{ stage_total(stage) }} as {{ stage }},
        {%- endfor %}
        {{ stage_total('spend_amount') }} as spend_amount_yuan,
        {{ stage_total('shares') }} as shares,
        {{ distinct_list('funnel.source', ' | ') }} as funnel_sources

    from funnel
    cross join periods
    group by all

),

costs_by_period as (

    select
        costs.bank,
        costs.platform,
        costs.channel,
        costs.campaign_id,
        periods.period_type,
        cast(date_trunc(periods.period_type, costs.cost_date) as date) as period_start,
        sum(costs.cost) as cost_yuan,
        {{ distinct_list('costs.source', ' | ') }} as cost_sources

    from costs
    cross join periods
    group by all

),

keys as (

    -- every grain with figures or with costs: a cost whose period has no funnel row (a creator's
    -- fee outside any campaign) is kept, beside null stages, never dropped
    select bank, platform, channel, campaign_id, period_type, period_start from funnel_by_period
    union
    select bank, platform, channel, campaign_id, period_type, period_start from costs_by_period

),

final as (

    select
        keys.bank,
        keys.platform,
        keys.channel,
        keys.campaign_id,
        keys.period_type,
        keys.period_start,
        case keys.period_type
            when 'week' then date_add(keys.period_start, 6)
            else last_day(keys.period_start)
        end as period_end,
        coalesce(f.days_with_figures, 0) as days_with_figures,
        f.first_date,
        f.last_date,
        {%- for stage in stages %}
        f.{{ stage }},
        {%- endfor %}
        f.spend_amount_yuan,
        f.shares,
        {%- for stage in stages[1:] %}
        {{ stage_rate_pct('f.' ~ stage, 'f.' ~ stages[loop.index0]) }} as {{ stage }}_rate_pct,
        {%- endfor %}
        {{ stage_rate_pct('f.shares', 'f.first_spend') }} as shares_per_first_spend_pct,
        c.cost_yuan,
        {{ per_unit_yuan('c.cost_yuan', 'f.approvals') }} as cost_per_approval_yuan,
        {{ per_unit_yuan('c.cost_yuan', 'f.activations') }} as cost_per_activation_yuan,
        {{ per_unit_yuan('f.spend_amount_yuan', 'f.activations') }} as spend_per_activation_yuan,
        concat_ws(' | ', f.funnel_sources, c.cost_sources) as sources,
        true as is_confidential

    from keys
    left join funnel_by_period as f
        on keys.bank = f.bank
        and keys.platform = f.platform
        and keys.channel = f.channel
        and keys.campaign_id is not distinct from f.campaign_id
        and keys.period_type = f.period_type
        and keys.period_start = f.period_start
    left join costs_by_period as c
        on keys.bank = c.bank
        and keys.platform = c.platform
        and keys.channel = c.channel
        and keys.campaign_id is not distinct from c.campaign_id
        and keys.period_type = c.period_type
        and keys.period_start = c.period_start

)

select * from final
