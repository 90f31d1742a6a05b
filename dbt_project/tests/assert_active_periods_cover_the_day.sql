-- The active_period buckets must partition the day: every hour 0-23 falls in exactly one
-- canonical bucket [hour_start, hour_end), a bucket whose hour_end is below its hour_start
-- crossing midnight (深夜 22-2 holds 22, 23, 0 and 1). Otherwise a note's hour would count in no
-- period or in two, and posting_vs_active_periods' shares would not add up to 100. Returns the
-- hours that break this (nothing while the seed has no active_period bucket at all).
with

periods as (

    select distinct bucket_code, hour_start, hour_end
    from {{ ref('audience_buckets') }}
    where dimension = 'active_period'

),

hours as (

    select hour_of_day
    from (
        values {% for hour in range(24) %}({{ hour }}){{ ', ' if not loop.last }}{% endfor %}
    ) as day (hour_of_day)
    where exists (select 1 from periods)

),

covering as (

    select hours.hour_of_day, count(periods.bucket_code) as periods_covering

    from hours
    left join periods
        on {{ hour_in_period('hours.hour_of_day', 'periods.hour_start', 'periods.hour_end') }}
    group by hours.hour_of_day

)

select * from covering
where periods_covering <> 1
