{#
    The buckets of one distribution (e.g. one app, month and dimension) are disjoint and
    exhaustive, so their percent shares add up to 100, give or take the source's rounding.
    Fails with one row per distribution whose total is off by more than the tolerance
    (in percentage points). An overlapping or double-delivered bucket shows up here.
#}
{% test shares_sum_to_100(model, column_name, group_by, tolerance=0.5) %}

select
    {{ group_by | join(', ') }},
    sum({{ column_name }}) as total_share_pct

from {{ model }}
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - 100) > {{ tolerance }}

{% endtest %}
