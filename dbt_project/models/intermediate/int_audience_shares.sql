-- One row per app, month, dimension and canonical bucket: the shares of the vendor labels that
-- map to the same canonical bucket are summed (a source may split or rename a bucket).
-- An unmapped label stays a bucket of its own, keyed by its label.
with

audience as (

    select * from {{ ref('stg_app_audience') }}

),

keyed as (

    select
        *,
        -- The key buckets are compared by across apps: the canonical code, or for an
        -- unmapped label the label itself (so two apps with the same unknown label still match).
        coalesce(bucket_code, 'unmapped:' || vendor_bucket) as bucket_key

    from audience

),

summed as (

    select
        app,
        month,
        dimension,
        bucket_key,
        bucket_code,
        coalesce(bucket_label, vendor_bucket) as bucket_label,
        bucket_order,
        age_min,
        age_max,
        is_mapped,
        -- rounded to remove float noise from the sum (44.74 + 15.43 + ... is not exact in binary)
        round(sum(share_pct), 6) as share_pct,
        {{ distinct_list('vendor_bucket', ' + ') }} as vendor_buckets,
        {{ distinct_list('source', ' | ') }} as sources,
        max(load_id) as latest_load_id

    from keyed
    group by
        app,
        month,
        dimension,
        bucket_key,
        bucket_code,
        coalesce(bucket_label, vendor_bucket),
        bucket_order,
        age_min,
        age_max,
        is_mapped

)

select * from summed
