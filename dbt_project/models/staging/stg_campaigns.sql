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
        cast(campaign_id as varchar) as campaign_id,

        -- the campaign
        cast(platform as varchar) as platform,
        cast(bank as varchar) as bank,
        cast(account_name as varchar) as account_name,
        cast(name as varchar) as name,
        {{ topic_name('topic') }} as topic,
        cast(topic as varchar) as topic_as_delivered,
        cast(mechanic as varchar) as mechanic,
        cast(offer as varchar) as offer,
        cast(private_channel as varchar) as private_channel,
        cast(app_channel as varchar) as app_channel,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,

        -- provenance
        cast(source as varchar) as source,
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
