-- A topic's (hashtag's) notes and views as of a date: the latest delivery of each (platform,
-- topic, snapshot_date), the topic as one name (macros/topic_name.sql), so "#话题#" and "话题"
-- delivered on different days are one history.

with

source as (

    select * from {{ source('raw', 'topic_snapshots') }}

),

renamed as (

    select
        -- key
        cast(platform as string) as platform,
        {{ topic_name('topic') }} as topic,
        cast(snapshot_date as date) as snapshot_date,

        -- counts: value, text as delivered, rounding step, "at least" flag
        cast(notes_count as bigint) as notes_count,
        cast(notes_count_raw as string) as notes_count_raw,
        cast(notes_count_step as bigint) as notes_count_step,
        cast(notes_count_censored as boolean) as notes_count_censored,
        cast(views as bigint) as views,
        cast(views_raw as string) as views_raw,
        cast(views_step as bigint) as views_step,
        cast(views_censored as boolean) as views_censored,

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
    {{ latest_delivery(['platform', 'topic', 'snapshot_date']) }}

)

select * from latest_delivery
