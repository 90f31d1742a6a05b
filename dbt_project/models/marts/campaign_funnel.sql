-- CONFIDENTIAL: each campaign's public reach (campaign_performance: the topic's UGC notes and
-- views, the account's followers against its own trend, the creators' fees) beside what the
-- bank's own funnel attributes to it (stg_funnel_daily rows naming the campaign, every day and
-- channel, of the campaign's bank and platform), so a card team sees which 种草 turned into
-- cards and spending. Conversion columns are null for a campaign the funnel does not name; a funnel campaign_id no campaign has is
-- warned about by a relationships test of stg_funnel_daily.

{% set stages = funnel_stages() %}

with

campaigns as (

    select * from {{ ref('campaign_performance') }}

),

funnel as (

    select * from {{ ref('stg_funnel_daily') }}

),

marketing_costs as (

    select * from {{ ref('stg_marketing_costs') }}

),

conversion as (

    -- by bank and platform too: a row of another bank naming the same id is not this campaign's
    select
        bank,
        platform,
        campaign_id,
        min(funnel_date) as funnel_first_date,
        max(funnel_date) as funnel_last_date,
        {{ distinct_list('channel', ', ') }} as funnel_channels,
        {%- for stage in stages %}
        {{ stage_total(stage) }} as {{ stage }},
        {%- endfor %}
        {{ stage_total('spend_amount') }} as spend_amount_yuan,
        {{ stage_total('shares') }} as shares,
        {{ distinct_list('source', ' | ') }} as funnel_sources

    from funnel
    where campaign_id is not null
    group by bank, platform, campaign_id

),

own_costs as (

    select
        bank,
        platform,
        campaign_id,
        sum(cost) as marketing_cost_yuan,
        {{ distinct_list('source', ' | ') }} as cost_sources

    from marketing_costs
    where campaign_id is not null
    group by bank, platform, campaign_id

),

final as (

    select
        -- the campaign and its public reach
        campaigns.campaign_id,
        campaigns.platform,
        campaigns.bank,
        campaigns.account_name,
        campaigns.name,
        campaigns.mechanic,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.ugc_notes_gained,
        campaigns.topic_views_gained,
        campaigns.followers_change,
        campaigns.uplift_pct_points,
        campaigns.uplift_verdict,
        campaigns.official_note_interactions,
        campaigns.collaborations,

        -- its conversion (the bank's own figures)
        conversion.funnel_first_date,
        conversion.funnel_last_date,
        conversion.funnel_channels,
        {%- for stage in stages %}
        conversion.{{ stage }},
        {%- endfor %}
        conversion.spend_amount_yuan,
        conversion.shares,
        {%- for stage in stages[1:] %}
        {{ stage_rate_pct('conversion.' ~ stage, 'conversion.' ~ stages[loop.index0]) }}
            as {{ stage }}_rate_pct,
        {%- endfor %}

        -- reach against conversion
        case
            when campaigns.ugc_notes_gained > 0
                then round(conversion.approvals / campaigns.ugc_notes_gained, 2)
        end as approvals_per_ugc_note,

        -- what it cost, where known: creators' fees and the bank's own costs
        case
            when campaigns.collaboration_cost_yuan is not null
                or own_costs.marketing_cost_yuan is not null
                then coalesce(campaigns.collaboration_cost_yuan, 0)
                    + coalesce(own_costs.marketing_cost_yuan, 0)
        end as cost_yuan,
        campaigns.collaboration_cost_yuan,
        own_costs.marketing_cost_yuan,

        concat_ws(' | ', campaigns.sources, conversion.funnel_sources, own_costs.cost_sources)
            as sources,
        true as is_confidential

    from campaigns
    left join conversion
        on campaigns.campaign_id = conversion.campaign_id
        and campaigns.bank = conversion.bank
        and campaigns.platform = conversion.platform
    left join own_costs
        on campaigns.campaign_id = own_costs.campaign_id
        and campaigns.bank = own_costs.bank
        and campaigns.platform = own_costs.platform

),

with_unit_costs as (

    select
        *,
        {{ per_unit_yuan('cost_yuan', 'approvals') }} as cost_per_approval_yuan,
        {{ per_unit_yuan('cost_yuan', 'activations') }} as cost_per_activation_yuan,
        {{ per_unit_yuan('spend_amount_yuan', 'activations') }} as spend_per_activation_yuan

    from final

)

select * from with_unit_costs
