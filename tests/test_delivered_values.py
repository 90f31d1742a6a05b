"""Every value the contract accepts reaches the marts unchanged, and nothing else does: decoding
that never guesses an encoding wrong, counts in the range the marts can sum, Parquet's numeric
types, JSON Lines records that hold any character."""

import json
import random
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import materialize_ingest, query, run_pipeline

from orchestration.contract.datasets import DATASETS
from orchestration.contract.parsing import MAX_COUNT
from orchestration.defs.ingest.encoding import decode_text
from orchestration.defs.ingest.landing import UnreadableFile

SOURCE = next(c for c in DATASETS["account_snapshots"].columns if c.name == "source")
CUT_SHORT = "the file ends in the middle of a character: it was cut short; deliver it again"
SNAPSHOT_HEADER = "platform,account_name,snapshot_date,followers,notes,likes,collects,source\n"


def snapshot_line(platform: str, account: str, followers: str = "12.7万") -> str:
    return f"{platform},{account},2025-04-17,{followers},357,17.8万,12.7万,test\n"


def file_log(warehouse) -> dict[str, tuple]:
    return {
        name: (status, loaded, quarantined, message)
        for name, status, loaded, quarantined, message in query(
            warehouse,
            "SELECT file_name, status, rows_loaded, rows_quarantined, message FROM audit.file_log",
        )
    }


def row_problems(warehouse, file_name: str) -> list[tuple]:
    return query(
        warehouse,
        "SELECT line_number, column_name, raw_value, reason FROM audit.quarantine"
        " WHERE file_name = ? ORDER BY line_number, column_name",
        [file_name],
    )


# --- decoding ---------------------------------------------------------------------------------


def gbk_rows(count: int, seed: int) -> list[str]:
    """Rows of varied Chinese text (GB2312's characters, any of them), as a GBK export holds."""
    characters = []
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                characters.append(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    pick = random.Random(seed)
    return [
        snapshot_line("小红书", "".join(pick.choices(characters, k=pick.randint(2, 12))))
        for _ in range(count)
    ]


def test_truncated_mixed_gb18030_and_bom_files(landing, warehouse):
    """The issue's example: a UTF-8 file cut inside 抖音 was loaded as 鎶栭煶. It, and a file
    that mixes encodings, are quarantined whole; genuine GB18030 and UTF-8 with BOM load."""
    utf8 = (SNAPSHOT_HEADER + snapshot_line("小红书", "中信银行信用卡")).encode()
    landing.raw("account_snapshots__cut.csv", utf8 + "抖音".encode()[:-1])
    landing.raw(
        "account_snapshots__mixed.csv",
        utf8 + snapshot_line("抖音", "招商银行信用卡").encode("gb18030"),
    )
    gb18030_rows = gbk_rows(200, seed=13)
    landing.raw(
        "account_snapshots__excel.csv",
        (SNAPSHOT_HEADER + "".join(gb18030_rows)).encode("gb18030"),
    )
    landing.raw(
        "account_snapshots__bom.csv",
        b"\xef\xbb\xbf" + (SNAPSHOT_HEADER + snapshot_line("抖音", "宁波银行信用卡")).encode(),
    )
    assert materialize_ingest(warehouse).success

    log = file_log(warehouse)
    assert log["account_snapshots__cut.csv"] == ("quarantined", 0, 0, CUT_SHORT)
    status, loaded, _, message = log["account_snapshots__mixed.csv"]
    assert (status, loaded) == ("quarantined", 0)
    assert message == (
        "the file mixes encodings: it has UTF-8 text (line 2 of the file) and bytes that are not"
        " UTF-8 (line 3); save it all as UTF-8 and deliver it again"
    )
    assert log["account_snapshots__excel.csv"][:3] == ("loaded", 200, 0)
    assert log["account_snapshots__bom.csv"][:3] == ("loaded", 1, 0)
    assert row_problems(warehouse, "account_snapshots__cut.csv") == [(None, None, None, CUT_SHORT)]

    accounts = query(
        warehouse,
        "SELECT file_name, account_name FROM raw.account_snapshots ORDER BY file_name, line_number",
    )
    excel = [name for file_name, name in accounts if file_name == "account_snapshots__excel.csv"]
    assert excel == [row.split(",")[1] for row in gb18030_rows]
    assert ("account_snapshots__bom.csv", "宁波银行信用卡") in accounts
    # Nothing garbled reached raw: the mojibake of the cut and mixed files is nowhere.
    assert not query(
        warehouse,
        "SELECT * FROM raw.account_snapshots WHERE account_name LIKE '%鎶%' OR platform <> '小红书'"
        " AND file_name <> 'account_snapshots__bom.csv'",
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        # GB18030 cut inside its last character is cut short too
        ("平台,账号\n小红书,招商银行".encode("gb18030")[:-1], CUT_SHORT),
        (b"\xef\xbb\xbf" + "平台\n抖音".encode()[:-2], CUT_SHORT),
        (b"\xef\xbb\xbf" + "平台\n抖音\n".encode("gbk"), "starts with the UTF-8 byte order mark"),
        # a GBK row in a UTF-8 file, and a UTF-8 row in a GBK file
        ("平台\n抖音\n".encode() + "微博\n".encode("gbk"), "mixes encodings"),
        ("平台,账号\n微博,中信\n".encode("gbk") + "抖音,招行\n".encode(), "line 3 of the file"),
        # a stray byte in a UTF-8 file
        ("平台,账号\n抖音,招行".encode() + b"\xff\n", "mixes encodings"),
        (b"platform\n\xff\n", "neither UTF-8 nor GB18030/GBK (a byte neither can read, on line 2"),
    ],
)
def test_decoding_refuses_what_it_would_garble(raw, reason):
    with pytest.raises(UnreadableFile, match=reason.replace("(", r"\(")):
        decode_text(raw)


def test_decoding_reads_what_it_can_tell_apart():
    text = "平台,账号\n抖音,招行\n"
    assert decode_text(text.encode()) == (text, "utf-8")
    assert decode_text(b"\xef\xbb\xbf" + text.encode()) == (text, "utf-8-sig")
    assert decode_text(text.encode("gb18030")) == (text, "gb18030")
    # GB18030 beyond GBK: four-byte characters such as 𠮷
    assert decode_text("平台\n𠮷野家\n".encode("gb18030")) == ("平台\n𠮷野家\n", "gb18030")


# --- counts the marts can sum -----------------------------------------------------------------


def test_counts_above_the_range_are_row_problems(landing, warehouse):
    name = "account_snapshots__ids.csv"
    landing.raw(
        name,
        (
            SNAPSHOT_HEADER
            + snapshot_line("小红书", "中信银行信用卡", followers=str(MAX_COUNT))
            + snapshot_line("小红书", "宁波银行信用卡").replace("17.8万", "9223372036854775807")
            + snapshot_line("小红书", "兴业银行信用卡", followers="10000001亿")
            + snapshot_line("小红书", "北京银行信用卡", followers='"1,000,000,000,000,001"')
        ).encode(),
    )
    assert materialize_ingest(warehouse).success
    assert file_log(warehouse)[name][:3] == ("partially_loaded", 1, 3)
    assert query(warehouse, "SELECT account_name, followers FROM raw.account_snapshots") == [
        ("中信银行信用卡", MAX_COUNT)
    ]
    too_large = "is larger than any count cardreach can sum (max 1,000,000,000,000,000)"
    assert row_problems(warehouse, name) == [
        (2, "likes", "9223372036854775807", f"'9223372036854775807' {too_large}: {IDS}"),
        (3, "followers", "10000001亿", f"'10000001亿' {too_large}: {IDS}"),
        (4, "followers", "1,000,000,000,000,001", f"'1,000,000,000,000,001' {too_large}: {IDS}"),
    ]


IDS = "check that the column holds counts, not IDs"


def test_the_largest_counts_flow_through_every_model(landing, sample_copy, warehouse):
    """The largest count the contract accepts, in every count column of three accounts on one
    platform and date (so the marts sum them, add likes to collects, rank, share and score them,
    three being the scores' minimum of peers), delivered after the sample's run: the next
    `make run` builds every model they reach (the incremental models by their daily path; a
    first build's path is the one the sample's run took), and the figures arrive exact."""
    largest = str(MAX_COUNT)
    accounts = {
        "招商银行信用卡": "招商银行",
        "中信银行信用卡": "中信银行",
        "平安银行信用卡": "平安银行",
    }
    landing.csv(
        "account_snapshots__largest.csv",
        [
            {
                "platform": "抖音",
                "account_name": account,
                "snapshot_date": day,
                "followers": largest,
                "notes": largest,
                "likes": largest,
                "collects": largest,
                "comments": largest,
                "shares": largest,
                "source": "test",
            }
            for account in accounts
            for day in ("2025-04-10", "2025-04-17")
        ],
    )
    landing.csv(
        "accounts__largest.csv",
        [
            {
                "platform": "抖音",
                "account_name": account,
                "bank": bank,
                "bank_type": "joint_stock",
                "account_role": "card_center",
            }
            for account, bank in accounts.items()
        ],
    )
    result = run_pipeline()
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    performance = query(
        warehouse,
        "SELECT followers, likes_and_collects, followers_change, followers_share_pct,"
        " follower_rank FROM marts.account_performance WHERE platform = '抖音'"
        " ORDER BY account_name, snapshot_date",
    )
    assert len(performance) == 6
    assert {row[:2] for row in performance} == {(MAX_COUNT, 2 * MAX_COUNT)}
    assert [row[2] for row in performance] == [None, 0] * 3
    assert {(round(row[3], 2), row[4]) for row in performance} == {(33.33, 1)}
    assert query(
        warehouse,
        "SELECT count(*), sum(followers) FROM marts.account_latest WHERE platform = '抖音'",
    ) == [(3, 3 * MAX_COUNT)]
    assert query(
        warehouse,
        "SELECT banks_with_account, accounts_over_100k FROM marts.bank_presence"
        " WHERE platform = '抖音' AND bank_type = 'joint_stock'",
    ) == [(3, 3)]
    assert query(
        warehouse,
        "SELECT count(*) FROM marts.account_scores WHERE platform = '抖音' AND score IS NOT NULL",
    ) == [(6,)]


# --- Parquet's numeric types ------------------------------------------------------------------


def test_parquet_decimals_floats_and_integers_are_numbers(landing, warehouse):
    """Database exports type counts as DECIMAL, DOUBLE or any integer width, and shares as
    DECIMAL or FLOAT: all read as the numbers they hold. A count with a fraction is a row
    problem that says so."""
    counts = pa.table(
        {
            "platform": pa.array(["小红书"] * 3),
            "account_name": pa.array(["中信银行信用卡", "宁波银行信用卡", "兴业银行信用卡"]),
            "snapshot_date": pa.array([date(2025, 4, 17)] * 3, pa.date32()),
            "followers": pa.array(
                [Decimal(127000), Decimal(47000), Decimal(29000)], pa.decimal128(18, 0)
            ),
            "notes": pa.array(
                [Decimal("357.00"), Decimal("88.00"), Decimal("12.50")], pa.decimal128(38, 2)
            ),
            "likes": pa.array([178000.0, 50000.0, 1.0], pa.float64()),
            "collects": pa.array([127, 0, 5], pa.int8()),
            "comments": pa.array([2**64 - 1, 3, 4], pa.uint64()),
            "shares": pa.array([60000, None, 7], pa.uint16()),
            "source": pa.array(["test"] * 3),
        }
    )
    shares = pa.table(
        {
            "app": pa.array(["小红书"] * 2),
            "month": pa.array(["2025-01"] * 2),
            "dimension": pa.array(["gender"] * 2),
            "bucket": pa.array(["男", "女"]),
            "share_pct": pa.array([Decimal("29.50"), Decimal("70.50")], pa.decimal128(5, 2)),
            "source": pa.array(["test"] * 2),
        }
    )
    floats = pa.table(
        {
            "app": pa.array(["抖音"] * 2),
            "month": pa.array(["2025-01"] * 2),
            "dimension": pa.array(["gender"] * 2),
            "bucket": pa.array(["男", "女"]),
            "share_pct": pa.array([44.74, 55.26], pa.float32()),
            "source": pa.array(["test"] * 2),
        }
    )
    for name, table in (
        ("account_snapshots__db.parquet", counts),
        ("app_audience__db.parquet", shares),
        ("app_audience__float.parquet", floats),
    ):
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        landing.raw(name, sink.getvalue().to_pybytes())
    assert materialize_ingest(warehouse).success

    assert query(
        warehouse,
        "SELECT account_name, followers, notes, notes_raw, likes, collects, comments, shares"
        " FROM raw.account_snapshots ORDER BY line_number",
    ) == [("宁波银行信用卡", 47000, 88, "88", 50000, 0, 3, None)]
    assert row_problems(warehouse, "account_snapshots__db.parquet") == [
        (
            1,
            "comments",
            str(2**64 - 1),
            f"'{2**64 - 1}' is larger than any count cardreach can sum"
            f" (max 1,000,000,000,000,000): {IDS}",
        ),
        (
            3,
            "notes",
            "12.5",
            "'12.5' is not a whole count: a count of persons or items has no fraction;"
            " check that the column holds counts",
        ),
    ]
    assert query(
        warehouse, "SELECT app, bucket, share_pct FROM raw.app_audience ORDER BY app, bucket"
    ) == [
        ("小红书", "女", 70.5),
        ("小红书", "男", 29.5),
        ("抖音", "女", 55.26),
        ("抖音", "男", 44.74),
    ]


# --- JSON Lines -------------------------------------------------------------------------------

# Every character str.splitlines() breaks a line at, except "\n" and "\r": they are text inside a
# JSON string.
LINE_BREAKS_IN_TEXT = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]


def test_jsonl_records_split_only_at_newlines(landing, warehouse):
    records = [
        {
            "platform": "小红书",
            "account_name": f"账号{i}{separator}第二行",
            "snapshot_date": "2025-04-17",
            "followers": "12.7万",
            "notes": 357,
            "likes_and_collects": "30万",
            "source": "test",
        }
        for i, separator in enumerate(LINE_BREAKS_IN_TEXT)
    ]
    # Unescaped, as some exporters write them (json.dumps escapes control characters), and
    # every other line ends in "\r\n".
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    for separator in LINE_BREAKS_IN_TEXT:
        lines = [line.replace(json.dumps(separator)[1:-1], separator) for line in lines]
    assert all(separator in "".join(lines) for separator in LINE_BREAKS_IN_TEXT)
    text = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines))
    text += '{"platform": "小红书", "account_name": \n'  # line 9: broken
    text += json.dumps(records[0] | {"account_name": "最后"}, ensure_ascii=False)  # line 10
    name = "account_snapshots__separators.jsonl"
    landing.raw(name, text.encode())
    assert materialize_ingest(warehouse).success

    assert query(
        warehouse, "SELECT line_number, account_name FROM raw.account_snapshots ORDER BY 1"
    ) == [(i + 1, r["account_name"]) for i, r in enumerate(records)] + [(10, "最后")]
    assert [(line, reason[:16]) for line, _, _, reason in row_problems(warehouse, name)] == [
        (9, "not a JSON objec")
    ]


# --- files read a block at a time ---------------------------------------------------------------


def _block_file(rows: int) -> tuple[list[str], dict[int, str], dict[int, str]]:
    """A CSV body of `rows` lines: good rows (some with a trailing comma), blank lines, short
    rows, rows with fields too many, bad counts; and the account on each line that loads, and
    the raw value or reason of each line that is quarantined."""
    lines, loaded, refused = [], {}, {}
    for line in range(1, rows + 1):
        account = f"账号{line}"
        match line % 6:
            case 1:
                lines.append("")  # a blank line: no row, but it takes its line
            case 2:  # a short row: read with the rest blank, so its source is missing
                lines.append(f"小红书,{account},2025-04-17,12.7万,357,17.8万,12.7万")
                refused[line] = f"missing required value for source [{SOURCE.alias}]"
            case 3:
                lines.append(snapshot_line("小红书", account).rstrip("\n") + ",x,y")
                refused[line] = (
                    "the row has 10 fields but the header has 8: quote values that contain commas"
                )
            case 4:
                lines.append(snapshot_line("小红书", account, followers="N/A").rstrip("\n"))
                refused[line] = "N/A"
            case _:
                lines.append(snapshot_line("小红书", account).rstrip("\n") + ",")  # trailing comma
                loaded[line] = account
    return lines, loaded, refused


@pytest.mark.parametrize("variant", ["utf8", "gb18030_crlf", "quoted_line_break"])
def test_files_larger_than_a_block_keep_every_row_on_its_line(
    landing, warehouse, monkeypatch, variant
):
    """Rows go between Python and DuckDB a block at a time (here 7 rows): whichever reader
    reads the file (DuckDB's; or Python's, for a quoted line break), every good row loads with
    its line and every bad one is quarantined with its line, across the blocks."""
    from orchestration.defs.ingest import bulk_validation, reading

    monkeypatch.setattr(reading, "CHUNK_ROWS", 7)
    monkeypatch.setattr(bulk_validation, "CHUNK_ROWS", 7)
    lines, loaded, refused = _block_file(60)
    newline = "\r\n" if variant == "gb18030_crlf" else "\n"
    if variant == "quoted_line_break":  # line 5's account takes two lines: its row is line 6
        lines[4] = lines[4].replace("账号5", '"账号5\n续"')
        loaded = {line + (line >= 5): account for line, account in loaded.items()}
        loaded[6] = "账号5\n续"
        refused = {line + (line > 5): reason for line, reason in refused.items()}
    text = SNAPSHOT_HEADER.replace("\n", newline) + newline.join(lines) + newline
    name = f"account_snapshots__{variant}.csv"
    landing.raw(name, text.encode("gb18030" if variant.startswith("gb") else "utf-8"))
    assert materialize_ingest(warehouse).success

    assert file_log(warehouse)[name][:3] == ("partially_loaded", len(loaded), len(refused))
    rows = query(
        warehouse,
        "SELECT line_number, account_name FROM raw.account_snapshots ORDER BY line_number",
    )
    assert rows == sorted(loaded.items())
    problems = {line: raw or reason for line, _, raw, reason in row_problems(warehouse, name)}
    assert problems == refused


def test_jsonl_lines_keep_their_own_extra_keys(landing, warehouse, monkeypatch):
    """A file whose every line carries a key no other line has (the issue's wide JSON Lines):
    each row keeps its own extra keys, not a column per key of the file."""
    from orchestration.defs.ingest import bulk_validation, reading

    monkeypatch.setattr(reading, "CHUNK_ROWS", 7)
    monkeypatch.setattr(bulk_validation, "CHUNK_ROWS", 7)
    record = {
        "platform": "小红书",
        "snapshot_date": "2025-04-17",
        "followers": 1200,
        "notes": 10,
        "likes_and_collects": "3万",
        "source": "test",
    }
    lines = [
        json.dumps(record | {"account_name": f"账号{i}", f"extra_{i}": i}, ensure_ascii=False)
        for i in range(1, 41)
    ]
    lines[29] = lines[29].replace('"followers": 1200', '"followers": "N/A"')  # line 30
    name = "account_snapshots__wide.jsonl"
    landing.raw(name, ("\n".join(lines) + "\n").encode())
    assert materialize_ingest(warehouse).success

    assert file_log(warehouse)[name][:3] == ("partially_loaded", 39, 1)
    rows = query(
        warehouse,
        "SELECT line_number, account_name, extra_columns FROM raw.account_snapshots ORDER BY 1",
    )
    assert [(line, json.loads(extra)) for line, _, extra in rows] == [
        (i, {f"extra_{i}": str(i)}) for i in range(1, 41) if i != 30
    ]
    assert row_problems(warehouse, name)[0][:3] == (30, "followers", "N/A")


def test_zoned_parquet_dates_and_tiny_floats(landing, warehouse):
    """A date exported as a zoned timestamp is the day on the exporter's clock, whatever this
    machine's zone; a float too small to write without an exponent stays a fraction (a count
    of 1e-07 is refused, not read as 0)."""
    from datetime import datetime, timedelta, timezone

    shanghai = timezone(timedelta(hours=8))
    table = pa.table(
        {
            "platform": ["小红书", "小红书"],
            "account_name": ["午夜", "零头"],
            "snapshot_date": pa.array(
                [datetime(2025, 4, 17, 0, 30, tzinfo=shanghai)] * 2,
                pa.timestamp("us", tz="Asia/Shanghai"),
            ),
            "followers": pa.array([1200.0, 1e-7], pa.float64()),
            "notes": [10, 10],
            "likes_and_collects": [50, 50],
            "source": ["test", "test"],
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    landing.raw("account_snapshots__zoned.parquet", sink.getvalue().to_pybytes())
    assert materialize_ingest(warehouse).success

    assert query(warehouse, "SELECT account_name, snapshot_date FROM raw.account_snapshots") == [
        ("午夜", date(2025, 4, 17))
    ]
    ((line, column, raw, _),) = row_problems(warehouse, "account_snapshots__zoned.parquet")
    assert (line, column, raw) == (2, "followers", "0.00000010000000000")


def test_json_lines_python_cannot_hold_are_quarantined(landing, warehouse):
    """A line with half a character (an escaped lone surrogate), a number of 5,000 digits or
    nesting deeper than Python parses is quarantined with a reason; the other lines load."""
    good = json.dumps(
        {
            "platform": "小红书",
            "account_name": "好",
            "snapshot_date": "2025-04-17",
            "followers": 1200,
            "notes": 10,
            "likes_and_collects": 50,
            "source": "test",
        },
        ensure_ascii=False,
    )
    lines = [
        good,
        good.replace('"好"', '"\\ud800"'),
        good.replace("1200", "9" * 5000),
        good.replace('"test"', "[" * 100_000 + "]" * 100_000),
        good.replace('"好"', '"也好"'),
    ]
    name = "account_snapshots__python.jsonl"
    landing.raw(name, ("\n".join(lines) + "\n").encode())
    assert materialize_ingest(warehouse).success

    assert file_log(warehouse)[name][:3] == ("partially_loaded", 2, 3)
    names = query(warehouse, "SELECT line_number, account_name FROM raw.account_snapshots")
    assert sorted(names) == [(1, "好"), (5, "也好")]
    problems = row_problems(warehouse, name)
    assert [line for line, *_ in problems] == [2, 3, 4]
    assert all(reason.startswith("not a JSON object") for *_, reason in problems)
