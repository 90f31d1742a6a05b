-- Follower tiers must cover every count from 0 up without a gap or an overlap, so that each
-- account falls in exactly one tier: the lowest tier starts at 0, each tier ends where the next
-- one starts, and only the highest tier is open-ended. Returns the offending tiers.
with

tiers as (

    select
        tier_code,
        min_followers,
        max_followers,
        lead(min_followers) over (order by min_followers) as next_min_followers,
        row_number() over (order by min_followers) as position_from_bottom

    from {{ ref('follower_tiers') }}

)

select *
from tiers
where
    (position_from_bottom = 1 and min_followers <> 0)
    or (next_min_followers is null and max_followers is not null)
    or (next_min_followers is not null and max_followers is distinct from next_min_followers)
