-- Platform × note × snapshot date: whether any of the note's cumulative counts (likes, collects,
-- comments, shares) fell since its previous snapshot by more than their rounding. Cumulative
-- counts fall only when the platform removes interactions (spam, deleted comments) or a figure
-- was misread; the Great Expectations suite note_count_drops warns on it, reading this model.
--
-- A count fell when its high end now is below its low end before (macros/count_interval.sql), so
-- "1.2万" then "1.19万" never fails by rounding. A count not delivered on either side is no drop.

{% set counts = ['likes', 'collects', 'comments', 'shares'] %}

with

notes as (

    select
        platform,
        account_name,
        note_id,
        snapshot_date,
        {%- for count in counts %}
        {{ count_interval('low', count, count ~ '_step', count ~ '_censored') }} as {{ count }}_low,
        {{ count_interval('high', count, count ~ '_step', count ~ '_censored') }} as {{ count }}_high,
        {{ count }},
        {%- endfor %}
        load_id

    from {{ ref('stg_notes') }}

),

with_previous as (

    select
        *,
        lag(snapshot_date) over note_history as previous_snapshot_date,
        lag(load_id) over note_history as previous_load_id,
        {%- for count in counts %}
        lag({{ count }}) over note_history as previous_{{ count }},
        lag({{ count }}_low) over note_history as previous_{{ count }}_low{{ ',' if not loop.last }}
        {%- endfor %}

    from notes
    window note_history as (partition by platform, note_id order by snapshot_date)

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
        account_name,
        note_id,
        snapshot_date,
        previous_snapshot_date,
        -- the newest delivery either side of the comparison: the suite reads only the rows a
        -- delivery since its last pass could change (meta.new_rows_by), so a drop warns once
        greatest(load_id, coalesce(previous_load_id, load_id)) as load_id,
        {%- for count in counts %}
        {{ count }},
        previous_{{ count }},
        {{ count }}_fell,
        {%- endfor %}
        {%- for count in counts %}
        {{ count }}_fell{{ ' or' if not loop.last else ' as counts_fell,' }}
        {%- endfor %}
        -- what fell, for the check's report: null when nothing did
        case
            when {% for count in counts %}{{ count }}_fell{{ ' or ' if not loop.last }}{% endfor %}
                then 'note ' || note_id || ' of ' || account_name || ', '
                    || cast(previous_snapshot_date as string) || ' → '
                    || cast(snapshot_date as string) || ': '
                    || concat_ws(
                        ', ',
                        {%- for count in counts %}
                        case
                            when {{ count }}_fell
                                then '{{ count }} ' || previous_{{ count }} || ' → ' || {{ count }}
                        end{{ ',' if not loop.last }}
                        {%- endfor %}
                    )
        end as count_drop

    from flagged

)

select * from final
