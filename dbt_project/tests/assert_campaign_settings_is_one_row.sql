-- seeds/campaign_settings holds one row: campaign_performance cross joins it, so a second row
-- would measure every campaign twice, and no row would measure none. Fails with the row count
-- when it is not 1.
select count(*) as settings_rows
from {{ ref('campaign_settings') }}
having count(*) <> 1
