-- Platform × note × snapshot date: the note's counts, its interactions (one definition,
-- macros/interactions.sql), their change since the note's previous snapshot, its age, its
-- interactions per thousand followers of its account, and whether it is a hit by the rule of
-- seeds/hit_rules.csv.
--
-- A table rebuilt whole on every build: notes are few (hundreds per account), and a registry
-- delivered after a note's figures (deliveries arrive in any order) gives the note its bank on the
-- next build, as every earlier note of the account is rebuilt with it.

with

notes as (

    select
        *,
        {{ interactions('likes + collects') }} as interactions,
        {{ interactions_definition() }} as interactions_definition

    from {{ ref('stg_notes') }}

),

registry as (

    select * from {{ ref('stg_accounts') }}

),

account_snapshots as (

    select platform, account_name, snapshot_date, followers
    from {{ ref('stg_account_snapshots') }}

),

hit_rule as (

    select * from {{ ref('hit_rules') }}

),

with_previous as (

    select
        *,
        lag(snapshot_date) over note_history as previous_snapshot_date,
        lag(interactions) over note_history as previous_interactions,
        lag(interactions_definition) over note_history as previous_interactions_definition

    from notes
    window note_history as (partition by platform, note_id order by snapshot_date)

),

-- each note once, at its latest snapshot: the baseline the hit rule takes the median of
latest_notes as (

    select platform, account_name, note_id, published_at, interactions
    from notes
    qualify snapshot_date = max(snapshot_date) over (partition by platform, note_id)

),

-- the median interactions of the account's notes published in the window before each note
hit_baselines as (

    select
        notes.platform,
        notes.note_id,
        median(earlier.interactions) as baseline_median_interactions,
        count(earlier.note_id) as baseline_notes

    from (select distinct platform, account_name, note_id, published_at from notes) as notes
    cross join hit_rule
    left join latest_notes as earlier
        on notes.platform = earlier.platform
        and notes.account_name = earlier.account_name
        and earlier.published_at < notes.published_at
        and earlier.published_at >= notes.published_at - to_days(hit_rule.window_days)
    group by notes.platform, notes.note_id

),

joined as (

    select
        with_previous.*,
        registry.bank,
        registry.bank_type,
        registry.account_name is not null as is_registered,
        followers_at.snapshot_date as followers_snapshot_date,
        followers_at.followers as account_followers,
        hit_baselines.baseline_median_interactions,
        hit_baselines.baseline_notes,
        hit_rule.multiple_of_median,
        hit_rule.window_days,
        hit_rule.min_baseline_notes

    from with_previous
    cross join hit_rule
    left join registry
        on with_previous.platform = registry.platform
        and with_previous.account_name = registry.account_name
    left join hit_baselines
        on with_previous.platform = hit_baselines.platform
        and with_previous.note_id = hit_baselines.note_id
    -- the account's followers at its nearest snapshot on or before the note's snapshot date
    asof left join account_snapshots as followers_at
        on with_previous.platform = followers_at.platform
        and with_previous.account_name = followers_at.account_name
        and with_previous.snapshot_date >= followers_at.snapshot_date

),

final as (

    select
        platform,
        account_name,
        bank,
        bank_type,
        is_registered,
        note_id,
        title,
        note_type,
        series,
        topics,
        published_at,
        published_at_has_time,
        snapshot_date,
        date_diff('day', cast(published_at as date), snapshot_date) as age_days,
        likes,
        likes_step,
        collects,
        collects_step,
        comments,
        comments_step,
        shares,
        shares_step,
        interactions,
        interactions_definition,
        previous_snapshot_date,
        date_diff('day', previous_snapshot_date, snapshot_date) as days_since_previous,
        previous_interactions,
        -- only between snapshots that count the same things (shares delivered in one only would
        -- read as a change)
        case
            when previous_interactions_definition = interactions_definition
                then interactions - previous_interactions
        end as interactions_change,
        followers_snapshot_date,
        account_followers,
        round(interactions * 1000.0 / nullif(account_followers, 0), 2)
            as interactions_per_thousand_followers,
        baseline_median_interactions,
        coalesce(baseline_notes, 0) as baseline_notes,
        case
            when coalesce(baseline_notes, 0) >= min_baseline_notes
                then interactions >= multiple_of_median * baseline_median_interactions
        end as is_hit,
        source,
        load_id,
        file_name,
        line_number

    from joined

)

select * from final
