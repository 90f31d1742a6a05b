"""Content themes on the shipped sample: the rule of seeds/content_theme_rules.csv against the
notes labelled by hand (the figures dbt_project/README.md "Themes" quotes), and the peer comparison
of marts.content_themes. The SQL logic itself is pinned by the models' dbt unit tests."""

import csv
import shutil
from collections import defaultdict

import duckdb
from conftest import SAMPLE_LANDING, cardreach_dbt, query

ZHONGXIN = "中信银行信用卡"
ZHAOSHANG = "招商银行信用卡申请"

# The sample's notes labelled by hand from their titles and hashtags (last 6 characters of the
# note id), before looking at what the rule gives.
HAND_LABELS = {
    "a10100": {"consumer_protection"},  # 信用卡年费怎么免?避开这3个坑
    "a10200": {"consumer_protection"},  # 分期手续费≠利率,算清楚再分期
    "a10300": {"consumer_protection"},  # 盗刷了怎么办?三步保护你的卡
    "a10400": {"consumer_protection"},  # 还款日和账单日,别再搞混了
    "a20100": {"savings_offers"},  # 羊毛天天捡|本周9分享兑上新
    "a20200": {"savings_offers"},  # 羊毛天天捡|地铁公交立减,通勤省钱妙招
    "a20300": {"savings_offers", "food_and_fun"},  # 羊毛天天捡|精彩365周末餐饮5折
    "a20400": {"savings_offers"},  # 羊毛天天捡|加油充电返现攻略
    "a20500": {"savings_offers", "travel"},  # 羊毛天天捡|清明出游酒店立减
    "a30100": {"card_recommendation"},  # 第一张信用卡办哪张?新手看这篇
    "a30200": {"card_recommendation"},  # 中信颜卡系列全收集,哪张最好看
    "a30300": {"card_recommendation", "travel"},  # 出境游带哪张卡?免货币转换费盘点
    "a40100": {"savings_offers"},  # 9分享兑|分享就能兑好礼
    "a40200": {"prize_interaction"},  # 有奖互动|评论区说出你的年度账单关键词
    "a40300": {"food_and_fun", "savings_offers"},  # 精彩365|一年365天的吃喝玩乐
    "a40400": {"prize_interaction"},  # 宠粉抽奖|关注+评论抽颜卡周边
    "a40500": {"food_and_fun"},  # 周末citywalk,吃喝玩乐地图
    "a40600": {"savings_offers"},  # 通勤路上的省钱妙招合集
    "a40700": {"travel"},  # 五一旅游出行攻略,机票酒店这样订
    "a40800": {"prize_interaction"},  # 有奖互动|晒出你的颜卡
    "b10100": {"prize_interaction", "travel"},  # 晒单有奖|聊一聊你最推荐的小众旅游地
    "b10200": {"savings_offers"},  # 分享你的618攻略预热:笔笔返现怎么用
    "b10300": {"savings_offers"},  # 晒今年最满意的一笔积分兑换 (points are a card perk)
    "b10400": {"card_recommendation", "travel"},  # 全新万事达信用卡,出境游必备 (a new card)
}
# Where the keyword rule and the hand labels part (README "Themes" says why): 积分 (points) is in
# no rule, and a new card's launch names no "which card" word.
RULE_MISSES = {"b10300": {"savings_offers"}, "b10400": {"card_recommendation"}}

REPORT_COLLECTION_THEMES = {
    "信用卡避坑指南": "consumer_protection",
    "羊毛天天捡": "savings_offers",
    "哪些信用卡值得办": "card_recommendation",
}


def sample_notes() -> dict[str, dict]:
    with (SAMPLE_LANDING / "notes__2025-04-17.csv").open(encoding="utf-8", newline="") as handle:
        return {row["笔记ID"]: row for row in csv.DictReader(handle)}


def themes_by_note(sample_run) -> dict[str, set]:
    by_note = defaultdict(set)
    for note_id, theme in query(sample_run, "select note_id, theme from marts.note_themes"):
        by_note[note_id].add(theme)
    return by_note


def test_every_sample_note_is_classified_and_unthemed_notes_have_one_row(sample_run):
    by_note = themes_by_note(sample_run)
    assert set(by_note) == set(sample_notes())
    assert {note_id[-6:] for note_id in by_note} == set(HAND_LABELS)
    for themes in by_note.values():
        assert "unthemed" not in themes or themes == {"unthemed"}
    # each row explains itself, and themes_of_note counts the note's rows (0 when unthemed)
    assert (
        query(
            sample_run,
            "select note_id, theme from marts.note_themes"
            " qualify (matched_by is null) <> (theme = 'unthemed')"
            " or themes_of_note <> case when theme = 'unthemed' then 0 else"
            " count(*) over (partition by platform, note_id) end",
        )
        == []
    )


def test_the_report_collections_notes_fall_in_the_themes_the_report_describes(sample_run):
    by_note = themes_by_note(sample_run)
    for note_id, row in sample_notes().items():
        if row["账号"] == ZHONGXIN and row["合集"]:
            assert REPORT_COLLECTION_THEMES[row["合集"]] in by_note[note_id], row["标题"]


def test_the_rule_agrees_with_the_hand_labels_except_the_documented_misses(sample_run):
    by_note = {note_id[-6:]: themes for note_id, themes in themes_by_note(sample_run).items()}
    expected = {
        note: (labels - RULE_MISSES.get(note, set())) or {"unthemed"}
        for note, labels in HAND_LABELS.items()
    }
    assert by_note == expected
    # the counts the README quotes: 24 notes, 23 themed, 1 unthemed, 5 in several themes
    assert len(by_note) == 24
    assert sum(themes != {"unthemed"} for themes in by_note.values()) == 23
    assert sum(len(themes) > 1 for themes in by_note.values()) == 5


def test_content_themes_compares_zhongxins_travel_notes_with_zhaoshangs(sample_run):
    rows = query(
        sample_run,
        "select notes, median_interactions_per_note, peer_median_interactions_per_note,"
        " peer_accounts, peer_notes, index_vs_peers from marts.content_themes"
        " where account_name = ? and theme = 'travel'",
        [ZHONGXIN],
    )
    # 中信's travel notes at 2025-04-17 (likes + collects + comments): a20500 905+1247+64 = 2,216,
    # a30300 1370+2248+147 = 3,765, a40700 1284+2012+133 = 3,429 (the median); 招商's (+ shares,
    # which it delivers and 中信 does not): b10100 1865+2430+612+156 = 5,063 and
    # b10400 1.3万+8260+746+1.1千 = 23,106, median 14,084.5; 3,429 / 14,084.5 = 24.3 percent.
    assert rows == [(3, 3429, 14084.5, 1, 2, 24.3)]
    # what the index does not correct for, beside it: the notes' ages at 2025-04-17 (中信's
    # published 04-14, 04-03, 04-11: 3, 14, 6 days, median 6; 招商's 03-05 and 04-12: 43 and 5,
    # median 24) and the definitions; the sources are those of each side's notes
    [(age, peer_age, definitions, peer_definitions, sources, peer_sources)] = query(
        sample_run,
        "select median_age_days, peer_median_age_days, interactions_definitions,"
        " peer_interactions_definitions, sources, peer_sources from marts.content_themes"
        " where account_name = ? and theme = 'travel'",
        [ZHONGXIN],
    )
    assert (age, peer_age) == (6, 24)
    assert definitions == "likes+collects+comments (shares not delivered)"
    assert peer_definitions == "likes+collects+comments+shares"
    travel = [n for n in sample_notes().values() if "travel" in HAND_LABELS[n["笔记ID"][-6:]]]
    assert sources == " | ".join(sorted({n["来源"] for n in travel if n["账号"] == ZHONGXIN}))
    assert peer_sources == " | ".join(sorted({n["来源"] for n in travel if n["账号"] == ZHAOSHANG}))
    # each account's notes of a theme, and its themes' notes, add up over the themes
    assert query(
        sample_run,
        "select account_name, sum(notes) filter (where theme = 'unthemed'), max(account_notes)"
        " from marts.content_themes group by account_name order by account_name",
    ) == [(ZHONGXIN, None, 20), (ZHAOSHANG, 1, 4)]  # 中 (U+4E2D) sorts before 招


def test_a_rule_of_a_theme_that_is_not_defined_fails_naming_the_rule(
    sample_pipeline, sample_run, tmp_path
):
    """A typo in the rules seed's theme (trvel) would make a theme of its own: the seed check
    fails instead, naming the rule. The sample's rules pass (the check of the sample's run); one
    typo row in a copy fails."""
    check = "assert_content_theme_rules_are_consistent"
    _, run = sample_pipeline
    [passed] = [e for e in run.get_asset_check_evaluations() if e.check_name == check]
    assert passed.passed
    folder = tmp_path / "warehouse"
    folder.mkdir()
    database = shutil.copy(sample_run.database_path, folder / sample_run.database_path.name)
    with duckdb.connect(str(database)) as conn:
        conn.execute(
            "insert into reference.content_theme_rules (theme, match_on, pattern, description)"
            " values ('trvel', 'title', '签证', 'visas, with a typo in the theme')"
        )
    failed = cardreach_dbt(folder, "test", "--select", check, "--store-failures")
    assert failed.returncode != 0, failed.stdout[-2000:]
    with duckdb.connect(str(database), read_only=True) as conn:
        [(schema,)] = conn.execute(
            "select table_schema from information_schema.tables where table_name = ?", [check]
        ).fetchall()
        rows = conn.execute(f"select * from {schema}.{check}").fetchall()
    assert rows == [("trvel", "title", "签证", "not a theme of content_theme_labels")]
