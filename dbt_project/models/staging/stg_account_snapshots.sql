-- Official-account figures as of a date, the latest delivery of each
-- (platform, account_name, snapshot_date), with one combined likes-and-collects figure.
--
-- A table, incremental: millions of rows, read by the intermediate model and by several tests,
-- so the latest-delivery window runs once per build, and only over the rows delivered since the
-- last build (load_id above the highest this table holds). That is exact: a later delivery always
-- has a higher load_id, so a newly delivered row supersedes the stored row of its key, which
-- delete+insert replaces. Each row carries the build's stamp (staged_through_load_id), so that
-- the grain test reads the latest build's rows only, not the whole history every day.
{{
    config(
        on_schema_change='fail',
        **snapshot_upsert(whole_dates=false)
    )
}}

with

source as (

    select * from {{ source('raw', 'account_snapshots') }}
    {% if is_incremental() %}
    where load_id > (select coalesce(max(load_id), 0) from {{ this }})
    {% endif %}

),

-- the newest delivery this build sees: the stamp of every row it writes
build_watermark as (

    select coalesce(max(load_id), 0) as staged_through_load_id
    from {{ source('raw', 'account_snapshots') }}

),

renamed as (

    select
        -- key
        cast(platform as string) as platform,
        cast(account_name as string) as account_name,
        cast(snapshot_date as date) as snapshot_date,

        -- counts: value, text as delivered, rounding step, "at least" flag
        cast(followers as bigint) as followers,
        cast(followers_raw as string) as followers_raw,
        cast(followers_step as bigint) as followers_step,
        cast(followers_censored as boolean) as followers_censored,
        cast(notes as bigint) as notes,
        cast(notes_raw as string) as notes_raw,
        cast(notes_step as bigint) as notes_step,
        cast(notes_censored as boolean) as notes_censored,
        cast(likes as bigint) as likes,
        cast(likes_raw as string) as likes_raw,
        cast(likes_step as bigint) as likes_step,
        cast(likes_censored as boolean) as likes_censored,
        cast(collects as bigint) as collects,
        cast(collects_raw as string) as collects_raw,
        cast(collects_step as bigint) as collects_step,
        cast(collects_censored as boolean) as collects_censored,
        cast(likes_and_collects as bigint) as delivered_likes_and_collects,
        cast(likes_and_collects_raw as string) as likes_and_collects_raw,
        cast(likes_and_collects_step as bigint) as delivered_likes_and_collects_step,
        cast(likes_and_collects_censored as boolean) as delivered_likes_and_collects_censored,
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
    {{ latest_delivery(['platform', 'account_name', 'snapshot_date']) }}

),

combined as (

    -- 小红书 profiles show likes and collects as one figure (获赞与收藏); some sources split it.
    -- The delivered combined figure wins; otherwise it is the sum of its parts, whose rounding
    -- step is the larger of the parts' steps and which is a lower bound if either part is.
    select
        *,
        delivered_likes_and_collects is null
            and likes is not null
            and collects is not null as likes_and_collects_is_computed,
        coalesce(delivered_likes_and_collects, likes + collects) as likes_and_collects,
        case
            when delivered_likes_and_collects is not null then delivered_likes_and_collects_step
            else greatest(likes_step, collects_step)
        end as likes_and_collects_step,
        case
            when delivered_likes_and_collects is not null
                then delivered_likes_and_collects_censored
            else likes_censored or collects_censored
        end as likes_and_collects_censored

    from latest_delivery

),

final as (

    select
        platform,
        account_name,
        snapshot_date,
        followers,
        followers_raw,
        followers_step,
        followers_censored,
        notes,
        notes_raw,
        notes_step,
        notes_censored,
        likes,
        likes_raw,
        likes_step,
        likes_censored,
        collects,
        collects_raw,
        collects_step,
        collects_censored,
        likes_and_collects,
        likes_and_collects_raw,
        likes_and_collects_step,
        likes_and_collects_censored,
        likes_and_collects_is_computed,
        comments,
        comments_raw,
        comments_step,
        comments_censored,
        shares,
        shares_raw,
        shares_step,
        shares_censored,
        source,
        load_id,
        file_name,
        sha256,
        line_number,
        delivered_at,
        build_watermark.staged_through_load_id

    from combined
    cross join build_watermark

)

select * from final
