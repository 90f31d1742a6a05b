-- Platform × account × month of publication × active period (活跃时段): the share of the account's
-- timed notes published in each period of the day beside the share of the platform's audience
-- active in it, and the difference in percentage points. The periods and their hours are the
-- active_period buckets of seeds/audience_buckets.csv (one definition, a partition of the day);
-- the audience share is the platform's own audience delivery (app = platform) of the month
-- nearest the notes' month that has an active_period distribution (the earlier on a tie), null
-- where none is delivered. Only notes delivered with a time count (a date-only note has no hour);
-- each note once, at its latest snapshot. A row per period for every account-month with a timed
-- note, a period without notes at 0, so the shares of an account-month add up to 100.
-- notes_sources are the sources of the timed notes counted (the month's, every period's row
-- alike), so the report cites a note share by them and the difference by both theirs and the
-- audience's.

with

latest_notes as (

    select *
    from {{ ref('note_performance') }}
    {{ at_latest_note_snapshot() }}

),

timed_notes as (

    select
        platform,
        account_name,
        bank,
        is_registered,
        note_id,
        source,
        cast(date_trunc('month', published_at) as date) as month,
        hour(published_at) as hour_of_day

    from latest_notes
    where published_at_has_time

),

periods as (

    select distinct bucket_code, bucket_label, bucket_order, hour_start, hour_end
    from {{ ref('audience_buckets') }}
    where dimension = 'active_period'

),

account_months as (

    select
        platform,
        account_name,
        any_value(bank) as bank,
        bool_or(is_registered) as is_registered,
        month,
        count(*) as timed_notes,
        {{ distinct_list('source', ' | ') }} as notes_sources

    from timed_notes
    group by platform, account_name, month

),

notes_per_period as (

    select
        timed_notes.platform,
        timed_notes.account_name,
        timed_notes.month,
        periods.bucket_code,
        count(*) as notes_in_period

    from timed_notes
    inner join periods
        on {{ hour_in_period('timed_notes.hour_of_day', 'periods.hour_start', 'periods.hour_end') }}
    group by timed_notes.platform, timed_notes.account_name, timed_notes.month, periods.bucket_code

),

audience_active as (

    select app, month, bucket_code, share_pct, sources
    from {{ ref('int_audience_shares') }}
    where dimension = 'active_period' and is_mapped

),

audience_months as (

    select distinct app, month from audience_active

),

nearest_audience_month as (

    select
        note_months.platform,
        note_months.month,
        audience_months.month as audience_month

    from (select distinct platform, month from account_months) as note_months
    inner join audience_months
        on note_months.platform = audience_months.app
    qualify row_number() over (
        partition by note_months.platform, note_months.month
        order by abs({{ dbt.datediff("audience_months.month", "note_months.month", 'month') }}),
            audience_months.month
    ) = 1

),

final as (

    select
        account_months.platform,
        account_months.account_name,
        account_months.bank,
        account_months.is_registered,
        account_months.month,
        periods.bucket_code as active_period,
        periods.bucket_label as active_period_label,
        periods.bucket_order as active_period_order,
        periods.hour_start,
        periods.hour_end,
        account_months.timed_notes,
        coalesce(notes_per_period.notes_in_period, 0) as notes_in_period,
        round(
            100.0 * coalesce(notes_per_period.notes_in_period, 0) / account_months.timed_notes, 1
        ) as notes_share_pct,
        nearest_audience_month.audience_month,
        {{ dbt.datediff("account_months.month", "nearest_audience_month.audience_month", 'month') }}
            as audience_month_offset_months,
        audience_active.share_pct as audience_active_share_pct,
        round(
            100.0 * coalesce(notes_per_period.notes_in_period, 0) / account_months.timed_notes
            - audience_active.share_pct,
            1
        ) as notes_minus_audience_pct_points,
        account_months.notes_sources,
        audience_active.sources as audience_sources

    from account_months
    cross join periods
    left join notes_per_period
        on account_months.platform = notes_per_period.platform
        and account_months.account_name = notes_per_period.account_name
        and account_months.month = notes_per_period.month
        and periods.bucket_code = notes_per_period.bucket_code
    left join nearest_audience_month
        on account_months.platform = nearest_audience_month.platform
        and account_months.month = nearest_audience_month.month
    left join audience_active
        on account_months.platform = audience_active.app
        and nearest_audience_month.audience_month = audience_active.month
        and periods.bucket_code = audience_active.bucket_code

)

select * from final
