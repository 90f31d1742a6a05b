-- The bucket dictionary must describe each canonical bucket once: one label, order, age range and
-- hour range per (dimension, bucket_code), one bucket per canonical label, and each canonical
-- label listed as a vendor label of its own bucket (so a delivered canonical label always maps). Returns the
-- buckets that break this.
with

buckets as (

    select
        dimension,
        bucket_code,
        count(distinct bucket_label) as labels,
        count(distinct bucket_order) as orders,
        count(distinct coalesce(age_min, -1)) as age_mins,
        count(distinct coalesce(age_max, -1)) as age_maxes,
        count(distinct coalesce(hour_start, -1)) as hour_starts,
        count(distinct coalesce(hour_end, -1)) as hour_ends,
        bool_or(vendor_label = bucket_label) as lists_its_own_label

    from {{ ref('audience_buckets') }}
    group by dimension, bucket_code

),

labels as (

    select dimension, bucket_label, count(distinct bucket_code) as codes
    from {{ ref('audience_buckets') }}
    group by dimension, bucket_label

)

select dimension, bucket_code as problem_key, 'bucket described more than once' as problem
from buckets
where labels > 1 or orders > 1 or age_mins > 1 or age_maxes > 1 or hour_starts > 1 or hour_ends > 1

union all

select dimension, bucket_code, 'canonical label is not one of its vendor labels'
from buckets
where not lists_its_own_label

union all

select dimension, bucket_label, 'label used by several buckets'
from labels
where codes > 1
