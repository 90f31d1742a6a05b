-- A bank's work with a creator: the latest delivery of each (bank, platform, creator_id, date,
-- note_id). Cost is yuan, exact (DECIMAL), null when unknown: an unknown cost is never 0.

with

source as (

    select * from {{ source('raw', 'collaborations') }}

),

renamed as (

    select
        -- key
        cast(bank as string) as bank,
        cast(platform as string) as platform,
        cast(creator_id as string) as creator_id,
        cast(date as date) as collaboration_date,
        cast(note_id as string) as note_id,

        -- the collaboration
        cast(campaign_id as string) as campaign_id,
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
    {{ latest_delivery(['bank', 'platform', 'creator_id', 'collaboration_date', 'note_id']) }}

)

select * from latest_delivery
