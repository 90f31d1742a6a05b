"""The report asset on the shipped sample: one self-contained HTML file, charts inline."""

import base64
import re
import subprocess
import sys
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import settings
from orchestration.defs.report.charts import FONT_STACK, Bars, Line, bar_chart, line_chart
from orchestration.defs.report.document import (
    CHARTED_ACCOUNTS,
    TOP_ACCOUNTS,
    CheckOutcome,
    QualitySummary,
    _months_between,
    build_report,
)
from orchestration.defs.report.render import TEMPLATES

REPORT_KEY = dg.AssetKey(["publish", "report"])
# The sample has one content platform, one profiled app (age and consumption), one platform of
# accounts: MAU, 2 audience charts, followers, account scores, platform scores; one account with
# notes in series (中信's three collections; 招行's notes are in none).
SAMPLE_CHARTS = {
    "content_series_1",
    "mau_vs_card_industry",
    "audience_1_age",
    "audience_2_consumption",
    "followers_1",
    "account_scores_1",
    # no "platform_scores": the sample has one content platform, too few peers for a score
}


@pytest.fixture
def sample_report(sample_pipeline, sample_run):
    """The shared `cardreach_daily` run on the sample: the warehouse, the run and the report's
    event."""
    warehouse, result = sample_pipeline
    [event] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == REPORT_KEY
    ]
    return warehouse, result, event


class Tables(HTMLParser):
    """The text of every table cell, per table and row, and every src/href attribute. A cell's
    citation (its source numbers and mark) is kept apart, in `cites` (same shape as `tables`),
    so that `tables` holds the figures as formatted; `sources` has each table's sources list."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cites: list[list[list[str]]] = []
        self.sources: list[list[str]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._cite: list[str] | None = None
        self._in_cite = 0
        self._item: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href", "xlink:href") and v]
        if tag == "table":
            self.tables.append([])
            self.cites.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
            self.cites[-1].append([])
        elif tag in ("td", "th"):
            self._cell, self._cite = [], []
        elif tag == "sup" or (tag == "span" and "mark" in attributes.get("class", "")):
            self._in_cite += 1
        elif tag == "ol" and "sources" in attributes.get("class", ""):
            self.sources.append([])
        elif tag == "li" and self.sources:
            self._item = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self.cites[-1][-1].append("".join(self._cite).strip())
            self._cell = self._cite = None
        elif tag in ("sup", "span") and self._in_cite:
            self._in_cite -= 1
        elif tag == "li" and self._item is not None:
            self.sources[-1].append("".join(self._item).strip())
            self._item = None

    def handle_data(self, data):
        if self._cell is not None:
            (self._cite if self._in_cite else self._cell).append(data)
        elif self._item is not None:
            self._item.append(data)


def parse(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


def section(html: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', html, re.S)
    assert match, f"no section {anchor}"
    return match.group(1)


def test_the_report_is_one_self_contained_file(sample_report):
    warehouse, _result, _event = sample_report
    path = settings.report_path(warehouse.warehouse_dir)
    html = path.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in html
    links = parse(html).links
    assert not [link for link in links if re.match(r"\s*(https?:)?//", link)], links
    assert "<script" not in html  # nothing to fetch or run
    assert "@import" not in html and "url(" not in html  # no web fonts, no remote stylesheets
    assert "Noto Sans CJK SC" in html
    assert set(re.findall(r'<svg [^>]*data-chart="([^"]+)"', html)) == SAMPLE_CHARTS
    assert html.count("<svg") == len(SAMPLE_CHARTS)
    # no temporary file left beside it: the report and the quality page it links to
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        [settings.REPORT_FILE.name, settings.QUALITY_PAGE_FILE.name]
    )


def test_the_leaderboard_lists_the_accounts_by_followers(sample_report):
    warehouse, _result, _event = sample_report
    html = (settings.report_path(warehouse.warehouse_dir)).read_text(encoding="utf-8")
    [leaderboard] = parse(section(html, "accounts")).tables
    header, first, second = leaderboard[:3]
    assert header[:4] == ["排名", "账号", "银行", "粉丝数（人）"]
    assert first[:5] == ["1", "中信银行信用卡", "中信银行", "12.7万", "腰部 (5万–50万)"]
    assert second[1] == "宁波银行信用卡"
    assert len(leaderboard) == 1 + 7


def test_presence_counts_the_banks_against_the_market(sample_report):
    """The report's own sentence, computed: 4 of the 6 state-owned banks, each figure cited with
    the regulator's count as its source; a bank type with no account shows 0."""
    warehouse, _result, _event = sample_report
    html = settings.report_path(warehouse.warehouse_dir).read_text(encoding="utf-8")
    parsed = parse(section(html, "presence"))
    [presence] = parsed.tables
    by_type = {row[0]: row for row in presence[1:]}
    state = by_type["国有大型银行"]  # the type by its label, not its code
    assert state[1:3] == ["6 家中 4 家", "66.7%"]
    assert state[3] == "中国农业银行, 中国工商银行, 中国银行, 交通银行"
    assert by_type["其他银行"][1] == "0 家（市场总数未知）"
    assert any("国有大型商业银行 6家" in source for source in parsed.sources[0])


def test_growth_shows_its_rounding_range_and_scores_say_what_did_not_count(sample_report):
    """招行 4.2万 → 4.3万 is a real increase: its growth carries the range the rounding allows
    (not "within rounding"); its growth percentile, among 1 account, is shown but not counted,
    and so is its content percentile, among the 2 accounts with notes."""
    warehouse, _result, _event = sample_report
    html = settings.report_path(warehouse.warehouse_dir).read_text(encoding="utf-8")
    [leaderboard] = parse(section(html, "accounts")).tables
    header = leaderboard[0]
    cmb = next(row for row in leaderboard if row[1] == "招商银行信用卡申请")
    growth = cmb[header.index("粉丝增长（% / 周；括号内为取整允许的范围）")]
    assert growth == "+0.15%（+0.00%–+0.31%）"
    scores = parse(section(html, "scores")).tables[0]
    cmb_score = next(row for row in scores if row[0] == "招商银行信用卡申请")
    assert cmb_score[2] == "79.9"
    # components by their labels in reference.category_codes (粉丝增长 is growth's)
    assert cmb_score[scores[0].index("粉丝增长（百分位）")] == "50.0（不计入：仅 1 个同业）"
    # content like the others: 招行's new notes earn more than 中信's, the only other account
    # with notes, and 2 peers are too few to count
    content = scores[0].index("新笔记互动（百分位）")
    assert cmb_score[content] == "75.0（不计入：仅 2 个同业）"
    citic_score = next(row for row in scores if row[0] == "中信银行信用卡")
    assert citic_score[content] == "25.0（不计入：仅 2 个同业）"
    # the one content platform has no peers to be scored against, and the report says so
    assert "小红书，2025-03：没有得分；" in section(html, "scores")
    assert "月活增长仅 1 个同业（至少需 3 个）" in section(html, "scores")
    assert "无预警" in section(html, "alerts")


def test_every_number_has_its_unit_in_the_audience_charts(sample_report):
    warehouse, _result, _event = sample_report
    html = (settings.report_path(warehouse.warehouse_dir)).read_text(encoding="utf-8")
    audience = section(html, "audience")
    assert ">44.74%<" in audience and ">30.10%*<" in audience  # 小红书 vs the baseline, 24岁以下
    assert ">TGI 149*<" in audience  # against an illustrative baseline
    assert audience.count('data-highlight="true"') == 6  # 3 age + 3 consumption buckets in target


def test_the_quality_summary_counts_the_checks_of_the_run(sample_report):
    warehouse, result, event = sample_report
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    # the sample is old: the account feed's suite and every dated feed's freshness warn
    warnings = [e for e in evaluations if not e.passed]
    feeds = [w for w in warnings if w.check_name == "feed_freshness"]
    assert len(feeds) == len(settings.FEED_AGE_LIMITS)
    [warning] = [w for w in warnings if w.check_name != "feed_freshness"]
    assert warning.check_name == "ge_account_snapshot_feed"
    assert event.metadata["checks_passed"].value == len(evaluations) - len(warnings)
    assert event.metadata["checks_failed"].value == 0
    assert event.metadata["checks_warnings"].value == len(warnings)
    html = (settings.report_path(warehouse.warehouse_dir)).read_text(encoding="utf-8")
    quality = section(html, "quality")
    assert f"run {result.run_id[:8]}" in quality
    [problems] = parse(quality).tables
    # a warning in sentences: what the check guards (its definition's description) and what it
    # found (the evaluation's); its name stays in the UI
    [row] = [r for r in problems[1:] if r[1] == "intermediate/int_snapshot_coverage"]
    assert row == ["警告", "intermediate/int_snapshot_coverage", warning.description]
    assert "ge_account_snapshot_feed" not in row
    assert "最新快照距今" in warning.description and "上限 45 天" in warning.description
    assert 'href="quality.html"' in quality


def test_the_metadata_has_the_path_and_a_picture_of_each_chart(sample_report):
    warehouse, _result, event = sample_report
    path = settings.report_path(warehouse.warehouse_dir)
    assert event.metadata["path"].value == str(path)
    assert event.metadata["url"].value == settings.report_url(path, warehouse.warehouse_dir)
    assert event.metadata["url"].value.startswith("http://127.0.0.1:")
    images = {k: v.value for k, v in event.metadata.items() if k.startswith("chart_")}
    assert set(images) == {f"chart_{key}" for key in SAMPLE_CHARTS}
    for markdown in images.values():
        match = re.fullmatch(
            r"!\[([^\]]+)\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", markdown
        )
        assert match, markdown[:80]
        svg = base64.b64decode(match.group(2)).decode("utf-8")
        assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
        assert match.group(1) in svg  # the title is drawn in the picture


def test_the_report_alone_summarizes_the_latest_check_of_each(sample_copy):
    """Materialized on its own (no check in its run), it reports each check's latest result."""
    from orchestration.defs.report.assets import report

    result = dg.materialize([report], resources={"warehouse": sample_copy})
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["checks_passed"].value == 0  # a fresh instance
    html = (settings.report_path(sample_copy.warehouse_dir)).read_text(encoding="utf-8")
    assert "未执行检查" in section(html, "quality")


def copy_of_publication(warehouse, target, marts_empty: bool = False):
    """A new analytics file at `target` with every published table of the sample run (the marts
    without rows if `marts_empty`), open for writing."""
    conn = duckdb.connect(str(target))
    conn.execute(f"ATTACH '{warehouse.analytics_path}' AS sample (READ_ONLY)")
    for schema, table in conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'sample'"
    ).fetchall():
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        keep = " LIMIT 0" if marts_empty and schema != "reference" else ""
        conn.execute(f"CREATE TABLE {schema}.{table} AS FROM sample.{schema}.{table}{keep}")
    conn.execute("DETACH sample")
    return conn


def test_a_report_of_empty_marts_says_so(sample_report, tmp_path):
    """Before any data of a kind is delivered, its section says so instead of failing the run."""
    warehouse, _result, _event = sample_report
    empty = tmp_path / "analytics.duckdb"
    copy_of_publication(warehouse, empty, marts_empty=True).close()
    report = build_report(empty, QualitySummary(scope="none", checks=[]), tmp_path)
    assert report.charts == []
    assert report.html.count('class="empty"') == 10  # alerts: "no alert" is a finding
    assert "尚未发布笔记数据" in section(report.html, "content")
    assert "尚未发布活动数据" in section(report.html, "campaigns")
    assert "尚未发布达人数据" in section(report.html, "creators")
    assert "CARDREACH_PUBLISH_CONFIDENTIAL=true" in section(report.html, "funnel")
    assert "尚未发布" in report.html


def test_the_funnel_section_shows_reach_beside_conversion_once_published(sample_report, tmp_path):
    """With the confidential marts in the analysts' copy (CARDREACH_PUBLISH_CONFIDENTIAL), each
    campaign's reach sits beside its conversion, under a CONFIDENTIAL heading."""
    warehouse, _result, _event = sample_report
    target = tmp_path / "analytics.duckdb"
    conn = copy_of_publication(warehouse, target)
    conn.execute(f"ATTACH '{warehouse.database_path}' AS pipeline (READ_ONLY)")
    conn.execute("CREATE TABLE marts.campaign_funnel AS FROM pipeline.marts.campaign_funnel")
    [(name, approvals, rate)] = conn.execute(
        "SELECT name, approvals, approvals_rate_pct FROM marts.campaign_funnel"
        " WHERE campaign_id = 'CMB-XHS-2024-09'"
    ).fetchall()
    conn.close()
    html = section(
        build_report(target, QualitySummary(scope="none", checks=[]), tmp_path).html, "funnel"
    )
    assert "机密 CONFIDENTIAL" in html and "请勿外传" in html
    assert name in unescape(html)
    assert f"{approvals:,}（{rate:.1f}%）" in html


def test_the_content_section_shows_the_series_and_hits_of_the_marts(sample_report):
    """内容表现, in Chinese and offline: 中信's collections against its notes outside any series
    (the figures of marts.account_content_mix), its hits with their age, the hit rule of the
    seed, note types as 图文/视频, every figure cited and marked illustrative like the sample."""
    warehouse, _result, _event = sample_report
    html = settings.report_path(warehouse.warehouse_dir).read_text(encoding="utf-8")
    assert '<a href="#content">内容表现</a>' in html
    content = section(html, "content")
    parsed = parse(content)
    assert not [link for link in parsed.links if not link.startswith("#")], parsed.links
    analytics = duckdb.connect(str(warehouse.analytics_path), read_only=True)
    with analytics:
        [(multiple, window, minimum)] = analytics.execute(
            "SELECT multiple_of_median, window_days, min_baseline_notes FROM reference.hit_rules"
        ).fetchall()
        mix = analytics.execute(
            "SELECT strftime(month, '%Y-%m'), series, in_series, notes_published, interactions,"
            " median_interactions_per_note, hit_notes, notes_with_hit_verdict, hit_rate_pct,"
            " share_of_account_interactions_pct FROM marts.account_content_mix"
            " WHERE account_name = '中信银行信用卡'"
            " ORDER BY month DESC, in_series DESC, interactions DESC, series"
        ).fetchall()
        # the verdict at each note's latest snapshot (a hit once may not be one now)
        hits = analytics.execute(
            "SELECT title, series, age_days, interactions FROM (FROM marts.note_performance"
            " WHERE account_name = '中信银行信用卡'"
            " QUALIFY snapshot_date = max(snapshot_date) OVER (PARTITION BY note_id))"
            " WHERE is_hit ORDER BY interactions DESC"
        ).fetchall()
        themes = analytics.execute(
            "SELECT theme_label, notes, index_vs_peers, peer_median_age_days"
            " FROM marts.content_themes"
            " WHERE account_name = '中信银行信用卡'"
        ).fetchall()
        periods = analytics.execute(
            "SELECT active_period_label, audience_active_share_pct, notes_share_pct,"
            " notes_in_period FROM marts.posting_vs_active_periods"
            " WHERE account_name = '中信银行信用卡'"
            " AND month = (SELECT max(month) FROM marts.posting_vs_active_periods"
            " WHERE account_name = '中信银行信用卡') ORDER BY active_period_order"
        ).fetchall()
        note_types = analytics.execute(
            "SELECT DISTINCT note_type FROM marts.note_performance"
            " WHERE account_name = '中信银行信用卡'"
        ).fetchall()
    assert f"笔记互动量 ≥ {multiple:g} × 该账号在此笔记发布前 {window} 天内" in content
    assert f"少于 {minimum} 篇笔记构成基准" in content
    assert "互动量 = 点赞 + 收藏 + 评论" in content
    assert "本账号的互动量计入：点赞 + 收藏 + 评论（未交付分享数）" in content

    series_table, themes_table, hits_table = parsed.tables[:3]
    assert series_table[0][:3] == ["发布月份", "合集", "笔记数（篇）"]
    assert len(mix) == 3 * 4  # the sample's three months, three collections and the rest
    expected = [
        [
            r[0],
            r[1] if r[2] else "合集外（未归入任何合集）",
            str(r[3]),
            f"{r[4]:,.0f}",
            f"{r[5]:,.0f}",
            f"{r[6]} / {r[7]}",
            "—" if r[8] is None else f"{r[8]:.1f}%",
            f"{r[9]:.1f}%",
        ]
        for r in mix
    ]
    assert series_table[1:] == expected
    assert {"信用卡避坑指南", "羊毛天天捡", "哪些信用卡值得办"} <= {row[1] for row in expected}
    # every figure is cited, and marked: the sample's notes are illustrative
    cites = parsed.cites[0][1:]
    assert all(cell.endswith("*") for row in cites for cell in row[3:5])
    assert any("illustrative" in source for source in parsed.sources[0])

    header = hits_table[0]
    listed = {row[0]: row for row in hits_table[1:]}
    assert hits and len(hits) <= len(listed)
    for title, series, age_days, interactions in hits:
        row = listed[title]
        assert row[header.index("爆文")] == "是"
        assert row[header.index("笔记龄（天）")] == str(age_days)
        assert row[header.index("互动量")] == f"{interactions:,}"
        assert row[header.index("合集")] == (series or "合集外（未归入任何合集）")
    verdicts = [row[header.index("爆文")] for row in hits_table[1:]]
    assert verdicts[: len(hits)] == ["是"] * len(hits) and "是" not in verdicts[len(hits) :]
    # the themes: one row per theme of the account, by its Chinese label, with its index and the
    # peers' notes' median age beside their median
    assert themes_table[0][0] == "主题"
    peer_age = themes_table[0].index("同业笔记龄中位数（天）")
    assert themes_table[0][peer_age - 1].startswith("同业每篇互动量中位数")
    assert sorted((row[0], row[1]) for row in themes_table[1:]) == sorted(
        (label, str(notes)) for label, notes, _, _ in themes
    )
    indexed = {label: (index, age) for label, _, index, age in themes}
    assert any(index is not None for index, _ in indexed.values())
    assert any(age is not None for _, age in indexed.values())
    for row in themes_table[1:]:
        index, age = indexed[row[0]]
        assert row[-1].rstrip("*†") == ("—" if index is None else f"{index:,.0f}")
        assert row[peer_age] == ("—" if age is None else f"{age:,.0f}")
    # the two sides count different things in the sample (招商 delivers shares): said once
    assert "同业计入点赞 + 收藏 + 评论 + 分享（口径不同）" in content
    # an account whose notes are in no collection says so
    assert "该账号的笔记都不在合集中" in content
    # the posting rhythm: each active period, the latest month's share of notes (with the count
    # of notes it rests on) beside the period's share of the audience's activity; the notes and
    # the audience figures are illustrative in the sample, so each share and difference is marked
    rhythm = parsed.tables[3]
    assert rhythm[0][0] == "时段" and "平台用户活跃占比" in rhythm[0][-2]
    assert [(row[0], row[-3], row[-2]) for row in rhythm[1:]] == [
        (label, f"{share:.1f}%（{notes} 篇）", f"{audience:.1f}%")
        for label, audience, share, notes in periods
    ]
    assert all(cell.endswith("*") for row in parsed.cites[3][1:] for cell in row[1:])
    assert "表中只列出有带时刻笔记的月份" in content
    assert "不完整：该账号笔记的快照只到 2025-04-17" in content
    # types by their Chinese labels, never their codes
    types = {row[header.index("类型")] for row in hits_table[1:]}
    assert types <= {"图文", "视频"} and {code for (code,) in note_types} == {"image", "video"}
    assert "(no series)" not in content and ">image<" not in content and ">video<" not in content
    assert re.findall(r'<svg [^>]*data-chart="([^"]+)"', content) == ["content_series_1"]


def test_the_readme_queries_run_on_the_published_sample(sample_report):
    """Every query of the README's analyst examples runs on the published sample and finds rows:
    an example that fails or answers nothing teaches nothing."""
    warehouse, _result, _event = sample_report
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    analysts = readme[
        readme.index("## For analysts") : readme.index("\n## ", readme.index("## For analysts") + 3)
    ]
    [block] = re.findall(r"```sql\n(.*?)```", analysts, re.S)
    queries = [q for q in block.split(";\n") if q.strip()]
    assert len(queries) >= 10
    with duckdb.connect(str(warehouse.analytics_path), read_only=True) as analytics:
        empty = [q for q in queries if not analytics.execute(q).fetchall()]
    assert empty == []


def test_the_readme_commands_for_analysts_run_as_written(sample_report, tmp_path):
    """Every command of the README's analyst section runs as written, from a project folder
    whose `data/warehouse` is the published sample: the DuckDB CLI `make` installs (at the
    version of the duckdb module, so that it opens the pipeline's files) and the Python line."""
    warehouse, _result, _event = sample_report
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("## For analysts")
    analysts = readme[start : readme.index("\n## ", start + 3)]
    [block] = re.findall(r"```bash\n(.*?)```", analysts, re.S)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) >= 3
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (project / "data" / "warehouse").symlink_to(warehouse.analytics_path.parent)
    cli = subprocess.run(
        [str(settings.DUCKDB_CLI), "--version"], capture_output=True, text=True, check=True
    )
    assert cli.stdout.split()[0] == f"v{duckdb.__version__}"
    for command in commands:
        # stdin closed: the interactive CLI reads no statement and leaves
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=project,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and not done.stderr.strip(), (command, done.stderr)
        if " -c " in command:
            assert done.stdout.strip(), command  # a query that answers
    published = subprocess.run(
        ["bash", "-c", commands[1]], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    assert "published_at" in published


def test_charts_escape_labels_and_survive_a_lone_point():
    chart = line_chart(
        "lone",
        "A <b> & c",
        [Line("x<y", [(date(2025, 4, 17), 5.0)])],
        y_title="count",
        y_format=str,
    )
    assert "A &lt;b&gt; &amp; c" in chart.svg and "<b>" not in chart.svg
    assert "<circle" in chart.svg and "<polyline" not in chart.svg
    bars = bar_chart(
        "bars",
        "bars",
        ["a", "b"],
        [Bars("s", [1.0, None])],
        x_title="count",
        value_format=str,
    )
    assert ">无<" in bars.svg


def test_a_platform_with_thousands_of_accounts_shows_the_leading_ones(sample_report, tmp_path):
    """Many accounts: the tables, score chart and follower chart show the leading ones, say so,
    and the page stays small enough to send."""
    warehouse, _result, _event = sample_report
    many = tmp_path / "analytics.duckdb"
    with copy_of_publication(warehouse, many) as conn:
        # 49 more copies of each of the sample's 7 accounts, ranked after the originals
        for table, replace in [
            ("account_latest", ", a.follower_rank + 100 * i AS follower_rank"),
            ("account_performance", ""),
            ("account_scores", ""),
        ]:
            conn.execute(
                f"INSERT INTO marts.{table} SELECT a.* REPLACE"
                f" (a.account_name || ' #' || i AS account_name{replace})"
                f" FROM marts.{table} AS a, range(1, 50) AS r(i)"
            )
    report = build_report(many, QualitySummary(scope="none", checks=[]), tmp_path)
    accounts, scores = section(report.html, "accounts"), section(report.html, "scores")
    [leaderboard] = parse(accounts).tables
    assert len(leaderboard) == 1 + TOP_ACCOUNTS
    assert leaderboard[1][:2] == ["1", "中信银行信用卡"]
    assert f"粉丝数最多的 {TOP_ACCOUNTS} 个账号（共 350 个）" in accounts
    [followers] = [c for c in report.charts if c.key == "followers_1"]
    assert followers.svg.count("<g data-series=") == CHARTED_ACCOUNTS
    account_scores = parse(scores).tables[0]
    assert len(account_scores) == 1 + TOP_ACCOUNTS
    assert f"得分最高的 {TOP_ACCOUNTS} 个账号（共 350 个）" in scores
    [chart] = [c for c in report.charts if c.key == "account_scores_1"]
    assert chart.svg.count(">得分 ") == TOP_ACCOUNTS  # each row ends with its total
    # a page to send by mail: 350 accounts add no more than the leading ones; the sample's
    # campaigns (24) and creators (8) add about 30K of the 250K, with one citation per row
    assert len(report.html) < 250_000


HOSTILE = """<script>alert("x")</script><img src=x onerror=alert(1)> & 'quoted'"""


def test_delivered_text_is_escaped_everywhere_in_the_page(sample_report, tmp_path):
    """An account name, a bank and a check's messages holding markup show as text, never run."""
    warehouse, _result, _event = sample_report
    hostile = tmp_path / "analytics.duckdb"
    with copy_of_publication(warehouse, hostile) as conn:
        for table in ("account_latest", "account_performance", "account_scores"):
            conn.execute(
                f"UPDATE marts.{table} SET account_name = ? WHERE account_name = '中信银行信用卡'",
                [HOSTILE],
            )
        conn.execute("UPDATE marts.account_latest SET bank = ? WHERE bank = '中信银行'", [HOSTILE])
        # a note's title and a collection's name are delivered text too (table cells, chart rows)
        conn.execute("UPDATE marts.note_performance SET title = ? WHERE is_hit", [HOSTILE])
        for table in ("note_performance", "account_content_mix"):
            conn.execute(
                f"UPDATE marts.{table} SET series = ? WHERE series = '羊毛天天捡'", [HOSTILE]
            )
    check = CheckOutcome(HOSTILE, "ge_suite", passed=False, severity="ERROR", description=HOSTILE)
    report = build_report(hostile, QualitySummary(scope=HOSTILE, checks=[check]), tmp_path)
    html = report.html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    [leaderboard] = parse(section(html, "accounts")).tables
    assert leaderboard[1][1:3] == [HOSTILE, HOSTILE]  # the text itself, back from the entities
    account_scores = parse(section(html, "scores")).tables[0]
    assert HOSTILE in [row[0] for row in account_scores]
    quality = section(html, "quality")
    [problems] = parse(quality).tables
    assert problems[1] == ["失败", HOSTILE, HOSTILE]
    [note] = re.findall(r'<p class="note">(.*?)</p>', quality, re.S)
    assert unescape(note) == HOSTILE + "。"
    # the follower chart draws the name too: escaped there by the chart engine
    [followers] = [c for c in report.charts if c.key == "followers_1"]
    assert "<script" not in followers.svg and "&lt;script&gt;" in followers.svg
    content = parse(section(html, "content"))
    assert HOSTILE in [row[0] for row in content.tables[2]]  # a hit's title
    assert HOSTILE in [row[1] for row in content.tables[0]]  # the collection
    [series] = [c for c in report.charts if c.key == "content_series_1"]
    assert "<script" not in series.svg and "&lt;script&gt;" in series.svg


def test_the_stylesheet_is_inlined_from_its_file(sample_report):
    """Every rule of report.css is in the page's <style>, with the charts' font stack as CSS
    (quotes, not HTML entities), and no template syntax or link to another file is left."""
    warehouse, _result, _event = sample_report
    html = settings.report_path(warehouse.warehouse_dir).read_text(encoding="utf-8")
    [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    css = re.sub(r"\{#.*?#\}", "", css, flags=re.S)  # the template's own comment
    rules = [line for line in css.splitlines() if line.strip() and "{{" not in line]
    assert len(rules) > 20
    assert [rule for rule in rules if rule not in style] == []
    assert f"font-family: {FONT_STACK};" in style
    assert "{{" not in style and "{#" not in style and "&#39;" not in style
    assert "<link" not in html


def test_a_range_says_which_bound_a_censored_count_leaves_open():
    from orchestration.defs.report.document import MISSING, _with_range

    assert _with_range("+0.15%", "+0.00%", "+0.31%") == "+0.15%（+0.00%–+0.31%）"
    assert _with_range("+5.20%", "+1.10%", MISSING) == "+5.20%（至少 +1.10%）"
    assert _with_range("-3.00%", MISSING, "-1.00%") == "-3.00%（至多 -1.00%）"
    assert _with_range(MISSING, "+1.00%", "+2.00%") == MISSING


def test_the_months_a_rhythm_table_skips_are_counted_across_a_year_end():
    """The note under the rhythm table names the months without a timed note between the first
    month shown and the latest snapshot: every calendar month, both ends included."""
    assert _months_between(date(2024, 11, 1), date(2025, 2, 17)) == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]
    assert _months_between(date(2025, 4, 1), date(2025, 4, 17)) == [date(2025, 4, 1)]


def visible_text(html: str) -> str:
    """What a reader sees: the page's text without its stylesheet, markup or tooltips."""
    html = re.sub(r"<(style|title)>.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_report_shows_labels_never_codes_and_its_times_in_the_readers_zone(
    sample_report, tmp_path, monkeypatch
):
    """Every code the seed labels (bank types, app categories, audience dimensions, score
    components, target segments) shows as its Chinese label; the delivered sources quote what
    they quote. The times are on the readers' clock, the zone named, CARDREACH_TIMEZONE obeyed."""
    warehouse, _result, _event = sample_report
    html = settings.report_path(warehouse.warehouse_dir).read_text(encoding="utf-8")
    # the sources lists quote delivered text as it is: the rest of the page is the report's own
    own = visible_text(re.sub(r'<ol class="sources">.*?</ol>', " ", html, flags=re.S))
    with duckdb.connect(str(warehouse.analytics_path), read_only=True) as analytics:
        codes = analytics.execute(
            "SELECT code, label_zh FROM reference.category_codes WHERE category IN"
            " ('bank_type', 'app_category', 'audience_dimension', 'score_component',"
            " 'target_segment')"
        ).fetchall()
    shown = [code for code, _label in codes if re.search(rf"\b{code}\b", own)]
    assert shown == []
    labels = dict(codes)
    for code in ("joint_stock", "card_app_industry", "engagement_per_follower", "card_customer"):
        assert labels[code] in own, code
    assert "<h2>平台触达</h2>" in html and "<h2>本次运行的数据质量</h2>" in html
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert len(re.findall(rf"{stamp} \({settings.DEFAULT_TIMEZONE}\)", own)) == 2
    assert "UTC" not in own

    monkeypatch.setenv(settings.TIMEZONE_ENV, "Europe/Paris")
    paris = build_report(warehouse.analytics_path, QualitySummary(scope="", checks=[]), tmp_path)
    assert len(re.findall(rf"{stamp} \(Europe/Paris\)", paris.html)) == 2
    monkeypatch.setenv(settings.TIMEZONE_ENV, "Mars/Olympus")
    with pytest.raises(ValueError, match=settings.TIMEZONE_ENV):
        build_report(warehouse.analytics_path, QualitySummary(scope="", checks=[]), tmp_path)
