-- seeds/score_settings holds one row: the scores cross join it, so a second row would score every
-- row twice, and no row would score nothing. Fails with the row count when it is not 1.
select count(*) as settings_rows
from {{ ref('score_settings') }}
having count(*) <> 1
