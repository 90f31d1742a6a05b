{#
    Interactions as analysts count them (新红's 互动量): likes + collects + comments, + shares
    where delivered. The one definition, used by an account's snapshots
    (int_account_snapshot_changes) and by each note's (note_performance).

    A count that is not delivered is left out, never taken as 0, and interactions_definition
    names exactly what went in (`likes+collects (comments and shares not delivered)`), so that
    two figures are compared only when they count the same things. `likes_and_collects` is an
    expression: 小红书 profiles show the combined figure, notes show both parts.
#}
{% macro interactions(likes_and_collects, comments='comments', shares='shares') %}
    ({{ likes_and_collects }}) + coalesce({{ comments }}, 0) + coalesce({{ shares }}, 0)
{% endmacro %}

{% macro interactions_definition(comments='comments', shares='shares') %}
    'likes+collects'
        || case when {{ comments }} is not null then '+comments' else '' end
        || case when {{ shares }} is not null then '+shares' else '' end
        || case
            when {{ comments }} is null and {{ shares }} is null
                then ' (comments and shares not delivered)'
            when {{ comments }} is null then ' (comments not delivered)'
            when {{ shares }} is null then ' (shares not delivered)'
            else ''
        end
{% endmacro %}
