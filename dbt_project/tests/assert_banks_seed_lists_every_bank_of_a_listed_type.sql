-- bank_market says which types the seed banks lists completely (all_banks_listed): for those,
-- banks must hold exactly banks_in_market banks, or "4 of the 6 state-owned banks" would be
-- counted against a list that lost or gained a bank. Fails with the type and both counts.
{{ config(meta={'dagster': {'ref': {'name': 'bank_market'}}}) }}

with

listed as (

    select bank_type, count(*) as banks_listed
    from {{ ref('banks') }}
    group by bank_type

)

select
    bank_market.bank_type,
    bank_market.banks_in_market,
    coalesce(listed.banks_listed, 0) as banks_listed

from {{ ref('bank_market') }} as bank_market
left join listed
    on bank_market.bank_type = listed.bank_type
where bank_market.all_banks_listed
    and bank_market.banks_in_market is distinct from coalesce(listed.banks_listed, 0)
