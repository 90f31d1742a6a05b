-- Platform × note × theme: each note, as of its latest snapshot (note_performance's row with the
-- highest snapshot_date), in every theme (seeds/content_theme_labels.csv) one of whose rules
-- (seeds/content_theme_rules.csv) matches it, with the rules that matched (matched_by) so that
-- every classification can be checked by eye. A note no rule matches gets one row with theme 'unthemed': a null in the grain
-- would neither group nor join like a value, and the report must say how many notes fall in no
-- theme.
--
-- Patterns are plain substrings (contains(), never a regular expression), compared lower-cased so
-- that `citywalk` matches #CityWalk. A topic rule is matched against each hashtag on its own, so a
-- pattern never matches across two hashtags.

with

latest_notes as (

    select *
    from {{ ref('note_performance') }}
    {{ at_latest_note_snapshot() }}

),

rules as (

    select theme, match_on, pattern
    from {{ ref('content_theme_rules') }}

),

-- the note's hashtags as the platform shows them (#a#b, "#a #b", full-width ＃, a "[话题]" suffix)
hashtags as (

    select platform, note_id, hashtag
    from (
        select
            platform,
            note_id,
            {{ each_part("replace(topics, '[话题]', '')", '[#＃\\s]+') }} as hashtag
        from latest_notes
        where topics is not null
    ) as split
    where hashtag <> ''

),

topic_matches as (

    select
        hashtags.platform,
        hashtags.note_id,
        rules.theme,
        rules.match_on,
        rules.pattern,
        'topic ' || rules.pattern || ' (#' || hashtags.hashtag || ')' as matched_rule

    from hashtags
    inner join rules
        on rules.match_on = 'topic'
        and contains(lower(hashtags.hashtag), lower(rules.pattern))

),

title_matches as (

    select
        latest_notes.platform,
        latest_notes.note_id,
        rules.theme,
        rules.match_on,
        rules.pattern,
        'title ' || rules.pattern as matched_rule

    from latest_notes
    inner join rules
        on rules.match_on = 'title'
        and contains(lower(latest_notes.title), lower(rules.pattern))

),

matches as (

    select * from topic_matches
    union all
    select * from title_matches

),

-- topic rules before title rules, each by pattern: one stable text per note and theme
note_theme_matches as (

    select
        platform,
        note_id,
        theme,
        {{ ordered_list('matched_rule', '; ', 'match_on desc, pattern, matched_rule') }} as matched_by

    from (select distinct * from matches) as distinct_matches
    group by platform, note_id, theme

),

-- the labels are defined once, with the themes (a rule's theme is one of them: tested on the seed)
theme_labels as (

    select theme, theme_label
    from {{ ref('content_theme_labels') }}

),

themed as (

    select
        latest_notes.platform,
        latest_notes.note_id,
        coalesce(note_theme_matches.theme, 'unthemed') as theme,
        coalesce(theme_labels.theme_label, '未归类') as theme_label,
        note_theme_matches.matched_by,
        count(note_theme_matches.theme) over (
            partition by latest_notes.platform, latest_notes.note_id
        ) as themes_of_note

    from latest_notes
    left join note_theme_matches
        on latest_notes.platform = note_theme_matches.platform
        and latest_notes.note_id = note_theme_matches.note_id
    left join theme_labels
        on note_theme_matches.theme = theme_labels.theme

),

final as (

    select
        latest_notes.platform,
        latest_notes.account_name,
        latest_notes.bank,
        latest_notes.is_registered,
        latest_notes.note_id,
        themed.theme,
        themed.theme_label,
        themed.matched_by,
        themed.themes_of_note,
        latest_notes.title,
        latest_notes.topics,
        latest_notes.series,
        latest_notes.note_type,
        latest_notes.published_at,
        latest_notes.snapshot_date,
        latest_notes.age_days,
        latest_notes.interactions,
        latest_notes.interactions_definition,
        latest_notes.is_hit,
        latest_notes.source

    from themed
    inner join latest_notes
        on themed.platform = latest_notes.platform
        and themed.note_id = latest_notes.note_id

)

select * from final
