"""Presence against the market (bank_presence) and comparable latest figures (account_latest),
on real pipeline runs of the shipped sample and of small landing folders."""

from datetime import date

import duckdb
import pytest
from conftest import Landing, copy_sample_run, point_settings_at, query, run_pipeline, snapshot_on

from orchestration.contract.datasets import BANK_TYPES

# The report's sentence: four of the six large state banks (中行, 工行, 交行, 农行), joint-stock
# banks among them 中信, 平安, 招行, 浦发 (兴业 in the table), three city banks, one rural bank.
STATE_BANKS = ", ".join(sorted(["中国银行", "中国工商银行", "交通银行", "中国农业银行"]))
JOINT_STOCK_BANKS = ", ".join(
    sorted(["中信银行", "平安银行", "招商银行", "上海浦东发展银行", "兴业银行"])
)


def presence(warehouse) -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in query(
            warehouse,
            "SELECT bank_type, banks_with_account, banks_in_market, accounts,"
            " accounts_with_snapshot, accounts_over_10k, accounts_over_100k,"
            " banks_with_account_names, market_source"
            " FROM marts.bank_presence WHERE platform = '小红书'",
        )
    }


def test_four_of_the_six_state_owned_banks_have_an_account(sample_run):
    assert query(
        sample_run,
        "SELECT banks_with_account, banks_in_market FROM marts.bank_presence"
        " WHERE platform = '小红书' AND bank_type = 'state_owned'",
    ) == [(4, 6)]
    rows = presence(sample_run)
    # 交行 alone has figures; 中行, 工行, 农行 are named by the report without any
    assert rows["state_owned"][2:7] == (4, 1, 1, 0, STATE_BANKS)
    assert "国有大型商业银行" in rows["state_owned"][7]
    # 5 of the report's 8 joint-stock banks: it names only these, the sample invents no others
    assert rows["joint_stock"][:2] == (5, 12)
    assert rows["joint_stock"][6] == JOINT_STOCK_BANKS
    assert rows["joint_stock"][3:6] == (4, 4, 1)  # 浦发 has no figures; only 中信 over 10万
    assert rows["city_commercial"][:2] == (3, 125)
    assert rows["rural_commercial"][:4] == (1, 1607, 1, 0)
    [(presence_pct,)] = query(
        sample_run,
        "SELECT presence_pct FROM marts.bank_presence"
        " WHERE platform = '小红书' AND bank_type = 'state_owned'",
    )
    assert presence_pct == pytest.approx(4 / 6 * 100)


def test_a_bank_type_without_an_account_shows_zero(sample_run):
    rows = presence(sample_run)
    assert set(rows) == set(BANK_TYPES)  # every type of category_codes, none more
    banks, market, accounts, with_snapshot, over_10k, over_100k, names, source = rows["other"]
    assert (banks, accounts, with_snapshot, over_10k, over_100k, names) == (0, 0, 0, 0, 0, None)
    assert market is None and source  # no published count, and the seed says why


def test_accounts_named_without_figures_are_registered_but_never_scored(sample_run):
    named = dict(
        query(
            sample_run,
            "SELECT account_name, source FROM staging.stg_accounts"
            " WHERE source LIKE 'illustrative%' ORDER BY account_name",
        )
    )
    assert len(named) == 6 and "顺德农商银行信用卡" in named
    for table in ("account_performance", "account_latest", "account_scores"):
        assert query(
            sample_run,
            f"SELECT count(*) FROM marts.{table} WHERE account_name IN"
            f" ({', '.join('?' * len(named))})",
            list(named),
        ) == [(0,)], table
    # the scores' peers are the registered accounts with a snapshot: still the report's 7
    assert query(
        sample_run,
        "SELECT count(*) FROM marts.account_scores WHERE snapshot_date = DATE '2025-04-17'",
    ) == [(7,)]


@pytest.fixture(scope="module")
def registry_additions(sample_warehouse, tmp_path_factory):
    """One daily run on a copy of the sample for the module's registry tests, which only read its
    outcome (each such run costs ~10 s): the registry names 工商银行信用卡小助手 and 广发银行信用卡,
    抖音's MAU is delivered, and 广发's only snapshot, of 2024-12-31."""
    root = tmp_path_factory.mktemp("registry_additions")
    landing = Landing(root / "landing")
    copy_sample_run(sample_warehouse, landing, root / "warehouse")
    landing.csv(
        "accounts__more.csv",
        [
            {
                "platform": "小红书",
                "account_name": "工商银行信用卡小助手",
                "bank": "工商银行",
                "bank_type": "state_owned",
            }
        ],
    )
    # a content platform with MAU but no registered account yet
    landing.csv(
        "app_activity__抖音.csv",
        [
            {
                "app": "抖音",
                "app_category": "content_platform",
                "month": "2025-01",
                "mau": "7.5亿",
                "source": "illustrative",
            }
        ],
    )
    landing.csv(
        "accounts__广发.csv",
        [
            {
                "platform": "小红书",
                "account_name": "广发银行信用卡",
                "bank": "广发银行",
                "bank_type": "joint_stock",
            }
        ],
    )
    landing.csv(
        "account_snapshots__2024-12-31.csv", [snapshot_on("2024-12-31", "广发银行信用卡", "20万")]
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        warehouse = point_settings_at(monkeypatch, landing, root / "warehouse")
        result = run_pipeline()
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return warehouse, result


@pytest.mark.xdist_group("registry_additions")  # one worker pays for the run
def test_a_misspelt_state_bank_is_reported_and_still_built(registry_additions):
    """工商银行 is 中国工商银行 under another name: counted by name it would be a seventh state
    bank. The registry's warning names it, bank_presence counts it once and names it apart; the
    marts are built all the same. A platform with no registered account shows 0."""
    warehouse, result = registry_additions
    [warning] = [
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "assert_registry_banks_match_the_banks_seed"
    ]
    assert not warning.passed and warning.severity.value == "WARN"
    # counted once, not as a seventh state bank: the unknown spelling is named instead
    assert query(
        warehouse,
        "SELECT banks_with_account, banks_unmatched FROM marts.bank_presence"
        " WHERE platform = '小红书' AND bank_type = 'state_owned'",
    ) == [(4, "工商银行")]
    # every platform has its rows, 0 where no bank has an account: "0 of the 6 on 抖音"
    assert query(
        warehouse,
        "SELECT banks_with_account, banks_in_market, accounts FROM marts.bank_presence"
        " WHERE platform = '抖音' AND bank_type = 'state_owned'",
    ) == [(0, 6, 0)]


def test_the_sample_registry_matches_the_banks_seed(sample_run):
    unknown = query(
        sample_run,
        "SELECT bank, bank_type FROM staging.stg_accounts"
        " ANTI JOIN reference.banks USING (bank, bank_type)",
    )
    assert unknown == []


@pytest.mark.xdist_group("registry_additions")
def test_latest_snapshots_of_different_dates_are_not_ranked_against_each_other(
    registry_additions,
):
    """广发's only snapshot is of 2024-12-31, with more followers than 中信 on 2025-04-17: it
    keeps its rank among that date's accounts (with 招行), and says it is not of the latest date."""
    warehouse, _ = registry_additions
    rows = {
        row[0]: row[1:]
        for row in query(
            warehouse,
            "SELECT account_name, snapshot_date, follower_rank, accounts_on_date,"
            " followers_share_pct, platform_latest_date, is_on_platform_latest_date"
            " FROM marts.account_latest WHERE platform = '小红书'",
        )
    }
    latest = date(2025, 4, 17)
    share = 200000 / (200000 + 42000) * 100  # among the accounts of 2024-12-31: 招行 and 广发
    assert rows["广发银行信用卡"] == (date(2024, 12, 31), 1, 2, share, latest, False)
    assert rows["中信银行信用卡"][:4] == (latest, 1, 7, 127000 / 328000 * 100)
    assert rows["中信银行信用卡"][4:] == (latest, True)
    # account_performance's rank and share on the row's own date, and no second set beside them
    assert query(
        warehouse,
        "SELECT count(*) FROM marts.account_latest JOIN marts.account_performance"
        " USING (platform, account_name, snapshot_date)"
        " WHERE account_latest.follower_rank = account_performance.follower_rank"
        " AND account_latest.followers_share_pct = account_performance.followers_share_pct",
    ) == [(8,)]
    with duckdb.connect(str(warehouse.database_path), read_only=True) as conn:
        columns = {
            c
            for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = 'marts' AND table_name = 'account_latest'"
            ).fetchall()
        }
    assert not {c for c in columns if c.startswith("latest_")}
