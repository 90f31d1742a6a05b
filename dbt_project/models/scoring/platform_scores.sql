-- App × month: an explainable 0–100 score of each app against the other apps of its category
-- (content platforms against content platforms, card apps against card apps) in the same month.
-- Each component is the app's percentile among those peers on one metric (macro
-- percentile_among_peers); the score is the weighted mean of the components that can be computed,
-- with the weights of seeds/score_weights.csv.
with

audience_fit as (

    select * from {{ ref('platform_audience_fit') }}

),

weights as (

    -- One row: the seed's platform weights, pivoted by component name. The component → metric
    -- mapping is fixed in `components` below; the seed's `metric` column documents it and
    -- assert_score_weights_match_scoring_models keeps the two in step.
    select
        max(weight) filter (where component = 'target_reach') as target_reach,
        max(weight) filter (where component = 'target_fit') as target_fit,
        max(weight) filter (where component = 'mau_growth') as mau_growth

    from {{ ref('score_weights') }}
    where score = 'platform'

),

components as (

    select
        app,
        app_category,
        month,

        est_target_reach,
        target_fit_index,
        mau_mom_pct,

        -- one line per component: the metric it ranks among the app's peers
        -- (reach and fit are null without a complete audience profile of the month)
        {{ percentile_among_peers('est_target_reach', 'app_category, month') }}
            as target_reach_component,
        {{ percentile_among_peers('target_fit_index', 'app_category, month') }}
            as target_fit_component,
        -- null when the previous calendar month's MAU is not delivered
        {{ percentile_among_peers('mau_mom_pct', 'app_category, month') }}
            as mau_growth_component,

        count(*) over (partition by app_category, month) as peers

    from audience_fit

),

weighted as (

    -- A null component counts neither in the sum nor in the weights it is divided by: the score
    -- re-weights over the components present instead of counting a missing one as 0.
    select
        components.*,

        (target_reach_component is not null)::integer
        + (target_fit_component is not null)::integer
        + (mau_growth_component is not null)::integer as components_used,

        case when target_reach_component is not null then weights.target_reach else 0 end
        + case when target_fit_component is not null then weights.target_fit else 0 end
        + case when mau_growth_component is not null then weights.mau_growth else 0 end
            as weight_used,

        coalesce(weights.target_reach * target_reach_component, 0)
        + coalesce(weights.target_fit * target_fit_component, 0)
        + coalesce(weights.mau_growth * mau_growth_component, 0) as weighted_sum

    from components
    cross join weights

),

final as (

    select
        app,
        app_category,
        month,

        est_target_reach,
        target_fit_index,
        mau_mom_pct,

        target_reach_component,
        target_fit_component,
        mau_growth_component,

        peers,
        components_used,
        weight_used,
        -- null when nothing weighs: no component present (or only zero-weight ones); the row
        -- is kept so that an app-month without a score shows why (all its metrics are null)
        round(weighted_sum / nullif(weight_used, 0), 1) as score

    from weighted

)

select * from final
