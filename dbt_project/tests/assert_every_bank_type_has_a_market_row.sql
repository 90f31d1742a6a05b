-- bank_presence gives every bank type of category_codes its market (banks_in_market, source):
-- a type added to category_codes needs its row in bank_market, even one without a count.
{{ config(meta={'dagster': {'ref': {'name': 'bank_market'}}}) }}

select category_codes.code as bank_type

from {{ ref('category_codes') }} as category_codes
anti join {{ ref('bank_market') }} as bank_market
    on category_codes.code = bank_market.bank_type
where category_codes.category = 'bank_type'
