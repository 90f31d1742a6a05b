-- note_performance reads the one hit rule: two rows would judge every note twice, none never.
select count(*) as hit_rules
from {{ ref('hit_rules') }}
having count(*) <> 1
