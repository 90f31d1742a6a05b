{#
    A pre-hook for an incremental model whose rows carry the stamp `column` (the highest load_id
    of the build that wrote them), telling the pipeline's quality ledger
    (audit.quality_checked_through, orchestration/defs/quality/ledger.py) that every row is about to be
    rewritten without a higher stamp: a full refresh, or a first build. The Great Expectations
    suites that read only rows above their last passed stamp then read every row again. Renders
    nothing on an incremental build, whose rewritten rows get a higher stamp, and when there is
    no ledger yet (no suite has passed: nothing to forget). Recorded here, in the model, so that a
    refresh from dbt's own command line counts as much as one from Dagster.
#}
{% macro record_rewrite(column) %}
    {%- if execute and not is_incremental() -%}
        {%- set ledger = adapter.get_relation(
            database=target.database, schema='audit', identifier='quality_checked_through'
        ) -%}
        {%- if ledger is not none -%}
            insert into {{ ledger }} (event, column_name, run_id)
            values ('rewritten', '{{ column }}', 'dbt {{ invocation_id }}')
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
