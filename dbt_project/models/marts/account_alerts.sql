-- Platform × account × snapshot date × alert: the account figures an analyst should look at
-- before reading the rest, with the verdict and the reason in words. Today one kind of alert,
-- `follower_drop`: account_performance.follower_drop_verdict set, i.e. followers fell by more
-- than var follower_drop_alert_pct percent since the previous snapshot.
--
-- verdict `event` (a purge of fake followers, a real loss): the row stays in the marts and is
-- scored, and the suite account_performance warns. verdict `likely_data_error` (the drop's
-- signature is a dropped unit or a wrong account): the suite fails with ERROR and the scores and
-- publication depending on account_performance are held back (this table too: the operator
-- sees it in the pipeline's own database).
--
-- A table rebuilt whole: it reads the verdict column of account_performance and the few rows
-- that have one.
with

drops as (

    select * from {{ ref('account_performance') }}
    where follower_drop_verdict is not null

)

select
    platform,
    account_name,
    bank,
    snapshot_date,
    'follower_drop' as alert,
    follower_drop_verdict as verdict,
    case follower_drop_verdict
        when 'likely_data_error' then
            'followers ' || previous_followers || ' → ' || followers
            || ': even the highest count the display allows is at most'
            || ' {{ var("follower_drop_data_error_ratio") * 100 }}% of the lowest previous one, the signature of a dropped unit (万, 千)'
            || ' or a wrong account, not of a purge; held back until a corrected delivery'
        else
            'followers fell ' || round(-followers_change_pct, 1) || '% (between '
            || coalesce(round(-followers_change_pct_high, 1) || '%', 'an unknown share')
            || ' and '
            || coalesce(round(-followers_change_pct_low, 1) || '%', 'an unknown share')
            || ' given the rounding) in ' || days_since_previous || ' days, more than'
            || ' {{ var("follower_drop_alert_pct") }}%: kept as an event (e.g. a platform purge of fake followers)'
    end as reason,
    previous_snapshot_date,
    days_since_previous,
    previous_followers,
    followers,
    followers_change,
    followers_change_pct,
    followers_change_pct_low,
    followers_change_pct_high,
    source,
    file_name

from drops
