-- CONFIDENTIAL: each series of the bank's funnel (bank, platform, channel, campaign) day by day,
-- with the days missing since the series' previous day. A daily feed that skips days undercounts
-- its weeks and months in funnel_conversion without any row being wrong; the Great Expectations
-- suite funnel_date_gaps warns on a gap beyond its limit, reading this model.

with

funnel as (

    select * from {{ ref('stg_funnel_daily') }}

),

with_previous as (

    select
        bank,
        platform,
        channel,
        campaign_id,
        funnel_date,
        lag(funnel_date) over series as previous_date,
        load_id,
        lag(load_id) over series as previous_load_id

    from funnel
    window series as (partition by bank, platform, channel, campaign_id order by funnel_date)

),

final as (

    select
        bank,
        platform,
        channel,
        campaign_id,
        funnel_date,
        previous_date,
        {{ dbt.datediff("previous_date", "funnel_date", 'day') }} - 1 as missing_days,
        -- what is missing, for the check's report: bank, channel, campaign, the two days around it
        bank || ' ' || platform || ' ' || channel || coalesce(' ' || campaign_id, '') || ': no figures'
            || ' between ' || cast(previous_date as string) || ' and '
            || cast(funnel_date as string) as gap,
        -- the newer delivery of the two days: a gap warns once (meta.new_rows_by)
        greatest(load_id, coalesce(previous_load_id, load_id)) as load_id

    from with_previous
    where previous_date is not null

)

select * from final
