-- Platform × account × snapshot date: an explainable 0–100 score of each registered bank account
-- against the other registered accounts of its platform with a snapshot on the same date. Each
-- component is the account's percentile among those peers on one metric (macro
-- percentile_among_peers); the score is the weighted mean of the components that can be computed,
-- with the weights of seeds/score_weights.csv.
--
-- Incremental: peers are the accounts of one (platform, snapshot_date), so a build recomputes
-- only the dates whose account_performance rows were rewritten since the last build. A change of
-- weights (seeds/score_weights.csv) needs a full refresh.
{{
    config(
        materialized='incremental',
        unique_key=['platform', 'account_name', 'snapshot_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() %}

-- the dates whose account_performance rows were rewritten since this table's last build
rewritten as (

    select platform, snapshot_date
    from {{ ref('account_performance') }}
    where refreshed_through_load_id
        > (select coalesce(max(refreshed_through_load_id), 0) from {{ this }})

),

{% endif %}

performance as (

    -- Unregistered accounts are not scored, nor counted as peers: they are not known to be a
    -- bank's, and ranking against them would move the banks' percentiles.
    select * from {{ ref('account_performance') }} as all_performance
    where is_registered
    {% if is_incremental() %}
        -- implied by the exists below, but a plain range DuckDB filters the scan with before any
        -- join: a daily drop then reads a day of account_performance, not all of it
        and snapshot_date >= (select min(snapshot_date) from rewritten)
        and exists (
            select 1 from rewritten
            where rewritten.platform = all_performance.platform
                and rewritten.snapshot_date = all_performance.snapshot_date
        )
    {% endif %}

),

weights as (

    -- One row: the seed's account weights, pivoted by component name. The component → metric
    -- mapping is fixed in `components` below; the seed's `metric` column documents it and
    -- assert_score_weights_match_scoring_models keeps the two in step.
    select
        max(weight) filter (where component = 'scale') as scale,
        max(weight) filter (where component = 'engagement_per_note') as engagement_per_note,
        max(weight) filter (where component = 'engagement_per_follower') as engagement_per_follower,
        max(weight) filter (where component = 'growth') as growth,
        max(weight) filter (where component = 'activity') as activity

    from {{ ref('score_weights') }}
    where score = 'account'

),

components as (

    select
        platform,
        account_name,
        bank,
        bank_type,
        snapshot_date,

        followers,
        likes_and_collects_per_note,
        likes_and_collects_per_follower,
        follower_growth_weekly_pct,
        notes_per_week,

        -- one line per component: the metric it ranks among the account's peers
        {{ percentile_among_peers('followers', 'platform, snapshot_date') }}
            as scale_component,
        {{ percentile_among_peers('likes_and_collects_per_note', 'platform, snapshot_date') }}
            as engagement_per_note_component,
        {{ percentile_among_peers('likes_and_collects_per_follower', 'platform, snapshot_date') }}
            as engagement_per_follower_component,
        -- null on an account's first snapshot (no previous one to grow from)
        {{ percentile_among_peers('follower_growth_weekly_pct', 'platform, snapshot_date') }}
            as growth_component,
        {{ percentile_among_peers('notes_per_week', 'platform, snapshot_date') }}
            as activity_component,

        count(*) over (partition by platform, snapshot_date) as peers

    from performance

),

weighted as (

    -- A null component counts neither in the sum nor in the weights it is divided by: the score
    -- re-weights over the components present instead of counting a missing one as 0.
    select
        components.*,

        (scale_component is not null)::integer
        + (engagement_per_note_component is not null)::integer
        + (engagement_per_follower_component is not null)::integer
        + (growth_component is not null)::integer
        + (activity_component is not null)::integer as components_used,

        case when scale_component is not null then weights.scale else 0 end
        + case when engagement_per_note_component is not null then weights.engagement_per_note else 0 end
        + case when engagement_per_follower_component is not null then weights.engagement_per_follower else 0 end
        + case when growth_component is not null then weights.growth else 0 end
        + case when activity_component is not null then weights.activity else 0 end as weight_used,

        coalesce(weights.scale * scale_component, 0)
        + coalesce(weights.engagement_per_note * engagement_per_note_component, 0)
        + coalesce(weights.engagement_per_follower * engagement_per_follower_component, 0)
        + coalesce(weights.growth * growth_component, 0)
        + coalesce(weights.activity * activity_component, 0) as weighted_sum

    from components
    cross join weights

),

final as (

    select
        platform,
        account_name,
        bank,
        bank_type,
        snapshot_date,

        followers,
        likes_and_collects_per_note,
        likes_and_collects_per_follower,
        follower_growth_weekly_pct,
        notes_per_week,

        scale_component,
        engagement_per_note_component,
        engagement_per_follower_component,
        growth_component,
        activity_component,

        peers,
        components_used,
        weight_used,
        -- null when nothing weighs: no component present (or only zero-weight ones)
        round(weighted_sum / nullif(weight_used, 0), 1) as score,
        -- the next incremental build's watermark: account_performance as this build saw it
        (select max(refreshed_through_load_id) from {{ ref('account_performance') }})
            as refreshed_through_load_id

    from weighted

)

select * from final
