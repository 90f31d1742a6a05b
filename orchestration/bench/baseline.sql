-- The baseline: account_performance and platform_audience_fit straight from the landing files,
-- in one DuckDB script, as a careful engineer would write them without any framework. It is the
-- practical lower bound on this engine for the work the pipeline does for these two marts.
--
-- The runner (orchestration/bench/baseline.py) sets these variables before running it:
--   snapshot_csv, snapshot_jsonl, snapshot_parquet   account_snapshots files, per format
--   accounts_csv, activity_csv, audience_csv         the registry and the app files
--   follower_tiers_csv, audience_buckets_csv,        the dbt seeds (reference data)
--   target_segments_csv, audience_baselines_csv
--   target_segment                                   the segment the target share measures
--   today                                            the pipeline's today (a date): later dates are refused
-- DuckDB 1.5 reads CSV only as UTF-8, UTF-16 or Latin-1 without the `encodings` extension
-- (which needs the internet to install), so the runner converts GB18030 files to UTF-8 first,
-- in Python, and that time counts in the baseline's. It rewrites CRLF files with LF line ends
-- too: DuckDB 1.5 reads a list of CSV files with the dialect it sniffed in the first one, and a
-- file whose line ends differ came back as no rows, without an error (so the runner also checks
-- the rows read against the files' line counts). Text files are read positionally with the
-- bench generator's column order (UTF-8 files have English headers, GB18030 ones Chinese); the
-- runner checks every header before trusting the order. Delivery order is file-name order (the
-- generator names files by date or month), so a later file supersedes an earlier one.
--
-- Values follow the contract's rules, like the pipeline's validator: a row with a required value
-- missing, a count that is not a whole non-negative number, a date that is not a date or is in
-- the future, is rejected whole and kept in `quarantine`.

-- The tables built here need no particular row order: let DuckDB write them in parallel order.
SET preserve_insertion_order = false;

-- ---------------------------------------------------------------------------------------------
-- Text -> values

-- trimmed, full-width digits and signs folded to ASCII, empty -> NULL
CREATE OR REPLACE TEMP MACRO fold(t) AS nullif(
    trim(translate(t, '０１２３４５６７８９．，ｗＷｋＫ＋％', '0123456789.,wWkK+%')), ''
);

-- "12,700.5万+" -> {digits: '12,700', frac: '5', unit: '万', plus: '+'}; all '' when no match
CREATE OR REPLACE TEMP MACRO count_parts(t) AS regexp_extract(
    t,
    '^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?\s*([万萬亿億千wWkK]?)\s*(\+|以上)?$',
    ['digits', 'frac', 'unit', 'plus']
);

CREATE OR REPLACE TEMP MACRO unit_exponent(u) AS CASE u
    WHEN '' THEN 0
    WHEN '万' THEN 4 WHEN '萬' THEN 4 WHEN 'w' THEN 4 WHEN 'W' THEN 4
    WHEN '亿' THEN 8 WHEN '億' THEN 8
    ELSE 3  -- 千, k, K
END;

-- exact value of the parts; NULL when the text is not a whole count ("12.5", "1.23456万")
CREATE OR REPLACE TEMP MACRO count_value(p) AS CASE
    WHEN p.digits = '' THEN NULL
    WHEN replace(substr(p.frac, unit_exponent(p.unit) + 1), '0', '') <> '' THEN NULL
    ELSE CAST(replace(p.digits, ',', '') || left(p.frac, unit_exponent(p.unit)) AS BIGINT)
        * CAST(10 ** (unit_exponent(p.unit) - length(left(p.frac, unit_exponent(p.unit)))) AS BIGINT)
END;

-- the rounding step the text implies: 12.7万 -> 1000, 5207 -> 1
CREATE OR REPLACE TEMP MACRO count_step(p) AS CAST(
    10 ** greatest(unit_exponent(p.unit) - length(p.frac), 0) AS BIGINT
);

-- Most counts are plain digits: only the others are folded and taken apart, once, into a
-- column of parts (`text_parts`), which `count_of` and `step_of` read.
CREATE OR REPLACE TEMP MACRO text_parts(t) AS CASE
    WHEN t IS NOT NULL AND NOT regexp_full_match(t, '[0-9]+') THEN count_parts(fold(t))
END;

CREATE OR REPLACE TEMP MACRO count_of(t, p) AS CASE
    WHEN t IS NULL THEN NULL
    WHEN p IS NULL THEN CAST(t AS BIGINT)
    WHEN p.digits = '' THEN
        -- 小红书's label for zero (a regexp, not IN (...): the planner turns an IN list into a
        -- join and computes its operand on every row, outside the CASE)
        CASE WHEN regexp_full_match(t, '\s*(赞|点赞|收藏|评论|分享)\s*') THEN 0 END
    ELSE count_value(p)
END;

CREATE OR REPLACE TEMP MACRO step_of(t, p) AS CASE
    WHEN t IS NULL THEN NULL
    WHEN p IS NULL OR p.digits = '' THEN 1
    ELSE count_step(p)
END;

-- a count text in one go, for the few rows of the app tables (it takes the text apart once per
-- reference to the parts: the snapshots keep the parts in a column instead)
CREATE OR REPLACE TEMP MACRO parse_count(t) AS count_of(t, text_parts(t));

-- a count column is bad when text was delivered but is not a count
CREATE OR REPLACE TEMP MACRO bad_count(t, v) AS t IS NOT NULL AND v IS NULL;

CREATE OR REPLACE TEMP MACRO parse_date(t) AS CAST(
    try_strptime(t, ['%Y-%m-%d', '%Y/%m/%d', '%Y年%m月%d日', '%Y%m%d']) AS DATE
);

-- a month ("2025-01", "2025/1", "2025年1月", "202501") or a first-of-month date, as its first day
CREATE OR REPLACE TEMP MACRO first_of_month(d) AS CASE WHEN day(d) = 1 THEN d END;
CREATE OR REPLACE TEMP MACRO parse_month(t) AS first_of_month(CAST(
    try_strptime(t, ['%Y-%m', '%Y/%m', '%Y年%m月', '%Y%m', '%Y-%m-%d', '%Y/%m/%d']) AS DATE
));

CREATE OR REPLACE TEMP MACRO parse_percent(t) AS CASE
    WHEN regexp_full_match(t, '[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*%?')
        THEN CAST(rtrim(rtrim(t, '%')) AS DOUBLE)
END;

-- ---------------------------------------------------------------------------------------------
-- account_snapshots: every file, typed, bad rows aside

CREATE TEMP TABLE snapshot_rows AS
WITH

delivered AS (

    SELECT
        filename AS file_name, platform, account_name, snapshot_date, followers, notes, likes,
        collects, NULL::VARCHAR AS likes_and_collects, comments, shares, source
    FROM read_csv(
        getvariable('snapshot_csv'),
        header = true, delim = ',', quote = '"', escape = '"', filename = true,
        columns = {
            'platform': 'VARCHAR', 'account_name': 'VARCHAR', 'snapshot_date': 'VARCHAR',
            'followers': 'VARCHAR', 'notes': 'VARCHAR', 'likes': 'VARCHAR',
            'collects': 'VARCHAR', 'comments': 'VARCHAR', 'shares': 'VARCHAR',
            'source': 'VARCHAR'
        }
    )

    UNION ALL

    SELECT
        filename, platform, account_name, snapshot_date, followers, notes, NULL, NULL,
        likes_and_collects, comments, shares, source
    FROM read_json(
        getvariable('snapshot_jsonl'),
        format = 'newline_delimited', filename = true,
        columns = {
            'platform': 'VARCHAR', 'account_name': 'VARCHAR', 'snapshot_date': 'VARCHAR',
            'followers': 'VARCHAR', 'notes': 'VARCHAR', 'likes_and_collects': 'VARCHAR',
            'comments': 'VARCHAR', 'shares': 'VARCHAR', 'source': 'VARCHAR'
        }
    )

    UNION ALL

    SELECT
        filename, platform, account_name, CAST(snapshot_date AS VARCHAR), followers, notes,
        likes, collects, NULL, comments, shares, source
    FROM read_parquet(getvariable('snapshot_parquet'), filename = true)

),

texts AS (

    SELECT
        file_name,
        nullif(trim(platform), '') AS platform,
        nullif(trim(account_name), '') AS account_name,
        nullif(trim(snapshot_date), '') AS snapshot_date_text,
        nullif(trim(followers), '') AS followers_text,
        nullif(trim(notes), '') AS notes_text,
        nullif(trim(likes), '') AS likes_text,
        nullif(trim(collects), '') AS collects_text,
        nullif(trim(likes_and_collects), '') AS likes_and_collects_text,
        nullif(trim(comments), '') AS comments_text,
        nullif(trim(shares), '') AS shares_text,
        nullif(trim(source), '') AS source
    FROM delivered

),

parts AS (

    SELECT
        *,
        text_parts(followers_text) AS followers_parts,
        text_parts(notes_text) AS notes_parts,
        text_parts(likes_text) AS likes_parts,
        text_parts(collects_text) AS collects_parts,
        text_parts(likes_and_collects_text) AS likes_and_collects_parts,
        text_parts(comments_text) AS comments_parts,
        text_parts(shares_text) AS shares_parts,
        TRY_CAST(snapshot_date_text AS DATE) AS iso_date  -- the usual 2025-04-17, quickly
    FROM texts

),

parsed AS (

    SELECT
        file_name, platform, account_name, source, snapshot_date_text, followers_text,
        notes_text, likes_text, collects_text, likes_and_collects_text, comments_text,
        shares_text,
        -- (a CASE, not coalesce(): DuckDB evaluates every argument of coalesce on every row,
        -- and folding full-width characters costs a microsecond a value)
        CASE
            WHEN iso_date IS NOT NULL THEN iso_date
            ELSE parse_date(fold(snapshot_date_text))
        END AS snapshot_date,
        count_of(followers_text, followers_parts) AS followers,
        step_of(followers_text, followers_parts) AS followers_step,
        count_of(notes_text, notes_parts) AS notes,
        count_of(likes_text, likes_parts) AS likes,
        count_of(collects_text, collects_parts) AS collects,
        count_of(likes_and_collects_text, likes_and_collects_parts)
            AS delivered_likes_and_collects,
        count_of(comments_text, comments_parts) AS comments,
        count_of(shares_text, shares_parts) AS shares
    FROM parts

),

checked AS (

    SELECT
        *,
        platform IS NOT NULL
            AND account_name IS NOT NULL
            AND source IS NOT NULL
            AND snapshot_date IS NOT NULL
            AND snapshot_date <= getvariable('today')
            AND followers IS NOT NULL
            AND notes IS NOT NULL
            AND NOT bad_count(likes_text, likes)
            AND NOT bad_count(collects_text, collects)
            AND NOT bad_count(likes_and_collects_text, delivered_likes_and_collects)
            AND NOT bad_count(comments_text, comments)
            AND NOT bad_count(shares_text, shares)
            AND (
                (likes IS NOT NULL AND collects IS NOT NULL)
                OR delivered_likes_and_collects IS NOT NULL
            ) AS is_valid
    FROM parsed

)

-- typed values for every row, the delivered texts only where the quarantine needs them
SELECT
    file_name, platform, account_name, source, snapshot_date, followers, followers_step, notes,
    likes, collects, delivered_likes_and_collects, comments, shares, is_valid,
    CASE WHEN NOT is_valid THEN snapshot_date_text END AS snapshot_date_text,
    CASE WHEN NOT is_valid THEN followers_text END AS followers_text,
    CASE WHEN NOT is_valid THEN notes_text END AS notes_text,
    CASE WHEN NOT is_valid THEN likes_text END AS likes_text,
    CASE WHEN NOT is_valid THEN collects_text END AS collects_text,
    CASE WHEN NOT is_valid THEN likes_and_collects_text END AS likes_and_collects_text
FROM checked;

CREATE OR REPLACE TABLE quarantine AS
SELECT
    'account_snapshots' AS dataset, file_name, platform, account_name, snapshot_date_text,
    followers_text, notes_text, likes_text, collects_text, likes_and_collects_text
FROM snapshot_rows
WHERE NOT is_valid;

-- ---------------------------------------------------------------------------------------------
-- account_performance

CREATE OR REPLACE TABLE account_performance AS
WITH

latest AS (

    SELECT
        platform, account_name, snapshot_date, followers, followers_step, notes, likes,
        collects, comments, shares, source, file_name,
        coalesce(delivered_likes_and_collects, likes + collects) AS likes_and_collects
    FROM snapshot_rows
    WHERE is_valid
    QUALIFY row_number() OVER (
        PARTITION BY platform, account_name, snapshot_date ORDER BY file_name DESC
    ) = 1

),

registry AS (

    SELECT platform, account_name, bank, bank_type, account_role
    FROM (
        SELECT
            filename,
            nullif(trim(platform), '') AS platform,
            nullif(trim(account_name), '') AS account_name,
            nullif(trim(bank), '') AS bank,
            lower(replace(replace(trim(bank_type), '-', '_'), ' ', '_')) AS bank_type,
            lower(replace(replace(trim(account_role), '-', '_'), ' ', '_')) AS account_role
        FROM read_csv(
            getvariable('accounts_csv'),
            header = true, filename = true,
            columns = {
                'platform': 'VARCHAR', 'account_name': 'VARCHAR', 'bank': 'VARCHAR',
                'bank_type': 'VARCHAR', 'account_role': 'VARCHAR'
            }
        )
    )
    WHERE platform IS NOT NULL AND account_name IS NOT NULL AND bank IS NOT NULL
        AND bank_type IN ('state_owned', 'joint_stock', 'city_commercial', 'rural_commercial',
                          'other')
        AND (account_role IS NULL OR account_role IN ('card_center', 'card_application',
                                                      'main', 'branch'))
    QUALIFY row_number() OVER (PARTITION BY platform, account_name ORDER BY filename DESC) = 1

),

tiers AS (

    -- contiguous ranges: a row's tier is the one with the highest minimum at or below it
    SELECT tier_code, tier_label, CAST(min_followers AS BIGINT) AS min_followers
    FROM read_csv(getvariable('follower_tiers_csv'), header = true)

),

changes AS (

    SELECT
        *,
        lag(snapshot_date) OVER history AS previous_snapshot_date,
        lag(followers) OVER history AS previous_followers,
        lag(followers_step) OVER history AS previous_followers_step,
        lag(notes) OVER history AS previous_notes
    FROM latest
    WINDOW history AS (PARTITION BY platform, account_name ORDER BY snapshot_date)

),

measured AS (

    SELECT
        changes.platform,
        changes.account_name,
        changes.snapshot_date,
        registry.bank,
        registry.bank_type,
        registry.account_role,
        registry.account_name IS NOT NULL AS is_registered,
        changes.followers,
        changes.followers_step,
        changes.notes,
        changes.likes,
        changes.collects,
        changes.likes_and_collects,
        changes.comments,
        changes.shares,
        changes.source,
        changes.file_name,
        changes.likes_and_collects / nullif(changes.notes, 0) AS likes_and_collects_per_note,
        changes.likes_and_collects / nullif(changes.followers, 0)
            AS likes_and_collects_per_follower,
        changes.collects / nullif(changes.likes, 0) AS collects_per_like,
        changes.previous_snapshot_date,
        date_diff('day', changes.previous_snapshot_date, changes.snapshot_date)
            AS days_since_previous,
        changes.previous_followers,
        changes.followers - changes.previous_followers AS followers_change,
        (changes.followers / nullif(changes.previous_followers, 0) - 1) * 100
            AS followers_change_pct,
        (
            power(
                changes.followers / nullif(changes.previous_followers, 0),
                7.0 / nullif(date_diff('day', changes.previous_snapshot_date,
                                       changes.snapshot_date), 0)
            ) - 1
        ) * 100 AS follower_growth_weekly_pct,
        -- the change's interval contains 0, counts rounded to the nearest step (the dbt var
        -- count_rounding's default): true counts v - step // 2 to v + (step + 1) // 2 - 1
        (changes.followers - changes.followers_step // 2)
            - (changes.previous_followers + (changes.previous_followers_step + 1) // 2 - 1) <= 0
        AND (changes.followers + (changes.followers_step + 1) // 2 - 1)
            - (changes.previous_followers - changes.previous_followers_step // 2) >= 0
            AS followers_change_within_rounding,
        (changes.notes - changes.previous_notes)
            / nullif(date_diff('day', changes.previous_snapshot_date, changes.snapshot_date), 0)
            * 7 AS notes_per_week,
        tiers.tier_code AS follower_tier,
        tiers.tier_label AS follower_tier_label
    FROM changes
    LEFT JOIN registry
        ON changes.platform = registry.platform
        AND changes.account_name = registry.account_name
    ASOF LEFT JOIN tiers
        ON changes.followers >= tiers.min_followers

)

SELECT
    *,
    rank() OVER (PARTITION BY platform, snapshot_date ORDER BY followers DESC) AS follower_rank,
    count(*) OVER platform_date AS accounts_on_date,
    followers / sum(followers) OVER platform_date * 100 AS followers_share_pct
FROM measured
WINDOW platform_date AS (PARTITION BY platform, snapshot_date);

-- ---------------------------------------------------------------------------------------------
-- platform_audience_fit
--
-- The app tables are small, but the same care applies: each text is folded once, into a column,
-- and the typed rows are a table before anything filters them. (A macro is inlined wherever it
-- is referenced, and the optimizer pushes a filter down through the projection that computes
-- it, so a parse written inline gets computed many times over.)

CREATE TEMP TABLE activity_rows AS
WITH

texts AS (

    SELECT
        filename,
        nullif(trim(app), '') AS app,
        lower(replace(replace(trim(app_category), '-', '_'), ' ', '_')) AS app_category,
        fold(month) AS month_text,
        fold(mau) AS mau_text,
        nullif(trim(source), '') AS source
    FROM read_csv(
        getvariable('activity_csv'),
        header = true, filename = true,
        columns = {
            'app': 'VARCHAR', 'app_category': 'VARCHAR', 'month': 'VARCHAR',
            'mau': 'VARCHAR', 'source': 'VARCHAR'
        }
    )

),

parts AS (

    SELECT *, text_parts(mau_text) AS mau_parts, parse_month(month_text) AS month
    FROM texts

),

typed AS (

    SELECT
        filename, app, app_category, month, source, month_text, mau_text,
        count_of(mau_text, mau_parts) AS mau
    FROM parts

)

SELECT
    *,
    app IS NOT NULL AND month IS NOT NULL AND mau IS NOT NULL AND source IS NOT NULL
        AND month <= date_trunc('month', getvariable('today'))
        AND app_category IN ('content_platform', 'card_app', 'card_app_industry') AS is_valid
FROM typed;

CREATE TEMP TABLE audience_rows AS
WITH

texts AS (

    SELECT
        filename,
        nullif(trim(app), '') AS app,
        lower(trim(dimension)) AS dimension,
        nullif(trim(bucket), '') AS bucket,
        fold(month) AS month_text,
        fold(share_pct) AS share_text,
        nullif(trim(source), '') AS source
    FROM read_csv(
        getvariable('audience_csv'),
        header = true, filename = true,
        columns = {
            'app': 'VARCHAR', 'month': 'VARCHAR', 'dimension': 'VARCHAR',
            'bucket': 'VARCHAR', 'share_pct': 'VARCHAR', 'source': 'VARCHAR'
        }
    )

),

typed AS (

    SELECT
        *,
        parse_month(month_text) AS month,
        parse_percent(share_text) AS share_pct,
        -- the label as looked up in the bucket dictionary (full-width digits, other dashes)
        regexp_replace(
            translate(bucket, '０１２３４５６７８９－–—~～至', '0123456789------'), '\s+', '', 'g'
        ) AS bucket_normalized
    FROM texts

)

SELECT
    *,
    app IS NOT NULL AND month IS NOT NULL AND bucket IS NOT NULL AND source IS NOT NULL
        AND dimension IN ('age', 'gender', 'consumption', 'city_tier', 'active_period')
        AND coalesce(share_pct BETWEEN 0 AND 100, false) AS is_valid
FROM typed;

CREATE OR REPLACE TABLE platform_audience_fit AS
WITH

activity AS (

    SELECT app, app_category, month, mau, source
    FROM activity_rows
    WHERE is_valid
    QUALIFY row_number() OVER (PARTITION BY app, month ORDER BY filename DESC) = 1

),

buckets AS (

    SELECT * FROM read_csv(getvariable('audience_buckets_csv'), header = true)

),

audience AS (

    SELECT
        latest.app, latest.month, latest.dimension, latest.share_pct,
        buckets.bucket_code, buckets.age_min, buckets.age_max,
        buckets.bucket_code IS NOT NULL AS is_mapped
    FROM (
        SELECT *
        FROM audience_rows
        WHERE is_valid
        QUALIFY row_number() OVER (
            PARTITION BY app, month, dimension, bucket ORDER BY filename DESC
        ) = 1
    ) AS latest
    LEFT JOIN buckets
        ON latest.dimension = buckets.dimension
        AND latest.bucket_normalized = buckets.vendor_label

),

segment AS (

    SELECT dimension, bucket_code
    FROM read_csv(getvariable('target_segments_csv'), header = true)
    WHERE segment_code = getvariable('target_segment')

),

summary AS (

    SELECT
        app,
        month,
        round(coalesce(sum(share_pct) FILTER (WHERE dimension = 'age' AND age_max <= 35), 0), 6)
            AS share_under_35_pct,
        bool_and(is_mapped AND coalesce(age_max <= 35 OR age_min >= 36, false))
            FILTER (WHERE dimension = 'age') AS is_under_35_exact,
        round(coalesce(sum(share_pct) FILTER (
            WHERE dimension = 'consumption' AND bucket_code IN (
                'consumption_high', 'consumption_upper_middle', 'consumption_middle'
            )
        ), 0), 6) AS share_mid_plus_consumption_pct,
        bool_and(is_mapped) FILTER (WHERE dimension = 'consumption') AS is_consumption_mapped
    FROM audience
    GROUP BY app, month

),

in_segment AS (

    -- percent of users in the segment's buckets of each dimension; an age bucket wholly under
    -- 18 (the card-holding age) is never counted
    SELECT
        app, month, dimension,
        round(coalesce(sum(share_pct) FILTER (
            WHERE bucket_code IN (SELECT bucket_code FROM segment)
                AND (dimension <> 'age' OR coalesce(age_max >= 18, true))
        ), 0), 6) AS share_pct,
        bool_and(is_mapped) AS is_mapped
    FROM audience
    WHERE dimension IN (SELECT dimension FROM segment)
    GROUP BY app, month, dimension

),

target_share AS (

    -- the point estimate assumes the dimensions independent; the Fréchet bounds need nothing
    SELECT
        app, month,
        round(product(share_pct / 100) * 100, 8) AS target_share_pct,
        round(greatest(0, sum(share_pct) - (count(*) - 1) * 100), 6) AS target_share_min_pct,
        min(share_pct) AS target_share_max_pct
    FROM in_segment
    GROUP BY app, month
    HAVING count(*) = (SELECT count(DISTINCT dimension) FROM segment) AND bool_and(is_mapped)

),

card_industry AS (

    SELECT activity.month, activity.mau AS card_industry_mau
    FROM activity
    INNER JOIN read_csv(getvariable('audience_baselines_csv'), header = true) AS baselines
        ON activity.app = baselines.app
    WHERE baselines.baseline_code = 'card_app_industry'

)

SELECT
    activity.app,
    activity.app_category,
    activity.month,
    activity.mau,
    previous_month.mau AS previous_month_mau,
    (activity.mau / nullif(previous_month.mau, 0) - 1) * 100 AS mau_mom_pct,
    last_year.mau AS same_month_last_year_mau,
    (activity.mau / nullif(last_year.mau, 0) - 1) * 100 AS mau_yoy_pct,
    card_industry.card_industry_mau,
    activity.mau / nullif(card_industry.card_industry_mau, 0) AS mau_vs_card_industry,
    CASE WHEN summary.is_under_35_exact THEN summary.share_under_35_pct END
        AS share_under_35_pct,
    CASE WHEN summary.is_consumption_mapped THEN summary.share_mid_plus_consumption_pct END
        AS share_mid_plus_consumption_pct,
    target_share.target_share_pct,
    target_share.target_share_min_pct,
    target_share.target_share_max_pct,
    CAST(round(activity.mau * target_share.target_share_pct / 100) AS BIGINT) AS est_target_reach
FROM activity
LEFT JOIN activity AS previous_month
    ON activity.app = previous_month.app
    AND CAST(activity.month - INTERVAL 1 MONTH AS DATE) = previous_month.month
LEFT JOIN activity AS last_year
    ON activity.app = last_year.app
    AND CAST(activity.month - INTERVAL 12 MONTH AS DATE) = last_year.month
LEFT JOIN card_industry ON activity.month = card_industry.month
LEFT JOIN summary ON activity.app = summary.app AND activity.month = summary.month
LEFT JOIN target_share
    ON activity.app = target_share.app AND activity.month = target_share.month;
