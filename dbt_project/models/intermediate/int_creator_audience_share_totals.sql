-- One row per creator audience distribution (platform, creator, month, dimension): the total of
-- its delivered shares. The buckets of a dimension are disjoint and exhaustive, so the total
-- should be 100 within the sources' rounding; the Great Expectations suite
-- creator_audience_share_totals judges it (the one place that rule lives), reading this model as
-- it is, as audience_share_totals reads the apps' int_audience_share_totals.
with

audience as (

    select * from {{ ref('stg_creator_audience') }}

),

totals as (

    select
        platform,
        creator_id,
        month,
        dimension,
        -- rounded to remove float noise from the sum (29.41 + 33.33 + ... is not exact in binary)
        round(sum(share_pct), 6) as share_total_pct,
        count(*) as buckets

    from audience
    group by platform, creator_id, month, dimension

)

select * from totals
