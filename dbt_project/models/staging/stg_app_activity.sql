-- Monthly active users per app and month, the latest delivery of each (app, month).
with

source as (

    select * from {{ source('raw', 'app_activity') }}

),

renamed as (

    select
        -- key
        cast(app as string) as app,
        cast(month as date) as month,

        -- figures
        cast(app_category as string) as app_category,
        cast(mau as bigint) as mau,
        cast(mau_raw as string) as mau_raw,
        cast(mau_step as bigint) as mau_step,
        cast(mau_censored as boolean) as mau_censored,

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

    -- A later delivery of the same key supersedes earlier ones (both stay in raw); within one
    -- file, the later line wins.
    select *
    from renamed
    {{ latest_delivery(['app', 'month']) }}

)

select * from latest_delivery
