-- Platform × account × weekday × hour of day: when the account publishes, on the platform's
-- clock as delivered (Beijing time for 小红书; published_at carries no time zone). Only notes
-- delivered with a time count here: a date-only note has no hour and must not read as midnight.
-- Those notes are not lost: every row carries the account's count of them
-- (account_notes_without_time), and posting_rhythm counts them per week. Each note counts once,
-- at its latest snapshot. Rows exist only for the weekday and hour pairs the account used.

with

latest_notes as (

    select *
    from {{ ref('note_performance') }}
    {{ at_latest_note_snapshot() }}

),

account_totals as (

    select
        platform,
        account_name,
        count(*) filter (where published_at_has_time) as account_timed_notes,
        count(*) filter (where not published_at_has_time) as account_notes_without_time

    from latest_notes
    group by platform, account_name

),

by_slot as (

    select
        platform,
        account_name,
        any_value(bank) as bank,
        bool_or(is_registered) as is_registered,
        {{ iso_weekday('published_at') }} as weekday,
        hour(published_at) as hour_of_day,
        count(*) as notes_published,
        median(interactions) as median_interactions

    from latest_notes
    where published_at_has_time
    group by platform, account_name, {{ iso_weekday('published_at') }}, hour(published_at)

),

final as (

    select
        by_slot.platform,
        by_slot.account_name,
        by_slot.bank,
        by_slot.is_registered,
        by_slot.weekday,
        case by_slot.weekday
            {%- for label in ['周一', '周二', '周三', '周四', '周五', '周六', '周日'] %}
            when {{ loop.index }} then '{{ label }}'
            {%- endfor %}
        end as weekday_label,
        by_slot.hour_of_day,
        by_slot.notes_published,
        round(100.0 * by_slot.notes_published / account_totals.account_timed_notes, 1)
            as share_of_timed_notes_pct,
        round(
            100.0 * sum(by_slot.notes_published) over (
                partition by by_slot.platform, by_slot.account_name, by_slot.weekday
            ) / account_totals.account_timed_notes,
            1
        ) as weekday_share_of_timed_notes_pct,
        round(
            100.0 * sum(by_slot.notes_published) over (
                partition by by_slot.platform, by_slot.account_name, by_slot.hour_of_day
            ) / account_totals.account_timed_notes,
            1
        ) as hour_share_of_timed_notes_pct,
        by_slot.median_interactions,
        account_totals.account_timed_notes,
        account_totals.account_notes_without_time

    from by_slot
    inner join account_totals
        on by_slot.platform = account_totals.platform
        and by_slot.account_name = account_totals.account_name

)

select * from final
