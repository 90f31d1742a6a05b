"""Provenance everywhere: the report names the source beside every figure and marks the
illustrative and derived ones, and TGI names its baseline, which can be the whole internet (全网).

The sample's sources say which figures are illustrative (小红书's 2025-02/03 MAU, the card-app
industry's MAU but 2025-03, its audience profile) and which are derived (2024 MAU from the
report's growth rates, buckets computed as 100 minus the others).
"""

import re
import shutil

import duckdb
import pytest
from conftest import cardreach_dbt, query, run_pipeline
from test_report import parse, section

from orchestration import settings
from orchestration.defs.report.document import QualitySummary, build_report
from orchestration.defs.report.provenance import (
    DERIVED,
    ILLUSTRATIVE,
    PUBLISHED,
    delivered,
    derived,
)

CARD_INDUSTRY_PROFILE = (
    "illustrative (report: card-app users mainly under 35;"
    " middle-or-higher consumers the main group)"
)
# No publication gives a 全网 distribution (the report does not): a delivered placeholder, which
# says so in its source.
INTERNET_SOURCE = "illustrative (no 全网 distribution published; placeholder for a delivered one)"
INTERNET_PROFILE = {
    "age": {"24岁以下": 20.0, "25-30岁": 14.0, "31-35岁": 12.0, "36岁及以上": 54.0},
    "consumption": {
        "高消费者": 6.0,
        "中高消费者": 27.0,
        "中等消费者": 38.0,
        "中低及以下消费者": 29.0,
    },
}


@pytest.fixture(scope="module")
def report_html(sample_warehouse) -> str:
    return settings.report_path(sample_warehouse.warehouse_dir).read_text(encoding="utf-8")


def cited_tables(html: str, anchor: str):
    """(tables, cites, sources lists) of a section: the figures, their citations, the lists."""
    parsed = parse(section(html, anchor))
    return parsed.tables, parsed.cites, parsed.sources


def source_of(sources: list[str], cite: str) -> list[str]:
    """The entries of a sources list a citation such as "2,3*" refers to."""
    numbers = re.match(r"[\d,]+", cite).group(0).split(",")
    return [sources[int(n) - 1] for n in numbers]


def test_kinds_follow_the_source_text_and_computed_figures_inherit_illustrative():
    assert delivered("易观千帆 (report April 2025)").kind == PUBLISHED
    assert delivered("derived: 2.32亿 / 1.0865 (report ...)").kind == DERIVED
    assert delivered("illustrative (report: above 2.25亿)").kind == ILLUSTRATIVE
    assert delivered("followers: report text; notes illustrative").kind == ILLUSTRATIVE
    published = delivered("易观千帆 (report April 2025)")
    assert derived("a ÷ b", published, published).kind == DERIVED
    assert derived("a ÷ b", published, "illustrative (x)").kind == ILLUSTRATIVE
    # summed figures carry their sources joined by " | ": each is listed once
    assert delivered("a | 易观千帆 | a").sources == ("a", "易观千帆")


def test_every_figure_of_the_platform_table_cites_its_source_and_mark(report_html):
    tables, cites, [sources] = cited_tables(report_html, "reach")
    [table], [cited] = tables, cites
    header, rows = (
        table[0],
        {row[1]: (row, cite) for row, cite in zip(table[1:], cited[1:], strict=True)},
    )
    for month, (row, cite) in rows.items():
        for column in range(2, len(header)):
            if row[column] != "—":
                assert re.fullmatch(r"\d+(,\d+)*[*†]?", cite[column]), (month, header[column])
                assert all(int(n) <= len(sources) for n in re.findall(r"\d+", cite[column]))
    mau = header.index("月活（人）")
    # 2025-02 and 2025-03 are illustrative, 2025-01 published, 2024-12 derived from a growth rate
    row, cite = rows["2025-02"]
    assert row[mau] == "2.28亿" and cite[mau].endswith("*")
    assert source_of(sources, cite[mau]) == [
        "* illustrative (report: above 2.25亿 each month of 2025 Q1)"
    ]
    row, cite = rows["2025-01"]
    assert row[mau] == "2.32亿" and cite[mau].isdigit()
    assert source_of(sources, cite[mau]) == ["已发布：易观千帆 (report April 2025)"]
    assert rows["2024-12"][1][mau].endswith("†")
    # the 1.97× MAU ratio is computed from the illustrative 2025-01 card-app industry MAU
    ratio = header.index("对比信用卡APP整体（倍）")
    row, cite = rows["2025-01"]
    assert row[ratio] == "1.97×" and cite[ratio].endswith("*")
    assert "* illustrative (report: 1.13亿–1.19亿 over 2024; 1.20亿 in 2025-03)" in source_of(
        sources, cite[ratio]
    )
    # a growth rate computed from a published and a derived MAU is derived, not illustrative
    assert rows["2025-01"][1][header.index("环比（%）")].endswith("†")
    # the published age shares are derived from published figures only: the sample's
    # illustrative active-period distribution of the same app and month is not theirs
    under_35 = header.index("35岁及以下（占用户 %）")
    row, cite = rows["2025-01"]
    assert row[under_35] == "86.80%" and cite[under_35].endswith("†"), cite[under_35]
    assert not any("active-period" in source for source in source_of(sources, cite[under_35]))


def test_the_mau_chart_draws_illustrative_and_derived_points_apart(sample_run):
    report = build_report(
        sample_run.analytics_path, QualitySummary(scope="none", checks=[]), sample_run.warehouse_dir
    )
    [chart] = [c for c in report.charts if c.key == "mau_vs_card_industry"]
    series = dict(re.findall(r'<g data-series="([^"]+)">(.*?)</g>', chart.svg, re.S))
    platform, industry = series["小红书"], series["信用卡APP整体"]
    illustrative = r'<circle [^>]*data-kind="illustrative"><title>([^<]*)</title>'
    assert re.findall(illustrative, platform) == [
        "小红书 2025-02: 2.28亿 (illustrative)",
        "小红书 2025-03: 2.27亿 (illustrative)",
    ]
    assert len(re.findall(illustrative, industry)) == 4  # every month but 2025-03
    assert "2025-03: 1.2亿</title></circle>" in industry  # the published one is a plain dot
    assert platform.count('data-kind="derived"') == 2  # 2024-01 and 2024-12
    assert "2.27亿*" in platform  # the end label carries the mark
    assert "* 示意数据" in chart.svg and "† 推算数据" in chart.svg  # legend


def test_the_tgi_section_names_its_baseline_and_marks_it_illustrative(report_html):
    audience = section(report_html, "audience")
    [baseline_note] = re.findall(r'<p class="note">(TGI 基准：.*?)</p>', audience, re.S)
    assert "信用卡APP整体 (all credit-card apps together)（应用 信用卡APP整体" in baseline_note
    assert CARD_INDUSTRY_PROFILE in baseline_note and "示意（illustrative） *" in baseline_note
    tables, cites, sources = cited_tables(report_html, "audience")
    age, _consumption = tables
    assert age[0][1:] == [
        "小红书（占其用户 %）",
        "基准 信用卡APP整体（占其用户 %）",
        "TGI（对比信用卡APP整体）",
    ]
    assert age[1] == ["24岁以下", "44.74%", "30.10%", "149"]
    share, baseline_share, tgi = cites[0][1][1:]
    assert share.isdigit()  # as 易观千帆 published it
    assert baseline_share.endswith("*") and tgi.endswith("*")
    assert source_of(sources[0], tgi) == [
        "已发布：易观千帆 (report April 2025)",
        f"* {CARD_INDUSTRY_PROFILE}",
    ]
    for table in cites:  # every TGI is against the illustrative baseline
        assert [row[3] for row in table[1:]] and all(row[3].endswith("*") for row in table[1:])
    # the charts: 8 baseline bars drawn pale, each TGI with the mark
    assert audience.count('data-kind="illustrative"') == 8
    assert len(re.findall(r">TGI \d+\*<", audience)) == 8


def test_the_accounts_and_scores_cite_their_sources(report_html):
    tables, cited, sources_lists = cited_tables(report_html, "accounts")
    [leaderboard], [cites] = tables, cited
    sources = sources_lists[0]  # the table's; the follower chart's list follows
    header = leaderboard[0]
    followers, growth = (
        header.index("粉丝数（人）"),
        header.index("粉丝增长（% / 周；括号内为取整允许的范围）"),
    )
    zhaohang = next(i for i, row in enumerate(leaderboard) if row[1] == "招商银行信用卡申请")
    assert cites[zhaohang][followers].isdigit()  # the April 2025 snapshot, as published
    # growth since 2024-12-31, whose notes and likes are illustrative
    assert cites[zhaohang][growth].endswith("*")
    assert any("taken as this account" in s for s in source_of(sources, cites[zhaohang][growth]))
    for row, cite in zip(leaderboard[1:], cites[1:], strict=True):
        assert cite[followers], row[1]
    scores = parse(section(report_html, "scores"))
    # one table: the sample's one content platform has too few peers for a platform score
    [account_scores], [score_cites] = scores.tables, scores.cites
    score = account_scores[0].index("得分（0–100）")
    marks = {
        row[0]: cite[score] for row, cite in zip(account_scores[1:], score_cites[1:], strict=True)
    }
    assert marks["招商银行信用卡申请"].endswith("*") and marks["中信银行信用卡"].endswith("†")


def test_audience_profile_names_the_baseline_and_the_sources_of_each_tgi(sample_run):
    [(baseline, label, app, baseline_sources, tgi, tgi_source)] = query(
        sample_run,
        "SELECT baseline, baseline_label, baseline_app, baseline_sources, tgi, tgi_source"
        " FROM marts.audience_profile WHERE app = '小红书' AND bucket = '24岁以下'",
    )
    assert (baseline, label, app) == (
        "card_app_industry",
        "信用卡APP整体 (all credit-card apps together)",
        "信用卡APP整体",
    )
    assert baseline_sources == CARD_INDUSTRY_PROFILE
    assert tgi == pytest.approx(44.74 / 30.10 * 100)
    assert tgi_source.startswith("derived: share_pct / baseline_share_pct × 100")
    assert "易观千帆 (report April 2025)" in tgi_source and CARD_INDUSTRY_PROFILE in tgi_source


def test_a_delivered_whole_internet_baseline_can_be_chosen_for_tgi(
    tmp_path, landing, sample_copy, warehouse
):
    """全网 delivered beside the sample: TGI stays against the default until the seed's
    is_default moves to internet_overall; then every TGI, the baseline named and the report
    change."""
    landing.csv(
        "app_audience__全网.csv",
        [
            {
                "app": "全网",
                "month": "2025-01",
                "dimension": dimension,
                "bucket": bucket,
                "share_pct": share,
                "source": INTERNET_SOURCE,
            }
            for dimension, buckets in INTERNET_PROFILE.items()
            for bucket, share in buckets.items()
        ],
    )
    result = run_pipeline()
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    tgi_of_under_24 = (
        "SELECT baseline, baseline_label, baseline_app, baseline_share_pct, tgi, tgi_source"
        " FROM marts.audience_profile WHERE app = '小红书' AND bucket = '24岁以下'"
    )
    [(baseline, *_rest, tgi, _source)] = query(warehouse, tgi_of_under_24)
    assert baseline == "card_app_industry" and tgi == pytest.approx(44.74 / 30.10 * 100)

    with duckdb.connect(str(warehouse.database_path)) as conn:
        conn.execute(
            "UPDATE reference.audience_baselines"
            " SET is_default = (baseline_code = 'internet_overall')"
        )
    build = cardreach_dbt(warehouse.warehouse_dir, "build", "--select", "audience_profile")
    assert build.returncode == 0, build.stdout[-3000:]
    [(baseline, label, app, share, tgi, source)] = query(warehouse, tgi_of_under_24)
    assert (baseline, label, app, share) == (
        "internet_overall",
        "全网 (all internet users)",
        "全网",
        20.0,
    )
    assert tgi == pytest.approx(44.74 / 20.0 * 100)
    assert source.endswith(f"baseline internet_overall (全网): {INTERNET_SOURCE}")

    # the report of that publication names 全网 and marks its TGIs illustrative
    analytics = tmp_path / "analytics.duckdb"
    shutil.copy(warehouse.analytics_path, analytics)
    with duckdb.connect(str(analytics)) as conn:
        conn.execute(f"ATTACH '{warehouse.database_path}' AS pipeline (READ_ONLY)")
        for table in ("marts.audience_profile", "reference.audience_baselines"):
            conn.execute(f"CREATE OR REPLACE TABLE {table} AS FROM pipeline.{table}")
    html = build_report(analytics, QualitySummary(scope="none", checks=[]), tmp_path).html
    audience = section(html, "audience")
    # a baseline is what the profiles are compared with, not a profile of its own
    assert re.findall(r"<h3>(.*?)</h3>", audience) == ["小红书，2025-01"]
    [baseline_note] = re.findall(r'<p class="note">(TGI 基准：.*?)</p>', audience, re.S)
    assert "全网 (all internet users)（应用 全网" in baseline_note
    assert INTERNET_SOURCE in baseline_note
    age, _consumption = parse(audience).tables
    assert age[0][3] == "TGI（对比全网）"
    assert age[1] == ["24岁以下", "44.74%", "20.00%", "224"]
