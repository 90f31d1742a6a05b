-- Platform × note × snapshot date: the note's counts, its interactions (one definition,
-- macros/interactions.sql), their change since the note's previous snapshot, its age, its
-- interactions per thousand followers of its account, and whether it is a hit by the rule of
-- seeds/hit_rules.csv.
--
-- A table rebuilt whole on every build: notes are few (hundreds per account), and a registry
-- delivered after a note's figures (deliveries arrive in any order) gives the note its bank on the
-- next build, as every earlier note of the account is rebuilt with it.

with

notes as (

    select
        *,
        {{ interactions('likes + collects') }} as interactions,
        {{ interactions_definition() }} as interactions_definition

    from {{ ref('stg_notes') }}

),

registry as (

    select * from {{ ref('stg_accounts') }}

),

account_snapshots as (

    select platform, account_name, snapshot_date, followers
    from {{ ref('stg_account_snapshots') }} as snapshots
    -- only the accounts with notes, the only ones the two as-of joins look up: DuckDB
    -- materializes a CTE read twice (every account's every snapshot, otherwise)
    where exists (
        select 1
        from notes
        where notes.platform = snapshots.platform
            and notes.account_name = snapshots.account_name
    )

),

hit_rule as (

    select * from {{ ref('hit_rules') }}

),

with_previous as (

    select
        *,
        lag(snapshot_date) over note_history as previous_snapshot_date,
        lag(interactions) over note_history as previous_interactions,
        lag(interactions_definition) over note_history as previous_interactions_definition

    from notes
    window note_history as (partition by platform, note_id order by snapshot_date)

),

-- one publication time per note, its latest delivery's: a correction delivered with one
-- snapshot only must not put the note in two places of the hit rule's window
published as (

    select platform, note_id, published_at as note_published_at
    from notes
    {{ at_latest_note_snapshot() }}

),

dated_notes as (

    select notes.platform, notes.account_name, notes.note_id, notes.snapshot_date,
        notes.interactions, published.note_published_at
    from notes
    inner join published
        on notes.platform = published.platform
        and notes.note_id = published.note_id

),

-- The median interactions of the account's notes published in the window before each note, as
-- of the same snapshot date: a verdict uses only figures known on its date (a later delivery
-- never changes it), and every note of the comparison is counted on the same day.
hit_baselines as (

    select
        this_note.platform,
        this_note.note_id,
        this_note.snapshot_date,
        median(earlier.interactions) as baseline_median_interactions,
        count(earlier.note_id) as baseline_notes

    from dated_notes as this_note
    cross join hit_rule
    left join dated_notes as earlier
        on this_note.platform = earlier.platform
        and this_note.account_name = earlier.account_name
        and this_note.snapshot_date = earlier.snapshot_date
        and earlier.note_published_at < this_note.note_published_at
        and earlier.note_published_at
            >= {{ days_before('this_note.note_published_at', 'hit_rule.window_days') }}
    group by this_note.platform, this_note.note_id, this_note.snapshot_date

),

joined as (

    select
        with_previous.*,
        registry.bank,
        registry.bank_type,
        registry.account_name is not null as is_registered,
        followers_before.snapshot_date as followers_before_date,
        followers_before.followers as followers_before,
        followers_after.snapshot_date as followers_after_date,
        followers_after.followers as followers_after,
        hit_baselines.baseline_median_interactions,
        hit_baselines.baseline_notes,
        hit_rule.multiple_of_median,
        hit_rule.window_days,
        hit_rule.min_baseline_notes

    from with_previous
    cross join hit_rule
    left join registry
        on with_previous.platform = registry.platform
        and with_previous.account_name = registry.account_name
    left join hit_baselines
        on with_previous.platform = hit_baselines.platform
        and with_previous.note_id = hit_baselines.note_id
        and with_previous.snapshot_date = hit_baselines.snapshot_date
    -- the account's snapshots nearest the note's snapshot date, on or before and on or after
    {{ nearest_row_join(
        'with_previous', 'account_snapshots', 'followers_before', ['platform', 'account_name'], '>='
    ) }}
    {{ nearest_row_join(
        'with_previous', 'account_snapshots', 'followers_after', ['platform', 'account_name'], '<='
    ) }}

),

-- the account's followers at its nearest snapshot, either side (the earlier on a tie)
nearest_followers as (

    select
        *,
        case
            when followers_after_date is not null
                and (
                    followers_before_date is null
                    or {{ dbt.datediff("snapshot_date", "followers_after_date", 'day') }}
                        < {{ dbt.datediff("followers_before_date", "snapshot_date", 'day') }}
                )
                then followers_after_date
            else followers_before_date
        end as followers_snapshot_date

    from joined

),

final as (

    select
        platform,
        account_name,
        bank,
        bank_type,
        is_registered,
        note_id,
        title,
        note_type,
        series,
        topics,
        published_at,
        published_at_has_time,
        snapshot_date,
        {{ dbt.datediff("cast(published_at as date)", "snapshot_date", 'day') }} as age_days,
        likes,
        likes_step,
        collects,
        collects_step,
        comments,
        comments_step,
        shares,
        shares_step,
        interactions,
        interactions_definition,
        previous_snapshot_date,
        {{ dbt.datediff("previous_snapshot_date", "snapshot_date", 'day') }} as days_since_previous,
        previous_interactions,
        -- only between snapshots that count the same things (shares delivered in one only would
        -- read as a change)
        case
            when previous_interactions_definition = interactions_definition
                then interactions - previous_interactions
        end as interactions_change,
        followers_snapshot_date,
        {{ dbt.datediff("snapshot_date", "followers_snapshot_date", 'day') }} as followers_snapshot_offset_days,
        account_followers,
        round(interactions * 1000.0 / nullif(account_followers, 0), 2)
            as interactions_per_thousand_followers,
        baseline_median_interactions,
        coalesce(baseline_notes, 0) as baseline_notes,
        -- no verdict on too few notes, nor against a median of 0 (every note would be a hit)
        case
            when coalesce(baseline_notes, 0) >= min_baseline_notes
                and baseline_median_interactions > 0
                then interactions >= multiple_of_median * baseline_median_interactions
        end as is_hit,
        source,
        load_id,
        file_name,
        line_number

    from (
        select
            *,
            case
                when followers_snapshot_date = followers_after_date then followers_after
                else followers_before
            end as account_followers
        from nearest_followers
    ) as with_followers

)

select * from final
