-- Platform × account: the account's latest row of account_performance, ranked among the
-- platform's accounts' latest snapshots (whatever their dates).
with

account_performance as (

    select * from {{ ref('account_performance') }}

),

latest as (

    select *
    from account_performance
    qualify row_number() over (
        partition by platform, account_name
        order by snapshot_date desc
    ) = 1

),

ranked as (

    select
        *,
        rank() over (partition by platform order by followers desc) as latest_follower_rank,
        followers / sum(followers) over (partition by platform) * 100
            as latest_followers_share_pct

    from latest

)

select * from ranked
