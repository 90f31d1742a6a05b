{#
    percentile_among_peers(value, partition_by)

    The mid-rank percentile (0–100) of `value` among its peers, the rows that share the columns
    of `partition_by`:

        100 × (peers with a strictly lower value + 0.5 × peers with an equal value, the row
               itself included) / peers with a non-null value

    Null when `value` is null; peers whose value is null are left out of the count. A higher
    value gives a higher percentile. A peer alone scores 50; the best of 7 scores 6.5 / 7 =
    92.9 and the worst 0.5 / 7 = 7.1; tied values share a percentile (two tied at the bottom of
    4 score (0 + 0.5 × 2) / 4 = 25). Mid-rank rather than percent_rank(), which gives the lowest
    peer 0 and the highest 100 however few the peers: with a group this small, the extremes
    would say far more than the data does, and a peer alone would score 0.

    It is a window expression: use it in a select list, not in a where or a group by.
    `value` is a column or expression; `partition_by` is a column list, either as a string
    ('platform, snapshot_date') or as a list of column names.

    Both counts come from one sort of the peers by value (a window sort of millions of rows is
    the expensive part): rank() − 1 is the number of peers with a lower value, and count(*) over
    the same ordered window, whose default frame ends at the row's last tie, the number with a
    lower or equal value; nulls sort last, out of both.
#}
{% macro percentile_among_peers(value, partition_by) -%}
    {%- set peers = partition_by if partition_by is string else partition_by | join(', ') -%}
    {%- set by_value = 'over (partition by ' ~ peers ~ ' order by (' ~ value ~ ') asc nulls last)' -%}
    case
        when ({{ value }}) is not null then
            100 * (
                cast(rank() {{ by_value }} - 1 as double)
                + 0.5 * (count(*) {{ by_value }} - (rank() {{ by_value }} - 1))
            )
            / count({{ value }}) over (partition by {{ peers }})
    end
{%- endmacro %}


{#
    The range test (dbt_utils' accepted_range, which we cannot install): every non-null value of
    the column lies between min_value and max_value, both included; leave one out for a range
    open on that side. Fails with one row per value outside. With the scores, a value outside
    0–100 means a broken percentile or weight.
#}
{% test value_between(model, column_name, min_value=none, max_value=none) %}

select {{ column_name }} as value_out_of_range

from {{ model }}
where
    {{ column_name }} is not null
    and (
        {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% else %} false{% endif %}
        or {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% else %} false{% endif %}
    )

{% endtest %}
