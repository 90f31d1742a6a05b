-- One row per creator, month, dimension and canonical bucket: the creator's audience in the
-- apps' buckets (as int_audience_shares sums an app's), so a creator's profile compares with its
-- platform's bucket by bucket and the target segment's share is computed the same way
-- (macros/target_share.sql). An unmapped label stays a bucket of its own, keyed by its label.
with

audience as (

    select * from {{ ref('stg_creator_audience') }}

),

bucket_ages as (

    -- the ages a canonical bucket spans: the seed lists one row per vendor label, the same
    -- bounds for each label of a bucket
    select distinct bucket_code, age_min, age_max
    from {{ ref('audience_buckets') }}

),

keyed as (

    select
        audience.*,
        bucket_ages.age_min,
        bucket_ages.age_max,
        coalesce(audience.bucket_code, 'unmapped:' || audience.vendor_bucket) as bucket_key

    from audience
    left join bucket_ages
        on audience.bucket_code = bucket_ages.bucket_code

),

summed as (

    select
        platform,
        creator_id,
        month,
        dimension,
        bucket_key,
        bucket_code,
        coalesce(bucket_label, vendor_bucket) as bucket_label,
        bucket_order,
        age_min,
        age_max,
        is_mapped,
        -- rounded to remove float noise from the sum, as the apps' shares are
        round(sum(share_pct), 6) as share_pct,
        {{ distinct_list('vendor_bucket', ' + ') }} as vendor_buckets,
        {{ distinct_list('source', ' | ') }} as sources

    from keyed
    group by
        platform,
        creator_id,
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
