-- Creator × month × dimension × bucket: the share of a creator's followers in each canonical
-- bucket next to its platform's share of the same bucket, and the TGI of the two. The platform
-- is the app of the same name in the app audience (小红书 the platform, 小红书 the app), at its
-- latest profile month on or before the creator's month (platform_month): vendors publish app
-- profiles less often than creator ones, and a later month would be hindsight.
with

creator_shares as (

    select * from {{ ref('int_creator_audience_shares') }}

),

app_shares as (

    select * from {{ ref('int_audience_shares') }}

),

creators as (

    select * from {{ ref('stg_creators') }}

),

target_segment as (

    select * from {{ ref('target_segments') }}
    where segment_code = '{{ var("target_segment") }}'

),

segment_dimensions as (

    select distinct dimension from target_segment

),

creator_names as (

    -- the name of the creator's latest snapshot: names change, the id does not
    select platform, creator_id, creator_name
    from creators
    qualify row_number() over (
        partition by platform, creator_id order by snapshot_date desc
    ) = 1

),

creator_months as (

    select distinct platform, creator_id, month from creator_shares

),

platform_months as (

    -- the platform's latest profile month on or before the creator's
    select
        creator_months.platform,
        creator_months.creator_id,
        creator_months.month,
        max(app_months.month) as platform_month

    from creator_months
    left join (select distinct app, month from app_shares) as app_months
        on creator_months.platform = app_months.app
        and app_months.month <= creator_months.month
    group by creator_months.platform, creator_months.creator_id, creator_months.month

),

final as (

    select
        creator_shares.platform,
        creator_shares.creator_id,
        creator_names.creator_name,
        creator_shares.month,
        creator_shares.dimension,
        creator_shares.bucket_label as bucket,
        creator_shares.bucket_code,
        creator_shares.bucket_order,
        creator_shares.is_mapped,
        creator_shares.vendor_buckets,
        creator_shares.share_pct,
        platform_months.platform_month,
        app_shares.share_pct as platform_share_pct,

        -- as audience_profile: below the minimum share on either side a TGI is noise
        case
            when creator_shares.share_pct >= {{ var('tgi_min_share_pct') }}
                and app_shares.share_pct >= {{ var('tgi_min_share_pct') }}
                then creator_shares.share_pct / app_shares.share_pct * 100
        end as tgi,

        '{{ var("target_segment") }}' as target_segment,
        -- null for a dimension the segment does not restrict, or an unmapped bucket
        case
            when segment_dimensions.dimension is not null and creator_shares.is_mapped
                then target_segment.bucket_code is not null
        end as in_target_segment,

        creator_shares.sources as creator_sources,
        app_shares.sources as platform_sources,
        -- plain source texts (the report reads each one's kind from its start)
        creator_shares.sources || coalesce(' | ' || app_shares.sources, '') as sources

    from creator_shares
    inner join platform_months
        on creator_shares.platform = platform_months.platform
        and creator_shares.creator_id = platform_months.creator_id
        and creator_shares.month = platform_months.month
    left join app_shares
        on creator_shares.platform = app_shares.app
        and platform_months.platform_month = app_shares.month
        and creator_shares.dimension = app_shares.dimension
        and creator_shares.bucket_key = app_shares.bucket_key
    left join creator_names
        on creator_shares.platform = creator_names.platform
        and creator_shares.creator_id = creator_names.creator_id
    left join segment_dimensions
        on creator_shares.dimension = segment_dimensions.dimension
    left join target_segment
        on creator_shares.dimension = target_segment.dimension
        and creator_shares.bucket_code = target_segment.bucket_code

)

select * from final
