{#
    target_share(audience_shares, keys)

    The share of an audience in the target segment (var target_segment, seeds/target_segments.csv),
    one row per `keys` (e.g. ['app', 'month'], or ['platform', 'creator_id', 'month']). Defined
    once here for every audience it is asked of: an app's (platform_audience_fit) and a creator's
    (creator_fit), so the two compare.

    `audience_shares` is a relation (a ref or a CTE name) of canonical buckets with `keys`,
    dimension, bucket_code, share_pct, age_min, age_max and is_mapped (int_audience_shares,
    int_creator_audience_shares). Columns out: `keys`, is_complete, target_share_pct,
    target_share_min_pct, target_share_max_pct, dimensions, includes_minors.

    Vendors deliver each dimension on its own, never the joint distribution, so the share of
    users in every restricted dimension at once is not known. Two answers:
      the point estimate assumes the dimensions independent: Π a_i / 100^(n−1);
      the Fréchet bounds hold whatever the joint distribution: at least
      max(0, Σ a_i − (n − 1) × 100) (the shares overlap as little as they can), at most
      min(a_i) (one dimension's share contains the others').
    A reader keeps a row only when is_complete: every dimension of the segment delivered and
    fully mapped.

    For each restricted dimension, an age bucket wholly under the card-holding age (var
    card_holder_min_age) is left out even if the segment lists it (nobody in it can hold a main
    card); a counted age bucket that reaches below that age (24岁以下) is flagged
    (includes_minors), since its minors cannot be told apart.
#}
{% macro target_share(audience_shares, keys) -%}
    {%- set adult_age = var('card_holder_min_age') -%}
    {%- set key_list = keys | join(', ') -%}
    {%- set segment -%}
        (select * from {{ ref('target_segments') }}
         where segment_code = '{{ var("target_segment") }}')
    {%- endset -%}
    select
        {{ key_list }},
        count(*) = (select count(distinct dimension) from {{ segment }}) and bool_and(is_mapped)
            as is_complete,
        round({{ product_of('in_segment_pct / 100') }} * 100, 8) as target_share_pct,
        round(greatest(0, sum(in_segment_pct) - (count(*) - 1) * 100), 6) as target_share_min_pct,
        min(in_segment_pct) as target_share_max_pct,
        {{ ordered_list('dimension', ' × ', 'dimension') }} as dimensions,
        -- a segment that does not restrict age counts every age, minors included
        bool_or(includes_minors) or not bool_or(dimension = 'age') as includes_minors

    from (
        -- per restricted dimension: the percent of the audience in the segment's buckets
        select
            {{ key_list }},
            dimension,
            -- rounded like the shares: a float sum depends on the order threads add in, and
            -- the same inputs must give the same mart on every run
            round(coalesce(sum(share_pct) filter (where in_segment), 0), 6) as in_segment_pct,
            coalesce(
                bool_or(coalesce(age_min, 0) < {{ adult_age }})
                    filter (where in_segment and dimension = 'age'),
                false
            ) as includes_minors,
            bool_and(is_mapped) as is_mapped

        from (
            select
                audience.*,
                target_segment.bucket_code is not null
                and (
                    audience.dimension <> 'age'
                    or coalesce(audience.age_max >= {{ adult_age }}, true)
                ) as in_segment
            from {{ audience_shares }} as audience
            left join {{ segment }} as target_segment
                on audience.dimension = target_segment.dimension
                and audience.bucket_code = target_segment.bucket_code
        ) as audience
        where dimension in (select dimension from {{ segment }})
        group by {{ key_list }}, dimension
    ) as segment_dimension_shares
    group by {{ key_list }}
{%- endmacro %}
