-- audience_profile compares every app with the one default baseline: there must be exactly one.
select count(*) filter (where is_default) as default_baselines
from {{ ref('audience_baselines') }}
having count(*) filter (where is_default) <> 1
