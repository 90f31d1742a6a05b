-- Platform × account × ISO week (Monday start): how many notes the account published each week,
-- what they earned, and the trailing 4-week average. Every week from the account's first week
-- with a note to the week of its latest snapshot is a row, a week without a note with 0: a gap in
-- the rhythm is the point, and ending at the last snapshot rather than the last note keeps a pause
-- at the end visible. That last week is partial when its Sunday is after the latest snapshot date.
-- Each note counts once, in the week of its publication date (a date-only note has its date), at
-- its latest snapshot (note_performance's row with the highest snapshot_date).

with

latest_notes as (

    select *
    from {{ ref('note_performance') }}
    {{ at_latest_note_snapshot() }}

),

by_week as (

    select
        platform,
        account_name,
        cast(date_trunc('week', published_at) as date) as week_start,
        any_value(bank) as bank,
        bool_or(is_registered) as is_registered,
        count(*) as notes_published,
        count(*) filter (where not published_at_has_time) as notes_without_time,
        median(interactions) as median_interactions,
        median(age_days) as median_age_days,
        max(snapshot_date) as week_latest_snapshot_date

    from latest_notes
    group by platform, account_name, cast(date_trunc('week', published_at) as date)

),

account_span as (

    select
        platform,
        account_name,
        any_value(bank) as bank,
        bool_or(is_registered) as is_registered,
        min(week_start) as first_week,
        max(week_latest_snapshot_date) as account_latest_snapshot_date,
        -- a note's snapshot is never before its publication, so this week is never before the
        -- last week with a note
        cast(date_trunc('week', max(week_latest_snapshot_date)) as date) as last_week

    from by_week
    group by platform, account_name

),

weeks as (

    -- each_date includes both ends; the weeks are Mondays, 7 days apart
    select
        account_span.*,
        {{ each_date('first_week', 'last_week', 7) }} as week_start

    from account_span

),

filled as (

    select
        weeks.platform,
        weeks.account_name,
        weeks.bank,
        weeks.is_registered,
        weeks.week_start,
        weeks.account_latest_snapshot_date,
        coalesce(by_week.notes_published, 0) as notes_published,
        coalesce(by_week.notes_without_time, 0) as notes_without_time,
        by_week.median_interactions,
        by_week.median_age_days

    from weeks
    left join by_week
        on weeks.platform = by_week.platform
        and weeks.account_name = by_week.account_name
        and weeks.week_start = by_week.week_start

),

final as (

    select
        platform,
        account_name,
        bank,
        is_registered,
        week_start,
        account_latest_snapshot_date,
        week_start + 6 > account_latest_snapshot_date as is_partial_week,
        notes_published,
        notes_without_time,
        median_interactions,
        median_age_days,
        -- the rows are consecutive weeks (gaps filled above), so 3 preceding rows are 3 weeks;
        -- null until the account has 4 weeks, not an average of fewer, and null for a partial
        -- week, whose count would pull the average down only because the week is not over
        case
            when count(*) over trailing_4_weeks = 4
                and week_start + 6 <= account_latest_snapshot_date
                then round(avg(notes_published) over trailing_4_weeks, 2)
        end as notes_published_trailing_4w_avg

    from filled
    window trailing_4_weeks as (
        partition by platform, account_name order by week_start
        rows between 3 preceding and current row
    )

)

select * from final
