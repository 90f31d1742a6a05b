{#
    The supersession rule of the data contract, in one place: of all delivered rows with the
    same key, the one from the latest delivery (highest load_id) wins, and within one file the
    later line. Superseded rows stay in the raw layer. Use after a FROM:
        select * from renamed {{ latest_delivery(['platform', 'account_name']) }}
#}
{% macro latest_delivery(key_columns) %}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by load_id desc, line_number desc
    ) = 1
{% endmacro %}
