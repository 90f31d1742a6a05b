"""The SQL fast path of ingestion against the Python validator: the same rows loaded, the same
typed values, the same problems, whatever the text."""

import functools
import json
from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.contract.datasets import DATASETS, Kind
from orchestration.contract.parsing import MAX_COUNT
from orchestration.defs.ingest.bulk_validation import _typed_query, insert_validated
from orchestration.defs.ingest.load import ensure_schemas
from orchestration.defs.ingest.reading import PROBLEMS_TABLE, Stager
from orchestration.defs.ingest.validation import HeaderMap, Problem, raw_columns, validate_record

TODAY = date(2025, 4, 20)

# Texts of each kind: the common forms the SQL types itself, the unusual ones it must hand to
# Python, and near-misses of both, from an alphabet that makes them likely.
COUNT_EXAMPLES = [
    "0",
    "5207",
    "007",
    "12.7万",
    "3.4w",
    "2.32亿",
    "1.5k",
    "12.0",
    "12.5",
    "1.20000万",
    "1.23456万",
    "10万+",
    "10万以上",
    "12,700",
    "1,27",
    "１２，７００",
    "赞",
    "收藏",
    "-35",
    "N/A",
    "约3万",
    "十万",
    "12.7万万",
    ".5万",
    "5.",
    "999999999999999999",
    "9999999999999999999",
    # the largest count the contract accepts (parsing.MAX_COUNT), and just above it
    "1000000000000000",
    "1000000000000001",
    "1,000,000,000,000,000",
    "1,000,000,000,000,001",
    "10000000亿",
    "10000000.00000001亿",
    "100000000亿",
    "9223372036854775807",
    "123456789.12345678亿",
    "1 万",
    "12.7 万",
    "+5",
    "5e3",
]
PERCENT_EXAMPLES = [
    "44.74%",
    "44.74",
    "0",
    "100",
    "100.0%",
    "100.01",
    "-3%",
    "120%",
    "5.%",
    ".5",
    "４４．７４％",
    "44.74 %",
    "abc",
    "1e2",
    "nan",
]
DATE_EXAMPLES = [
    "2025-04-17",
    "2025/4/17",
    "2025年4月17日",
    "20250417",
    "2025-4-7",
    "2025.4.17",
    "2025-02-30",
    "2025-04-21",
    "2026-01-01",
    "0225-04-17",
    "2025-13-01",
    "2025/4-17",
    "2025-04-17T00:00:00",
    "2025年4月",
    "2025-04",
    "17/04/2025",
    "1899-12-31",
    "2025-04-17 ",
]
DATETIME_EXAMPLES = [
    "2025-04-10",
    "2025-04-10 18:30",
    "2025-04-10 18:30:05",
    "2025-04-10T18:30",
    "2025/4/10 18:30",
    "2025年4月10日 18:30",
    "2025-04-10 7:30",
    "2025-04-10 24:00",
    "2025-04-10 18:60",
    "2025-04-10 18:30:60",
    "2025-04-10 18:30Z",
    "2025-04-10 18:30:00.5",
    "2025-02-30 10:00",
    "2025-04-17 23:59",
    "2025-04-18",
    "2025-04-18 00:01",
    "2025-04-21 08:00",
    "1899-12-31 10:00",
    "18:30",
]
MONTH_EXAMPLES = [
    "2025-01",
    "2025/1",
    "2025年1月",
    "202501",
    "2025-01-01",
    "2025-01-15",
    "2025-13",
    "2025-05",
    "2025-04",
    "1899-12",
    "2025-1",
    "2025年13月",
    "2025.01",
]
CATEGORY_EXAMPLES = [
    "joint_stock",
    "Joint-Stock",
    "joint stock",
    "JOINT_STOCK",
    "state_owned",
    "other",
    "bank",
    "",
    "ｏｔｈｅｒ",
    "age",
    "Age",
    "city-tier",
    "content_platform",
    "image",
    "Video",
    "图文",
    "视频",
    "图 文",
    "直播",
]
TEXT_EXAMPLES = ["小红书", "招商银行信用卡", "a'b", "x"]
AMOUNT_EXAMPLES = [
    "5000",
    "0",
    "99.5",
    "99.50",
    "0.01",
    "0.001",
    "5,000",
    "5,000.50",
    "1.2万",
    "1.23456万",
    "1.234567万",
    "¥3000",
    "3000元",
    "１２００",
    "-5",
    "abc",
    "1000000000000",
    "1000000000000.01",
    "9999999999999",
    "10000000000000",
    "5.",
    ".5",
    "5e3",
]

ALPHABET = {
    Kind.COUNT: "0123456789.,万亿千wk+-以上赞 １２",
    Kind.PERCENT: "0123456789.%-+ ",
    Kind.DATE: "0123456789-/.年月日T: ",
    Kind.DATETIME: "0123456789-/.年月日T: ",
    Kind.MONTH: "0123456789-/.年月 ",
    Kind.CATEGORY: "abcdefghijklmnopqrstuvwxyz_- ",
    Kind.TEXT: "ab小红",
    Kind.AMOUNT: "0123456789.,万千元¥- １",
}
EXAMPLES = {
    Kind.COUNT: COUNT_EXAMPLES,
    Kind.PERCENT: PERCENT_EXAMPLES,
    Kind.DATE: DATE_EXAMPLES,
    Kind.DATETIME: DATETIME_EXAMPLES,
    Kind.MONTH: MONTH_EXAMPLES,
    Kind.CATEGORY: CATEGORY_EXAMPLES,
    Kind.TEXT: TEXT_EXAMPLES,
    Kind.AMOUNT: AMOUNT_EXAMPLES,
}


# Counts around the largest the contract accepts, as digits, in groups of three, or in 亿.
NEAR_MAX_COUNT = st.integers(MAX_COUNT - 10**8, MAX_COUNT + 10**8).flatmap(
    lambda n: st.sampled_from([str(n), f"{n:,}", f"{Decimal(n).scaleb(-8):f}亿"])
)


def value_of(kind: Kind):
    text = st.one_of(
        st.sampled_from(EXAMPLES[kind]),
        st.text(alphabet=ALPHABET[kind], min_size=1, max_size=12),
        *([NEAR_MAX_COUNT] if kind is Kind.COUNT else []),
    )
    # As the readers deliver them: trimmed, blank as None.
    return st.one_of(st.none(), text.map(lambda t: t.strip() or None))


def records_of(dataset_name: str, rows: list[dict]) -> tuple[list[str], list[tuple[int, list]]]:
    """A file's header and its (line, values) rows, as a reader stages them."""
    dataset = DATASETS[dataset_name]
    header = [c.name for c in dataset.columns] + ["note"]
    return header, [(n, [row.get(name) for name in header]) for n, row in enumerate(rows, 1)]


# A valid row per dataset in the common forms; the tests change some of its values.
VALID = {
    "app_activity": {
        "app": "小红书",
        "app_category": "content_platform",
        "month": "2025-01",
        "mau": "2.32亿",
        "source": "s",
    },
    "app_audience": {
        "app": "小红书",
        "month": "2025-01",
        "dimension": "age",
        "bucket": "25-30",
        "share_pct": "44.74%",
        "source": "s",
    },
    "account_snapshots": {
        "platform": "小红书",
        "account_name": "A",
        "snapshot_date": "2025-04-17",
        "followers": "12.7万",
        "notes": "180",
        "likes": "3.4w",
        "collects": "5207",
        "likes_and_collects": None,
        "comments": "12",
        "shares": None,
        "source": "s",
    },
    "accounts": {
        "platform": "小红书",
        "account_name": "A",
        "bank": "招商银行",
        "bank_type": "joint_stock",
        "account_role": "card_center",
    },
    # published on the snapshot date: a later publication (or snapshot_date examples before it)
    # exercises the contract's not_after rule on both paths
    "notes": {
        "platform": "小红书",
        "account_name": "A",
        "note_id": "64f0a1",
        "published_at": "2025-04-17 18:30",
        "snapshot_date": "2025-04-17",
        "title": "羊毛",
        "note_type": "图文",
        "series": None,
        "topics": "#信用卡#",
        "likes": "1.2万",
        "collects": "3400",
        "comments": "56",
        "shares": None,
        "source": "s",
    },
    # ends after TODAY: a campaign may still run (its dates may lie ahead); snapshot_date
    # examples before start_date exercise the not_after rule of start_date and end_date
    "campaigns": {
        "campaign_id": "c1",
        "platform": "小红书",
        "bank": "招商银行",
        "account_name": None,
        "name": "分享你的'618攻略'",
        "topic": "#分享你的618攻略#",
        "mechanic": "晒单",
        "offer": "笔笔返现",
        "private_channel": None,
        "app_channel": "掌上生活",
        "start_date": "2025-04-17",
        "end_date": "2025-04-30",
        "source": "s",
    },
    "topic_snapshots": {
        "platform": "小红书",
        "topic": "分享你的618攻略",
        "snapshot_date": "2025-04-17",
        "notes_count": "1.2万",
        "views": "3400万",
        "source": "s",
    },
    "creators": {
        "platform": "小红书",
        "creator_id": "5f1a",
        "creator_name": "卡神小王",
        "snapshot_date": "2025-04-17",
        "followers": "12.7万",
        "notes": "310",
        "likes_and_collects": "89万",
        "median_interactions": "1200",
        "vertical": "理财",
        "price_image": "8000",
        "price_video": "1.5万",
        "source": "s",
    },
    "creator_audience": {
        "platform": "小红书",
        "creator_id": "5f1a",
        "month": "2025-03",
        "dimension": "age",
        "bucket": "25-30",
        "share_pct": "31.5%",
        "source": "s",
    },
    # stages from impressions down; count examples above or below a neighbour exercise the
    # funnel rule on both paths
    "funnel_daily": {
        "date": "2025-04-17",
        "bank": "招商银行",
        "platform": "小红书",
        "channel": "私域社群",
        "campaign_id": None,
        "impressions": "12万",
        "clicks": "3400",
        "applications": "210",
        "approvals": "120",
        "activations": "95",
        "first_spend": "80",
        "spend_amount": "12345.60",
        "shares": "12",
        "source": "s",
    },
    "marketing_costs": {
        "date": "2025-04-17",
        "bank": "招商银行",
        "platform": "小红书",
        "channel": "platform_note",
        "campaign_id": "c1",
        "cost_type": "投放",
        "cost": "5000",
        "source": "s",
    },
    "collaborations": {
        "bank": "招商银行",
        "platform": "小红书",
        "creator_id": "5f1a",
        "note_id": None,
        "date": "2025-04-17",
        "campaign_id": "c1",
        "cost": "8000.00",
        "source": "s",
    },
}


def rows_of(dataset_name: str):
    """Valid rows with some values replaced by arbitrary ones of the column's kind."""
    dataset = DATASETS[dataset_name]
    changed = st.lists(st.sampled_from(dataset.columns), max_size=3, unique=True)
    changes = changed.flatmap(
        lambda columns: st.fixed_dictionaries({c.name: value_of(c.kind) for c in columns})
    )
    row = st.tuples(changes, st.sampled_from([None, "备注"])).map(
        lambda drawn: VALID[dataset_name] | drawn[0] | {"note": drawn[1]}
    )
    # A file of 1 to 60 rows, its size drawn first so that a failure shrinks towards one row. An
    # example's cost is its ~20 statements more than its rows (80 examples of 5 rows on average
    # took 2.8 times as long as 20 of 31), so a few long files check more rows for less.
    size = st.integers(1, 60)
    return size.flatmap(lambda n: st.lists(row, min_size=n, max_size=n))


def every_example(dataset_name: str) -> list[dict]:
    """The valid row with each column set to each example of its kind, one change a row."""
    dataset = DATASETS[dataset_name]
    return [
        VALID[dataset_name] | {column.name: text.strip() or None, "note": None}
        for column in dataset.columns
        for text in EXAMPLES[column.kind]
    ]


def python_outcome(dataset_name: str, records):
    dataset = DATASETS[dataset_name]
    names, rows = records
    header = HeaderMap.of(dataset, names)
    good, problems = {}, []
    for line_number, fields in rows:
        record = dict(zip(names, fields, strict=True))
        values, row_problems = validate_record(dataset, header, line_number, record, TODAY)
        if row_problems:
            problems += row_problems
        else:
            good[line_number] = values
    return good, problems


@functools.cache
def _database() -> duckdb.DuckDBPyConnection:
    """One in-memory database for this process's examples: creating the raw tables was half
    of each example's time (0.04 of 0.09 s) when the module ran ~1,400 of them."""
    conn = duckdb.connect()
    ensure_schemas(conn)
    return conn


def sql_outcome(dataset_name: str, records):
    dataset = DATASETS[dataset_name]
    conn = _database()
    conn.execute(f"DELETE FROM raw.{dataset.name}")  # the previous example's rows
    lineage = pa.table(
        {"load_id": [7], "file_name": ["f.csv"], "sha256": ["0" * 64], "delivered_at": [None]},
        schema=pa.schema(
            [
                ("load_id", pa.int64()),
                ("file_name", pa.string()),
                ("sha256", pa.string()),
                ("delivered_at", pa.timestamp("us")),
            ]
        ),
    )
    stager = Stager(conn, workdir=None)
    header, delivered = records
    try:
        stager.append_rows(dataset, 7, header, delivered)
        loaded = insert_validated(stager, dataset, lineage, TODAY)
        names = [name for name, _ in raw_columns(dataset)]
        rows = conn.execute(
            f"SELECT line_number, {', '.join(names)}, extra_columns, file_name"
            f" FROM raw.{dataset.name}"
        ).fetchall()
        assert loaded.get(7, 0) == len(rows)
        problems = [
            Problem(*row)
            for row in conn.execute(
                "SELECT line_number, column_name, raw_value, reason FROM"
                f" {PROBLEMS_TABLE} WHERE load_id = 7 ORDER BY seq"
            ).fetchall()
        ]
    finally:
        stager.clear()  # the staged rows, for the next example
    good = {}
    for line_number, *values, extra, file_name in rows:
        assert file_name == "f.csv"
        record = dict(zip(names, values, strict=True))
        good[line_number] = {name: value for name, value in record.items() if value is not None}
        note = delivered[line_number - 1][1][-1]
        assert json.loads(extra) == {"note": note}
    return good, problems


def without_nulls(good: dict) -> dict:
    return {
        line: {k: v for k, v in values.items() if v is not None} for line, values in good.items()
    }


def assert_agree(dataset_name: str, rows: list[dict]) -> None:
    records = records_of(dataset_name, rows)
    python_good, python_problems = python_outcome(dataset_name, records)
    sql_good, sql_problems = sql_outcome(dataset_name, records)
    assert sql_good == without_nulls(python_good)
    order = lambda p: (p.line_number, p.column_name or "")  # noqa: E731
    assert sorted(sql_problems, key=order) == sorted(python_problems, key=order)


@pytest.mark.parametrize("dataset_name", list(DATASETS))
def test_sql_and_python_agree_on_every_example(dataset_name):
    rows = every_example(dataset_name)
    assert_agree(dataset_name, rows)


@pytest.mark.parametrize("dataset_name", list(DATASETS))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sql_and_python_agree(dataset_name, data):
    assert_agree(dataset_name, data.draw(rows_of(dataset_name)))


def test_common_forms_are_typed_in_sql_and_exactly():
    """The fast path really is taken (no row goes to Python) for the common forms, and gives
    the parser's exact values."""
    rows = [
        {
            "platform": "小红书",
            "account_name": "A",
            "snapshot_date": d,
            "followers": f,
            "notes": "180",
            "likes_and_collects": lc,
            "source": "s",
        }
        for d, f, lc in [
            ("2025-04-17", "12.7万", "2.32亿"),
            ("2025/4/17", "3.4w", "5207"),
            ("2025年4月17日", "1.5k", "1.20000万"),
        ]
    ]
    header, delivered = records_of("account_snapshots", rows)
    dataset = DATASETS["account_snapshots"]
    conn = duckdb.connect()
    stager = Stager(conn, workdir=None)
    stager.append_rows(dataset, 1, header, delivered)
    typed = conn.execute(
        "SELECT followers, followers_step, likes_and_collects, likes_and_collects_step,"
        f" snapshot_date, ok FROM ({_typed_query(dataset, TODAY, stager.table(dataset))})"
        " ORDER BY line_number"
    ).fetchall()
    assert typed == [
        (127000, 1000, 232000000, 1000000, date(2025, 4, 17), True),
        (34000, 1000, 5207, 1, date(2025, 4, 17), True),
        (1500, 100, 12000, 1, date(2025, 4, 17), True),  # 1.20000万: exact
    ]


def test_counts_above_the_range_go_to_python_which_refuses_them():
    """The SQL never loads a count above `MAX_COUNT`, whatever its form: the row is Python's,
    and its reason names the range."""
    rows = [
        VALID["account_snapshots"] | {"followers": text, "note": None}
        for text in ("1000000000000000", "1000000000000001", "10000000亿", "10000000.1亿")
    ]
    good, problems = sql_outcome("account_snapshots", records_of("account_snapshots", rows))
    assert {line: values["followers"] for line, values in good.items()} == {
        1: MAX_COUNT,
        3: MAX_COUNT,
    }
    assert [(p.line_number, p.column_name) for p in problems] == [
        (2, "followers"),
        (4, "followers"),
    ]
    assert all("larger than any count cardreach can sum" in p.reason for p in problems)
