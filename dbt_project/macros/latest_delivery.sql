{#
    The supersession rule of the data contract, in one place: of all delivered rows with the
    same key, the one from the latest delivery (highest load_id) wins, and within one file the
    later line. Superseded rows stay in the raw layer. Use after a FROM:
        select * from renamed {{ latest_delivery(['platform', 'account_name']) }}

    (load_id, line_number) names one delivered row, so the winner is the row holding its key's
    highest pair (compared load_id first). A max over the key needs no sort, unlike
    row_number() over an ordered window, which on millions of snapshot rows sorts every row
    with all its columns: slower, and it holds more memory.
#}
{% macro latest_delivery(key_columns) %}
    qualify (load_id, line_number) = max((load_id, line_number)) over (
        partition by {{ key_columns | join(', ') }}
    )
{% endmacro %}
