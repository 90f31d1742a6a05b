-- App × month: an explainable 0–100 score of each app as a place to reach the target segment,
-- against the apps of its kind delivered for the same month: content platforms against content
-- platforms (which platform?), card apps against card apps. Aggregates (card_app_industry, all
-- card apps together; internet_overall, 全网) are one figure for many apps, not an app: they are
-- not scored, nor counted as peers.
-- Peers share the month because a month's MAU growth and audience are compared with the same
-- month's (an app delivered for another month is not a peer of this one: see peer_apps).
-- The components, the metric each ranks and their weights are the seed's
-- (seeds/score_weights.csv, score = platform); the formula is the macro score_among_peers
-- (macros/scoring.sql), with its minimum of peers (seeds/score_settings.csv).
with

audience_fit as (

    select * from {{ ref('platform_audience_fit') }}
    where app_category in ('content_platform', 'card_app')

),

scored as (

    -- a component per row of the seed's platform score: its metric, percentile and contribution
    -- (reach and share are null without a complete audience profile of the month, MAU growth
    -- when the previous calendar month's MAU is not delivered). A row without any, or with none
    -- among enough peers, keeps its place with no score, so that an app-month shows why.
    {{
        score_among_peers(
            'platform',
            rows='audience_fit',
            source=ref('platform_audience_fit'),
            peers=['app_category', 'month'],
            columns=['app', 'app_category', 'month'],
        )
    }}

),

final as (

    select
        *,
        -- who the app was compared with: the apps of its category with a row that month
        {{ joined_array('array_agg(app) over (partition by app_category, month)', ', ') }}
            as peer_apps

    from scored

)

select * from final
