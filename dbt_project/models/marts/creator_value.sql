-- Creator × snapshot date: what a creator reaches, how it grows, and what an engagement costs at
-- its quoted prices. Cost per engagement (CPE) is the quoted price of a note over the creator's
-- median interactions per note (the 互动中位数 the vendor delivers): the median, not the mean,
-- since one viral note would make every note look cheap.
with

creators as (

    select * from {{ ref('stg_creators') }}

),

with_previous as (

    select
        *,
        lag(snapshot_date) over by_creator as previous_snapshot_date,
        lag(followers) over by_creator as previous_followers,
        lag(followers_step) over by_creator as previous_followers_step,
        lag(followers_censored) over by_creator as previous_followers_censored,
        lag(source) over by_creator as previous_source

    from creators
    window by_creator as (partition by platform, creator_id order by snapshot_date)

),

-- the interval of true follower counts each displayed count allows (macros/count_interval.sql)
bounded as (

    select
        *,
        {{ count_interval('low', 'followers', 'followers_step', 'followers_censored') }}
            as followers_low,
        {{ count_interval('high', 'followers', 'followers_step', 'followers_censored') }}
            as followers_high,
        {{ count_interval(
            'low', 'previous_followers', 'previous_followers_step', 'previous_followers_censored'
        ) }} as previous_followers_low,
        {{ count_interval(
            'high', 'previous_followers', 'previous_followers_step', 'previous_followers_censored'
        ) }} as previous_followers_high,
        {{ dbt.datediff("previous_snapshot_date", "snapshot_date", 'day') }} as days_since_previous

    from with_previous

),

priced as (

    select
        *,
        -- yuan per interaction of the median note; null without a price or a median
        price_image / nullif(median_interactions, 0) as cpe_image_yuan,
        price_video / nullif(median_interactions, 0) as cpe_video_yuan

    from bounded

),

cheapest as (

    select
        *,
        -- the cheaper format per engagement (image at a tie: the cheaper quote)
        case
            when cpe_video_yuan is null or cpe_image_yuan <= cpe_video_yuan then cpe_image_yuan
            else cpe_video_yuan
        end as cpe_yuan,
        case
            when cpe_image_yuan is not null and (cpe_video_yuan is null
                or cpe_image_yuan <= cpe_video_yuan) then 'image'
            when cpe_video_yuan is not null then 'video'
        end as cpe_format

    from priced

),

final as (

    select
        platform,
        creator_id,
        creator_name,
        vertical,
        snapshot_date,

        followers,
        followers_step,
        followers_censored,
        followers_low,
        followers_high,
        notes,
        likes_and_collects,
        likes_and_collects / nullif(notes, 0) as likes_and_collects_per_note,
        median_interactions as median_interactions_per_note,
        median_interactions_step,

        -- change since the creator's previous snapshot, compounded to a weekly rate over the
        -- uneven gap (macros/weekly_growth_pct.sql), with the widest range both counts' rounding
        -- allows
        previous_snapshot_date,
        days_since_previous,
        previous_followers,
        followers - previous_followers as followers_change,
        followers_low - previous_followers_high as followers_change_low,
        followers_high - previous_followers_low as followers_change_high,
        {{ weekly_growth_pct('followers', 'previous_followers', 'days_since_previous') }}
            as follower_growth_weekly_pct,
        {{ weekly_growth_pct('followers_low', 'previous_followers_high', 'days_since_previous') }}
            as follower_growth_weekly_pct_low,
        {{ weekly_growth_pct('followers_high', 'previous_followers_low', 'days_since_previous') }}
            as follower_growth_weekly_pct_high,

        price_image,
        price_video,
        cpe_image_yuan,
        cpe_video_yuan,
        cpe_yuan,
        cpe_format,
        -- 1 = the cheapest engagement among the platform's creators snapshotted the same date
        case
            when cpe_yuan is not null
                then rank() over (
                    partition by platform, snapshot_date, cpe_yuan is null order by cpe_yuan
                )
        end as cpe_rank,
        count(cpe_yuan) over (partition by platform, snapshot_date) as creators_with_cpe_on_date,

        snapshot_date = max(snapshot_date) over (partition by platform, creator_id) as is_latest,

        -- the snapshot's source, and the previous one's when a change is computed from it
        case
            when previous_source is null or previous_source = source then source
            else source || ' | ' || previous_source
        end as sources

    from cheapest

)

select * from final
