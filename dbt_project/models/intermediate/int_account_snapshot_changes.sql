-- Each account snapshot next to the account's previous snapshot on the same platform.
with

snapshots as (

    select * from {{ ref('stg_account_snapshots') }}

),

with_previous as (

    select
        *,
        lag(snapshot_date) over account_history as previous_snapshot_date,
        lag(followers) over account_history as previous_followers,
        lag(followers_step) over account_history as previous_followers_step,
        lag(followers_censored) over account_history as previous_followers_censored,
        lag(notes) over account_history as previous_notes

    from snapshots
    window account_history as (
        partition by platform, account_name
        order by snapshot_date
    )

)

select
    *,
    date_diff('day', previous_snapshot_date, snapshot_date) as days_since_previous

from with_previous
