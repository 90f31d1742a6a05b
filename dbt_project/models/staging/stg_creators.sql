-- A creator's (KOL's) figures and quoted prices as of a date: the latest delivery of each
-- (platform, creator_id, snapshot_date). Prices are yuan, exact (DECIMAL), null when not quoted.

with

source as (

    select * from {{ source('raw', 'creators') }}

),

renamed as (

    select
        -- key
        cast(platform as string) as platform,
        cast(creator_id as string) as creator_id,
        cast(snapshot_date as date) as snapshot_date,

        -- the creator
        cast(creator_name as string) as creator_name,
        cast(vertical as string) as vertical,

        -- counts: value, text as delivered, rounding step, "at least" flag
        cast(followers as bigint) as followers,
        cast(followers_raw as string) as followers_raw,
        cast(followers_step as bigint) as followers_step,
        cast(followers_censored as boolean) as followers_censored,
        cast(notes as bigint) as notes,
        cast(notes_raw as string) as notes_raw,
        cast(notes_step as bigint) as notes_step,
        cast(notes_censored as boolean) as notes_censored,
        cast(likes_and_collects as bigint) as likes_and_collects,
        cast(likes_and_collects_raw as string) as likes_and_collects_raw,
        cast(likes_and_collects_step as bigint) as likes_and_collects_step,
        cast(likes_and_collects_censored as boolean) as likes_and_collects_censored,
        cast(median_interactions as bigint) as median_interactions,
        cast(median_interactions_raw as string) as median_interactions_raw,
        cast(median_interactions_step as bigint) as median_interactions_step,
        cast(median_interactions_censored as boolean) as median_interactions_censored,

        -- quoted prices, yuan
        cast(price_image as decimal(18, 2)) as price_image,
        cast(price_image_raw as string) as price_image_raw,
        cast(price_video as decimal(18, 2)) as price_video,
        cast(price_video_raw as string) as price_video_raw,

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
    {{ latest_delivery(['platform', 'creator_id', 'snapshot_date']) }}

)

select * from latest_delivery
