-- Audience profile, the latest delivery of each (app, month, dimension, vendor bucket), with the
-- vendor's bucket label mapped to a canonical bucket through the seed audience_buckets.
with

source as (

    select * from {{ source('raw', 'app_audience') }}

),

renamed as (

    select
        -- key
        cast(app as string) as app,
        cast(month as date) as month,
        cast(dimension as string) as dimension,
        cast(bucket as string) as vendor_bucket,

        -- the label as looked up in the dictionary
        {{ audience_bucket_label('bucket') }} as vendor_bucket_normalized,

        -- figures
        cast(share_pct as double) as share_pct,
        cast(share_pct_raw as string) as share_pct_raw,

        -- provenance
        cast(source as string) as source,
        load_id,
        file_name,
        sha256,
        line_number,
        delivered_at

    from source

),

latest_delivery as (

    -- A later delivery of the same key supersedes earlier ones (both stay in raw).
    select *
    from renamed
    {{ latest_delivery(['app', 'month', 'dimension', 'vendor_bucket']) }}

),

bucket_dictionary as (

    select * from {{ ref('audience_buckets') }}

),

mapped as (

    -- A label missing from the dictionary is kept, unmapped, never dropped: its share still
    -- counts in its distribution, and a warning test names it.
    select
        latest_delivery.app,
        latest_delivery.month,
        latest_delivery.dimension,
        latest_delivery.vendor_bucket,
        bucket_dictionary.bucket_code,
        bucket_dictionary.bucket_label,
        bucket_dictionary.bucket_order,
        bucket_dictionary.age_min,
        bucket_dictionary.age_max,
        bucket_dictionary.bucket_code is not null as is_mapped,
        latest_delivery.share_pct,
        latest_delivery.share_pct_raw,
        latest_delivery.source,
        latest_delivery.load_id,
        latest_delivery.file_name,
        latest_delivery.sha256,
        latest_delivery.line_number,
        latest_delivery.delivered_at

    from latest_delivery
    left join bucket_dictionary
        on latest_delivery.dimension = bucket_dictionary.dimension
        and latest_delivery.vendor_bucket_normalized = bucket_dictionary.vendor_label

)

select * from mapped
