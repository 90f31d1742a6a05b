-- A bank's campaigns on the platforms: the latest delivery of each campaign_id. The contract has
-- already refused a campaign that ends before it starts, and any mechanic outside the seed
-- category_codes (campaign_mechanic). The topic is kept as delivered and as one name
-- (macros/topic_name.sql), the name topic snapshots are matched on.

with

source as (

    select * from {{ source('raw', 'campaigns') }}

),

renamed as (

    select
        -- key
        cast(campaign_id as string) as campaign_id,

        -- the campaign
        cast(platform as string) as platform,
        cast(bank as string) as bank,
        cast(account_name as string) as account_name,
        cast(name as string) as name,
        {{ topic_name('topic') }} as topic,
        cast(topic as string) as topic_as_delivered,
        cast(mechanic as string) as mechanic,
        cast(offer as string) as offer,
        cast(private_channel as string) as private_channel,
        cast(app_channel as string) as app_channel,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,

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
    {{ latest_delivery(['campaign_id']) }}

)

select * from latest_delivery
