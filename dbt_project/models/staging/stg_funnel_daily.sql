-- CONFIDENTIAL: the bank's own funnel, aggregated per day, bank, platform, channel and campaign:
-- the latest delivery of each key. The contract has already refused a stage above the one
-- before it, and any file that looked like it held personal data.

with

source as (

    select * from {{ source('raw', 'funnel_daily') }}

),

renamed as (

    select
        -- key
        cast(date as date) as funnel_date,
        cast(bank as string) as bank,
        cast(platform as string) as platform,
        cast(channel as string) as channel,
        cast(campaign_id as string) as campaign_id,

        -- stages, in the funnel's order, and what the cards spent
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(applications as bigint) as applications,
        cast(approvals as bigint) as approvals,
        cast(activations as bigint) as activations,
        cast(first_spend as bigint) as first_spend,
        cast(spend_amount as decimal(18, 2)) as spend_amount,
        cast(shares as bigint) as shares,

        -- provenance
        cast(source as string) as source,
        load_id,
        file_name,
        sha256,
        line_number,
        delivered_at

    from source

),

latest_delivery as (

    -- A later delivery of the same key supersedes earlier ones (both stay in raw).
    select *
    from renamed
    {{ latest_delivery(['funnel_date', 'bank', 'platform', 'channel', 'campaign_id']) }}

)

select * from latest_delivery
