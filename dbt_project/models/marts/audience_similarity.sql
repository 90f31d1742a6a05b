-- App × baseline × month × dimension: how alike the app's audience distribution is to each
-- named baseline's distribution of the same month, as histogram intersection and
-- Jensen-Shannon distance.
with

audience_shares as (

    select * from {{ ref('int_audience_shares') }}

),

baselines as (

    select * from {{ ref('audience_baselines') }}

),

distributions as (

    -- Shares as fractions of their distribution's total, so that each distribution sums to
    -- exactly 1 even when the source's rounding leaves it at 99.9 or 100.1 percent.
    select
        app,
        month,
        dimension,
        bucket_key,
        share_pct / nullif(sum(share_pct) over (partition by app, month, dimension), 0) as share

    from audience_shares

),

pairs as (

    -- every app's distribution against every baseline's distribution of the same month and
    -- dimension (the baseline app against itself too: 1 and 0, a sanity check)
    select distinct
        app_side.app,
        baselines.baseline_code as baseline,
        baselines.app as baseline_app,
        app_side.month,
        app_side.dimension

    from distributions as app_side
    inner join baselines
        on true
    inner join distributions as baseline_side
        on baselines.app = baseline_side.app
        and app_side.month = baseline_side.month
        and app_side.dimension = baseline_side.dimension

),

pair_buckets as (

    -- the union of both sides' buckets: a bucket missing on one side has share 0 there
    select pairs.*, distributions.bucket_key
    from pairs
    inner join distributions
        on pairs.app = distributions.app
        and pairs.month = distributions.month
        and pairs.dimension = distributions.dimension

    union

    select pairs.*, distributions.bucket_key
    from pairs
    inner join distributions
        on pairs.baseline_app = distributions.app
        and pairs.month = distributions.month
        and pairs.dimension = distributions.dimension

),

aligned as (

    select
        pair_buckets.*,
        app_side.bucket_key is not null and baseline_side.bucket_key is not null as is_in_both,
        coalesce(app_side.share, 0) as p,
        coalesce(baseline_side.share, 0) as q

    from pair_buckets
    left join distributions as app_side
        on pair_buckets.app = app_side.app
        and pair_buckets.month = app_side.month
        and pair_buckets.dimension = app_side.dimension
        and pair_buckets.bucket_key = app_side.bucket_key
    left join distributions as baseline_side
        on pair_buckets.baseline_app = baseline_side.app
        and pair_buckets.month = baseline_side.month
        and pair_buckets.dimension = baseline_side.dimension
        and pair_buckets.bucket_key = baseline_side.bucket_key

),

terms as (

    -- Jensen-Shannon terms against the mixture m = (p + q) / 2, in bits. 0 · log 0 = 0: a zero
    -- share contributes nothing (nullif turns its log into null, coalesce into 0), and where
    -- p or q > 0 the mixture is > 0, so the log is defined.
    select
        *,
        least(p, q) as overlap,
        coalesce(p * log2(nullif(p, 0) / ((p + q) / 2)), 0) as p_term,
        coalesce(q * log2(nullif(q, 0) / ((p + q) / 2)), 0) as q_term

    from aligned

),

final as (

    select
        app,
        baseline,
        baseline_app,
        month,
        dimension,
        -- rounded to 6 decimals: a float sum depends on the order DuckDB's threads add in, and
        -- the same inputs must give the same mart on every run (a 1e-6 difference means nothing)
        round(sum(overlap), 6) as histogram_intersection,
        -- greatest(…, 0): float noise can make a zero divergence a tiny negative number
        round(sqrt(greatest(0.5 * sum(p_term) + 0.5 * sum(q_term), 0)), 6) as js_distance,
        count(*) as buckets_compared,
        count(*) filter (where is_in_both) as buckets_in_both

    from terms
    group by app, baseline, baseline_app, month, dimension

)

select * from final
