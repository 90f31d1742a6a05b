{#
    percentile_among_peers(value, partition_by)

    The mid-rank percentile (0–100) of `value` among its peers, the rows that share the columns
    of `partition_by`:

        100 × (peers with a strictly lower value + 0.5 × peers with an equal value, the row
               itself included) / peers with a non-null value

    Null when `value` is null; peers whose value is null are left out of the count. A higher
    value gives a higher percentile. A peer alone scores 50; the best of 7 scores 6.5 / 7 =
    92.9 and the worst 0.5 / 7 = 7.1; tied values share a percentile (two tied at the bottom of
    4 score (0 + 0.5 × 2) / 4 = 25). Mid-rank rather than percent_rank(), which gives the lowest
    peer 0 and the highest 100 however few the peers: with a group this small, the extremes
    would say far more than the data does, and a peer alone would score 0.

    It is a window expression: use it in a select list, not in a where or a group by.
    `value` is a column or expression; `partition_by` is a column list, either as a string
    ('platform, snapshot_date') or as a list of column names.

    Both counts come from one sort of the peers by value (a window sort of millions of rows is
    the expensive part): rank() − 1 is the number of peers with a lower value, and count(*) over
    the same ordered window, whose default frame ends at the row's last tie, the number with a
    lower or equal value; nulls sort last, out of both.
#}
{% macro percentile_among_peers(value, partition_by) -%}
    {%- set peers = partition_by if partition_by is string else partition_by | join(', ') -%}
    {%- set by_value = 'over (partition by ' ~ peers ~ ' order by (' ~ value ~ ') asc nulls last)' -%}
    case
        when ({{ value }}) is not null then
            100 * (
                cast(rank() {{ by_value }} - 1 as double)
                + 0.5 * (count(*) {{ by_value }} - (rank() {{ by_value }} - 1))
            )
            / count({{ value }}) over (partition by {{ peers }})
    end
{%- endmacro %}



{#
    score_among_peers(score, rows, source, peers, columns)

    The whole score formula, once, for the score named `score` in seeds/score_weights.csv. The
    seed drives it: each of its rows for the score is a component, ranking the seed's `metric`
    column of `rows` among the peers (the rows sharing the `peers` columns), weighted by its
    `weight`. A select statement, one row per row of `rows`, with:

        the `columns` given, then each component's metric (the seed's row order)
        <component>_component     the percentile among peers (percentile_among_peers); null when
                                  the row's metric is null. Shown even when the component does
                                  not count, to explain it
        <component>_peers         peers with a value of the metric, the row itself included: the
                                  percentile's denominator
        <component>_contribution  its points in the score: weight × percentile / weight_used;
                                  null unless the component counts. A row's contributions sum to
                                  its score (before the score's rounding to 1 decimal)
        peers                     rows in the peer group, the row itself included
        components_used           components that count
        components_left_out       the components that do not count and why, '; '-separated
                                  ('growth (1 peer, minimum 3); activity (no value of
                                  notes_per_week)'); null when every component counts
        weight_used               Σ weight of the components that count: the score's denominator
        score                     Σ contributions, rounded to 1 decimal; null when nothing weighs

    A component counts when the row has a value and at least min_peers peers have one (seed
    score_settings, one value for every score): a percentile among one peer is 50 whatever the
    value, among two 25 or 75, and counting it would pull the score toward the middle or push it
    to an edge with nothing in the data behind it.

    `rows` is the relation or CTE of the rows to score; `source` the relation they come from
    (a ref()), or a list of them when `rows` joins several, whose columns must include every
    metric of the score: a seed row naming a missing column stops the compilation, naming the
    row. `peers` and `columns` are lists of columns.

    Which components exist and which column each ranks is read from the seed when the model
    compiles (every build compiles it again, so a new seed row needs no SQL change); the weights
    and the minimum are joined at run time. A component list in SQL alone (UNPIVOT every
    candidate column, rank in long form, PIVOT back) measured several times slower at the
    benchmark's size: a percentile is one sort of the peers per component either way, but the
    long form moves every row once per candidate column and then pivots it back
    (docs/performance.md).
    A unit test cannot query its fixture while compiling: it names the components by overriding
    the macro score_components (`overrides: macros:`), its score_weights rows give the weights
    and its score_settings row the minimum.
#}
{% macro score_among_peers(score, rows, source, peers, columns) -%}
    {%- set components = score_components(score) -%}
    {%- set peer_list = peers | join(', ') -%}
    {%- set metrics = [] -%}
    {%- for component in components -%}
        {%- if component.metric not in metrics and component.metric not in columns -%}
            {%- do metrics.append(component.metric) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do check_score_metrics(score, components, source) -%}

    with

    weights as (

        -- one row, a column per component: the score's weights as the seed holds them now
        select
            {%- for component in components %}
            max(weight) filter (where component = '{{ component.name }}')
                as {{ component.name }}_weight{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ ref('score_weights') }}
        where score = '{{ score }}'

    ),

    settings as (

        -- one row (tested): the peers with a value a component needs to count
        select min_peers from {{ ref('score_settings') }}

    ),

    percentiles as (

        select
            {{ (columns + metrics) | join(',\n            ') }},
            {%- for component in components %}
            {{ percentile_among_peers(component.metric, peers) }}
                as {{ component.name }}_component,
            count({{ component.metric }}) over (partition by {{ peer_list }})
                as {{ component.name }}_peers,
            {%- endfor %}
            count(*) over (partition by {{ peer_list }}) as peers

        from {{ rows }}

    ),

    counted as (

        -- A component counts when it has a percentile computed among enough peers with a value.
        select
            percentiles.*,
            weights.*,
            settings.min_peers,
            {%- for component in components %}
            coalesce(
                {{ component.name }}_component is not null
                and {{ component.name }}_peers >= settings.min_peers,
                false
            ) as {{ component.name }}_counts{{ ',' if not loop.last }}
            {%- endfor %}

        from percentiles
        cross join weights
        cross join settings

    ),

    weighted as (

        -- A component that does not count is in neither the sum nor the weights it is divided
        -- by: the score re-weights over the components that count instead of counting a missing
        -- one as 0 (or a lone peer's 50 as a fact).
        select
            counted.*,
            {%- for component in components %}
            case when {{ component.name }}_counts
                then {{ component.name }}_weight * {{ component.name }}_component
            end as {{ component.name }}_weighted,
            {%- endfor %}
            {%- for component in components %}
            {{ component.name }}_counts::integer
            {{- ' +' if not loop.last else ' as components_used,' }}
            {%- endfor %}
            nullif(
                concat_ws(
                    '; ',
                    {%- for component in components %}
                    case
                        when {{ component.name }}_component is null
                            then '{{ component.name }} (no value of {{ component.metric }})'
                        when not {{ component.name }}_counts
                            then '{{ component.name }} (' || {{ component.name }}_peers
                                || if({{ component.name }}_peers = 1, ' peer', ' peers')
                                || ', minimum ' || min_peers || ')'
                    end{{ ',' if not loop.last }}
                    {%- endfor %}
                ),
                ''
            ) as components_left_out,
            -- the seed's exact decimals: the sum carries no binary noise
            cast(
                {%- for component in components %}
                case when {{ component.name }}_counts
                    then {{ component.name }}_weight else 0 end
                {{- ' +' if not loop.last }}
                {%- endfor %}
                as decimal(18, 6)
            ) as weight_used

        from counted

    )

    select
        {{ (columns + metrics) | join(',\n        ') }},
        {%- for component in components %}
        {{ component.name }}_component,
        {%- endfor %}
        {%- for component in components %}
        {{ component.name }}_peers,
        {%- endfor %}
        {%- for component in components %}
        {{ component.name }}_weighted / nullif(weight_used, 0) as {{ component.name }}_contribution,
        {%- endfor %}
        peers,
        components_used,
        components_left_out,
        weight_used,
        -- null when nothing weighs: no component counts (or only zero-weight ones)
        round(
            (
                {%- for component in components %}
                coalesce({{ component.name }}_weighted, 0){{ ' +' if not loop.last }}
                {%- endfor %}
            ) / nullif(weight_used, 0),
            1
        ) as score

    from weighted
{%- endmacro %}


{#
    score_components(score): the seed's rows of `score` as a list of {name, metric}, in the
    seed's row order (the order of the score's columns). Empty while dbt parses (nothing runs).
#}
{% macro score_components(score) %}
    {%- if not execute %}{{ return([]) }}{% endif -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ exceptions.raise_compiler_error("a unit test of a score names its components: overrides: macros: score_components: [{name: ..., metric: ...}, ...]") }}
    {%- endif -%}
    {%- set seed = ref('score_weights') -%}
    {%- if load_relation(seed) is none -%}
        {{ exceptions.raise_compiler_error("seed score_weights is not built yet (dbt seed): the scores read their components from it") }}
    {%- endif -%}
    {%- set query -%}
        select component, metric from {{ seed }} where score = '{{ score }}' {{ in_seed_order() }}
    {%- endset -%}
    {%- set components = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- set where = "seed score_weights, row (score " ~ score ~ ", component " ~ row[0] ~ ")" -%}
        {#- the name becomes part of column names: a plain lower-case identifier -#}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', row[0] or '') -%}
            {{ exceptions.raise_compiler_error(where ~ ": a component is named in lower-case letters, digits and _") }}
        {%- endif -%}
        {%- do components.append({'name': row[0], 'metric': row[1]}) -%}
    {%- endfor -%}
    {%- if not components -%}
        {{ exceptions.raise_compiler_error("seed score_weights has no row of score " ~ score) }}
    {%- endif -%}
    {{ return(components) }}
{% endmacro %}


{#
    check_score_metrics(score, components, source): stops the compilation when a seed row names
    a metric that is not a column of the relation `source` (or of any of a list of them), naming
    the row, instead of the
    database's "column not found" that names neither the seed nor the row.
#}
{% macro check_score_metrics(score, components, source) %}
    {#- a unit test's metrics are its fixture's columns, not the warehouse's -#}
    {%- if not execute or model.resource_type == 'unit_test' %}{{ return(none) }}{% endif -%}
    {%- set sources = source if source is sequence and source is not string else [source] -%}
    {%- set available = [] -%}
    {%- for relation in sources -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {#- not built yet (a compile before the first build): the build that creates it checks -#}
        {%- if not columns %}{{ return(none) }}{% endif -%}
        {%- do available.extend(columns) -%}
    {%- endfor -%}
    {%- set source = sources | join(', ') -%}
    {%- for component in components if (component.metric or '') | lower not in available -%}
        {{ exceptions.raise_compiler_error(
            "seed score_weights, row (score " ~ score ~ ", component " ~ component.name ~ "): metric '"
            ~ component.metric ~ "' is not a column of " ~ source ~ " (" ~ available | join(', ') ~ ")") }}
    {%- endfor -%}
{% endmacro %}


{#
    The range test (dbt_utils' accepted_range, which we cannot install): every non-null value of
    the column lies between min_value and max_value, both included; leave one out for a range
    open on that side. Fails with one row per value outside. With the scores, a value outside
    0–100 means a broken percentile or weight.
#}
{% test value_between(model, column_name, min_value=none, max_value=none) %}

select {{ column_name }} as value_out_of_range

from {{ model }}
where
    {{ column_name }} is not null
    and (
        {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% else %} false{% endif %}
        or {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% else %} false{% endif %}
    )

{% endtest %}
