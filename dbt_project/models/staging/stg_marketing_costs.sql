-- CONFIDENTIAL: the bank's own spending per day, bank, platform, channel, campaign and cost type:
-- the latest delivery of each key. Creators' fees are in stg_collaborations, never here.

with

source as (

    select * from {{ source('raw', 'marketing_costs') }}

),

renamed as (

    select
        -- key
        cast(date as date) as cost_date,
        cast(bank as string) as bank,
        cast(platform as string) as platform,
        cast(channel as string) as channel,
        cast(campaign_id as string) as campaign_id,
        cast(cost_type as string) as cost_type,

        -- the cost, yuan
        cast(cost as decimal(18, 2)) as cost,
        cast(cost_raw as string) as cost_raw,

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
    {{ latest_delivery(['cost_date', 'bank', 'platform', 'channel', 'campaign_id', 'cost_type']) }}

)

select * from latest_delivery
