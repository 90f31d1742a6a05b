-- One row per platform and snapshot date: how many accounts the date covers, against the
-- platform's previous snapshot date. A date covering fewer accounts than the one before is
-- partial (a truncated or late delivery, or an account that stopped being tracked): its ranks
-- and shares compare fewer accounts. account_performance marks its rows with is_partial; the
-- Great Expectations suite account_snapshot_feed warns about the latest date and the feed's
-- freshness, reading this model as it is.
with

snapshots as (

    select platform, snapshot_date from {{ ref('stg_account_snapshots') }}

),

per_date as (

    -- stg_account_snapshots holds one row per (platform, account, date): a count of its rows is
    -- a count of accounts, without a distinct
    select
        platform,
        snapshot_date,
        count(*) as accounts

    from snapshots
    group by platform, snapshot_date

),

compared as (

    select
        platform,
        snapshot_date,
        accounts,
        lag(snapshot_date) over platform_dates as previous_snapshot_date,
        lag(accounts) over platform_dates as previous_accounts,
        max(snapshot_date) over (partition by platform) as latest_snapshot_date

    from per_date
    window platform_dates as (partition by platform order by snapshot_date)

),

final as (

    select
        platform,
        snapshot_date,
        accounts,
        previous_snapshot_date,
        previous_accounts,
        accounts / previous_accounts as accounts_vs_previous_date,
        -- a platform's first date has nothing to be compared with: not partial
        coalesce(accounts < previous_accounts, false) as is_partial,
        snapshot_date = latest_snapshot_date as is_latest_date,
        -- how stale the feed is today (the run's day: macros/today.sql)
        {{ dbt.datediff("latest_snapshot_date", cardreach_today(), 'day') }} as days_since_latest_snapshot

    from compared

)

select * from final
