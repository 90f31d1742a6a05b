"""The bank's own funnel at ingest: stages in order, and a file with personal data refused whole,
nothing of it in the database, purged from the archive on request."""

import json

import pytest
from conftest import materialize_ingest, query

from orchestration import cli
from orchestration.defs.ingest.load import LEDGER_NAME
from orchestration.defs.ingest.personal_data import header_says, looks_like

PHONES = ["13812345678", "+86 139-0000-1234", "15900001111"]


def funnel_row(day="2024-06-05", **more) -> dict:
    row = {
        "日期": day,
        "银行": "招商银行",
        "平台": "小红书",
        "渠道": "私域社群",
        "活动ID": "CMB-XHS-2024-09",
        "曝光": "12万",
        "点击": "3400",
        "申请": "210",
        "核卡": "120",
        "激活": "95",
        "首刷": "80",
        "消费金额": "1.2万",
        "来源": "test",
    }
    return row | more


def everything_stored(warehouse) -> str:
    """Every text the database holds about deliveries, to look for what must not be there."""
    rows = query(warehouse, "SELECT * FROM audit.quarantine") + query(
        warehouse, "SELECT * FROM audit.file_log"
    )
    rows += query(warehouse, "SELECT * FROM raw.funnel_daily")
    return json.dumps(rows, default=str, ensure_ascii=False)


def test_a_stage_above_the_one_before_is_quarantined_naming_both(landing, warehouse):
    landing.csv(
        "funnel_daily__2024-06.csv",
        [
            funnel_row(),
            funnel_row("2024-06-06", 核卡="230"),  # more approvals than applications
            funnel_row("2024-06-07", 曝光="", 点击="", 首刷="96"),  # first spend above activations
            funnel_row("2024-06-08", 曝光="", 点击=""),  # impressions and clicks are optional
        ],
    )
    assert materialize_ingest(warehouse).success
    assert query(warehouse, "SELECT date::VARCHAR, spend_amount FROM raw.funnel_daily") == [
        ("2024-06-05", 12000),
        ("2024-06-08", 12000),
    ]
    problems = query(
        warehouse, "SELECT line_number, column_name, reason FROM audit.quarantine ORDER BY 1"
    )
    assert [(line, column) for line, column, _ in problems] == [
        (2, "approvals"),
        (3, "first_spend"),
    ]
    assert "approvals 230 is more than applications 210" in problems[0][2]
    assert "first_spend 96 is more than activations 95" in problems[1][2]


@pytest.mark.parametrize(
    ("extra", "values", "said"),
    [
        ("手机号", PHONES, "column '手机号' is named for phone numbers"),
        ("备注", PHONES, "column '备注' holds 3 values that look like mobile phone numbers"),
        ("客户姓名", ["张三", "李四", "王五"], "column '客户姓名' is named for names"),
        (
            "note",
            ["11010519491231002X", "", ""],  # the standard's example ID number, valid check digit
            "column 'note' holds 1 values that look like ID card numbers (lines 1)",
        ),
    ],
)
def test_a_file_with_personal_data_is_refused_whole_and_none_of_it_is_kept(
    landing, warehouse, extra, values, said
):
    delivered = landing.csv(
        "funnel_daily__customers.csv",
        [funnel_row(f"2024-06-0{n + 1}") | {extra: value} for n, value in enumerate(values)],
    )
    landing.csv("funnel_daily__2024-06.csv", [funnel_row("2024-06-20")])  # a clean delivery
    assert materialize_ingest(warehouse).success
    (status, message, archived), *_ = query(
        warehouse,
        "SELECT status, message, archive_path FROM audit.file_log WHERE file_name = ?",
        [delivered.name],
    )
    assert status == "quarantined"
    assert said in message and "aggregated" in message and "cardreach purge" in message
    assert query(warehouse, "SELECT count(*) FROM raw.funnel_daily") == [(1,)]  # the clean one
    assert query(
        warehouse,
        "SELECT line_number, column_name, raw_value FROM audit.quarantine",
    ) == [(None, None, None)]
    stored = everything_stored(warehouse)
    for value in values:
        if value:
            assert value not in stored
    # the archive keeps it, like every delivery, until an operator purges it
    archive = warehouse.archive_dir
    assert (archive.parent / archived).exists()
    sha256 = query(
        warehouse, "SELECT sha256 FROM audit.file_log WHERE file_name = ?", [delivered.name]
    )[0][0]
    assert cli.main(["purge", sha256]) == 0
    assert not (archive.parent / archived).exists()
    assert sha256 not in (archive / LEDGER_NAME).read_text(encoding="utf-8")
    ((message, archive_path),) = query(
        warehouse,
        "SELECT message, archive_path FROM audit.file_log WHERE sha256 = ?",
        [sha256],
    )
    assert "purged from the archive" in message and archive_path is None
    assert "look like" not in message  # the refusal's text is replaced, whatever it quoted
    # a loaded file is never purged: the archive is what rebuilds its rows
    loaded = query(warehouse, "SELECT sha256 FROM audit.file_log WHERE status = 'loaded'")[0][0]
    assert cli.main(["purge", loaded]) == 1
    # the refused file, still in the landing folder, is not taken in again
    assert materialize_ingest(warehouse).success
    assert query(warehouse, "SELECT count(*) FROM audit.file_log") == [(2,)]


def test_figures_of_an_aggregated_funnel_never_look_like_personal_data():
    figures = ["120000", "3400", "12345.60", "1.2万", "私域社群", "CMB-XHS-2024-09", "2024-06-05"]
    for value in figures:
        assert looks_like(value) is None
    assert looks_like("12345678901") is None  # 11 digits, but not a mobile number's
    assert looks_like("110105194912310021") is None  # an ID card's shape, a wrong check digit
    assert looks_like("4111111111111111") == "bank card numbers"  # valid Luhn sum
    assert looks_like("4111111111111112") is None
    assert looks_like("138****5678") == "mobile phone numbers"
    assert looks_like("someone@bank.com") == "e-mail addresses"
    assert header_says("Phone Number") == "phone numbers"
    assert header_says("客户手机号") == "phone numbers"
    assert header_says("applications") is None and header_says("source") is None
    # figures named after a channel or a kind of thing, not personal data
    for name in [
        "手机银行申请",
        "电话销售",
        "mobile_banking",
        "卡号段",
        "地址类型",
        "address_book",
    ]:
        assert header_says(name) is None, name


def test_long_ids_that_pass_a_checksum_by_chance_are_not_personal_data(landing, warehouse):
    """Ad-plan ids of 16 to 19 digits pass a Luhn sum 1 time in 10: a few in a column are ids,
    not card numbers (those count when they are at least half of a column's values)."""
    plans = [str(4_000_000_000_000_000 + n) for n in range(10)]  # 16 digits
    passing = [plan for plan in plans if looks_like(plan) == "bank card numbers"]
    assert 0 < len(passing) < len(plans) / 2
    landing.csv(
        "funnel_daily__plans.csv",
        [funnel_row(f"2024-06-{n + 1:02d}") | {"plan_id": plan} for n, plan in enumerate(plans)],
    )
    assert materialize_ingest(warehouse).success
    assert query(warehouse, "SELECT count(*) FROM raw.funnel_daily") == [(len(plans),)]


def test_a_file_without_its_header_row_is_refused_without_repeating_its_first_line(
    landing, warehouse
):
    landing.raw(
        "funnel_daily__no_header.csv",
        "2024-06-05,张三,13812345678,110101199003074514\n2024-06-06,李四,13900001111,x\n".encode(),
    )
    assert materialize_ingest(warehouse).success
    stored = everything_stored(warehouse)
    assert "is the header row missing?" in stored
    for value in ("张三", "13812345678", "110101199003074514"):
        assert value not in stored
