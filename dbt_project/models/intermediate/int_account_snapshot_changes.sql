-- Each account snapshot next to the account's previous snapshot on the same platform.
--
-- A table, incremental, like stg_account_snapshots: a build recomputes, for each account with a
-- snapshot (re)delivered since the last build (load_id above the highest this table holds), its
-- snapshots from the earliest such date on, since a new or corrected snapshot is the previous
-- one of the snapshot after it. The window then reads those snapshots and the one just before
-- them, not the account's whole history: a daily drop costs in proportion to the drop. Each row
-- carries the build's stamp (refreshed_through_load_id), so that the grain test reads the latest
-- build's rows only.
{{
    config(
        on_schema_change='fail',
        **snapshot_upsert(whole_dates=false)
    )
}}

with

-- not materialized: read several times, each time only in part (a few columns, the recomputed
-- accounts' recent rows), and DuckDB would otherwise first copy the whole table into a CTE buffer
snapshots as {{ cte_hint('not materialized') }} (

    select
        *,
        -- interactions and the counts they add up: one definition, in macros/interactions.sql
        {{ interactions('likes_and_collects') }} as interactions,
        {{ interactions_definition() }} as interactions_definition

    from {{ ref('stg_account_snapshots') }}

),

-- the newest delivery this build sees: the stamp of every row it writes
build_watermark as (

    select coalesce(max(load_id), 0) as load_id from {{ ref('stg_account_snapshots') }}

),

{% if is_incremental() %}

recomputed_accounts as (

    select platform, account_name, min(snapshot_date) as recompute_from
    from snapshots
    where load_id > (select coalesce(max(load_id), 0) from {{ this }})
    group by platform, account_name

),

-- where each recomputed account's window starts: its last snapshot before recompute_from (the
-- previous snapshot of the first recomputed one), or recompute_from when there is none
window_starts as (

    select
        recomputed_accounts.platform,
        recomputed_accounts.account_name,
        recomputed_accounts.recompute_from,
        coalesce(max(snapshots.snapshot_date), recomputed_accounts.recompute_from) as window_from

    from recomputed_accounts
    left join snapshots
        on recomputed_accounts.platform = snapshots.platform
        and recomputed_accounts.account_name = snapshots.account_name
        and snapshots.snapshot_date < recomputed_accounts.recompute_from
    group by
        recomputed_accounts.platform,
        recomputed_accounts.account_name,
        recomputed_accounts.recompute_from

),

{% endif %}

-- The previous snapshot's figures, by key: the window sorts the key and these few columns only,
-- and the snapshot's other columns join back below (sorting whole rows costs far more).
previous_snapshots as (

    select
        snapshots.platform,
        snapshots.account_name,
        snapshots.snapshot_date,
        lag(snapshots.snapshot_date) over account_history as previous_snapshot_date,
        lag(snapshots.followers) over account_history as previous_followers,
        lag(snapshots.followers_step) over account_history as previous_followers_step,
        lag(snapshots.followers_censored) over account_history as previous_followers_censored,
        lag(snapshots.notes) over account_history as previous_notes,
        lag(snapshots.interactions) over account_history as previous_interactions,
        lag(snapshots.interactions_definition) over account_history
            as previous_interactions_definition,
        {% if is_incremental() %}window_starts.recompute_from{% else %}null{% endif %}
            as recompute_from

    from snapshots
    {% if is_incremental() %}
    inner join window_starts
        on snapshots.platform = window_starts.platform
        and snapshots.account_name = window_starts.account_name
        and snapshots.snapshot_date >= window_starts.window_from
    {% endif %}
    window account_history as (
        partition by snapshots.platform, snapshots.account_name
        order by snapshots.snapshot_date
    )

)

select
    snapshots.*,
    previous_snapshots.previous_snapshot_date,
    previous_snapshots.previous_followers,
    previous_snapshots.previous_followers_step,
    previous_snapshots.previous_followers_censored,
    previous_snapshots.previous_notes,
    previous_snapshots.previous_interactions,
    previous_snapshots.previous_interactions_definition,
    {{ dbt.datediff("previous_snapshots.previous_snapshot_date", "snapshots.snapshot_date", 'day') }}
        as days_since_previous,
    build_watermark.load_id as refreshed_through_load_id

from snapshots
inner join previous_snapshots
    on snapshots.platform = previous_snapshots.platform
    and snapshots.account_name = previous_snapshots.account_name
    and snapshots.snapshot_date = previous_snapshots.snapshot_date
cross join build_watermark
{% if is_incremental() %}
-- the snapshot before recompute_from only fed the window: it is stored already
where previous_snapshots.snapshot_date >= previous_snapshots.recompute_from
{% endif %}
