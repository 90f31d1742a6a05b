"""Ingestion into raw/audit: formats, encodings, bad rows and files, re-delivery, the archive."""

import hashlib
import json
import os
import re
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
import pytest
from conftest import SAMPLE_LANDING, materialize_ingest, query

from orchestration import settings
from orchestration.contract import datasets
from orchestration.contract.datasets import CATEGORY_CODES_SEED, Kind, read_category_codes
from orchestration.definitions import defs
from orchestration.warehouse import Warehouse

HEADER = ["platform", "account_name", "snapshot_date", "followers", "notes", "likes", "collects"]


def snapshot(account="中信银行信用卡", day="2025-04-17", followers="12.7万", **more):
    row = {
        "platform": "小红书",
        "account_name": account,
        "snapshot_date": day,
        "followers": followers,
        "notes": "357",
        "likes": "17.8万",
        "collects": "12.7万",
        "source": "test",
    }
    return row | more


def file_log(warehouse):
    return {
        name: (status, loaded, quarantined)
        for name, status, loaded, quarantined in query(
            warehouse,
            "SELECT file_name, status, rows_loaded, rows_quarantined FROM audit.file_log",
        )
    }


def quarantine(warehouse):
    return query(
        warehouse,
        "SELECT file_name, line_number, column_name, raw_value, reason FROM audit.quarantine"
        " ORDER BY file_name, line_number, column_name",
    )


def test_sample_landing_loads_everything_and_a_rerun_changes_nothing(landing, warehouse):
    landing.copy_sample()
    first = materialize_ingest(warehouse)
    assert first.success
    statuses = file_log(warehouse)
    delivered = sorted(path for path in SAMPLE_LANDING.iterdir() if path.is_file())
    assert len(statuses) == len(delivered)
    assert all(status == "loaded" and q == 0 for status, _, q in statuses.values())
    # every row of every sample file, counted from the files: a CSV's lines but its header, a
    # JSON Lines file's lines (the sample has no quoted line break nor blank line)
    rows: Counter = Counter()
    for path in delivered:
        lines = path.read_bytes().splitlines()
        rows[path.name.split("__")[0].removesuffix(".csv")] += len(lines) - (path.suffix == ".csv")
    counts = {t: query(warehouse, f"SELECT count(*) FROM raw.{t}")[0][0] for t in rows}
    assert counts == dict(rows)
    assert counts["notes"] == 44 and counts["accounts"] == 13
    zhongxin = query(
        warehouse,
        "SELECT followers, followers_raw, followers_step, collects, likes"
        " FROM raw.account_snapshots WHERE account_name = '中信银行信用卡'",
    )
    assert zhongxin == [(127000, "12.7万", 1000, 127000, 178000)]
    # The GB18030 file with Chinese headers came through with its text intact.
    assert query(
        warehouse,
        "SELECT share_pct FROM raw.app_audience WHERE app = '小红书' AND bucket = '24岁以下'",
    ) == [(44.74,)]
    assert query(
        warehouse,
        "SELECT mau FROM raw.app_activity WHERE month = DATE '2025-01-01' AND app = '小红书'",
    ) == [(232000000,)]

    before = {t: query(warehouse, f"SELECT * FROM raw.{t} ORDER BY ALL") for t in counts}
    second = materialize_ingest(warehouse)
    assert second.success
    assert {t: query(warehouse, f"SELECT * FROM raw.{t} ORDER BY ALL") for t in counts} == before
    assert query(warehouse, "SELECT count(*) FROM audit.file_log")[0][0] == len(delivered)
    metadata = second.asset_materializations_for_node("ingest_landing_files")
    by_key = {m.asset_key.to_user_string(): m.metadata for m in metadata}
    assert by_key["audit/file_log"]["files_unchanged"].value == len(delivered)
    assert by_key["raw/account_snapshots"]["dagster/row_count"].value == rows["account_snapshots"]
    assert by_key["raw/account_snapshots"]["rows_loaded"].value == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_and_chinese_headers(landing, warehouse, encoding):
    landing.csv(
        "accounts__registry.csv",
        [
            ["平台", "账号", "银行", "银行类型", "账号类型"],
            ["小红书", "宁波银行信用卡", "宁波银行", "city_commercial", "card_center"],
        ],
        encoding=encoding,
    )
    assert materialize_ingest(warehouse).success
    assert query(warehouse, "SELECT account_name, bank, bank_type FROM raw.accounts") == [
        ("宁波银行信用卡", "宁波银行", "city_commercial")
    ]
    assert query(warehouse, "SELECT encoding FROM audit.file_log") == [
        ({"utf-8-sig": "utf-8-sig", "utf-8": "utf-8"}.get(encoding, "gb18030"),)
    ]


def test_jsonl_and_parquet_with_combined_likes_and_collects(landing, warehouse):
    landing.jsonl(
        "account_snapshots__a.jsonl",
        [
            {
                "平台": "小红书",
                "账号": "招商银行信用卡申请",
                "日期": "2024年12月31日",
                "粉丝数": "4.2万",
                "笔记数": 180,
                "获赞与收藏": "26万",
                "来源": "test",
            },
        ],
    )
    landing.parquet(
        "account_snapshots__b.parquet",
        [
            {
                "platform": "小红书",
                "account_name": "北京银行信用卡",
                "snapshot_date": "2025/4/17",
                "followers": 12000.0,
                "notes": 337,
                "likes": "1.1万",
                "collects": 5207,
                "source": "test",
            },
        ],
    )
    assert materialize_ingest(warehouse).success
    rows = query(
        warehouse,
        "SELECT account_name, snapshot_date, followers, notes, likes, collects, likes_and_collects,"
        " likes_and_collects_step FROM raw.account_snapshots ORDER BY account_name",
    )
    assert rows == [
        ("北京银行信用卡", date(2025, 4, 17), 12000, 337, 11000, 5207, None, None),
        ("招商银行信用卡申请", date(2024, 12, 31), 42000, 180, None, None, 260000, 10000),
    ]


def test_bad_rows_are_quarantined_with_reasons_and_good_rows_load(landing, warehouse):
    tomorrow = (settings.today() + timedelta(days=1)).isoformat()
    landing.csv(
        "account_snapshots__mixed.csv",
        [
            snapshot(),  # line 1: good
            snapshot(followers="abc"),  # 2: not a number
            snapshot(followers=""),  # 3: missing required
            snapshot(notes="-5"),  # 4: negative
            snapshot(day=tomorrow),  # 5: future date
            snapshot(account="宁波银行信用卡", followers="4.7万"),  # 6: good
            snapshot(likes="", collects=""),  # 7: neither likes+collects nor the combined figure
        ],
    )
    landing.csv(
        "app_audience__bad.csv",
        [
            {
                "app": "小红书",
                "month": "2025-01",
                "dimension": "age",
                "bucket": "24岁以下",
                "share_pct": "120",
                "source": "t",
            },
            {
                "app": "小红书",
                "month": "2025-01",
                "dimension": "income",
                "bucket": "高",
                "share_pct": "10",
                "source": "t",
            },
        ],
    )
    assert materialize_ingest(warehouse).success
    assert file_log(warehouse) == {
        "account_snapshots__mixed.csv": ("partially_loaded", 2, 5),
        "app_audience__bad.csv": ("quarantined", 0, 2),
    }
    problems = quarantine(warehouse)
    by_line = {(f, line): (col, raw, reason) for f, line, col, raw, reason in problems}
    snapshots = "account_snapshots__mixed.csv"
    assert by_line[(snapshots, 2)][:2] == ("followers", "abc")
    assert "'abc' is not a count" in by_line[(snapshots, 2)][2]
    assert by_line[(snapshots, 3)] == (
        "followers",
        None,
        "missing required value for followers [粉丝数]",
    )
    assert (
        by_line[(snapshots, 4)][:2] == ("notes", "-5") and "negative" in by_line[(snapshots, 4)][2]
    )
    assert by_line[(snapshots, 5)][0] == "snapshot_date" and "future" in by_line[(snapshots, 5)][2]
    assert by_line[(snapshots, 7)][0] is None and "likes+collects" in by_line[(snapshots, 7)][2]
    audience = "app_audience__bad.csv"
    assert by_line[(audience, 1)][:2] == ("share_pct", "120")
    assert "outside 0–100" in by_line[(audience, 1)][2]
    assert by_line[(audience, 2)][:2] == ("dimension", "income")
    assert "use one of age, gender" in by_line[(audience, 2)][2]
    assert query(
        warehouse,
        "SELECT line_number, account_name FROM raw.account_snapshots ORDER BY line_number",
    ) == [(1, "中信银行信用卡"), (6, "宁波银行信用卡")]
    # Every quarantine row names the file's content hash.
    digest = hashlib.sha256((landing.path / snapshots).read_bytes()).hexdigest()
    assert {
        s
        for (s,) in query(
            warehouse,
            "SELECT DISTINCT sha256 FROM audit.quarantine WHERE file_name = ?",
            [snapshots],
        )
    } == {digest}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("prices__2025.csv", b"a,b\n1,2\n", "unknown dataset 'prices'"),
        ("accounts.csv", "platform,bank\n小红书,中信银行\n".encode(), "missing required column"),
        ("accounts.parquet", b"this is not parquet", "not a readable Parquet file"),
        ("accounts.csv", b"\x00\x01\x02binary", "binary data"),
        ("accounts.csv", b"", "the file is empty"),
        ("accounts.jsonl", b"not json\nalso not\n", "not JSON Lines"),
        ("accounts.xlsx", b"PK\x03\x04", "unsupported file type '.xlsx'"),
    ],
)
def test_unreadable_files_are_quarantined_whole_and_archived(
    landing, warehouse, name, content, reason
):
    landing.raw(name, content)
    assert materialize_ingest(warehouse).success
    [(file_name, status, loaded, message, archive_path)] = query(
        warehouse,
        "SELECT file_name, status, rows_loaded, message, archive_path FROM audit.file_log",
    )
    assert (file_name, status, loaded) == (name, "quarantined", 0)
    assert reason in message
    [(line_number, problem)] = query(warehouse, "SELECT line_number, reason FROM audit.quarantine")
    assert line_number is None and reason in problem
    assert (warehouse.warehouse_dir / archive_path).read_bytes() == content


def test_redelivery_duplicate_and_supersession_keep_everything(landing, warehouse):
    first = landing.csv("account_snapshots__0417.csv", [snapshot()])
    assert materialize_ingest(warehouse).success
    # The same bytes under another name: logged as a duplicate, nothing loaded twice.
    landing.raw("account_snapshots__0417_copy.csv", first.read_bytes())
    # The same name with corrected content: a new delivery that supersedes downstream.
    landing.csv("account_snapshots__0417.csv", [snapshot(followers="12.8万")])
    assert materialize_ingest(warehouse).success
    log = query(warehouse, "SELECT load_id, file_name, status FROM audit.file_log ORDER BY load_id")
    assert log == [
        (1, "account_snapshots__0417.csv", "loaded"),
        (2, "account_snapshots__0417_copy.csv", "duplicate"),
        (3, "account_snapshots__0417.csv", "loaded"),
    ]
    assert query(warehouse, "SELECT load_id, followers FROM raw.account_snapshots ORDER BY 1") == [
        (1, 127000),
        (3, 128000),
    ]
    # Every version ever delivered is in the archive, by content.
    archived = {p.name.split(".")[0] for p in warehouse.archive_dir.rglob("*.csv")}
    assert len(archived) == 2
    for sha, path in query(warehouse, "SELECT sha256, archive_path FROM audit.file_log"):
        assert hashlib.sha256((warehouse.warehouse_dir / path).read_bytes()).hexdigest() == sha


def test_unknown_columns_are_kept_in_raw(landing, warehouse):
    landing.csv(
        "accounts.csv",
        [
            {
                "platform": "小红书",
                "account_name": "兴业银行信用卡",
                "bank": "兴业银行",
                "bank_type": "joint_stock",
                "备注": "官方",
            }
        ],
    )
    assert materialize_ingest(warehouse).success
    [(extra,)] = query(warehouse, "SELECT extra_columns FROM raw.accounts")
    assert json.loads(extra) == {"备注": "官方"}


def test_messy_folder_every_row_loaded_or_quarantined(landing, warehouse):
    rows = [snapshot(followers=v) for v in ("1万", "12,700", "１２万", "10万+", "n/a", "", "3.4w")]
    landing.csv("account_snapshots__messy.csv", rows, encoding="gb18030")
    landing.raw("account_snapshots__broken.csv", b"platform,account_name\n\x00\x00")
    landing.jsonl("accounts.jsonl", [{"platform": "小红书"}])  # header lacks required columns
    result = materialize_ingest(warehouse)
    assert result.success
    [(loaded, rejected)] = query(
        warehouse,
        "SELECT sum(rows_loaded), sum(rows_quarantined) FROM audit.file_log"
        " WHERE file_name = 'account_snapshots__messy.csv'",
    )
    assert (loaded, rejected) == (5, 2)
    assert loaded + rejected == len(rows)
    assert query(
        warehouse,
        "SELECT followers, followers_censored FROM raw.account_snapshots ORDER BY line_number",
    ) == [(10000, False), (12700, False), (120000, False), (100000, True), (34000, False)]
    assert len(list(warehouse.archive_dir.glob("*/*"))) == 3  # by sha256, beside the ledger
    assert {s for (s,) in query(warehouse, "SELECT status FROM audit.file_log")} == {
        "partially_loaded",
        "quarantined",
    }


def test_missing_landing_folder_fails_with_a_clear_error(tmp_path, warehouse):
    missing = Warehouse(landing=str(tmp_path / "nowhere"), warehouse=warehouse.warehouse)
    assert "does not exist" in materialize_ingest_raising(missing)


def materialize_ingest_raising(warehouse) -> str:
    from orchestration.defs.ingest.assets import ingest_landing_files

    with pytest.raises(dg.Failure) as failure:
        dg.materialize([ingest_landing_files], resources={"warehouse": warehouse})
    return str(failure.value)


def test_definitions_load_with_every_ingest_asset():
    definitions = defs()
    keys = {k.to_user_string() for k in definitions.resolve_all_asset_keys()}
    assert {
        "raw/app_activity",
        "raw/app_audience",
        "raw/account_snapshots",
        "raw/accounts",
        "audit/file_log",
        "audit/quarantine",
    } <= keys
    assert definitions.resolve_job_def("cardreach_daily") is not None


def test_a_file_still_being_written_is_left_for_the_next_run(landing, warehouse):
    landing.csv(
        "accounts.csv",
        [
            {
                "platform": "小红书",
                "account_name": "兴业银行信用卡",
                "bank": "兴业银行",
                "bank_type": "joint_stock",
            }
        ],
    )
    fresh = landing.path / "account_snapshots__now.csv"
    fresh.write_text(
        "platform,account_name,snapshot_date,followers,notes,likes_and_collects,source\n"
        "小红书,兴业银行信用卡,2025-04-17,2.9万,115",
        encoding="utf-8",
    )  # half written
    result = materialize_ingest(warehouse)
    [file_log] = [
        m
        for m in result.asset_materializations_for_node("ingest_landing_files")
        if m.asset_key.to_user_string() == "audit/file_log"
    ]
    assert file_log.metadata["files_still_being_written"].value == 1
    assert query(warehouse, "SELECT file_name FROM audit.file_log") == [("accounts.csv",)]
    # Once written and settled it is ingested, whole.
    fresh.write_text(fresh.read_text(encoding="utf-8") + ",4.5万,test\n", encoding="utf-8")
    settled = time.time() - 60
    os.utime(fresh, (settled, settled))
    assert materialize_ingest(warehouse).success
    assert query(warehouse, "SELECT followers, likes_and_collects FROM raw.account_snapshots") == [
        (29000, 45000)
    ]


def test_an_unchanged_file_is_not_read_again(landing, warehouse, monkeypatch):
    landing.copy_sample()
    assert materialize_ingest(warehouse).success
    import orchestration.defs.ingest.landing

    def fail(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(orchestration.defs.ingest.landing, "file_sha256", fail)
    assert materialize_ingest(warehouse).success  # every file known by name, size and mtime


def test_the_contract_reads_its_category_codes_from_the_seed(landing, warehouse, tmp_path):
    """One definition of each code list: the dbt seed category_codes. The contract holds exactly
    its codes, and a code the seed does not list is quarantined, naming the codes it does."""
    seed = read_category_codes(CATEGORY_CODES_SEED)
    columns = {
        "app_category": datasets.APP_ACTIVITY.column("app_category"),
        "audience_dimension": datasets.APP_AUDIENCE.column("dimension"),
        "bank_type": datasets.ACCOUNTS.column("bank_type"),
        "account_role": datasets.ACCOUNTS.column("account_role"),
        "note_type": datasets.NOTES.column("note_type"),
        "campaign_mechanic": datasets.CAMPAIGNS.column("mechanic"),
        "funnel_channel": datasets.FUNNEL_DAILY.column("channel"),
        "cost_type": datasets.MARKETING_COSTS.column("cost_type"),
    }
    # every list the contract reads, and two whose labels only the report reads
    assert set(seed) == set(columns) | {"score_component", "target_segment"}
    assert datasets.MARKETING_COSTS.column("channel") == columns["funnel_channel"]
    for category, column in columns.items():
        assert column.kind == Kind.CATEGORY
        assert column.allowed == seed[category], category
    # note types as the platform shows them, from the seed's labels
    assert dict(datasets.NOTES.column("note_type").labels) == {"图文": "image", "视频": "video"}
    assert dict(columns["campaign_mechanic"].labels)["晒单"] == "ugc_post"
    # Codes as ingestion stores them (lower case, '_' between words), so a seed code always matches.
    assert all(re.fullmatch("[a-z_]+", code) for codes in seed.values() for code in codes)

    # Another seed file is read the same way: a code added there is a code the contract accepts.
    edited = tmp_path / "category_codes.csv"
    edited.write_text(
        CATEGORY_CODES_SEED.read_text(encoding="utf-8")
        + "bank_type,private,民营银行,A private bank.\n",
        encoding="utf-8",
    )
    assert read_category_codes(edited)["bank_type"] == (*seed["bank_type"], "private")

    landing.csv(
        "accounts.csv",
        [
            {"platform": "小红书", "account_name": name, "bank": "某银行", "bank_type": bank_type}
            for name, bank_type in [("甲", "Joint-Stock"), ("乙", "private")]
        ],
    )
    materialize_ingest(warehouse)
    assert query(warehouse, "SELECT account_name, bank_type FROM raw.accounts") == [
        ("甲", "joint_stock")
    ]
    [(reason,)] = query(warehouse, "SELECT reason FROM audit.quarantine")
    assert "'private' is not a known bank_type" in reason
    assert ", ".join(seed["bank_type"]) in reason


def test_a_campaign_delivery_with_bad_dates_and_an_unknown_mechanic_quarantines_those_rows(
    landing, warehouse
):
    """The contract owns a campaign's values: a window ending before it starts, a date that is
    not a date and a mechanic the seed does not list are quarantined with a reason each; the
    good rows load, a campaign may still be running (its end ahead of today) and a mechanic may
    be delivered as its Chinese label. Money is read exactly, to the fen."""
    ahead = (settings.today() + timedelta(days=30)).isoformat()

    def campaign(campaign_id, **more):
        row = {
            "活动ID": campaign_id,
            "平台": "小红书",
            "银行": "招商银行",
            "活动名称": "分享你的'618攻略'",
            "话题": "#分享你的618攻略#",
            "活动形式": "晒单",
            "开始日期": "2024-06-01",
            "结束日期": "2024-06-18",
            "来源": "test",
        }
        return row | more

    landing.csv(
        "campaigns__2024.csv",
        [
            campaign("ok"),
            campaign("running", 开始日期="2025-01-01", 结束日期=ahead, 活动形式="giveaway"),
            campaign("backwards", 开始日期="2024-06-18", 结束日期="2024-06-01"),
            campaign("not_a_date", 结束日期="2024-06-31"),
            campaign("unknown_mechanic", 活动形式="直播"),
        ],
    )
    landing.csv(
        "collaborations__2024.csv",
        [
            {"银行": "招商银行", "平台": "小红书", "博主ID": "a", "日期": "2024-06-05", "费用": f}
            | {"笔记ID": n, "来源": "test"}
            for n, f in [("n1", "1.2万"), ("n2", "¥3,000.50"), ("n3", ""), ("n4", "-500")]
        ],
    )
    assert materialize_ingest(warehouse).success
    assert query(
        warehouse, "SELECT campaign_id, mechanic, end_date FROM raw.campaigns ORDER BY 1"
    ) == [
        ("ok", "ugc_post", date(2024, 6, 18)),
        ("running", "giveaway", date.fromisoformat(ahead)),
    ]
    reasons = {(line, column): reason for _, line, column, _, reason in quarantine(warehouse)}
    assert set(reasons) == {(3, "start_date"), (4, "end_date"), (5, "mechanic"), (4, "cost")}
    assert "a campaign ends on or after the day it starts" in reasons[(3, "start_date")]
    assert "not a valid date" in reasons[(4, "end_date")]
    assert "'直播' is not a known mechanic" in reasons[(5, "mechanic")]
    assert "晒单" in reasons[(5, "mechanic")]  # the labels it could have used
    assert "negative" in reasons[(4, "cost")]
    assert query(
        warehouse, "SELECT note_id, cost, cost_raw FROM raw.collaborations ORDER BY note_id"
    ) == [
        ("n1", Decimal("12000.00"), "1.2万"),
        ("n2", Decimal("3000.50"), "¥3,000.50"),
        ("n3", None, None),
    ]
