-- content_theme_rules: one label per theme (the report prints it), no rule of the reserved theme
-- `unthemed` (note_themes gives it to notes no rule matches), and no blank pattern (a substring
-- every text contains would put every note in the theme).
select theme, 'several labels' as problem
from {{ ref('content_theme_rules') }}
group by theme
having count(distinct theme_label) > 1

union all

select theme, 'reserved theme' as problem
from {{ ref('content_theme_rules') }}
where theme = 'unthemed'

union all

select theme, 'blank pattern: ' || match_on as problem
from {{ ref('content_theme_rules') }}
where trim(pattern) = ''
