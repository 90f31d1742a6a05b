-- Platform × account × theme: how many of the account's notes are in each content theme
-- (note_themes, each note at its latest snapshot), what they earn, how often they are hits, and
-- how their median interactions per note compare with the same theme's notes of the platform's
-- other registered accounts (the peers). A note in several themes counts in each, so the shares of
-- an account's notes may add up to more than 100.
--
-- Peers are the registered accounts of OTHER banks: a bank's second account on the platform is
-- the bank's own content, not a peer's (a registered account's bank is always known, so `is
-- distinct from` also gives an unregistered account, bank null, every registered one). An
-- unregistered account's notes appear here (is_registered false) and get a comparison of their
-- own, but never enter another account's. The peers' median is over their notes pooled, so an
-- account with many notes in the theme weighs more than one with few; peer_accounts and
-- peer_notes say what it is taken over, and peer_median_age_days and
-- peer_interactions_definitions what the peers' counts are (older notes, shares counted or not):
-- index_vs_peers does not correct for either, the reader must.

with

note_themes as (

    select * from {{ ref('note_themes') }}

),

by_theme as (

    select
        platform,
        account_name,
        any_value(bank) as bank,
        bool_or(is_registered) as is_registered,
        theme,
        any_value(theme_label) as theme_label,
        count(*) as notes,
        sum(interactions) as interactions,
        median(interactions) as median_interactions_per_note,
        median(age_days) as median_age_days,
        count(*) filter (where is_hit) as hit_notes,
        count(is_hit) as notes_with_hit_verdict,
        {{ distinct_list('interactions_definition', '; ') }}
            as interactions_definitions,
        {{ distinct_list('source', ' | ') }} as sources

    from note_themes
    group by platform, account_name, theme

),

account_notes as (

    select platform, account_name, count(distinct note_id) as account_notes
    from note_themes
    group by platform, account_name

),

peers as (

    select
        this_account.platform,
        this_account.account_name,
        this_account.theme,
        median(peer_note.interactions) as peer_median_interactions_per_note,
        median(peer_note.age_days) as peer_median_age_days,
        count(distinct peer_note.account_name) as peer_accounts,
        count(peer_note.note_id) as peer_notes,
        {{ distinct_list('peer_note.interactions_definition', '; ') }} as peer_interactions_definitions,
        {{ distinct_list('peer_note.source', ' | ') }} as peer_sources

    from by_theme as this_account
    left join note_themes as peer_note
        on this_account.platform = peer_note.platform
        and this_account.theme = peer_note.theme
        and this_account.bank is distinct from peer_note.bank
        and peer_note.is_registered
    group by this_account.platform, this_account.account_name, this_account.theme

),

final as (

    select
        by_theme.platform,
        by_theme.account_name,
        by_theme.bank,
        by_theme.is_registered,
        by_theme.theme,
        by_theme.theme_label,
        by_theme.notes,
        account_notes.account_notes,
        round(100.0 * by_theme.notes / account_notes.account_notes, 1)
            as share_of_account_notes_pct,
        cast(by_theme.interactions as bigint) as interactions,
        by_theme.median_interactions_per_note,
        by_theme.median_age_days,
        by_theme.hit_notes,
        by_theme.notes_with_hit_verdict,
        round(100.0 * by_theme.hit_notes / nullif(by_theme.notes_with_hit_verdict, 0), 1)
            as hit_rate_pct,
        peers.peer_median_interactions_per_note,
        peers.peer_median_age_days,
        peers.peer_accounts,
        peers.peer_notes,
        -- 100 = as the peers; null without peers' notes, or against a peers' median of 0
        round(
            100.0 * by_theme.median_interactions_per_note
            / nullif(peers.peer_median_interactions_per_note, 0),
            1
        ) as index_vs_peers,
        by_theme.interactions_definitions,
        peers.peer_interactions_definitions,
        by_theme.sources,
        peers.peer_sources

    from by_theme
    inner join account_notes
        on by_theme.platform = account_notes.platform
        and by_theme.account_name = account_notes.account_name
    inner join peers
        on by_theme.platform = peers.platform
        and by_theme.account_name = peers.account_name
        and by_theme.theme = peers.theme

)

select * from final
