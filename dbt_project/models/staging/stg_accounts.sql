-- The registry of official accounts, the latest delivery of each (platform, account_name).
with

source as (

    select * from {{ source('raw', 'accounts') }}

),

renamed as (

    select
        -- key
        cast(platform as string) as platform,
        cast(account_name as string) as account_name,

        -- attributes
        cast(bank as string) as bank,
        cast(bank_type as string) as bank_type,
        cast(account_role as string) as account_role,
        -- who names the account (the registry is curated: an account may be named by a report
        -- that gives no figures, or carry an illustrative name); null when not delivered
        cast(source as string) as source,

        -- provenance
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
    {{ latest_delivery(['platform', 'account_name']) }}

)

select * from latest_delivery
