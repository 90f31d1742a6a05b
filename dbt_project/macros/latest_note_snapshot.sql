{#
    The content marts' rule, in one place: a note counts once, with its figures at its latest
    snapshot (the highest snapshot_date of its platform and note_id), so a note seen on several
    dates is never counted twice and every mart of a note's totals agrees. Use after a FROM of
    note_performance (or any relation with platform, note_id and snapshot_date):
        select * from {{ ref('note_performance') }} {{ at_latest_note_snapshot() }}
#}
{% macro at_latest_note_snapshot() %}
    qualify snapshot_date = max(snapshot_date) over (partition by platform, note_id)
{% endmacro %}
