{#
    A delivered audience bucket label as the seed audience_buckets lists it (vendor_label):
    vendors write the same bucket with full-width digits, other dashes, 至 or spaces
    ("２５～30 岁" is 25-30岁). Apps' and creators' audiences are looked up the same way.
#}
{% macro audience_bucket_label(column) %}
    {{ replace_matches(
        "translate(trim(" ~ column ~ "), '０１２３４５６７８９－–—~～至', '0123456789------')",
        '\\s+', ''
    ) }}
{% endmacro %}
