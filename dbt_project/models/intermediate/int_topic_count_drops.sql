-- Platform × topic × snapshot date: whether the topic's cumulative notes count (or its views)
-- fell since its previous snapshot by more than their rounding. A topic's notes only accumulate
-- (a deleted note is rare and small against a campaign's hundreds): a fall is a misread figure
-- or another topic's figures delivered under this name, and campaign_performance's UGC notes
-- gained would be wrong. The suite topic_note_counts reads this model: a notes fall is an error
-- that holds back campaign_performance, a views fall a warning.
--
-- A count fell when its high end now is below its low end before (macros/count_interval.sql), so
-- "1.2万" then "1.19万" never fails by rounding. A count not delivered on either side is no drop.

{% set counts = ['notes_count', 'views'] %}

with

topic_snapshots as (

    select
        platform,
        topic,
        snapshot_date,
        {%- for count in counts %}
        {{ count }},
        {{ count_interval('low', count, count ~ '_step', count ~ '_censored') }} as {{ count }}_low,
        {{ count_interval('high', count, count ~ '_step', count ~ '_censored') }} as {{ count }}_high,
        {%- endfor %}
        load_id

    from {{ ref('stg_topic_snapshots') }}

),

with_previous as (

    select
        *,
        lag(snapshot_date) over topic_history as previous_snapshot_date,
        lag(load_id) over topic_history as previous_load_id,
        {%- for count in counts %}
        lag({{ count }}) over topic_history as previous_{{ count }},
        lag({{ count }}_low) over topic_history as previous_{{ count }}_low{{ ',' if not loop.last }}
        {%- endfor %}

    from topic_snapshots
    window topic_history as (partition by platform, topic order by snapshot_date)

),

flagged as (

    select
        *,
        {%- for count in counts %}
        coalesce({{ count }}_high < previous_{{ count }}_low, false) as {{ count }}_fell{{ ',' if not loop.last }}
        {%- endfor %}

    from with_previous

),

final as (

    select
        platform,
        topic,
        snapshot_date,
        previous_snapshot_date,
        -- the newest delivery either side of the comparison: the suite reads only the rows a
        -- delivery since its last pass could change (meta.new_rows_by)
        greatest(load_id, coalesce(previous_load_id, load_id)) as load_id,
        {%- for count in counts %}
        {{ count }},
        previous_{{ count }},
        {{ count }}_fell,
        -- what fell, for the check's report: null when it did not
        case
            when {{ count }}_fell
                then '#' || topic || '# on ' || platform || ', '
                    || cast(previous_snapshot_date as string) || ' → '
                    || cast(snapshot_date as string) || ': {{ count }} '
                    || previous_{{ count }} || ' → ' || {{ count }}
        end as {{ count }}_drop{{ ',' if not loop.last }}
        {%- endfor %}

    from flagged

)

select * from final
