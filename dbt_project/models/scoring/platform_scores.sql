-- App × month: an explainable 0–100 score of each app against the other apps of its category
-- (content platforms against content platforms, card apps against card apps) in the same month.
-- The components, the metric each ranks and their weights are the seed's
-- (seeds/score_weights.csv, score = platform); the formula is the macro score_among_peers
-- (macros/scoring.sql).
with

audience_fit as (

    select * from {{ ref('platform_audience_fit') }}

),

scored as (

    -- a component per row of the seed's platform score: its metric, percentile and contribution
    -- (reach and fit are null without a complete audience profile of the month, MAU growth when
    -- the previous calendar month's MAU is not delivered). A row without any keeps its place,
    -- with no score, so that an app-month without a score shows why.
    {{
        score_among_peers(
            'platform',
            rows='audience_fit',
            source=ref('platform_audience_fit'),
            peers=['app_category', 'month'],
            columns=['app', 'app_category', 'month'],
        )
    }}

)

select * from scored
