-- Bank × creator: how a bank has worked with a creator (collaborations, when, in which
-- campaigns, at what known cost), which other banks work with the same creator, and the
-- creator's latest figures. A cost not delivered is unknown, never 0: cost_yuan sums the known
-- costs and collaborations_without_cost says how many are missing from it.
with

collaborations as (

    select * from {{ ref('stg_collaborations') }}

),

campaigns as (

    select * from {{ ref('stg_campaigns') }}

),

creator_value as (

    select * from {{ ref('creator_value') }}
    where is_latest

),

usage as (

    select
        collaborations.bank,
        collaborations.platform,
        collaborations.creator_id,
        count(*) as collaborations,
        min(collaborations.collaboration_date) as first_collaboration_date,
        max(collaborations.collaboration_date) as last_collaboration_date,
        count(distinct collaborations.campaign_id) as campaigns,
        -- a campaign_id no campaign has is shown as the id (a dbt test warns about it)
        {{ distinct_list('coalesce(campaigns.name, collaborations.campaign_id)', ' | ') }}
            as campaign_names,
        sum(collaborations.cost) as cost_yuan,
        count(*) filter (where collaborations.cost is null) as collaborations_without_cost,
        {{ distinct_list('collaborations.source', ' | ') }}
            as collaboration_sources

    from collaborations
    left join campaigns
        on collaborations.campaign_id = campaigns.campaign_id
    group by collaborations.bank, collaborations.platform, collaborations.creator_id

),

other_banks as (

    -- the competitors on the same creator: every other bank with a collaboration
    select
        usage.bank,
        usage.platform,
        usage.creator_id,
        {{ ordered_list('others.bank', ', ', 'others.bank') }} as other_banks,
        count(others.bank) as other_banks_count

    from usage
    left join usage as others
        on usage.platform = others.platform
        and usage.creator_id = others.creator_id
        and usage.bank <> others.bank
    group by usage.bank, usage.platform, usage.creator_id

),

final as (

    select
        usage.bank,
        usage.platform,
        usage.creator_id,
        creator_value.creator_name,
        creator_value.vertical,

        usage.collaborations,
        usage.first_collaboration_date,
        usage.last_collaboration_date,
        usage.campaigns,
        usage.campaign_names,
        usage.cost_yuan,
        usage.collaborations_without_cost,
        usage.cost_yuan / nullif(usage.collaborations - usage.collaborations_without_cost, 0)
            as cost_per_collaboration_yuan,

        other_banks.other_banks,
        other_banks.other_banks_count,

        -- the creator's latest snapshot (null when no creators file names it)
        creator_value.snapshot_date as creator_snapshot_date,
        creator_value.followers,
        creator_value.follower_growth_weekly_pct,
        creator_value.median_interactions_per_note,
        creator_value.cpe_yuan,
        creator_value.cpe_format,

        -- plain source texts (the report reads each one's kind from its start)
        usage.collaboration_sources || coalesce(' | ' || creator_value.sources, '') as sources

    from usage
    inner join other_banks
        on usage.bank = other_banks.bank
        and usage.platform = other_banks.platform
        and usage.creator_id = other_banks.creator_id
    left join creator_value
        on usage.platform = creator_value.platform
        and usage.creator_id = creator_value.creator_id

)

select * from final
