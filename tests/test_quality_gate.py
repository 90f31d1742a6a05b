"""The Great Expectations gate: each suite catches its defect, and a failed check holds back what
depends on its data (from scoring and publication), and nothing else; the previous publication of
what it holds back stays (shares over 100). A whole run again on the same landing leaves every
mart as it was (the purge). A date's coverage over successive deliveries, and an account the
registry does not name, with the truncated feed. What `make run` and the UI show of a failed
check: tests/test_ui_browser.py."""

import json
from datetime import date

import dagster as dg
import duckdb
import pytest
from conftest import NEXT_DROP, mart_tables, query, run_pipeline, snapshot_on

from orchestration import settings
from orchestration.dbt import confidential_tables
from orchestration.defs.automation.plan import BuildRecord, staleness
from orchestration.defs.ingest.assets import ingest_landing_files
from orchestration.defs.quality.checks import _suite_check

ACCOUNT_SCORES = dg.AssetKey(["marts", "account_scores"])
PLATFORM_SCORES = dg.AssetKey(["marts", "platform_scores"])
SCORES = {ACCOUNT_SCORES, PLATFORM_SCORES}
PUBLICATION = dg.AssetKey(["publish", "analytics_database"])


def failed_checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {c.check_name: c for c in result.get_asset_check_evaluations() if not c.passed}


def materialized(result) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def published(warehouse, sql: str) -> list[tuple]:
    """What analysts see: the published copy."""
    with duckdb.connect(str(warehouse.analytics_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def audience(app: str, month: str, shares: dict[str, str]) -> list[dict]:
    return [
        {
            "app": app,
            "month": month,
            "dimension": "age",
            "bucket": bucket,
            "share_pct": share,
            "source": "test",
        }
        for bucket, share in shares.items()
    ]


def test_sample_passes_every_blocking_check_and_is_scored(sample_run):
    top = query(
        sample_run,
        "SELECT account_name, scale_component, score, components_used FROM marts.account_scores"
        " WHERE platform = '小红书' AND snapshot_date = DATE '2025-04-17'"
        " ORDER BY scale_component DESC",
    )
    assert len(top) == 7
    assert top[0][0] == "中信银行信用卡"
    assert all(0 <= score <= 100 for _, _, score, _ in top)
    # Growth and activity need an earlier snapshot: only 招商银行信用卡申请 has one, a peer group
    # of 1, below the minimum of 3: every account is re-weighted over scale and engagement.
    assert {name: used for name, _, _, used in top}["招商银行信用卡申请"] == 3
    assert {name: used for name, _, _, used in top}["中信银行信用卡"] == 3
    # the one content platform has no peers: its row stays, without a score, saying why
    [(platform_score, left_out)] = query(
        sample_run,
        "SELECT score, components_left_out FROM marts.platform_scores"
        " WHERE app = '小红书' AND month = DATE '2025-01-01'",
    )
    assert platform_score is None and "(1 peer, minimum 3)" in left_out


def test_shares_over_100_hold_back_the_platform_scores_but_not_the_accounts(
    landing, sample_copy, warehouse
):
    held_back = ("marts.platform_audience_fit", "marts.platform_scores")
    before = {t: published(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in held_back}
    # A new platform whose age shares add up to 120: scoring it would add rows to the scores...
    landing.csv(
        "app_activity__douyin.csv",
        [
            {
                "app": "抖音",
                "app_category": "content_platform",
                "month": "2025-01",
                "mau": "7.5亿",
                "source": "test",
            }
        ],
    )
    landing.csv(
        "app_audience__douyin.csv",
        audience(
            "抖音",
            "2025-01",
            {"24岁以下": "50", "25-30岁": "30", "31-35岁": "20", "36岁及以上": "20"},
        ),
    )
    # ...while the accounts' next drop is fine and has nothing to do with it.
    landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    result = run_pipeline()
    failed = failed_checks(result)
    # only the audience suite failed the run's data...
    assert [
        (c.asset_key.to_user_string(), c.check_name)
        for c in result.get_asset_check_evaluations()
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ] == [("staging/stg_app_audience", "ge_audience_share_totals")], sorted(failed)
    # the figure and the limit, in a sentence
    assert "受众分布合计 120%，应在 99.5% 到 100.5% 之间" in (
        failed["ge_audience_share_totals"].description
    )
    # ...publication ran: the analysts' copy keeps the platform tables it had, which the failed
    # data reaches; the pipeline's own database holds the latest build, for the operator to
    # look into.
    assert PUBLICATION in materialized(result), [
        e.message for e in result.all_events if e.is_failure
    ]
    assert {t: published(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in held_back} == before
    assert query(warehouse, "SELECT count(*) FROM marts.platform_scores WHERE app = '抖音'") == [
        (1,)
    ]
    # The account marts, their scores and their publication went on.
    assert materialized(result) >= SCORES
    assert published(warehouse, "SELECT DISTINCT snapshot_date FROM marts.account_latest") == [
        (date(2025, 5, 1),)
    ]
    assert published(
        warehouse,
        "SELECT count(*) FROM marts.account_scores WHERE snapshot_date = DATE '2025-05-01'",
    ) == [(7,)]
    # A corrected delivery of the same buckets supersedes the bad one: the next run scores.
    landing.csv(
        "app_audience__douyin_fixed.csv",
        audience(
            "抖音",
            "2025-01",
            {"24岁以下": "40", "25-30岁": "25", "31-35岁": "20", "36岁及以上": "15"},
        ),
    )
    result = run_pipeline()
    assert result.success
    assert all(c.severity == dg.AssetCheckSeverity.WARN for c in failed_checks(result).values())
    assert published(
        warehouse, "SELECT count(*) FROM marts.platform_scores WHERE app = '抖音'"
    ) == [(1,)]


def test_each_suite_catches_its_defect_and_holds_back_only_what_reads_it(
    landing, sample_copy, warehouse
):
    """Two independent defects in one delivery, each caught by its own suite, each holding back
    only the scores that read its data."""
    held = {  # suite -> the table it holds back
        "ge_platform_audience_fit": "marts.platform_scores",
        "ge_account_performance": "marts.account_scores",
    }
    before = {t: published(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in held.values()}
    # 23.2亿 for 小红书's MAU: a 万 read as 亿 or a digit too many
    landing.csv(
        "app_activity__x.csv",
        [
            {
                "app": "小红书",
                "app_category": "content_platform",
                "month": "2025-04",
                "mau": "23.2亿",
                "source": "t",
            }
        ],
    )
    # 12.7万 -> 13: a 13万 whose 万 was lost
    landing.csv(
        "account_snapshots__x.csv",
        [
            snapshot_on("2025-05-01", name, followers)
            for name, followers in [
                ("中信银行信用卡", "13"),
                ("宁波银行信用卡", "4.7万"),
                ("招商银行信用卡申请", "4.3万"),
                ("平安银行信用卡中心", "3.6万"),
            ]
        ],
    )
    result = run_pipeline()
    failed = failed_checks(result)
    for check_name, table in held.items():
        assert check_name in failed, sorted(failed)
        assert failed[check_name].severity == dg.AssetCheckSeverity.ERROR
        assert failed[check_name].metadata["failed_errors"].value >= 1
        assert_links_its_section(warehouse, failed[check_name])
        # what depends on the failed data keeps its previous publication; the pipeline's own
        # database has the new build, for the operator to look into
        assert published(warehouse, f"SELECT * FROM {table} ORDER BY ALL") == before[table]
        assert query(warehouse, f"SELECT * FROM {table} ORDER BY ALL") != before[table]


def next_drop_with(account_name: str, followers: str) -> list[dict]:
    """NEXT_DROP (every account of the sample, two weeks on) with one account's followers."""
    return [
        row | {"followers": followers} if row["account_name"] == account_name else row
        for row in NEXT_DROP
    ]


ALERTS = (
    "SELECT account_name, snapshot_date, alert, verdict, previous_followers, followers"
    " FROM marts.account_alerts ORDER BY ALL"
)


def test_a_purge_of_followers_is_an_event_warned_alerted_and_scored(
    landing, sample_copy, warehouse
):
    """12.7万 -> 7.6万 in two weeks, a 40% drop: a platform purging fake followers does that. The
    run stays green with a warning, the drop is a row of account_alerts, and the account's
    snapshot is scored and published like any other. A whole run again on the same landing
    leaves every mart as it was, and does not warn again."""
    landing.csv("account_snapshots__2025-05-01.csv", next_drop_with("中信银行信用卡", "7.6万"))
    result = run_pipeline()
    assert result.success
    failed = failed_checks(result)
    # warnings only (the feed's freshness warns on any sample of 2025)
    assert all(c.severity == dg.AssetCheckSeverity.WARN for c in failed.values()), sorted(failed)
    check = failed["ge_account_performance"]
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["failed_errors"].value == 0
    assert "粉丝下降超过 30%（事件）" in check.description
    assert "account_name 中信银行信用卡" in check.description
    assert "previous_followers 127,000，followers 76,000" in check.description
    assert ACCOUNT_SCORES in materialized(result)  # what the drop reaches
    assert published(warehouse, ALERTS) == [
        ("中信银行信用卡", date(2025, 5, 1), "follower_drop", "event", 127_000, 76_000)
    ]
    [(reason, pct, pct_low, pct_high)] = published(
        warehouse,
        "SELECT reason, followers_change_pct, followers_change_pct_low, followers_change_pct_high"
        " FROM marts.account_alerts",
    )
    assert pct == pytest.approx((76_000 / 127_000 - 1) * 100)
    assert pct_low == pytest.approx((75_500 / 127_499 - 1) * 100)
    assert pct_high == pytest.approx((76_499 / 126_500 - 1) * 100)
    assert "fell 40.2%" in reason and "event" in reason
    assert published(
        warehouse,
        "SELECT count(*), count(*) FILTER (WHERE account_name = '中信银行信用卡')"
        " FROM marts.account_scores WHERE snapshot_date = DATE '2025-05-01'",
    ) == [(7, 1)]
    # and the report lists it, with the range the rounding allows and its source
    report = settings.report_path(warehouse.warehouse_dir).read_text(encoding="utf-8")
    alerts = report[report.index('<section id="alerts">') :]
    alerts = alerts[: alerts.index("</section>")]
    assert "中信银行信用卡" in alerts and "12.7万 → 7.6万" in alerts
    assert "-40.16%（-40.78%–-39.53%）" in alerts
    # Run again on the same landing, every model and check (a planned run would run none):
    # every mart is left as it was, and the analysts' copy holds every mart but the
    # confidential ones, withheld by default.
    marts = mart_tables(warehouse.database_path)
    again = run_pipeline(whole=True)
    assert again.success
    assert mart_tables(warehouse.database_path) == marts
    withheld = {name.split(".", 1)[1] for name in confidential_tables()}
    assert withheld and withheld <= marts.keys()
    assert mart_tables(warehouse.analytics_path) == {
        table: rows for table, rows in marts.items() if table not in withheld
    }
    # warned once: the run does not read the event's row again, nor warn about it again
    assert "ge_account_performance" in {c.check_name for c in again.get_asset_check_evaluations()}
    assert "ge_account_performance" not in failed_checks(again)
    assert published(warehouse, ALERTS) == [
        ("中信银行信用卡", date(2025, 5, 1), "follower_drop", "event", 127_000, 76_000)
    ]


def test_a_dropped_unit_is_a_data_error_that_holds_back_the_scores(landing, sample_copy, warehouse):
    """12.7万 -> 13 (a 13万 whose 万 was lost; "12.7" itself is not a whole count, and the
    contract quarantines it at ingest): no purge leaves 1 follower in 10,000. The suite fails
    with ERROR, the scores keep their last publication, and the pipeline's own database names
    the drop in account_alerts for the operator. The build is not recorded as complete, so the
    next run rebuilds and checks the account snapshots' models again."""
    scores_before = published(warehouse, "SELECT * FROM marts.account_scores ORDER BY ALL")
    build_before = BuildRecord.read(warehouse.warehouse_dir)
    landing.csv("account_snapshots__2025-05-01.csv", next_drop_with("中信银行信用卡", "13"))
    result = run_pipeline()
    check = failed_checks(result)["ge_account_performance"]
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["failed_errors"].value == 1
    assert published(warehouse, "SELECT * FROM marts.account_scores ORDER BY ALL") == scores_before
    assert query(warehouse, ALERTS) == [
        ("中信银行信用卡", date(2025, 5, 1), "follower_drop", "likely_data_error", 127_000, 13)
    ]
    assert published(warehouse, "SELECT count(*) FROM marts.account_alerts") == [(0,)]
    # held back, the feed stays stale for the next run
    assert BuildRecord.read(warehouse.warehouse_dir) == build_before
    assert staleness(warehouse.warehouse_dir).feeds == ("account_snapshots",)


def partial_dates(warehouse) -> dict:
    return dict(
        query(
            warehouse,
            "SELECT snapshot_date, bool_and(is_partial_date) FROM marts.account_performance"
            " GROUP BY ALL",
        )
    )


def test_a_truncated_feed_is_a_warning_that_marks_the_date_partial(landing, sample_copy, warehouse):
    """The next day's file holds one account of seven: the date's ranks are among one account.
    The feed check warns and the date is marked; nothing is held back, and scoring goes on.

    is_partial_date compares a date with the platform's previous date, so the incremental build
    recomputes a date when its own accounts or those of the date before it change: the rest of
    the day makes the date whole again, and an account found later on the date before makes it
    partial again. That account is one the registry does not name: kept, and reported."""
    landing.csv("account_snapshots__x.csv", [snapshot_on("2025-05-01", "宁波银行信用卡", "4.8万")])
    result = run_pipeline()
    assert result.success
    failed = failed_checks(result)
    # besides the raw feeds' freshness, which warns on any sample of 2025
    assert set(failed) - {"feed_freshness"} == {"ge_account_snapshot_feed"}, sorted(failed)
    feed = failed["ge_account_snapshot_feed"]
    assert feed.severity == dg.AssetCheckSeverity.WARN
    assert feed.metadata["failed_errors"].value == 0
    assert "最新快照日期覆盖的账号少于前一日期" in feed.description
    assert "snapshot_date 2025-05-01，accounts 1" in feed.description
    assert "previous_accounts 7" in feed.description
    assert ACCOUNT_SCORES in materialized(result)  # what the drop reaches
    assert query(
        warehouse,
        "SELECT snapshot_date, bool_and(is_partial_date), count(*), max(follower_rank)"
        " FROM marts.account_performance GROUP BY ALL ORDER BY ALL",
    )[-2:] == [(date(2025, 4, 17), False, 7, 7), (date(2025, 5, 1), True, 1, 1)]
    # and `make run` stays green with it: the new snapshot reaches the analysts' copy
    assert published(
        warehouse,
        "SELECT account_name, followers, is_partial_date FROM marts.account_performance"
        " WHERE snapshot_date = DATE '2025-05-01'",
    ) == [("宁波银行信用卡", 48000, True)]
    # a platform's first date has nothing to compare with; the dates before are whole
    partial = partial_dates(warehouse)
    assert partial.pop(date(2025, 5, 1)) is True
    assert partial and not any(partial.values())

    # The rest of the day arrives: the date is whole again.
    landing.csv(
        "account_snapshots__2025-05-01_rest.csv",
        [
            snapshot_on("2025-05-01", name, followers)
            for name, followers in [
                ("中信银行信用卡", "12.9万"),
                ("招商银行信用卡申请", "4.4万"),
                ("平安银行信用卡中心", "3.7万"),
                ("交通银行信用卡买单吧", "3.5万"),
                ("兴业银行信用卡", "3.0万"),
                ("北京银行信用卡", "1.3万"),
            ]
        ],
    )
    assert run_pipeline().success
    assert partial_dates(warehouse)[date(2025, 5, 1)] is False

    # An account found later on the date before, and only there: 2025-05-01 now covers fewer
    # accounts than 2025-04-17, although no delivery touched 2025-05-01 itself.
    landing.csv(
        "account_snapshots__2025-04-17_late.csv",
        [snapshot_on("2025-04-17", "上海银行信用卡", "2.1万")],
    )
    late = run_pipeline()
    assert late.success
    incremental = partial_dates(warehouse)
    assert incremental[date(2025, 4, 17)] is False and incremental[date(2025, 5, 1)] is True
    assert query(
        warehouse,
        "SELECT accounts, previous_accounts, is_partial FROM intermediate.int_snapshot_coverage"
        " WHERE snapshot_date = DATE '2025-05-01'",
    ) == [(7, 8, True)]
    # the registry does not name it: kept, without a bank, and reported
    assert query(
        warehouse,
        "SELECT bank, is_registered, followers, follower_tier FROM marts.account_performance"
        " WHERE account_name = '上海银行信用卡'",
    ) == [(None, False, 21000, "mid")]
    assert "relationships_account_performance_to_registry" in failed_checks(late)


def test_a_check_that_raises_is_reported_failed(tmp_path, landing, warehouse):
    suite = tmp_path / "broken.json"
    suite.write_text(
        json.dumps(
            {
                "name": "broken",
                "meta": {
                    "asset": "raw/accounts",
                    "query": "SELECT no_such_column FROM raw.accounts",
                },
                "expectations": [
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "bank"}}
                ],
            }
        )
    )
    landing.copy_sample()
    result = dg.materialize(
        [ingest_landing_files, _suite_check(suite)],
        resources={"warehouse": warehouse},
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "no_such_column" in evaluation.metadata["error"].value


def assert_links_its_section(warehouse, evaluation: dg.AssetCheckEvaluation) -> str:
    """The check links the suite's section of the quality page over http, and names its file;
    the page holds the section. Returns the page."""
    suite = evaluation.check_name.removeprefix("ge_")
    page = settings.quality_page_path(warehouse.warehouse_dir)
    assert evaluation.metadata["quality_page_path"].value == str(page)
    url = evaluation.metadata["quality_page"].value
    assert url == settings.report_url(page, warehouse.warehouse_dir, fragment=suite)
    assert url.startswith("http://127.0.0.1:")
    html = page.read_text(encoding="utf-8")
    assert f'<section id="{suite}">' in html
    return html


def test_every_check_passed_or_failed_has_its_section_of_the_quality_page(
    tmp_path, landing, warehouse
):
    def suite(name: str, *expectations: dict):
        path = tmp_path / f"{name}.json"
        meta = {"asset": "raw/accounts", "query": "SELECT * FROM raw.accounts"}
        path.write_text(json.dumps({"name": name, "meta": meta, "expectations": expectations}))
        return _suite_check(path)

    banks = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "bank"}}
    contract = {
        "type": "expect_table_columns_to_match_set",
        "kwargs": {"column_set": ["platform", "account_name", "issuer"], "exact_match": False},
    }
    landing.copy_sample()
    result = dg.materialize(
        [
            ingest_landing_files,
            suite("accounts_banks", banks),
            suite("accounts_contract", contract),
        ],
        resources={"warehouse": warehouse},
        raise_on_error=False,
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}

    passed = evaluations["ge_accounts_banks"]
    assert passed.passed
    [(accounts,)] = query(warehouse, "SELECT count(*) FROM raw.accounts")
    assert passed.metadata["rows_validated"].value == accounts > 0

    # The column set reads no values; the column the table lacks fails it all the same.
    failed = evaluations["ge_accounts_contract"]
    assert not failed.passed
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert '[{"missing": ["issuer"]}]' in failed.metadata["failed_expectations"].value
    assert failed.metadata["rows_validated"].value == accounts
    assert "缺少列 issuer" in failed.description

    for evaluation in (passed, failed):
        html = assert_links_its_section(warehouse, evaluation)
    sections = {
        name: html[html.index(f'<section id="{name}">') :].split("</section>")[0]
        for name in ("accounts_banks", "accounts_contract")
    }
    assert 'class="badge ok">通过<' in sections["accounts_banks"]
    assert f"{accounts:,} 行无空值" in sections["accounts_banks"]  # what the passed check saw
    assert 'class="badge bad">失败<' in sections["accounts_contract"]
    assert "缺少列 issuer" in sections["accounts_contract"]
    # every suite of the repository is on the page, run or not yet
    for path in settings.EXPECTATIONS_DIR.glob("*.json"):
        assert f'<section id="{path.stem}">' in html
    assert "http://" not in html and "https://" not in html  # opens offline


def test_a_raw_suite_checks_each_delivered_row_once_it_passes(tmp_path, landing, warehouse):
    """`new_rows_by: load_id`: after a clean pass, only rows delivered since; a failure is checked
    again in the next run; an edited suite checks every row again."""
    path = tmp_path / "accounts_names.json"

    def suite(*forbidden: str) -> dg.AssetChecksDefinition:
        meta = {
            "asset": "raw/accounts",
            "query": "SELECT * FROM raw.accounts",
            "new_rows_by": "load_id",
        }
        names = {
            "type": "expect_column_values_to_not_be_in_set",
            "kwargs": {"column": "account_name", "value_set": list(forbidden)},
        }
        suite = {"name": "accounts_names", "meta": meta, "expectations": [names]}
        path.write_text(json.dumps(suite))
        return _suite_check(path)

    def check(definition) -> dg.AssetCheckEvaluation:
        result = dg.materialize(
            [ingest_landing_files, definition],
            resources={"warehouse": warehouse},
            raise_on_error=False,
        )
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    def account(name: str) -> list[dict]:
        return [
            {
                "platform": "小红书",
                "account_name": name,
                "bank": "北京银行",
                "bank_type": "city_commercial",
                "account_role": "main",
            }
        ]

    landing.copy_sample()
    definition = suite("坏账户")
    first = check(definition)
    [(accounts,)] = query(warehouse, "SELECT count(*) FROM raw.accounts")
    assert first.passed and first.metadata["rows_validated"].value == accounts > 1
    assert first.metadata["rows_checked"].value.startswith("every row")

    landing.csv("accounts__new.csv", account("新账户"))
    second = check(definition)
    assert second.passed and second.metadata["rows_validated"].value == 1
    assert "above" in second.metadata["rows_checked"].value

    nothing_new = check(definition)  # no delivery: nothing to check, and the check still passes
    assert nothing_new.passed and nothing_new.metadata["rows_validated"].value == 0

    landing.csv("accounts__bad.csv", account("坏账户"))
    failed = check(definition)
    assert not failed.passed and failed.metadata["rows_validated"].value == 1
    # A failure records nothing: the next run checks the bad row again and fails again.
    landing.csv("accounts__later.csv", account("后来的账户"))
    again = check(definition)
    assert not again.passed and again.metadata["rows_validated"].value == 2

    # An edited suite has no pass on record: every row is checked against it.
    edited = check(suite("坏账户", "另一个"))
    assert edited.metadata["rows_validated"].value == accounts + 3
    assert query(
        warehouse,
        "SELECT suite, column_name, rows_checked FROM audit.quality_checked_through"
        " WHERE event = 'passed' ORDER BY event_id",
    ) == [("accounts_names", "load_id", accounts), ("accounts_names", "load_id", 1)]


def note_on(snapshot_date: str, account_name: str, note_id: str, likes: str, collects: str) -> dict:
    """A note of the sample's platform, published two days before its snapshot."""
    published = date.fromisoformat(snapshot_date).toordinal() - 2
    return {
        "platform": "小红书",
        "account_name": account_name,
        "note_id": note_id,
        "published_at": date.fromordinal(published).isoformat(),
        "snapshot_date": snapshot_date,
        "note_type": "图文",
        "likes": likes,
        "collects": collects,
        "comments": "10",
        "source": "test",
    }


NOTES_HELD = ["marts.account_scores", "marts.note_performance", "marts.account_content_mix"]


def test_notes_earning_more_than_their_account_hold_back_what_reads_the_notes(
    landing, sample_copy, warehouse
):
    before = {t: published(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in NOTES_HELD}
    # 宁波银行信用卡 has 3.9万 likes and 1.7万 collects on 04-17 (at most 39,499 + 17,499):
    # one note of 5万 + 1.7万 (at least 66,000) cannot be its.
    landing.csv(
        "notes__ningbo.csv", [note_on("2025-04-17", "宁波银行信用卡", "nb1", "5万", "1.7万")]
    )
    # the accounts' next drop has nothing to do with it
    landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    result = run_pipeline()
    failed = failed_checks(result)
    check = failed["ge_note_account_totals"]
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert "宁波银行信用卡 on 2025-04-17" in check.metadata["failed_expectations"].value
    assert_links_its_section(warehouse, check)
    # what reads the notes keeps its previous publication...
    for table in NOTES_HELD:
        assert published(warehouse, f"SELECT * FROM {table} ORDER BY ALL") == before[table], table
    assert query(
        warehouse, "SELECT count(*) FROM marts.note_performance WHERE note_id = 'nb1'"
    ) == [(1,)]
    # ...and nothing else: the accounts' new snapshots are published
    assert published(
        warehouse,
        "SELECT count(*) FROM marts.account_performance WHERE snapshot_date = DATE '2025-05-01'",
    ) == [(7,)]
    assert published(warehouse, "SELECT count(*) FROM marts.platform_scores") != [(0,)]


def test_a_note_whose_counts_fall_is_warned_and_published(landing, sample_copy, warehouse):
    # a sample note of 中信银行信用卡 with 300 likes fewer two weeks on
    [(note_id, published_at, likes, collects)] = query(
        warehouse,
        "SELECT note_id, published_at, likes, collects FROM marts.note_performance"
        " WHERE account_name = '中信银行信用卡' AND snapshot_date = DATE '2025-04-17'"
        " ORDER BY note_id LIMIT 1",
    )
    fallen = note_on("2025-05-01", "中信银行信用卡", note_id, str(likes - 300), str(collects))
    fallen["published_at"] = published_at.isoformat(sep=" ")
    landing.csv("notes__2025-05-01.csv", [fallen])
    landing.csv("account_snapshots__2025-05-01.csv", NEXT_DROP)
    result = run_pipeline()
    assert result.success
    failed = failed_checks(result)
    assert failed["ge_note_count_drops"].severity == dg.AssetCheckSeverity.WARN
    assert f"likes {likes} → {likes - 300}" in (
        failed["ge_note_count_drops"].metadata["failed_expectations"].value
    )
    assert "ge_note_account_totals" not in failed
    assert published(
        warehouse,
        "SELECT count(*) FROM marts.note_performance WHERE snapshot_date = DATE '2025-05-01'",
    ) == [(1,)]
    assert published(
        warehouse,
        "SELECT count(*) FROM marts.account_scores WHERE snapshot_date = DATE '2025-05-01'",
    ) == [(7,)]
