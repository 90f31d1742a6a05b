-- Platform × bank type: how many banks of the type run an official account on the platform,
-- and how many of their accounts have a sizeable following (latest snapshot).
with

registry as (

    select * from {{ ref('stg_accounts') }}

),

account_latest as (

    select * from {{ ref('account_latest') }}

),

platforms as (

    select distinct platform from registry

),

bank_types as (

    select
        bank_type,
        count(distinct bank) as banks_in_registry

    from registry
    group by bank_type

),

presence as (

    -- the 10k / 100k thresholds are the report's (only 7 accounts over 1万, only 中信 over 10万)
    select
        registry.platform,
        registry.bank_type,
        count(distinct registry.bank) as banks_with_account,
        count(*) as accounts,
        count(account_latest.account_name) as accounts_with_snapshot,
        count(*) filter (where account_latest.followers >= 10000) as accounts_over_10k,
        count(*) filter (where account_latest.followers >= 100000) as accounts_over_100k

    from registry
    left join account_latest
        on registry.platform = account_latest.platform
        and registry.account_name = account_latest.account_name
    group by registry.platform, registry.bank_type

),

final as (

    -- every bank type on every platform, 0 where no bank of the type is present
    select
        platforms.platform,
        bank_types.bank_type,
        coalesce(presence.banks_with_account, 0) as banks_with_account,
        coalesce(presence.accounts, 0) as accounts,
        coalesce(presence.accounts_with_snapshot, 0) as accounts_with_snapshot,
        coalesce(presence.accounts_over_10k, 0) as accounts_over_10k,
        coalesce(presence.accounts_over_100k, 0) as accounts_over_100k,
        bank_types.banks_in_registry

    from platforms
    cross join bank_types
    left join presence
        on platforms.platform = presence.platform
        and bank_types.bank_type = presence.bank_type

)

select * from final
