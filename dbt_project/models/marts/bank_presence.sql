-- Platform × bank type: how many of the market's banks of the type run an official account on
-- the platform (banks_with_account of banks_in_market: "4 of the 6 state-owned banks"), and
-- how many of their accounts have a sizeable following at their latest snapshot.
--
-- The denominator is the market (seed bank_market, the regulator's count, with its source and
-- date), not the registry: counted against the registry, every bank with an account would be
-- present by construction. Every bank type of category_codes has a row on every platform, 0
-- where no bank of the type has an account.
with

registry as (

    select * from {{ ref('stg_accounts') }}

),

account_latest as (

    select * from {{ ref('account_latest') }}

),

bank_types as (

    select code as bank_type
    from {{ ref('category_codes') }}
    where category = 'bank_type'

),

bank_market as (

    select * from {{ ref('bank_market') }}

),

banks as (

    select * from {{ ref('banks') }}

),

-- Every platform cardreach knows of: one with content-platform MAU or account snapshots but no
-- registered account still gets its rows, 0 banks of every type ("0 of the 6 on 抖音").
platforms as (

    select platform from registry
    union
    select platform from {{ ref('stg_account_snapshots') }}
    union
    select app from {{ ref('stg_app_activity') }} where app_category = 'content_platform'

),

-- Each registry account under the seed's canonical name of its bank, matched by the name or
-- the short name (中国工商银行 or 工行). Of a type the seed lists whole (bank_market
-- all_banks_listed), a name it does not know is not counted: a spelling variant would count one
-- bank twice ("7 of the 6"); it is named in banks_unmatched (and warned about by
-- assert_registry_banks_match_the_banks_seed). Of a type the seed lists only in part, the
-- registry's name counts as it is.
registry_banks as (

    select
        registry.*,
        coalesce(by_name.bank, by_short_name.bank) as seed_bank,
        coalesce(bank_market.all_banks_listed, false) as type_listed_whole

    from registry
    left join banks as by_name
        on registry.bank = by_name.bank
    left join banks as by_short_name
        on registry.bank = by_short_name.bank_short_name
        and by_name.bank is null
    left join bank_market
        on registry.bank_type = bank_market.bank_type

),

presence as (

    -- Banks are counted by their seed name under the registry's bank type (registry_banks).
    -- The 10k / 100k thresholds are the report's (only 7 accounts over 1万, only 中信 over 10万).
    select
        registry.platform,
        registry.bank_type,
        count(distinct registry.counted_bank) as banks_with_account,
        {{ distinct_list('registry.counted_bank', ', ') }}
            as banks_with_account_names,
        {{ distinct_list('registry.bank', ', ', where='registry.counted_bank is null') }} as banks_unmatched,
        count(*) as accounts,
        count(account_latest.account_name) as accounts_with_snapshot,
        count(*) filter (where account_latest.followers >= 10000) as accounts_over_10k,
        count(*) filter (where account_latest.followers >= 100000) as accounts_over_100k

    from (
        select
            *,
            case when seed_bank is not null or not type_listed_whole
                then coalesce(seed_bank, bank) end as counted_bank
        from registry_banks
    ) as registry
    left join account_latest
        on registry.platform = account_latest.platform
        and registry.account_name = account_latest.account_name
    group by registry.platform, registry.bank_type

),

final as (

    select
        platforms.platform,
        bank_types.bank_type,
        bank_market.banks_in_market,
        coalesce(presence.banks_with_account, 0) as banks_with_account,
        coalesce(presence.banks_with_account, 0) * 100.0 / nullif(bank_market.banks_in_market, 0)
            as presence_pct,
        coalesce(presence.accounts, 0) as accounts,
        coalesce(presence.accounts_with_snapshot, 0) as accounts_with_snapshot,
        coalesce(presence.accounts_over_10k, 0) as accounts_over_10k,
        coalesce(presence.accounts_over_100k, 0) as accounts_over_100k,
        presence.banks_with_account_names,
        presence.banks_unmatched,
        bank_market.as_of as market_as_of,
        bank_market.source as market_source

    from platforms
    cross join bank_types
    left join bank_market
        on bank_types.bank_type = bank_market.bank_type
    left join presence
        on platforms.platform = presence.platform
        and bank_types.bank_type = presence.bank_type

)

select * from final
