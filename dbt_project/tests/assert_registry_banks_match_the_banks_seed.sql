-- A warning, not a stop: the registry (stg_accounts) names a bank the seed banks does not know
-- although it lists every bank of that type (state-owned, joint-stock), or knows under another
-- type. bank_presence counts banks by name and type, so such a bank is a spelling variant that
-- would count one bank twice ("7 of the 6 state-owned banks") or a bank counted in the wrong
-- type. The marts still build: the registry is delivered data and the fix is a delivery (or a
-- bank added to the seed), not a reason to hold back every account mart. City and rural banks
-- the seed does not list are not reported: it lists only those the registry uses.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_accounts'}}}) }}

with

registry as (

    select distinct bank, bank_type
    from {{ ref('stg_accounts') }}
    where bank is not null

),

banks as (

    select * from {{ ref('banks') }}

),

listed_types as (

    select bank_type from {{ ref('bank_market') }} where all_banks_listed

)

select
    registry.bank,
    registry.bank_type,
    banks.bank_type as bank_type_in_seed,
    case
        when banks.bank is null then 'not in the seed banks, which lists every bank of the type'
        else 'typed ' || banks.bank_type || ' in the seed banks'
    end as problem

from registry
left join banks
    on registry.bank = banks.bank
where
    (banks.bank is null and registry.bank_type in (select bank_type from listed_types))
    or banks.bank_type <> registry.bank_type
