"""The `notes` dataset end to end: the contract at ingest (units, bad counts, a note published
after its snapshot date, unregistered accounts), and the content marts built from it on the real
pipeline (note_performance, account_content_mix)."""

import csv
from collections import Counter
from datetime import date, datetime

import pytest
from conftest import SAMPLE_LANDING, query, run_pipeline

from orchestration.contract.parsing import ParseError, parse_datetime

REPORT_COLLECTIONS = {"信用卡避坑指南", "羊毛天天捡", "哪些信用卡值得办"}
ZHONGXIN = "中信银行信用卡"


def sample_notes() -> list[dict]:
    with (SAMPLE_LANDING / "notes__2025-04-17.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_sample_content_mix_lists_the_reports_collections_with_the_files_counts(
    sample_run,
):
    rows = query(
        sample_run,
        "select series, notes_published from marts.account_content_mix"
        " where account_name = '中信银行信用卡'",
    )
    by_series = Counter()
    for series, notes_published in rows:
        by_series[series] += notes_published
    # each note once, whatever its number of snapshots
    expected = Counter(
        {
            series or "(no series)": len(
                {
                    r["笔记ID"]
                    for r in sample_notes()
                    if r["合集"] == series and r["账号"] == ZHONGXIN
                }
            )
            for series in {r["合集"] for r in sample_notes() if r["账号"] == ZHONGXIN}
        }
    )
    assert set(by_series) == REPORT_COLLECTIONS | {"(no series)"}
    assert by_series == expected
    assert by_series["羊毛天天捡"] == 5

    # per month of publication, as the file dates them
    by_month = query(
        sample_run,
        "select strftime(month, '%Y-%m'), series, notes_published from marts.account_content_mix"
        " where account_name = '中信银行信用卡'",
    )
    expected_by_month = Counter(
        (r["发布时间"][:7], r["合集"] or "(no series)")
        for r in {r["笔记ID"]: r for r in sample_notes() if r["账号"] == ZHONGXIN}.values()
    )
    assert {(m, s): n for m, s, n in by_month} == dict(expected_by_month)

    # the shares of a month's interactions add up to 100 for each account
    totals = query(
        sample_run,
        "select account_name, month, sum(share_of_account_interactions_pct)"
        " from marts.account_content_mix group by all",
    )
    assert totals and all(abs(total - 100) < 0.3 for *_, total in totals)


def test_note_performance_on_the_sample(sample_run):
    rows = query(
        sample_run,
        "select count(*), count(distinct note_id), count(interactions_change),"
        " bool_and(is_registered), count(*) filter (where is_hit)"
        " from marts.note_performance",
    )
    notes = sample_notes()
    with_two = sum(1 for n in Counter(r["笔记ID"] for r in notes).values() if n == 2)
    assert rows[0][:4] == (len(notes), len({r["笔记ID"] for r in notes}), with_two, True)
    assert rows[0][4] > 0  # the sample has hits by the seed's rule
    # a note's interactions: likes + collects + comments (the sample delivers no shares for 中信)
    # and its followers from the account's nearest snapshot
    first = query(
        sample_run,
        "select likes, collects, comments, interactions, interactions_definition,"
        " followers_snapshot_date, account_followers, interactions_per_thousand_followers"
        " from marts.note_performance"
        " where note_id = '67a1c0f20000000012a20300' and snapshot_date = DATE '2025-04-17'",
    )
    assert first == [
        (
            18000,
            12000,
            1026,
            31026,
            "likes+collects+comments (shares not delivered)",
            date(2025, 4, 17),
            127000,
            244.3,
        )
    ]
    # seen on 2025-04-10, 中信's notes take the account's snapshot 7 days later (it has no earlier
    # one), never none: every note row has its followers
    assert query(
        sample_run,
        "select distinct followers_snapshot_date, followers_snapshot_offset_days"
        " from marts.note_performance"
        " where account_name = '中信银行信用卡' and snapshot_date = DATE '2025-04-10'",
    ) == [(date(2025, 4, 17), 7)]
    assert query(
        sample_run,
        "select count(*) from marts.note_performance where account_followers is null",
    ) == [(0,)]


def test_a_gb18030_notes_file_loads_its_good_rows_and_quarantines_the_rest(
    landing, sample_copy, warehouse
):
    header = [
        "平台",
        "账号",
        "笔记ID",
        "发布时间",
        "日期",
        "笔记类型",
        "合集",
        "点赞数",
        "收藏数",
        "评论数",
        "来源",
    ]
    rows = [
        # 1: good, with units
        [
            "小红书",
            ZHONGXIN,
            "t1",
            "2025年4月12日 20:15",
            "2025/4/17",
            "视频",
            "羊毛天天捡",
            "1.2万",
            "3.4千",
            "56",
            "t",
        ],
        # 2: a count that is not a number
        ["小红书", ZHONGXIN, "t2", "2025-04-12", "2025-04-17", "图文", "", "很多", "10", "1", "t"],
        # 3: published after its snapshot date
        [
            "小红书",
            ZHONGXIN,
            "t3",
            "2025-04-18 09:00",
            "2025-04-17",
            "图文",
            "",
            "10",
            "10",
            "1",
            "t",
        ],
        # 4: an account the registry does not name: kept and flagged
        [
            "小红书",
            "某银行信用卡",
            "t4",
            "2025-04-15",
            "2025-04-17",
            "图文",
            "",
            "800",
            "120",
            "9",
            "t",
        ],
    ]
    # as Excel saves Chinese text: GB18030, not UTF-8
    text = "".join(",".join(row) + "\r\n" for row in [header, *rows])
    landing.raw("notes__gb18030.csv", text.encode("gb18030"))

    result = run_pipeline()
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    assert query(
        warehouse,
        "select status, rows_loaded, rows_quarantined from audit.file_log"
        " where file_name = 'notes__gb18030.csv'",
    ) == [("partially_loaded", 2, 2)]
    quarantined = query(
        warehouse,
        "select line_number, column_name, raw_value, reason from audit.quarantine"
        " where file_name = 'notes__gb18030.csv' order by line_number",
    )
    assert [q[:3] for q in quarantined] == [
        (2, "likes", "很多"),
        (3, "published_at", "2025-04-18 09:00"),
    ]
    assert "not a count" in quarantined[0][3]
    assert "after snapshot_date 2025-04-17" in quarantined[1][3]

    assert query(
        warehouse,
        "select note_id, likes, likes_step, collects, collects_step, note_type, published_at,"
        " published_at_has_time from raw.notes where file_name = 'notes__gb18030.csv'"
        " order by note_id",
    ) == [
        ("t1", 12000, 1000, 3400, 100, "video", datetime(2025, 4, 12, 20, 15), True),
        ("t4", 800, 1, 120, 1, "image", datetime(2025, 4, 15), False),
    ]
    assert query(
        warehouse,
        "select note_id, account_name, is_registered, bank from marts.note_performance"
        " where note_id in ('t1', 't4') order by note_id",
    ) == [("t1", ZHONGXIN, True, "中信银行"), ("t4", "某银行信用卡", False, None)]

    # The registry names the account later (deliveries arrive in any order): its note joins
    # its bank on the next run.
    landing.csv(
        "accounts__added.csv",
        [
            {
                "platform": "小红书",
                "account_name": "某银行信用卡",
                "bank": "某银行",
                "bank_type": "city_commercial",
            }
        ],
    )
    assert run_pipeline().success
    assert query(
        warehouse,
        "select is_registered, bank from marts.note_performance where note_id = 't4'",
    ) == [(True, "某银行")]


@pytest.mark.parametrize(
    ("text", "moment", "has_time"),
    [
        ("2025-04-10", datetime(2025, 4, 10), False),
        ("2025-04-10 18:30", datetime(2025, 4, 10, 18, 30), True),
        ("2025/4/10 18:30:05", datetime(2025, 4, 10, 18, 30, 5), True),
        ("2025年4月10日 18:30", datetime(2025, 4, 10, 18, 30), True),
        ("2025-04-10T08:05", datetime(2025, 4, 10, 8, 5), True),
    ],
)
def test_published_at_is_a_date_or_a_date_and_time(text, moment, has_time):
    assert parse_datetime(text) == (moment, has_time)


@pytest.mark.parametrize("text", ["2025-04-10 24:00", "2025-04-10 18:30Z", "18:30", "昨天 18:30"])
def test_published_at_refuses_what_it_cannot_place_on_the_platforms_clock(text):
    with pytest.raises(ParseError):
        parse_datetime(text)
