-- Campaign: what it moved, against what its official account would have done anyway.
--
-- The topic's notes and views gained over the window, from the topic snapshot at each edge; the
-- official account's followers over the window, compounded to a weekly rate, against the
-- account's own weekly rate over the baseline_days before the window (seed campaign_settings):
-- the uplift is the difference, with the range the counts' rounding allows, and a verdict only
-- when the whole range lies on one side of 0. Each edge reads the snapshot nearest it on the
-- outer side (macros/snapshot_near_edge.sql), within edge_tolerance_days; a figure without one is
-- null and says why. Other campaigns of the same account over the window or its baseline share
-- the uplift: they are named. Notes the account published in the window, and the cost of the
-- collaborations that name the campaign, complete the row.

with

settings as (

    select * from {{ ref('campaign_settings') }}

),

campaigns as (

    select
        stg_campaigns.*,
        settings.baseline_days,
        settings.edge_tolerance_days,
        stg_campaigns.start_date - settings.baseline_days as baseline_edge_date

    from {{ ref('stg_campaigns') }} as stg_campaigns
    cross join settings

),

topic_snapshots as (

    select
        platform,
        topic,
        snapshot_date,
        notes_count,
        {{ count_interval('low', 'notes_count', 'notes_count_step', 'notes_count_censored') }} as notes_count_low,
        {{ count_interval('high', 'notes_count', 'notes_count_step', 'notes_count_censored') }} as notes_count_high,
        views,
        {{ count_interval('low', 'views', 'views_step', 'views_censored') }} as views_low,
        {{ count_interval('high', 'views', 'views_step', 'views_censored') }} as views_high,
        source

    from {{ ref('stg_topic_snapshots') }}

),

account_snapshots as (

    -- from the account mart, with its rounding bounds: a follower count its suite finds to be a
    -- data error (a dropped 万) then holds this mart back too
    select
        platform,
        account_name,
        snapshot_date,
        followers,
        followers_low,
        followers_high,
        source

    from {{ ref('account_performance') }}

),

notes as (

    -- each note once, at its latest snapshot, as every content mart counts it
    select *
    from {{ ref('note_performance') }}
    {{ at_latest_note_snapshot() }}

),

collaborations as (

    select * from {{ ref('stg_collaborations') }}

),

-- the snapshot at each edge of the window (and of the baseline), or nulls

topic_at_start as (
    {{ snapshot_near_edge('topic_snapshots', ['platform', 'topic'], 'start_date', 'before') }}
),

topic_at_end as (
    {{ snapshot_near_edge('topic_snapshots', ['platform', 'topic'], 'end_date', 'after') }}
),

account_at_baseline as (
    {{ snapshot_near_edge('account_snapshots', ['platform', 'account_name'], 'baseline_edge_date', 'before') }}
),

account_at_start as (
    {{ snapshot_near_edge('account_snapshots', ['platform', 'account_name'], 'start_date', 'before') }}
),

account_at_end as (
    {{ snapshot_near_edge('account_snapshots', ['platform', 'account_name'], 'end_date', 'after') }}
),

official_notes as (

    -- the account's own notes published in the window, with their interactions now
    select
        campaigns.campaign_id,
        count(notes.note_id) as official_notes,
        cast(sum(notes.interactions) as bigint) as official_note_interactions,
        {{ distinct_list('notes.interactions_definition', '; ') }}
            as official_note_interactions_definitions,
        max(notes.snapshot_date) as official_notes_snapshot_date_max,
        {{ distinct_array('notes.source') }} as note_sources

    from campaigns
    left join notes
        on notes.platform = campaigns.platform
        and notes.account_name = campaigns.account_name
        and cast(notes.published_at as date) between campaigns.start_date and campaigns.end_date
    group by campaigns.campaign_id

),

campaign_cost as (

    select
        campaigns.campaign_id,
        count(collaborations.creator_id) as collaborations,
        count(distinct collaborations.creator_id) as collaboration_creators,
        sum(collaborations.cost) as collaboration_cost_yuan,
        count(collaborations.creator_id) filter (where collaborations.cost is null)
            as collaborations_without_cost,
        {{ distinct_array('collaborations.source') }} as collaboration_sources

    from campaigns
    left join collaborations
        on collaborations.campaign_id = campaigns.campaign_id
    group by campaigns.campaign_id

),

measured_span as (

    -- the days the figures actually span: from the baseline's snapshot to the end's, which may
    -- lie up to edge_tolerance_days outside the nominal dates
    select
        campaigns.campaign_id,
        campaigns.platform,
        campaigns.account_name,
        coalesce(account_at_baseline.snapshot_date, campaigns.baseline_edge_date) as measured_from,
        coalesce(account_at_end.snapshot_date, campaigns.end_date) as measured_to

    from campaigns
    left join account_at_baseline using (campaign_id)
    left join account_at_end using (campaign_id)

),

overlapping as (

    -- another campaign of the same account running during the days this campaign's window or
    -- baseline is measured over: the account's growth then is theirs too
    select
        measured_span.campaign_id,
        {{ ordered_list('others.campaign_id', ', ', 'others.start_date nulls last, others.campaign_id') }}
            as overlapping_campaigns

    from measured_span
    inner join campaigns as others
        on others.platform = measured_span.platform
        and others.account_name = measured_span.account_name
        and others.campaign_id <> measured_span.campaign_id
        and others.start_date <= measured_span.measured_to
        and others.end_date >= measured_span.measured_from
    group by measured_span.campaign_id

),

joined as (

    select
        campaigns.*,

        topic_at_start.snapshot_date as topic_start_snapshot_date,
        topic_at_start.notes_count as topic_start_notes_count,
        topic_at_end.snapshot_date as topic_end_snapshot_date,
        topic_at_end.notes_count as topic_end_notes_count,
        topic_at_end.notes_count - topic_at_start.notes_count as ugc_notes_gained,
        topic_at_end.notes_count_low - topic_at_start.notes_count_high as ugc_notes_gained_low,
        topic_at_end.notes_count_high - topic_at_start.notes_count_low as ugc_notes_gained_high,
        topic_at_end.views - topic_at_start.views as topic_views_gained,
        topic_at_end.views_low - topic_at_start.views_high as topic_views_gained_low,
        topic_at_end.views_high - topic_at_start.views_low as topic_views_gained_high,

        account_at_baseline.snapshot_date as baseline_snapshot_date,
        account_at_baseline.followers as baseline_followers,
        account_at_start.snapshot_date as start_snapshot_date,
        account_at_start.followers as start_followers,
        account_at_end.snapshot_date as end_snapshot_date,
        account_at_end.followers as end_followers,
        account_at_end.followers - account_at_start.followers as followers_change,
        account_at_end.followers_low - account_at_start.followers_high as followers_change_low,
        account_at_end.followers_high - account_at_start.followers_low as followers_change_high,

        -- a rate's low end: the lowest end over the highest start; its high end the reverse
        {%- set window_days = dbt.datediff('account_at_start.snapshot_date', 'account_at_end.snapshot_date', 'day') %}
        {%- set baseline_days = dbt.datediff('account_at_baseline.snapshot_date', 'account_at_start.snapshot_date', 'day') %}
        {{ weekly_growth_pct('account_at_end.followers', 'account_at_start.followers', window_days) }}
            as window_weekly_growth_pct,
        {{ weekly_growth_pct('account_at_end.followers_low', 'account_at_start.followers_high', window_days) }}
            as window_weekly_growth_pct_low,
        {{ weekly_growth_pct('account_at_end.followers_high', 'account_at_start.followers_low', window_days) }}
            as window_weekly_growth_pct_high,
        {{ weekly_growth_pct('account_at_start.followers', 'account_at_baseline.followers', baseline_days) }}
            as baseline_weekly_growth_pct,
        {{ weekly_growth_pct('account_at_start.followers_low', 'account_at_baseline.followers_high', baseline_days) }}
            as baseline_weekly_growth_pct_low,
        {{ weekly_growth_pct('account_at_start.followers_high', 'account_at_baseline.followers_low', baseline_days) }}
            as baseline_weekly_growth_pct_high,

        exists (
            select 1 from account_snapshots
            where account_snapshots.platform = campaigns.platform
                and account_snapshots.account_name = campaigns.account_name
        ) as account_has_snapshots,

        official_notes.official_notes,
        official_notes.official_note_interactions,
        official_notes.official_note_interactions_definitions,
        official_notes.official_notes_snapshot_date_max,
        campaign_cost.collaborations,
        campaign_cost.collaboration_creators,
        campaign_cost.collaboration_cost_yuan,
        campaign_cost.collaborations_without_cost,
        overlapping.overlapping_campaigns,

        array_distinct(filter(
            {{ array_of(['topic_at_start.source', 'topic_at_end.source']) }},
            source -> source is not null
        )) as topic_source_list,
        array_distinct(filter(
            {{ array_of(['account_at_baseline.source', 'account_at_start.source',
                'account_at_end.source']) }},
            source -> source is not null
        )) as account_source_list,
        official_notes.note_sources,
        campaign_cost.collaboration_sources

    from campaigns
    left join topic_at_start using (campaign_id)
    left join topic_at_end using (campaign_id)
    left join account_at_baseline using (campaign_id)
    left join account_at_start using (campaign_id)
    left join account_at_end using (campaign_id)
    left join official_notes using (campaign_id)
    left join campaign_cost using (campaign_id)
    left join overlapping using (campaign_id)

),

uplift as (

    select
        *,
        window_weekly_growth_pct - baseline_weekly_growth_pct as uplift_pct_points,
        window_weekly_growth_pct_low - baseline_weekly_growth_pct_high as uplift_pct_points_low,
        window_weekly_growth_pct_high - baseline_weekly_growth_pct_low as uplift_pct_points_high

    from joined

),

explained as (

    select
        *,
        case
            when uplift_pct_points_low > 0 then 'above_trend'
            when uplift_pct_points_high < 0 then 'below_trend'
            when uplift_pct_points is not null then 'within_rounding'
        end as uplift_verdict,
        -- every edge that had no snapshot, so one delivery can fix them all
        case
            when account_name is null then 'no official account named'
            when not account_has_snapshots
                then 'no snapshot of ' || account_name || ' on ' || platform
            else nullif(concat_ws(
                '; ',
                case when baseline_snapshot_date is null
                    then 'no snapshot of ' || account_name || ' within ' || edge_tolerance_days
                        || ' days on or before ' || cast(baseline_edge_date as string)
                        || ' (' || baseline_days || ' days before the start): no baseline'
                end,
                case when start_snapshot_date is null
                    then 'no snapshot of ' || account_name || ' within ' || edge_tolerance_days
                        || ' days on or before the start ' || cast(start_date as string)
                end,
                case when end_snapshot_date is null
                    then 'no snapshot of ' || account_name || ' within ' || edge_tolerance_days
                        || ' days on or after the end ' || cast(end_date as string)
                end,
                case when start_snapshot_date = end_snapshot_date
                    then 'the window''s start and end snapshot are the same day'
                end,
                case when baseline_snapshot_date = start_snapshot_date
                    then 'the baseline and the window''s start are the same snapshot'
                        || ' (seeds/campaign_settings.csv: edge_tolerance_days reaches back'
                        || ' as far as baseline_days)'
                end
            ), '')
        end as unmeasured_reason,
        nullif(concat_ws(
            '; ',
            case when topic_start_snapshot_date is null
                then 'no snapshot of #' || topic || '# within ' || edge_tolerance_days
                    || ' days on or before the start ' || cast(start_date as string)
            end,
            case when topic_end_snapshot_date is null
                then 'no snapshot of #' || topic || '# within ' || edge_tolerance_days
                    || ' days on or after the end ' || cast(end_date as string)
            end
        ), '') as topic_unmeasured_reason

    from uplift

),

final as (

    select
        campaign_id,
        platform,
        bank,
        account_name,
        name,
        topic,
        mechanic,
        offer,
        private_channel,
        app_channel,
        start_date,
        end_date,
        {{ dbt.datediff("start_date", "end_date", 'day') }} + 1 as window_days,

        -- the topic
        topic_start_snapshot_date,
        topic_end_snapshot_date,
        topic_start_notes_count,
        topic_end_notes_count,
        ugc_notes_gained,
        ugc_notes_gained_low,
        ugc_notes_gained_high,
        topic_views_gained,
        topic_views_gained_low,
        topic_views_gained_high,
        topic_unmeasured_reason,

        -- the official account
        baseline_days,
        baseline_snapshot_date,
        baseline_followers,
        start_snapshot_date,
        start_followers,
        end_snapshot_date,
        end_followers,
        followers_change,
        followers_change_low,
        followers_change_high,
        window_weekly_growth_pct,
        window_weekly_growth_pct_low,
        window_weekly_growth_pct_high,
        baseline_weekly_growth_pct,
        baseline_weekly_growth_pct_low,
        baseline_weekly_growth_pct_high,
        uplift_pct_points,
        uplift_pct_points_low,
        uplift_pct_points_high,
        uplift_verdict,
        unmeasured_reason,
        overlapping_campaigns,

        -- the official account's notes in the window
        official_notes,
        official_note_interactions,
        official_note_interactions_definitions,
        official_notes_snapshot_date_max,

        -- cost
        collaborations,
        collaboration_creators,
        collaboration_cost_yuan,
        collaborations_without_cost,

        -- provenance: each figure's sources, and all of them
        source as campaign_source,
        {{ joined_array('topic_source_list', ' | ') }} as topic_sources,
        {{ joined_array('account_source_list', ' | ') }} as account_sources,
        {{ joined_array('collaboration_sources', ' | ') }} as collaboration_sources,
        {{ joined_array('flatten(' ~ array_of([
            array_of(['source']), 'topic_source_list', 'account_source_list',
            'coalesce(note_sources, ' ~ array_of([]) ~ ')',
            'coalesce(collaboration_sources, ' ~ array_of([]) ~ ')',
        ]) ~ ')', ' | ') }} as sources

    from explained

)

select * from final
