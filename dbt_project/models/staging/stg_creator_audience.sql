-- A creator's audience profile: the latest delivery of each (platform, creator_id, month,
-- dimension, vendor bucket), the label mapped to a canonical bucket through the seed
-- audience_buckets, as the apps' profiles are (stg_app_audience), so the two compare bucket by
-- bucket. An unmapped label is kept, never dropped.

with

source as (

    select * from {{ source('raw', 'creator_audience') }}

),

renamed as (

    select
        -- key
        cast(platform as string) as platform,
        cast(creator_id as string) as creator_id,
        cast(month as date) as month,
        cast(dimension as string) as dimension,
        cast(bucket as string) as vendor_bucket,
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
    {{ latest_delivery(['platform', 'creator_id', 'month', 'dimension', 'vendor_bucket']) }}

),

bucket_dictionary as (

    select * from {{ ref('audience_buckets') }}

),

mapped as (

    select
        latest_delivery.platform,
        latest_delivery.creator_id,
        latest_delivery.month,
        latest_delivery.dimension,
        latest_delivery.vendor_bucket,
        bucket_dictionary.bucket_code,
        bucket_dictionary.bucket_label,
        bucket_dictionary.bucket_order,
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
