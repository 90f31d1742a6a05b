-- App × month × dimension × bucket: the app's share of each canonical bucket next to the chosen
-- baseline's share of the same month, and the TGI (目标群体指数) of the two. The baseline is the
-- row of the seed audience_baselines marked is_default (the one place it is chosen); every row
-- names it and the sources of both shares, so a TGI against an illustrative baseline says so.
with

audience_shares as (

    select * from {{ ref('int_audience_shares') }}

),

baseline as (

    select * from {{ ref('audience_baselines') }}
    where is_default

),

target_segment as (

    select * from {{ ref('target_segments') }}
    where segment_code = '{{ var("target_segment") }}'

),

segment_dimensions as (

    select distinct dimension from target_segment

),

baseline_shares as (

    select
        baseline.baseline_code,
        baseline.app as baseline_app,
        audience_shares.month,
        audience_shares.dimension,
        audience_shares.bucket_key,
        audience_shares.share_pct as baseline_share_pct,
        audience_shares.sources as baseline_sources

    from audience_shares
    inner join baseline
        on audience_shares.app = baseline.app

),

final as (

    select
        audience_shares.app,
        audience_shares.month,
        audience_shares.dimension,
        audience_shares.bucket_label as bucket,
        audience_shares.bucket_code,
        audience_shares.bucket_order,
        audience_shares.is_mapped,
        audience_shares.vendor_buckets,
        audience_shares.share_pct,
        baseline.baseline_code as baseline,
        baseline.baseline_label,
        baseline.app as baseline_app,
        baseline_shares.baseline_share_pct,
        baseline_shares.baseline_sources,

        -- TGI jumps on tiny buckets (0.3% vs 0.1% is "300"): below the minimum share on either
        -- side it is not computed.
        case
            when audience_shares.share_pct >= {{ var('tgi_min_share_pct') }}
                and baseline_shares.baseline_share_pct >= {{ var('tgi_min_share_pct') }}
                then audience_shares.share_pct / baseline_shares.baseline_share_pct * 100
        end as tgi,

        -- What the TGI is computed from: both shares' sources, verbatim, so that a TGI inherits
        -- "illustrative" from either side (the report marks it by that word).
        -- (`tgi` is the column above: DuckDB reads an alias of the same select)
        case
            when tgi is not null
                then 'derived: share_pct / baseline_share_pct × 100; share: '
                    || audience_shares.sources
                    || '; baseline ' || baseline.baseline_code || ' (' || baseline.app || '): '
                    || baseline_shares.baseline_sources
        end as tgi_source,

        '{{ var("target_segment") }}' as target_segment,
        -- null for a dimension the segment does not restrict, or an unmapped bucket
        case
            when segment_dimensions.dimension is not null and audience_shares.is_mapped
                then target_segment.bucket_code is not null
        end as in_target_segment,

        audience_shares.sources

    from audience_shares
    left join baseline
        on true
    left join baseline_shares
        on audience_shares.month = baseline_shares.month
        and audience_shares.dimension = baseline_shares.dimension
        and audience_shares.bucket_key = baseline_shares.bucket_key
    left join segment_dimensions
        on audience_shares.dimension = segment_dimensions.dimension
    left join target_segment
        on audience_shares.dimension = target_segment.dimension
        and audience_shares.bucket_code = target_segment.bucket_code

)

select * from final
