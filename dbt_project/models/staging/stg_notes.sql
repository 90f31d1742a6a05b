-- An official account's notes and their counts as of a date: the latest delivery of each
-- (platform, note_id, snapshot_date). A note id is the platform's, unique on the platform, so the
-- account is an attribute, not part of the key.
--
-- A view: notes are far fewer than account snapshots (a few hundred per account), and the marts
-- read it once per build.

with

source as (

    select * from {{ source('raw', 'notes') }}

),

renamed as (

    select
        -- key
        cast(platform as string) as platform,
        cast(note_id as string) as note_id,
        cast(snapshot_date as date) as snapshot_date,

        -- the note
        cast(account_name as string) as account_name,
        cast(published_at as timestamp) as published_at,
        cast(published_at_has_time as boolean) as published_at_has_time,
        cast(title as string) as title,
        cast(note_type as string) as note_type,
        cast(series as string) as series,
        cast(topics as string) as topics,

        -- counts: value, text as delivered, rounding step, "at least" flag
        cast(likes as bigint) as likes,
        cast(likes_raw as string) as likes_raw,
        cast(likes_step as bigint) as likes_step,
        cast(likes_censored as boolean) as likes_censored,
        cast(collects as bigint) as collects,
        cast(collects_raw as string) as collects_raw,
        cast(collects_step as bigint) as collects_step,
        cast(collects_censored as boolean) as collects_censored,
        cast(comments as bigint) as comments,
        cast(comments_raw as string) as comments_raw,
        cast(comments_step as bigint) as comments_step,
        cast(comments_censored as boolean) as comments_censored,
        cast(shares as bigint) as shares,
        cast(shares_raw as string) as shares_raw,
        cast(shares_step as bigint) as shares_step,
        cast(shares_censored as boolean) as shares_censored,

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
    {{ latest_delivery(['platform', 'note_id', 'snapshot_date']) }}

)

select * from latest_delivery
