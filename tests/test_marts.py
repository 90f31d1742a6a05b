"""The marts on the shipped sample and on small landing folders: real ingestion and dbt builds.

A date marked partial over successive deliveries, and an account the registry does not name:
tests/test_quality_gate.py, with the truncated feed that begins it."""

import csv
import re
import shutil
from datetime import date

import duckdb
import pytest
import yaml
from conftest import cardreach_dbt, query, run_pipeline

from orchestration import settings
from orchestration.contract.datasets import CATEGORY_CODES
from orchestration.dbt import _relation, prepared_manifest


def test_platform_audience_fit_answers_the_reports_figures(sample_run):
    [row] = query(
        sample_run,
        "SELECT mau, share_under_35_pct, share_mid_plus_consumption_pct, mau_mom_pct, mau_yoy_pct,"
        " mau_vs_card_industry FROM marts.platform_audience_fit"
        " WHERE app = '小红书' AND month = DATE '2025-01-01'",
    )
    mau, under_35, mid_plus, mom, yoy, vs_industry = row
    assert mau == 232_000_000
    assert under_35 == pytest.approx(86.80, abs=0.005)
    assert mid_plus == pytest.approx(81.32, abs=0.005)
    assert mom == pytest.approx(8.65, abs=0.01)
    assert yoy == pytest.approx(9.88, abs=0.01)
    assert vs_industry == pytest.approx(2.32 / 1.18, rel=1e-6)  # illustrative 2025-01 industry MAU


def test_the_target_share_is_a_percent_with_the_bounds_that_need_no_assumption(sample_run):
    [row] = query(
        sample_run,
        "SELECT target_share_pct, target_share_min_pct, target_share_max_pct, est_target_reach,"
        " est_target_reach_min, est_target_reach_max, target_share_assumption,"
        " target_includes_minors FROM marts.platform_audience_fit"
        " WHERE app = '小红书' AND month = DATE '2025-01-01'",
    )
    share, low, high, reach, reach_low, reach_high, assumption, minors = row
    # 86.80% under 35 and 81.32% middle-or-higher consumers, delivered one dimension at a time.
    # The point estimate assumes them independent: 86.80 × 81.32 / 100, a percent.
    assert share == pytest.approx(86.80 * 81.32 / 100, abs=1e-6)  # 70.58…
    # Fréchet bounds, true whatever the joint distribution: 86.80 + 81.32 − 100 and the smaller.
    assert low == pytest.approx(68.12, abs=1e-6)
    assert high == pytest.approx(81.32, abs=1e-6)
    assert reach == round(232_000_000 * 86.80 * 81.32 / 100 / 100)
    assert (reach_low, reach_high) == (158_038_400, 188_662_400)
    assert "independence" in assumption and "age × consumption" in assumption
    # 24岁以下 is counted in the segment and includes people under 18
    assert minors is True
    # the 0–1 product that read like an index is gone
    assert not query(
        sample_run,
        "SELECT 1 FROM duckdb_columns() WHERE table_name = 'platform_audience_fit'"
        " AND column_name = 'target_fit_index'",
    )


def test_growth_is_null_where_the_earlier_month_is_missing(sample_run):
    rows = dict(
        query(
            sample_run,
            "SELECT month, mau_mom_pct FROM marts.platform_audience_fit WHERE app = '小红书'",
        )
    )
    assert rows[date(2024, 1, 1)] is None  # no 2023-12 in the sample: never extrapolated
    assert rows[date(2025, 2, 1)] == pytest.approx((2.28 / 2.32 - 1) * 100)


def test_account_latest_ranks_the_seven_accounts_over_ten_thousand(sample_run):
    rows = query(
        sample_run,
        "SELECT account_name, followers, bank, bank_type FROM marts.account_latest"
        " WHERE platform = '小红书' AND followers >= 10000 ORDER BY followers DESC",
    )
    assert len(rows) == 7
    assert rows[0] == ("中信银行信用卡", 127000, "中信银行", "joint_stock")


def test_account_performance_growth_over_uneven_gaps(sample_run):
    rows = query(
        sample_run,
        "SELECT snapshot_date, followers, days_since_previous, followers_change,"
        " follower_growth_weekly_pct, followers_change_within_rounding"
        " FROM marts.account_performance WHERE account_name = '招商银行信用卡申请'"
        " ORDER BY snapshot_date",
    )
    # the report's figures, between the sample's weekly illustrative snapshots of 2024
    *_, before_year_end, year_end, latest = rows
    assert before_year_end[0] == date(2024, 12, 29)
    assert year_end[:4] == (
        date(2024, 12, 31),
        42000,
        2,
        42000 - before_year_end[1],
    )
    assert latest[:4] == (date(2025, 4, 17), 43000, 107, 1000)  # 107 days: an uneven gap
    assert latest[4] == pytest.approx(((43000 / 42000) ** (7 / 107) - 1) * 100)
    # 4.2万 -> 4.3万: one displayed step, but a true change of 1 to 1,999
    # (tests/test_account_figures.py)
    assert latest[5] is False
    assert rows[0][2:4] == (None, None)  # the first snapshot has nothing before it


def test_audience_profile_tgi_against_the_named_baseline(sample_run):
    rows = {
        bucket: (share, base, tgi, baseline)
        for bucket, share, base, tgi, baseline in query(
            sample_run,
            "SELECT bucket, share_pct, baseline_share_pct, tgi, baseline"
            " FROM marts.audience_profile WHERE app = '小红书' AND month = DATE '2025-01-01'"
            " AND dimension = 'age'",
        )
    }
    share, base, tgi, baseline = rows["24岁以下"]
    assert (share, base) == (pytest.approx(44.74), pytest.approx(30.10))
    assert tgi == pytest.approx(44.74 / 30.10 * 100)
    assert baseline == "card_app_industry"


def performance_rows_checked(result) -> int:
    """Rows the account_performance suite read in this run (it reads rows new since it passed)."""
    [evaluation] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "ge_account_performance"
    ]
    assert evaluation.passed
    return evaluation.metadata["rows_validated"].value


def test_incremental_builds_touch_only_affected_dates_and_equal_a_full_refresh(
    sample_pipeline, landing, sample_copy, warehouse
):
    """A next day's drop rebuilds only its date; a later delivery of an old date supersedes the
    earlier one in the marts (both stay in raw); the incremental result equals a full refresh."""
    _, first = sample_pipeline  # the first run, on the sample: this test goes on from its copy
    [(mart_rows,)] = query(warehouse, "SELECT count(*) FROM marts.account_performance")
    assert performance_rows_checked(first) == mart_rows
    [(first_build,)] = query(
        warehouse, "SELECT max(refreshed_through_load_id) FROM marts.account_performance"
    )
    drop = [
        {
            "platform": "小红书",
            "account_name": name,
            "snapshot_date": "2025-05-01",
            "followers": followers,
            "notes": "400",
            "likes": "5万",
            "collects": "2万",
            "source": "t",
        }
        for name, followers in [
            ("中信银行信用卡", "12.9万"),
            ("宁波银行信用卡", "4.8万"),
            ("招商银行信用卡申请", "4.4万"),
            ("平安银行信用卡中心", "3.7万"),
            ("交通银行信用卡买单吧", "3.5万"),
            ("兴业银行信用卡", "3.0万"),
            ("北京银行信用卡", "1.3万"),
        ]
    ]
    landing.csv("account_snapshots__2025-05-01.csv", drop)
    second = run_pipeline()
    assert second.success
    # the quality gate read the rewritten rows only: the new date's
    assert performance_rows_checked(second) == len(drop)
    rewritten = dict(
        query(
            warehouse,
            "SELECT snapshot_date, max(refreshed_through_load_id) > ? FROM"
            " marts.account_performance GROUP BY ALL",
            [first_build],
        )
    )
    # Only the new date was recomputed: the history kept the first build's rows.
    assert rewritten.pop(date(2025, 5, 1)) is True
    assert rewritten and not any(rewritten.values())
    # A correction of an old date (a later delivery of a date already delivered), and a registry
    # change, then the incremental result must equal a full rebuild.
    landing.csv(
        "account_snapshots__fix.csv",
        [drop[1] | {"snapshot_date": "2025-04-17", "followers": "4.6万"}],
    )
    landing.csv(
        "accounts__update.csv",
        [
            {
                "platform": "小红书",
                "account_name": "北京银行信用卡",
                "bank": "北京银行",
                "bank_type": "city_commercial",
                "account_role": "main",
            }
        ],
    )
    assert run_pipeline().success
    # the snapshot tables' stamps: staging rewrote the corrected row under the newest, the
    # intermediate table every snapshot of the account from its date on; every key still once
    corrected, next_day = date(2025, 4, 17), date(2025, 5, 1)
    for relation, stamp, rewritten in (
        ("staging.stg_account_snapshots", "staged_through_load_id", {corrected}),
        (
            "intermediate.int_account_snapshot_changes",
            "refreshed_through_load_id",
            {corrected, next_day},
        ),
    ):
        newest = query(
            warehouse,
            f"SELECT snapshot_date, {stamp} = (SELECT max({stamp}) FROM {relation}) FROM"
            f" {relation} WHERE account_name = '宁波银行信用卡' AND snapshot_date >= ?",
            [corrected],
        )
        assert sorted(newest) == [(d, d in rewritten) for d in (corrected, next_day)], relation
        assert query(
            warehouse,
            f"SELECT count(*) FROM (SELECT platform, account_name, snapshot_date FROM {relation}"
            " GROUP BY ALL HAVING count(*) > 1)",
        ) == [(0,)], relation
    columns = {
        "account_performance": "* EXCLUDE (refreshed_through_load_id)",
        "account_scores": "* EXCLUDE (refreshed_through_load_id, notes_through_load_id)",
    }
    incremental = {
        t: query(warehouse, f"SELECT {c} FROM marts.{t} ORDER BY ALL") for t, c in columns.items()
    }
    assert query(
        warehouse,
        "SELECT followers, account_role FROM marts.account_performance"
        " WHERE account_name = '宁波银行信用卡' AND snapshot_date = '2025-04-17'"
        " UNION ALL SELECT followers, account_role FROM marts.account_performance"
        " WHERE account_name = '北京银行信用卡' AND snapshot_date = '2025-05-01'",
    ) == [(46000, "card_center"), (13000, "main")]
    # the later delivery supersedes in the marts, and both stay in raw
    assert query(
        warehouse,
        "SELECT source FROM marts.account_performance"
        " WHERE account_name = '宁波银行信用卡' AND snapshot_date = '2025-04-17'",
    ) == [("t",)]
    assert query(
        warehouse,
        "SELECT count(*) FROM raw.account_snapshots"
        " WHERE account_name = '宁波银行信用卡' AND snapshot_date = '2025-04-17'",
    ) == [(2,)]
    refreshed = run_pipeline(full_refresh=True)
    assert refreshed.success
    # a full refresh rewrites every row under the same stamp: the gate reads them all again
    assert performance_rows_checked(refreshed) == mart_rows + len(drop)
    assert {
        t: query(warehouse, f"SELECT {c} FROM marts.{t} ORDER BY ALL") for t, c in columns.items()
    } == incremental


# The columns CONTRACT.md promises analysts: fixed by the models' code, so checked here (a change
# of code) rather than by a data check on every run.
PROMISED_COLUMNS = {
    "platform_audience_fit": {
        "app",
        "app_category",
        "month",
        "mau",
        "mau_mom_pct",
        "mau_yoy_pct",
        "share_under_35_pct",
        "share_mid_plus_consumption_pct",
        "target_share_pct",
        "target_share_min_pct",
        "target_share_max_pct",
        "est_target_reach",
    },
    "audience_profile": {
        "app",
        "month",
        "dimension",
        "bucket",
        "share_pct",
        "baseline_share_pct",
        "tgi",
    },
    "account_performance": {
        "platform",
        "account_name",
        "bank",
        "bank_type",
        "snapshot_date",
        "followers",
        "notes",
        "likes",
        "collects",
        "likes_and_collects",
        "likes_and_collects_per_note",
        "likes_and_collects_per_follower",
        "collects_per_like",
        "followers_change",
        "followers_change_pct",
        "days_since_previous",
        "follower_tier",
        "follower_rank",
        "is_partial_date",
    },
}


@pytest.mark.parametrize("mart", sorted(PROMISED_COLUMNS))
def test_the_marts_have_the_columns_the_contract_promises(sample_run, mart):
    columns = {
        name
        for (name,) in query(
            sample_run,
            "SELECT column_name FROM duckdb_columns()"
            " WHERE schema_name = 'marts' AND table_name = ?",
            [mart],
        )
    }
    assert PROMISED_COLUMNS[mart] <= columns, PROMISED_COLUMNS[mart] - columns


def test_every_column_analysts_query_has_its_comment(sample_run):
    """dbt persists each column's description as a comment, which DBeaver and `DESCRIBE` show:
    a column without one reaches analysts unexplained, in the pipeline's database and the copy."""
    sql = (
        "SELECT table_name, column_name FROM duckdb_columns()"
        " WHERE schema_name = 'marts' AND (comment IS NULL OR comment = '') ORDER BY ALL"
    )
    assert query(sample_run, sql) == []
    analytics = settings.analytics_database(sample_run.warehouse_dir)
    with duckdb.connect(str(analytics), read_only=True) as conn:
        assert conn.execute(sql).fetchall() == []


def dbt_tests_in_ymls():
    """(yml file, test name, its arguments) of every generic test the dbt ymls declare."""
    for path in sorted(settings.DBT_PROJECT_DIR.glob("[ms]*/**/*.yml")):
        for resources in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).values():
            for resource in resources if isinstance(resources, list) else []:
                declared = list(resource.get("data_tests") or [])
                for column in resource.get("columns") or []:
                    declared += column.get("data_tests") or []
                for test in declared:  # a name, or {name: {arguments: ..., config: ...}}
                    if isinstance(test, str):
                        test = {test: {}}
                    [(name, config)] = test.items()
                    yield path.name, name, (config or {}).get("arguments", {})


def test_no_dbt_test_restates_a_contract_code_list_or_the_share_totals():
    """The code lists live in seeds/category_codes.csv, read by the contract, which quarantines any
    other code; "shares sum to 100" is the audience_share_totals suite's alone."""
    codes = {code for values in CATEGORY_CODES.values() for code in values}
    tests = list(dbt_tests_in_ymls())
    assert any(name == "accepted_values" for _, name, _ in tests)  # the walk finds them
    for yml, name, arguments in tests:
        if name == "accepted_values":
            assert not codes & set(map(str, arguments.get("values", []))), yml
        assert name != "shares_sum_to_100", yml


def test_a_seed_that_gains_a_column_loads_into_an_existing_warehouse(
    sample_run, tmp_path, monkeypatch
):
    """Seeds are rebuilt whole (dbt_project.yml): a warehouse whose reference table predates a
    seed's new columns (audience_buckets before its active periods' hours) takes the new seed,
    where dbt's default (empty the table, load the file into it) fails on the columns."""
    from orchestration import cli

    folder = tmp_path / "warehouse"
    folder.mkdir()
    shutil.copy(sample_run.database_path, folder / sample_run.database_path.name)
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(folder))
    with duckdb.connect(str(folder / sample_run.database_path.name)) as conn:
        conn.execute("ALTER TABLE reference.audience_buckets DROP COLUMN hour_start")
        conn.execute("ALTER TABLE reference.audience_buckets DROP COLUMN hour_end")
    assert cli.dbt(["seed", "--select", "audience_buckets"]) == 0
    seed = settings.DBT_PROJECT_DIR / "seeds" / "audience_buckets.csv"
    with seed.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with duckdb.connect(str(folder / sample_run.database_path.name), read_only=True) as conn:
        assert conn.execute(
            "SELECT count(*), count(hour_start) FROM reference.audience_buckets"
        ).fetchall() == [(len(rows), sum(1 for r in rows if r["hour_start"]))]


def test_the_models_unit_tests_pass(sample_copy):
    """dbt's unit tests (the models' SQL on fixed inputs, in the models' ymls) run here and in
    `make dbt ARGS=build`, not in the daily run: every one of them, through the operator's
    command, on a built warehouse (dbt reads the inputs' columns from it)."""
    declared = len(prepared_manifest()["unit_tests"])
    assert declared >= 20  # the manifest lists them
    done = cardreach_dbt(sample_copy.warehouse_dir, "test", "--select", "test_type:unit")
    assert done.returncode == 0, done.stdout[-4000:]
    # one `N of M PASS` line per unit test (dbt's PASS= total counts the on-run-start hook too)
    assert len(re.findall(r" of \d+ PASS ", done.stdout)) == declared, done.stdout[-2000:]


def test_a_models_required_columns_fail_together_naming_each_column_and_its_nulls(sample_copy):
    """not_null_columns (tests/generic): one query per model, one failing row per column that
    holds nulls, with how many."""
    with sample_copy.connect() as conn:
        conn.execute(
            "UPDATE marts.note_performance SET platform = NULL"
            " WHERE rowid IN (SELECT rowid FROM marts.note_performance LIMIT 2)"
        )
        conn.execute(
            "UPDATE marts.note_performance SET note_id = NULL"
            " WHERE rowid IN (SELECT rowid FROM marts.note_performance LIMIT 1 OFFSET 5)"
        )
    done = cardreach_dbt(
        sample_copy.warehouse_dir,
        "test",
        "--store-failures",
        "--select",
        "note_performance_not_null",
    )
    assert done.returncode == 1 and "Got 2 results" in done.stdout, done.stdout[-2000:]
    assert sorted(
        query(sample_copy, "SELECT * FROM dbt_test__audit.note_performance_not_null")
    ) == [("note_id", 1), ("platform", 2)]


# The incremental account-snapshot tables and the column stamping each row with its build.
STAMPED_GRAINS = {
    "staging.stg_account_snapshots": "staged_through_load_id",
    "intermediate.int_account_snapshot_changes": "refreshed_through_load_id",
}


def test_the_grain_test_of_a_stamped_table_reads_the_latest_build_only(sample_copy):
    """unique_combination with latest_build_column (tests/generic): delete+insert on the key
    leaves only the latest build's rows able to repeat a key, so the test groups those, not
    the history (about 1.5 s of a daily run's dbt at the benchmark's default size). One dbt run
    shows both sides: a repeat in the latest build is caught (staging), a repeat in an older
    build is left to the build that wrote it (intermediate)."""
    manifest = prepared_manifest()
    grain_tests = {  # by the relation each tests
        _relation(manifest["nodes"][node["attached_node"]]): node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("test_metadata", {}).get("name") == "unique_combination"
    }
    for relation, stamp in STAMPED_GRAINS.items():
        assert grain_tests[relation]["test_metadata"]["kwargs"]["latest_build_column"] == stamp
    staging, intermediate = STAMPED_GRAINS
    stamp = STAMPED_GRAINS[intermediate]
    with sample_copy.connect() as conn:
        conn.execute(f"INSERT INTO {staging} SELECT * FROM {staging} LIMIT 1")
        conn.execute(f"INSERT INTO {intermediate} SELECT * FROM {intermediate} LIMIT 1")
        # a later build wrote one row, of a new key
        conn.execute(
            f"INSERT INTO {intermediate} SELECT * REPLACE ({stamp} + 1 AS {stamp},"
            f" snapshot_date + 1000 AS snapshot_date) FROM {intermediate} LIMIT 1"
        )
    names = [grain_tests[relation]["name"] for relation in STAMPED_GRAINS]
    done = cardreach_dbt(sample_copy.warehouse_dir, "test", "--select", *names)
    assert done.returncode == 1, done.stdout[-2000:]
    assert re.search(rf"FAIL 1 {names[0]} ", done.stdout), done.stdout[-2000:]
    assert re.search(rf"PASS {names[1]} ", done.stdout), done.stdout[-2000:]
