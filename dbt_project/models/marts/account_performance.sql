-- Platform × account × snapshot date: the account's figures, its ratios, its change since its
-- previous snapshot (with the interval the rounded counts allow, and a verdict on a large drop),
-- its engagement over that window, its tier and its rank among the platform's accounts on that
-- date, and whether that date covers fewer accounts than the platform's previous one
-- (is_partial_date). The reasoning is in the project's README.md.
--
-- Incremental: a new daily drop costs in proportion to the drop. A build recomputes only the
-- (platform, snapshot_date) partitions a delivery since the last build touched: the dates it
-- delivered, the next snapshot of each account it delivered (whose change since the previous
-- snapshot moved), the platform's next snapshot date after each delivered date (whose coverage
-- is compared with the delivered one), and every date of an account whose registry entry
-- changed. Whole partitions, because ranks and shares compare all accounts on a date. A change to a seed (follower tiers)
-- needs a full refresh: `dbt build --full-refresh`, or "full_refresh" in the Dagster launchpad.
{{
    config(
        on_schema_change='fail',
        pre_hook="{{ record_rewrite('refreshed_through_load_id') }}",
        **snapshot_upsert(whole_dates=true)
    )
}}

with

-- not materialized: read several times, each time only in part (a column, a day), and DuckDB
-- would otherwise first copy the whole table into a CTE buffer
snapshot_changes as {{ cte_hint('not materialized') }} (

    select * from {{ ref('int_account_snapshot_changes') }}

),

registry as (

    select * from {{ ref('stg_accounts') }}

),

follower_tiers as (

    select * from {{ ref('follower_tiers') }}

),

-- a row per platform and date (small): read twice on the incremental path, so computed once
snapshot_coverage as {{ cte_hint('materialized') }} (

    select platform, snapshot_date, previous_snapshot_date, is_partial
    from {{ ref('int_snapshot_coverage') }}

),

-- the newest delivery this build has seen, stored on every row it writes (the next build's
-- watermark)
build_watermark as (

    select greatest(
        (select coalesce(max(load_id), 0) from snapshot_changes),
        (select coalesce(max(load_id), 0) from registry)
    ) as load_id

),

{% if is_incremental() %}

previous_watermark as (

    select coalesce(max(refreshed_through_load_id), 0) as load_id from {{ this }}

),

delivered_keys as (

    select platform, account_name, snapshot_date
    from snapshot_changes
    where load_id > (select load_id from previous_watermark)

),

affected_dates as (

    select platform, snapshot_date from delivered_keys

    union

    -- the account's next snapshot: its previous snapshot is new or changed
    select next_snapshot.platform, next_snapshot.snapshot_date
    from snapshot_changes as next_snapshot
    inner join delivered_keys
        on next_snapshot.platform = delivered_keys.platform
        and next_snapshot.account_name = delivered_keys.account_name
        and next_snapshot.previous_snapshot_date = delivered_keys.snapshot_date

    union

    -- the platform's next snapshot date: whether it is partial compares its accounts with the
    -- delivered date's, which may have gained an account or be a date new in between
    select snapshot_coverage.platform, snapshot_coverage.snapshot_date
    from snapshot_coverage
    inner join delivered_keys
        on snapshot_coverage.platform = delivered_keys.platform
        and snapshot_coverage.previous_snapshot_date = delivered_keys.snapshot_date

    union

    -- every snapshot of an account whose bank or bank type was (re)delivered
    select snapshot_changes.platform, snapshot_changes.snapshot_date
    from snapshot_changes
    inner join registry
        on snapshot_changes.platform = registry.platform
        and snapshot_changes.account_name = registry.account_name
    where registry.load_id > (select load_id from previous_watermark)

),

{% endif %}

in_scope as (

    select * from snapshot_changes
    {% if is_incremental() %}
    -- implied by the exists below, but a plain range DuckDB filters the scan with before any
    -- join: a daily drop then reads a day of the history, not all of it
    where snapshot_date >= (select min(snapshot_date) from affected_dates)
        and exists (
            select 1 from affected_dates
            where affected_dates.platform = snapshot_changes.platform
                and affected_dates.snapshot_date = snapshot_changes.snapshot_date
        )
    {% endif %}

),

-- the interval of true follower counts each displayed count allows (macros/count_interval.sql,
-- var count_rounding: inclusive bounds of whole persons), now and at the previous snapshot, and
-- what the window since the previous snapshot gained
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
        -- only between snapshots that count the same things (interactions_definition)
        case
            when interactions_definition = previous_interactions_definition
                then interactions - previous_interactions
        end as interactions_gained,
        notes - previous_notes as notes_gained

    from in_scope

),

measured as (

    select
        snapshot_changes.platform,
        snapshot_changes.account_name,
        snapshot_changes.snapshot_date,

        -- a snapshot of an account missing from the registry is kept, with no bank
        registry.bank,
        registry.bank_type,
        registry.account_role,
        registry.account_name is not null as is_registered,

        snapshot_changes.followers,
        snapshot_changes.followers_step,
        snapshot_changes.followers_censored,
        snapshot_changes.followers_low,
        snapshot_changes.followers_high,
        snapshot_changes.notes,
        snapshot_changes.notes_step,
        snapshot_changes.likes,
        snapshot_changes.likes_step,
        snapshot_changes.collects,
        snapshot_changes.collects_step,
        snapshot_changes.likes_and_collects,
        snapshot_changes.likes_and_collects_step,
        snapshot_changes.likes_and_collects_censored,
        snapshot_changes.likes_and_collects_is_computed,
        snapshot_changes.comments,
        snapshot_changes.shares,
        snapshot_changes.interactions,
        snapshot_changes.interactions_definition,
        snapshot_changes.source,
        snapshot_changes.file_name,

        -- ratios on the snapshot date (null instead of a division by zero)
        snapshot_changes.likes_and_collects / nullif(snapshot_changes.notes, 0)
            as likes_and_collects_per_note,
        snapshot_changes.likes_and_collects / nullif(snapshot_changes.followers, 0)
            as likes_and_collects_per_follower,
        snapshot_changes.collects / nullif(snapshot_changes.likes, 0) as collects_per_like,
        snapshot_changes.interactions / nullif(snapshot_changes.notes, 0)
            as interactions_per_note,
        snapshot_changes.interactions / nullif(snapshot_changes.followers, 0)
            as interactions_per_follower,

        -- change since the account's previous snapshot
        snapshot_changes.previous_snapshot_date,
        snapshot_changes.days_since_previous,
        snapshot_changes.previous_followers,
        snapshot_changes.followers - snapshot_changes.previous_followers as followers_change,
        -- the widest change consistent with both intervals
        snapshot_changes.followers_low - snapshot_changes.previous_followers_high
            as followers_change_low,
        snapshot_changes.followers_high - snapshot_changes.previous_followers_low
            as followers_change_high,
        (snapshot_changes.followers / nullif(snapshot_changes.previous_followers, 0) - 1) * 100
            as followers_change_pct,
        (snapshot_changes.followers_low / nullif(snapshot_changes.previous_followers_high, 0) - 1)
            * 100 as followers_change_pct_low,
        (snapshot_changes.followers_high / nullif(snapshot_changes.previous_followers_low, 0) - 1)
            * 100 as followers_change_pct_high,
        -- snapshots are unevenly spaced: compound the change to a weekly rate so that gaps of
        -- different length compare (its bounds from the ends of the two counts' intervals)
        {{ weekly_growth_pct(
            'snapshot_changes.followers',
            'snapshot_changes.previous_followers',
            'snapshot_changes.days_since_previous',
        ) }} as follower_growth_weekly_pct,
        {{ weekly_growth_pct(
            'snapshot_changes.followers_low',
            'snapshot_changes.previous_followers_high',
            'snapshot_changes.days_since_previous',
        ) }} as follower_growth_weekly_pct_low,
        {{ weekly_growth_pct(
            'snapshot_changes.followers_high',
            'snapshot_changes.previous_followers_low',
            'snapshot_changes.days_since_previous',
        ) }} as follower_growth_weekly_pct_high,
        -- "could be no change at all": the change's interval contains 0. 12.7万 → 12.7万 does;
        -- 4.2万 → 4.3万 does not (1 to 1,999 under either rounding). A censored 10万+ has no
        -- high bound (unbounded above), which never makes the answer unknown: only a bound that
        -- exists can exclude 0. Null on a first snapshot.
        case
            when snapshot_changes.previous_snapshot_date is null then null
            when snapshot_changes.followers_low > snapshot_changes.previous_followers_high
                or snapshot_changes.followers_high < snapshot_changes.previous_followers_low
                then false
            else true
        end as followers_change_within_rounding,
        (snapshot_changes.notes - snapshot_changes.previous_notes)
            / nullif(snapshot_changes.days_since_previous, 0) * 7 as notes_per_week,

        -- A large drop is an event (a platform purging fake followers), kept and alerted on;
        -- a drop to at most a small fraction of the previous count, even at the bounds most
        -- favourable to the account, is the signature of a data error (a dropped 万 divides by
        -- 10,000). An exact 0 is an event: an account banned or emptied has none, and no lost
        -- unit turns a count into 0. Thresholds: vars follower_drop_alert_pct and
        -- follower_drop_data_error_ratio.
        case
            when snapshot_changes.previous_followers_low > 0
                and snapshot_changes.followers_high > 0
                and snapshot_changes.followers_high <= snapshot_changes.previous_followers_low
                    * {{ var('follower_drop_data_error_ratio') }}
                then 'likely_data_error'
            when (snapshot_changes.followers / nullif(snapshot_changes.previous_followers, 0) - 1)
                * 100 < -{{ var('follower_drop_alert_pct') }}
                then 'event'
        end as follower_drop_verdict,

        -- engagement over the window since the previous snapshot (see the yml)
        snapshot_changes.interactions_gained,
        snapshot_changes.notes_gained,
        case
            when snapshot_changes.notes_gained > 0
                then snapshot_changes.interactions_gained / snapshot_changes.notes_gained
        end as interactions_per_new_note,
        snapshot_changes.interactions_gained / nullif(snapshot_changes.previous_followers, 0)
            * 100 as window_engagement_rate_pct,
        snapshot_changes.interactions_gained / nullif(snapshot_changes.previous_followers, 0)
            * 100 / nullif(snapshot_changes.days_since_previous, 0) * 7
            as window_engagement_rate_weekly_pct,

        follower_tiers.tier_code as follower_tier,
        follower_tiers.tier_label as follower_tier_label

    from bounded as snapshot_changes
    left join registry
        on snapshot_changes.platform = registry.platform
        and snapshot_changes.account_name = registry.account_name
    left join follower_tiers
        on snapshot_changes.followers >= follower_tiers.min_followers
        and (
            snapshot_changes.followers < follower_tiers.max_followers
            or follower_tiers.max_followers is null
        )

),

ranked as (

    -- among all of the platform's accounts with a snapshot on the same date (registered or not)
    select
        *,
        rank() over (
            partition by platform, snapshot_date
            order by followers desc
        ) as follower_rank,
        count(*) over platform_date as accounts_on_date,
        -- null, not NaN, on a date whose accounts all have 0 followers (and no stop on Spark)
        followers / nullif(sum(followers) over platform_date, 0) * 100 as followers_share_pct

    from measured
    window platform_date as (partition by platform, snapshot_date)

)

select
    ranked.*,
    snapshot_coverage.is_partial as is_partial_date,
    build_watermark.load_id as refreshed_through_load_id

from ranked
left join snapshot_coverage
    on ranked.platform = snapshot_coverage.platform
    and ranked.snapshot_date = snapshot_coverage.snapshot_date
cross join build_watermark
