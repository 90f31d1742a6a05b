-- Platform × account × snapshot date: an explainable 0–100 score of each registered bank account
-- against the other registered accounts of its platform with a snapshot on the same date. The
-- components, the metric each ranks and their weights are the seed's (seeds/score_weights.csv,
-- score = account); the formula is the macro score_among_peers (macros/scoring.sql), with its
-- minimum of peers (seeds/score_settings.csv): a component among fewer does not count.
--
-- The content component's metric, median_interactions_per_new_note, comes from
-- int_account_new_note_interactions, joined on the account's snapshot.
--
-- Incremental: peers are the accounts of one (platform, snapshot_date), so a build recomputes
-- only the dates whose account_performance rows were rewritten since the last build, or whose
-- new-note interactions read a notes delivery newer than the last build read. Each input has
-- its own watermark (refreshed_through_load_id, notes_through_load_id): one merged watermark
-- could run ahead of account_performance (a build of the notes path alone) and skip its next
-- rewrite. A change of
-- the seed needs a full refresh: the rows already written keep the weights they were built with
-- (and a new component changes the columns, which an incremental build refuses).
{{
    config(
        on_schema_change='fail',
        **snapshot_upsert(whole_dates=true)
    )
}}

with

{% if is_incremental() %}

previous_watermark as (

    select
        coalesce(max(refreshed_through_load_id), 0) as load_id,
        coalesce(max(notes_through_load_id), 0) as notes_load_id
    from {{ this }}

),

-- the dates whose account_performance rows were rewritten since this table's last build, and
-- those a notes delivery since then reaches
rewritten as (

    select platform, snapshot_date
    from {{ ref('account_performance') }}
    where refreshed_through_load_id > (select load_id from previous_watermark)

    union

    select platform, snapshot_date
    from {{ ref('int_account_new_note_interactions') }}
    where notes_load_id > (select notes_load_id from previous_watermark)

),

{% endif %}

performance as (

    -- Unregistered accounts are not scored, nor counted as peers: they are not known to be a
    -- bank's, and ranking against them would move the banks' percentiles.
    select
        all_performance.*,
        content.median_interactions_per_new_note,
        content.notes_sources as content_sources
    from {{ ref('account_performance') }} as all_performance
    left join {{ ref('int_account_new_note_interactions') }} as content
        on all_performance.platform = content.platform
        and all_performance.account_name = content.account_name
        and all_performance.snapshot_date = content.snapshot_date
    where all_performance.is_registered
    {% if is_incremental() %}
        -- implied by the exists below, but a plain range DuckDB filters the scan with before any
        -- join: a daily drop then reads a day of account_performance, not all of it
        and all_performance.snapshot_date >= (select min(snapshot_date) from rewritten)
        and exists (
            select 1 from rewritten
            where rewritten.platform = all_performance.platform
                and rewritten.snapshot_date = all_performance.snapshot_date
        )
    {% endif %}

),

scored as (

    -- a component per row of the seed's account score: its metric, percentile and contribution
    {{
        score_among_peers(
            'account',
            rows='performance',
            source=[ref('account_performance'), ref('int_account_new_note_interactions')],
            peers=['platform', 'snapshot_date'],
            columns=[
                'platform', 'account_name', 'bank', 'bank_type', 'snapshot_date', 'is_partial_date',
                'content_sources'
            ],
        )
    }}

),

final as (

    select
        *,
        -- the next incremental build's watermarks: account_performance and the notes as this
        -- build saw them, each apart
        (select max(refreshed_through_load_id) from {{ ref('account_performance') }})
            as refreshed_through_load_id,
        (select coalesce(max(notes_load_id), 0) from {{ ref('int_account_new_note_interactions') }})
            as notes_through_load_id

    from scored

)

select * from final
