-- Platform × account × snapshot date of the account's snapshots with notes delivered near them:
-- the median interactions of the account's new notes, the metric of the account score's content
-- component (seeds/score_weights.csv). New notes are those published in the
-- content_window_days (seeds/score_settings.csv) up to the account's snapshot date; each is
-- counted at its own snapshot nearest that date, on or before it and at most
-- content_snapshot_max_age_days earlier (a note's counts only grow: a later snapshot would favour
-- the account, an older one undercount it). Interactions here are likes + collects + comments,
-- the counts every note delivery has (see below).
--
-- notes_load_id is the newest delivery among the note snapshots this row could read: a notes
-- delivery for an existing date marks the account's score dates it reaches as rewritten
-- (account_scores is incremental).

with

settings as (

    select content_window_days, content_snapshot_max_age_days
    from {{ ref('score_settings') }}

),

notes as (

    select
        platform,
        account_name,
        note_id,
        snapshot_date,
        published_at,
        -- likes + collects + comments, which every note delivery has (the contract requires
        -- them): shares are optional, and a median that counts them for some accounts and not
        -- others would rank the deliveries, not the content
        likes + collects + comments as interactions,
        source,
        load_id

    from {{ ref('stg_notes') }}

),

-- the snapshot dates of the accounts that have notes
account_dates as (

    select distinct snapshots.platform, snapshots.account_name, snapshots.snapshot_date
    from {{ ref('int_account_snapshot_changes') }} as snapshots
    where exists (
        select 1 from notes
        where notes.platform = snapshots.platform
            and notes.account_name = snapshots.account_name
    )

),

-- every note snapshot this account date could read: on or before it, within the tolerance
candidates as (

    select
        account_dates.platform,
        account_dates.account_name,
        account_dates.snapshot_date,
        notes.note_id,
        notes.snapshot_date as note_snapshot_date,
        notes.published_at,
        notes.interactions,
        notes.source,
        notes.load_id,
        settings.content_window_days

    from account_dates
    cross join settings
    inner join notes
        on account_dates.platform = notes.platform
        and account_dates.account_name = notes.account_name
        and notes.snapshot_date <= account_dates.snapshot_date
        and notes.snapshot_date
            >= {{ days_before('account_dates.snapshot_date', 'settings.content_snapshot_max_age_days') }}

),

-- each note at its snapshot nearest the account's date
nearest as (

    select *
    from candidates
    qualify note_snapshot_date = max(note_snapshot_date) over (
        partition by platform, account_name, snapshot_date, note_id
    )

),

final as (

    select
        platform,
        account_name,
        snapshot_date,
        median(interactions) filter (where is_new) as median_interactions_per_new_note,
        count(*) filter (where is_new) as new_notes_counted,
        min(note_snapshot_date) filter (where is_new) as oldest_note_snapshot_date,
        {{ distinct_list('source', ' | ', where='is_new') }}
            as notes_sources,
        max(load_id) as notes_load_id

    from (
        select
            *,
            cast(published_at as date) > {{ days_before('snapshot_date', 'content_window_days') }}
                as is_new
        from nearest
    ) as dated
    group by platform, account_name, snapshot_date

)

select * from final
