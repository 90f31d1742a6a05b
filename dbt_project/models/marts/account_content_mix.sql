-- Platform × account × month of publication × series: how many notes the account published in
-- each of its collections (合集) and outside any, what they earned, and how often they were hits.
-- Each note counts once, in the month it was published, with its figures at its latest snapshot
-- (note_performance's row with the highest snapshot_date). Notes outside any series are the row
-- whose series is '(no series)' (in_series false): a null in the grain would neither group nor
-- join like a value.

with

latest_notes as (

    select *
    from {{ ref('note_performance') }}
    {{ at_latest_note_snapshot() }}

),

by_series as (

    select
        platform,
        account_name,
        any_value(bank) as bank,
        bool_or(is_registered) as is_registered,
        cast(date_trunc('month', published_at) as date) as month,
        coalesce(series, '(no series)') as series,
        series is not null as in_series,
        count(*) as notes_published,
        sum(interactions) as interactions,
        median(interactions) as median_interactions_per_note,
        count(*) filter (where is_hit) as hit_notes,
        count(is_hit) as notes_with_hit_verdict,
        {{ distinct_list('interactions_definition', '; ') }}
            as interactions_definitions,
        min(snapshot_date) as snapshot_date_min,
        max(snapshot_date) as snapshot_date_max,
        {{ distinct_list('source', ' | ') }} as sources

    from latest_notes
    group by platform, account_name, month, coalesce(series, '(no series)'), series is not null

),

final as (

    select
        platform,
        account_name,
        bank,
        is_registered,
        month,
        series,
        in_series,
        notes_published,
        cast(interactions as bigint) as interactions,
        median_interactions_per_note,
        hit_notes,
        notes_with_hit_verdict,
        round(100.0 * hit_notes / nullif(notes_with_hit_verdict, 0), 1) as hit_rate_pct,
        round(
            100.0 * interactions
            / nullif(sum(interactions) over (partition by platform, account_name, month), 0),
            1
        ) as share_of_account_interactions_pct,
        interactions_definitions,
        snapshot_date_min,
        snapshot_date_max,
        sources

    from by_series

)

select * from final
