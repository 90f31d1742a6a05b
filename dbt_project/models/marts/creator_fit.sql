-- Creator × month: how much of a creator's audience is the bank's target segment, against the
-- platform's own audience. Both shares come from the one definition of the target share
-- (macros/target_share.sql: the point estimate assumes the dimensions independent, the Fréchet
-- bounds need no assumption), so target_tgi compares like with like: above 100, a creator's
-- followers are richer in the target segment than the platform's users.
with

creator_shares as (

    select * from {{ ref('int_creator_audience_shares') }}

),

app_shares as (

    select * from {{ ref('int_audience_shares') }}

),

profile as (

    select * from {{ ref('creator_audience_profile') }}

),

target_segment as (

    select * from {{ ref('target_segments') }}
    where segment_code = '{{ var("target_segment") }}'

),

creator_target as (

    {{ target_share('creator_shares', ['platform', 'creator_id', 'month']) }}

),

platform_target as (

    {{ target_share('app_shares', ['app', 'month']) }}

),

creator_months as (

    -- the creator's name and the platform month its profile is compared with
    -- (creator_audience_profile decides which)
    select distinct platform, creator_id, creator_name, month, platform_month
    from profile

),

segment_sources as (

    -- the sources of the dimensions the target share is computed from, on both sides
    select
        platform,
        creator_id,
        month,
        {{ distinct_list('creator_sources', ' | ') }} as creator_sources,
        {{ distinct_list('platform_sources', ' | ') }}
            as platform_sources

    from profile
    where dimension in (select dimension from target_segment)
    group by platform, creator_id, month

),

final as (

    select
        creator_months.platform,
        creator_months.creator_id,
        creator_months.creator_name,
        creator_months.month,
        '{{ var("target_segment") }}' as target_segment,

        creator_target.target_share_pct,
        creator_target.target_share_min_pct,
        creator_target.target_share_max_pct,
        creator_target.includes_minors as target_includes_minors,

        creator_months.platform_month,
        platform_target.target_share_pct as platform_target_share_pct,
        platform_target.target_share_min_pct as platform_target_share_min_pct,
        platform_target.target_share_max_pct as platform_target_share_max_pct,

        -- as any TGI, not computed on shares below the minimum (var tgi_min_share_pct)
        case
            when creator_target.target_share_pct >= {{ var('tgi_min_share_pct') }}
                and platform_target.target_share_pct >= {{ var('tgi_min_share_pct') }}
                then creator_target.target_share_pct / platform_target.target_share_pct * 100
        end as target_tgi,
        -- the widest ratio the two pairs of bounds allow: the creator's least over the
        -- platform's most, and its most over the platform's least (null when that least is 0)
        case
            when target_tgi is not null
                then creator_target.target_share_min_pct
                    / nullif(platform_target.target_share_max_pct, 0) * 100
        end as target_tgi_min,
        case
            when target_tgi is not null
                then creator_target.target_share_max_pct
                    / nullif(platform_target.target_share_min_pct, 0) * 100
        end as target_tgi_max,
        case
            when creator_target.target_share_pct is not null
                then 'independence of ' || creator_target.dimensions
                    || ' on both sides: each share multiplies the shares of each dimension, as'
                    || ' no joint distribution is delivered; the min and max need no assumption'
        end as target_share_assumption,

        segment_sources.creator_sources,
        segment_sources.platform_sources,
        -- plain source texts (the report reads each one's kind from its start)
        segment_sources.creator_sources
            || coalesce(' | ' || segment_sources.platform_sources, '') as sources

    from creator_months
    left join creator_target
        on creator_months.platform = creator_target.platform
        and creator_months.creator_id = creator_target.creator_id
        and creator_months.month = creator_target.month
        and creator_target.is_complete
    left join platform_target
        on creator_months.platform = platform_target.app
        and creator_months.platform_month = platform_target.month
        and platform_target.is_complete
    left join segment_sources
        on creator_months.platform = segment_sources.platform
        and creator_months.creator_id = segment_sources.creator_id
        and creator_months.month = segment_sources.month

)

select * from final
