-- App × month: activity (MAU and its changes) and how well the app's audience fits the target
-- customer segment. Audience columns are null where the app has no profile for the month.

with

activity as (

    select * from {{ ref('stg_app_activity') }}

),

audience_shares as (

    select * from {{ ref('int_audience_shares') }}

),

target_segment as (

    select * from {{ ref('target_segments') }}
    where segment_code = '{{ var("target_segment") }}'

),

card_industry as (

    -- mau_vs_card_industry compares with the card_app_industry baseline's app, named in the seed
    select activity.month, activity.mau as card_industry_mau
    from activity
    inner join {{ ref('audience_baselines') }} as baselines
        on activity.app = baselines.app
    where baselines.baseline_code = 'card_app_industry'

),

age_summary as (

    -- "Under 35" is exact only when every age bucket lies wholly at or below 35 or wholly above
    -- it; a bucket such as 31-40岁 (or an unmapped one) makes the share unknown, not guessed.
    select
        app,
        month,
        round(coalesce(sum(share_pct) filter (where age_max <= 35), 0), 6) as share_under_35_pct,
        bool_and(is_mapped and coalesce(age_max <= 35 or age_min >= 36, false))
            as is_under_35_exact

    from audience_shares
    where dimension = 'age'
    group by app, month

),

consumption_summary as (

    -- "Middle or above" is fixed by the column's name: 高 + 中高 + 中等消费者.
    select
        app,
        month,
        round(
            coalesce(
                sum(share_pct) filter (
                    where bucket_code in (
                        'consumption_high', 'consumption_upper_middle', 'consumption_middle'
                    )
                ),
                0
            ),
            6
        ) as share_mid_plus_consumption_pct,
        bool_and(is_mapped) as is_consumption_mapped

    from audience_shares
    where dimension = 'consumption'
    group by app, month

),

target_share as (

    -- the target segment's share of the app's users: a point estimate assuming the dimensions
    -- independent, and the Fréchet bounds that need no assumption (macros/target_share.sql,
    -- where creator_fit computes the creators' the same way)
    {{ target_share('audience_shares', ['app', 'month']) }}

),

-- the sources of the dimensions this mart's audience columns are computed from (age,
-- consumption and the target segment's), not of every dimension delivered: an illustrative
-- active_period distribution must not mark the report's published age shares illustrative
audience_sources as (

    select
        app,
        month,
        {{ distinct_list('sources', ' | ') }} as audience_sources

    from audience_shares
    where dimension in ('age', 'consumption')
        or dimension in (select dimension from target_segment)
    group by app, month

),

final as (

    select
        activity.app,
        activity.app_category,
        activity.month,
        activity.mau,
        activity.mau_step,
        activity.mau_censored,
        activity.source as mau_source,

        -- only against the exact earlier month: a missing month gives null, never an estimate
        previous_month.mau as previous_month_mau,
        (activity.mau / nullif(previous_month.mau, 0) - 1) * 100 as mau_mom_pct,
        same_month_last_year.mau as same_month_last_year_mau,
        (activity.mau / nullif(same_month_last_year.mau, 0) - 1) * 100 as mau_yoy_pct,

        card_industry.card_industry_mau,
        activity.mau / nullif(card_industry.card_industry_mau, 0) as mau_vs_card_industry,

        case when age_summary.is_under_35_exact then age_summary.share_under_35_pct end
            as share_under_35_pct,
        case
            when consumption_summary.is_consumption_mapped
                then consumption_summary.share_mid_plus_consumption_pct
        end as share_mid_plus_consumption_pct,

        '{{ var("target_segment") }}' as target_segment,
        target_share.target_share_pct,
        target_share.target_share_min_pct,
        target_share.target_share_max_pct,
        cast(round(activity.mau * target_share.target_share_pct / 100) as bigint)
            as est_target_reach,
        cast(round(activity.mau * target_share.target_share_min_pct / 100) as bigint)
            as est_target_reach_min,
        cast(round(activity.mau * target_share.target_share_max_pct / 100) as bigint)
            as est_target_reach_max,
        case
            when target_share.target_share_pct is not null
                then 'independence of ' || target_share.dimensions
                    || ': the point estimate multiplies the shares of each dimension, as no joint'
                    || ' distribution is delivered; the min and max need no assumption'
        end as target_share_assumption,
        case
            when target_share.target_share_pct is not null then target_share.includes_minors
        end as target_includes_minors,
        audience_sources.audience_sources

    from activity
    left join activity as previous_month
        on activity.app = previous_month.app
        and cast(activity.month - interval 1 month as date) = previous_month.month
    left join activity as same_month_last_year
        on activity.app = same_month_last_year.app
        and cast(activity.month - interval 12 month as date) = same_month_last_year.month
    left join card_industry
        on activity.month = card_industry.month
    left join age_summary
        on activity.app = age_summary.app
        and activity.month = age_summary.month
    left join consumption_summary
        on activity.app = consumption_summary.app
        and activity.month = consumption_summary.month
    left join target_share
        on activity.app = target_share.app
        and activity.month = target_share.month
        and target_share.is_complete
    left join audience_sources
        on activity.app = audience_sources.app
        and activity.month = audience_sources.month

)

select * from final
