-- Platform × account × snapshot date of the delivered notes: what the account's delivered notes
-- add up to on that date, against the account's own snapshot of the same date, and how far the
-- account's next snapshot is. The Great Expectations suite note_account_totals reads it as it is:
-- the comparison lives here, the verdict (error or warning) in the suite.
--
-- The notes' likes + collects are taken at the low end of their rounding, the account's at the
-- high end (macros/count_interval.sql), so rounding alone never makes the notes exceed the
-- account. An account delivering likes and collects apart has each rounded on its own: the high
-- end of their sum is the sum of their high ends (3.9万 + 1.7万 is at most 39,499 + 17,499 under
-- `nearest`), not the sum's with the larger step. A censored account figure ("10万+") has no
-- high end: no comparison.

with

notes as (

    select * from {{ ref('stg_notes') }}

),

account_snapshots as (

    select
        platform,
        account_name,
        snapshot_date,
        likes_and_collects,
        likes_and_collects_step,
        case
            when likes_and_collects_is_computed
                then {{ count_interval('high', 'likes', 'likes_step', 'likes_censored') }}
                    + {{ count_interval('high', 'collects', 'collects_step', 'collects_censored') }}
            else {{ count_interval('high', 'likes_and_collects', 'likes_and_collects_step',
                'likes_and_collects_censored') }}
        end as account_likes_and_collects_high

    from {{ ref('stg_account_snapshots') }} as snapshots
    -- only the accounts with delivered notes, the only ones both joins below look up: DuckDB
    -- materializes a CTE read twice, and every snapshot of every account took 1.5 s at the
    -- benchmark's default size, each time a test or the suite read this view
    where exists (
        select 1
        from notes
        where notes.platform = snapshots.platform
            and notes.account_name = snapshots.account_name
    )

),

settings as (

    -- how long after its snapshot a note's figures may still count in a score
    select content_snapshot_max_age_days from {{ ref('score_settings') }}

),

notes_by_date as (

    select
        platform,
        account_name,
        snapshot_date,
        count(*) as notes_delivered,
        sum(
            {{ count_interval('low', 'likes', 'likes_step', 'likes_censored') }}
            + {{ count_interval('low', 'collects', 'collects_step', 'collects_censored') }}
        ) as notes_likes_and_collects_low

    from notes
    group by platform, account_name, snapshot_date

),

joined as (

    select
        notes_by_date.*,
        same_date.likes_and_collects as account_likes_and_collects,
        same_date.likes_and_collects_step as account_likes_and_collects_step,
        same_date.account_likes_and_collects_high,
        next_snapshot.snapshot_date as next_account_snapshot_date,
        settings.content_snapshot_max_age_days

    from notes_by_date
    cross join settings
    left join account_snapshots as same_date
        on notes_by_date.platform = same_date.platform
        and notes_by_date.account_name = same_date.account_name
        and notes_by_date.snapshot_date = same_date.snapshot_date
    -- the account's first snapshot on or after the notes' date
    {{ nearest_row_join(
        'notes_by_date', 'account_snapshots', 'next_snapshot', ['platform', 'account_name'], '<='
    ) }}

),

final as (

    select
        platform,
        account_name,
        snapshot_date,
        notes_delivered,
        notes_likes_and_collects_low,
        account_likes_and_collects,
        account_likes_and_collects_step,
        account_likes_and_collects_high,
        notes_likes_and_collects_low > account_likes_and_collects_high
            as notes_exceed_account,
        case
            when notes_likes_and_collects_low > account_likes_and_collects_high
                then account_name || ' on ' || cast(snapshot_date as string) || ': '
                    || notes_delivered || ' note(s) earn at least '
                    || notes_likes_and_collects_low || ' likes+collects, the account at most '
                    || account_likes_and_collects_high
        end as notes_excess,
        next_account_snapshot_date,
        {{ dbt.datediff("snapshot_date", "next_account_snapshot_date", 'day') }}
            as days_to_next_account_snapshot,
        -- only the account's latest notes date: the feed's state now, warned while it lasts,
        -- never an old gap repeated by every later run
        case
            when snapshot_date < max(snapshot_date) over (partition by platform, account_name)
                then null
            when next_account_snapshot_date is null
                or {{ dbt.datediff("snapshot_date", "next_account_snapshot_date", 'day') }}
                    > content_snapshot_max_age_days
                then account_name || ' on ' || cast(snapshot_date as string) || ': '
                    || notes_delivered || ' note(s), no account snapshot within '
                    || content_snapshot_max_age_days || ' days on or after (next: '
                    || coalesce(cast(next_account_snapshot_date as string), 'none') || ')'
        end as unscored_notes

    from joined

)

select * from final
