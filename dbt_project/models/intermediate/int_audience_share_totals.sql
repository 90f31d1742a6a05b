-- One row per audience distribution (app, month, dimension): the total of its delivered shares.
-- The buckets of a dimension are disjoint and exhaustive, so the total should be 100 within the
-- sources' rounding; the Great Expectations suite audience_share_totals judges it (the one place
-- that rule lives), reading this model as it is.
with

audience as (

    select * from {{ ref('stg_app_audience') }}

),

totals as (

    select
        app,
        month,
        dimension,
        -- rounded to remove float noise from the sum (44.74 + 15.43 + ... is not exact in binary)
        round(sum(share_pct), 6) as share_total_pct,
        count(*) as buckets

    from audience
    group by app, month, dimension

)

select * from totals
