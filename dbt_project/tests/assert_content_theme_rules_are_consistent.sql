-- content_theme_rules: every rule's theme is one of seeds/content_theme_labels.csv (a typo would
-- otherwise silently create a theme of its own, with no label), the reserved theme `unthemed`
-- (note_themes gives it to notes no rule matches) is neither a theme nor a rule's, and no blank
-- pattern (a substring every text contains would put every note in the theme). Each failure names
-- the rule (theme, match_on, pattern), so the row can be found in the seed.
{{ config(meta={'dagster': {'ref': {'name': 'content_theme_rules'}}}) }}

select rules.theme, rules.match_on, rules.pattern, 'not a theme of content_theme_labels' as problem
from {{ ref('content_theme_rules') }} as rules
anti join {{ ref('content_theme_labels') }} as themes
    on rules.theme = themes.theme
where rules.theme <> 'unthemed'

union all

select theme, match_on, pattern, 'reserved theme' as problem
from {{ ref('content_theme_rules') }}
where theme = 'unthemed'

union all

select theme, null as match_on, null as pattern, 'reserved theme in content_theme_labels' as problem
from {{ ref('content_theme_labels') }}
where theme = 'unthemed'

union all

select theme, match_on, pattern, 'blank pattern' as problem
from {{ ref('content_theme_rules') }}
where trim(pattern) = ''
