"""The cardreach report: one self-contained HTML page from the published marts.

It reads `analytics.duckdb` (read-only, the analysts' copy), never the pipeline's database, and
writes one file with its CSS and SVG charts inline: it opens from disk or an e-mail attachment
with no network. Numbers carry their unit; Chinese labels render with the CJK font stack.

This module gathers and shapes the figures: each section is a list of blocks (headings, notes,
tables of formatted text, charts) with no HTML in them; render.py and its templates draw them.
Every figure is shown with its source (provenance.py): a table cell is `cite(text, provenance)`,
numbered in the list under its table, and a chart marks its illustrative and derived values.
"""

import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import duckdb

from orchestration import settings
from orchestration.defs.report.charts import (
    PALETTE,
    Bars,
    Chart,
    Line,
    bar_chart,
    line_chart,
)
from orchestration.defs.report.provenance import (
    ILLUSTRATIVE,
    KIND_ZH,
    MARKS,
    Citations,
    Provenance,
    SourceNote,
    delivered,
    derived,
)
from orchestration.defs.report.render import render_page
from orchestration.warehouse import connection_config

# The two dimensions of the target segment the report compares against the baseline.
# (their labels are reference.category_codes', category audience_dimension)
PROFILE_DIMENSIONS = ("age", "consumption")
MISSING = "—"
# A platform can have thousands of accounts: its tables and score chart show the leading ones
# (analysts find every account in analytics.duckdb), so the page stays readable and small enough
# to send; the follower chart draws one line per colour of the palette.
TOP_ACCOUNTS = 20
CHARTED_ACCOUNTS = len(PALETTE)


# ---- what the pipeline tells the report about its own run (read from the Dagster instance) ----


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str  # ERROR or WARN: what a failure does (ERROR blocks downstream)
    description: str | None = None  # what failed, from the evaluation


@dataclass(frozen=True)
class QualitySummary:
    scope: str  # which evaluations these are, for the reader
    checks: list[CheckOutcome]
    rows_quarantined_last_ingest: int | None = None
    rows_in_quarantine: int | None = None
    quarantine_run: str | None = None
    data_docs: Path | None = None

    @property
    def failed(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed and c.severity == "ERROR"]

    @property
    def warnings(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed and c.severity != "ERROR"]

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)


@dataclass
class Report:
    html: str
    charts: list[Chart] = field(default_factory=list)


# ---- numbers with their units ----


def _trim(number: float, decimals: int) -> str:
    text = f"{number:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def persons(value: float | None) -> str:
    """A count of people the way the sources write it: 2.32亿, 12.7万, 4,300."""
    if value is None:
        return MISSING
    if abs(value) >= 1e8:
        return _trim(value / 1e8, 2) + "亿"
    if abs(value) >= 1e4:
        return _trim(value / 1e4, 1) + "万"
    return f"{value:,.0f}"


def percent(value: float | None, decimals: int = 1) -> str:
    return MISSING if value is None else f"{value:.{decimals}f}%"


def signed_percent(value: float | None, decimals: int = 2) -> str:
    return MISSING if value is None else f"{value:+.{decimals}f}%"


def number(value: float | None, decimals: int = 1) -> str:
    return MISSING if value is None else f"{value:,.{decimals}f}"


def points(value: float | None) -> str:
    return MISSING if value is None else f"{value:.1f} 个百分点"


# ---- reading the published marts ----


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params=None) -> list[dict]:
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def code_labels(conn: duckdb.DuckDBPyConnection, category: str) -> dict[str, str]:
    """{code: its Chinese label} of a category of reference.category_codes (the seed every label
    of a code comes from); a code without one shows as itself, so a new code is never hidden."""
    return dict(
        conn.execute(
            "SELECT code, label_zh FROM reference.category_codes WHERE category = ?", [category]
        ).fetchall()
    )


def _float(value) -> float | None:
    return None if value is None else float(value)


# ---- what a section is made of (templates/blocks.html draws each kind) ----


@dataclass(frozen=True)
class Heading:
    kind: ClassVar[str] = "heading"
    text: str


@dataclass(frozen=True)
class Note:
    kind: ClassVar[str] = "note"
    text: str


@dataclass(frozen=True)
class Empty:
    """Said instead of a section's content when its marts have no rows yet."""

    kind: ClassVar[str] = "empty"
    what: str
    text: str | None = None  # the whole sentence, for a section in Chinese


@dataclass(frozen=True)
class Table:
    """Formatted cells; `columns` has a letter per column: l text, r number, w wrapping text.
    A cell is text or a cited figure (provenance.Cited); `sources` lists what the citations
    number, under the table, linked by `anchor` (unique in the page)."""

    kind: ClassVar[str] = "table"
    headers: Sequence[str]
    rows: Sequence[Sequence]
    columns: str
    anchor: str = ""
    sources: Sequence[SourceNote] = ()

    def __post_init__(self):
        widths = {len(self.headers)} | {len(row) for row in self.rows}
        if widths != {len(self.columns)}:
            raise ValueError(f"a table of {len(self.columns)} columns has rows of {widths}")


@dataclass(frozen=True)
class Figure:
    """A chart, its caption, and the sources of the values it draws (numbered as in its SVG's
    tooltips when it has its own list)."""

    kind: ClassVar[str] = "figure"
    chart: Chart
    caption: str
    sources: Sequence[SourceNote] = ()


@dataclass(frozen=True)
class Section:
    anchor: str
    heading: str
    blocks: list


def _shown(shown: int, total: int, order: str, table: str) -> Note | None:
    """Says that a list is the first `shown` of `total` accounts, when it is."""
    if shown >= total:
        return None
    return Note(
        f"{order}的 {shown} 个账号（共 {total:,} 个）；全部账号见"
        f" {settings.ANALYTICS_DATABASE_FILE} 的 {table}。"
    )


# ---- the sections ----


def _point_kinds(points: list[tuple], provenance: Callable[[tuple], Provenance]) -> dict:
    """{date: kind} of the points whose value is illustrative or derived (a chart draws them so)."""
    kinds = {}
    for point in points:
        kind = provenance(point).kind
        if MARKS[kind]:
            kinds[point[0]] = kind
    return kinds


def _with_range(point: str, low: str, high: str) -> str:
    """A point estimate with the interval it lies in: "1.64亿 (1.58亿–1.89亿)"; a bound a
    censored count (10万+) leaves open is said so: "+5.2% (at least +1.1%)"."""
    if point == MISSING or (low == MISSING and high == MISSING):
        return point
    if high == MISSING:
        return f"{point}（至少 {low}）"
    if low == MISSING:
        return f"{point}（至多 {high}）"
    return f"{point}（{low}–{high}）"


def _target_share(r: dict) -> str:
    """The target share, its assumption-free bounds, and a mark when minors are counted in."""
    if r["target_share_pct"] is None:
        return MISSING
    shown = _with_range(
        percent(r["target_share_pct"]),
        percent(r["target_share_min_pct"]),
        percent(r["target_share_max_pct"]),
    )
    return shown + ("，含未满18岁" if r["target_includes_minors"] else "")


def _platform_reach(conn) -> tuple[list, list[Chart]]:
    rows = _rows(
        conn,
        "SELECT app, app_category, month, mau, mau_source FROM marts.platform_audience_fit"
        " WHERE app_category IN ('content_platform', 'card_app_industry') AND mau IS NOT NULL"
        " ORDER BY app_category DESC, app, month",
    )
    if not rows:
        return [Empty("月活", "尚未发布月活数据（marts.platform_audience_fit 为空）。")], []
    by_app: dict[tuple[str, str], list] = defaultdict(list)
    for row in rows:
        by_app[(row["app"], row["app_category"])].append(
            (row["month"], float(row["mau"]), row["mau_source"])
        )
    categories = code_labels(conn, "app_category")
    lines = [
        Line(
            # the aggregate's name is often its category's label already (信用卡APP整体)
            name=app
            if category == "content_platform" or app == categories[category]
            else f"{app}（{categories[category]}）",
            points=[(month, mau) for month, mau, _source in points_],
            dashed=category == "card_app_industry",
            kinds=_point_kinds(points_, lambda point: delivered(point[2])),
        )
        for (app, category), points_ in by_app.items()
    ]
    chart = line_chart(
        "mau_vs_card_industry",
        f"月活跃用户数：{categories['content_platform']}对比{categories['card_app_industry']}",
        lines,
        y_title="月活（MAU），人",
        y_format=persons,
        x_format=lambda d: d.strftime("%Y-%m"),
    )
    # Each figure's inputs' sources: the month's own, the months it is compared with, and the
    # card-app industry's (the card_app_industry baseline's app, as platform_audience_fit uses).
    fit = _rows(
        conn,
        "WITH fit AS (FROM marts.platform_audience_fit),"
        " industry AS (SELECT fit.month, fit.mau_source FROM fit"
        " JOIN reference.audience_baselines AS baselines ON fit.app = baselines.app"
        " WHERE baselines.baseline_code = 'card_app_industry')"
        " SELECT fit.app, fit.month, fit.mau, fit.mau_mom_pct, fit.mau_yoy_pct,"
        " fit.mau_vs_card_industry, fit.share_under_35_pct, fit.share_mid_plus_consumption_pct,"
        " fit.target_share_pct, fit.target_share_min_pct, fit.target_share_max_pct,"
        " fit.target_includes_minors, fit.est_target_reach, fit.est_target_reach_min,"
        " fit.est_target_reach_max, fit.mau_source, fit.audience_sources,"
        " previous.mau_source AS previous_month_source,"
        " last_year.mau_source AS last_year_source, industry.mau_source AS industry_source"
        " FROM fit"
        " LEFT JOIN fit AS previous ON previous.app = fit.app"
        " AND previous.month = CAST(fit.month - INTERVAL 1 MONTH AS DATE)"
        " LEFT JOIN fit AS last_year ON last_year.app = fit.app"
        " AND last_year.month = CAST(fit.month - INTERVAL 12 MONTH AS DATE)"
        " LEFT JOIN industry ON industry.month = fit.month"
        " WHERE fit.app_category = 'content_platform' ORDER BY fit.app, fit.month DESC",
    )
    cite = Citations("platform_reach")

    def cells(r: dict) -> list:
        mau = delivered(r["mau_source"])
        audience = delivered(r["audience_sources"])
        return [
            r["app"],
            r["month"].strftime("%Y-%m"),
            cite(persons(r["mau"]), mau),
            cite(
                signed_percent(r["mau_mom_pct"]),
                derived("月活 ÷ 上月月活 − 1", mau, r["previous_month_source"]),
            ),
            cite(
                signed_percent(r["mau_yoy_pct"]),
                derived("月活 ÷ 去年同月月活 − 1", mau, r["last_year_source"]),
            ),
            cite(
                MISSING
                if r["mau_vs_card_industry"] is None
                else f"{r['mau_vs_card_industry']:.2f}×",
                derived("月活 ÷ 同月信用卡APP整体月活", mau, r["industry_source"]),
            ),
            cite(
                percent(r["share_under_35_pct"], 2),
                derived("35岁及以下各年龄段占比之和", audience),
            ),
            cite(
                percent(r["share_mid_plus_consumption_pct"], 2),
                derived("高 + 中高 + 中等消费者", audience),
            ),
            cite(
                _target_share(r),
                derived(
                    "目标客群各维度占比相乘（假设相互独立）；范围 max(0, a + b − 100) 至"
                    " min(a, b) 不需此假设",
                    audience,
                ),
            ),
            cite(
                _with_range(
                    persons(r["est_target_reach"]),
                    persons(r["est_target_reach_min"]),
                    persons(r["est_target_reach_max"]),
                ),
                derived("月活 × 目标客群占比（及其范围）", mau, audience),
            ),
        ]

    table = Table(
        [
            "应用",
            "月份",
            "月活（人）",
            "环比（%）",
            "同比（%）",
            f"对比{categories['card_app_industry']}（倍）",
            "35岁及以下（占用户 %）",
            "中等及以上消费（占用户 %）",
            "目标客群占比（%，假设独立；括号内为范围）",
            "目标客群估计触达（人）",
        ],
        [cells(r) for r in fit],
        "ll" + "r" * 8,
        anchor=cite.anchor,
        sources=cite.notes,
    )
    caption = (
        "横轴：月份（按时间比例；没有交付数据的月份无点）；纵轴：月活跃用户数（人）。虚线为全部"
        f"信用卡APP的合计。空心点（{MARKS[ILLUSTRATIVE]}）为示意数据（illustrative），菱形为推算"
        "数据（derived）；各月来源见下表下方的列表。"
    )
    return [Figure(chart, caption), table], [chart]


def _audience_profiles(conn) -> tuple[list, list[Chart]]:
    # every profiled app's latest month in one query, not one per app and dimension; the
    # baselines' own apps are what the others are compared with, not profiles to show
    rows = _rows(
        conn,
        "WITH profiled AS (SELECT app, max(month) AS month FROM marts.audience_profile"
        " WHERE app NOT IN (SELECT app FROM reference.audience_baselines)"
        " AND dimension IN $dimensions GROUP BY app)"
        " SELECT app, month, dimension, bucket, share_pct, baseline_share_pct, tgi,"
        " in_target_segment, baseline, baseline_label, baseline_app, target_segment, sources,"
        " baseline_sources"
        " FROM profiled JOIN marts.audience_profile USING (app, month)"
        " WHERE dimension IN $dimensions ORDER BY app, bucket_order, bucket",
        {"dimensions": list(PROFILE_DIMENSIONS)},
    )
    if not rows:
        return [Empty("用户画像", "尚未发布用户画像（marts.audience_profile 为空）。")], []
    dimensions = code_labels(conn, "audience_dimension")
    segments = code_labels(conn, "target_segment")
    by_profile: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        by_profile[(row["app"], row["month"], row["dimension"])].append(row)
    parts, charts = [], []
    for app, month in dict.fromkeys((r["app"], r["month"]) for r in rows):
        profile = [r for r in rows if (r["app"], r["month"]) == (app, month)]
        parts.append(Heading(f"{app}，{month:%Y-%m}"))
        parts.append(_baseline_note(profile))
        for dimension in PROFILE_DIMENSIONS:
            label = dimensions[dimension]
            buckets = by_profile[(app, month, dimension)]
            if not buckets:
                continue
            baseline_app = buckets[0]["baseline_app"]
            segment = buckets[0]["target_segment"]
            key = f"audience_{len(charts) + 1}_{dimension}"
            shares = [delivered(b["sources"]) for b in buckets]
            baseline_shares = [delivered(b["baseline_sources"]) for b in buckets]
            # what tgi_source says in the mart, cited as its two inputs' sources
            tgis = [
                derived("占比 ÷ 基准占比 × 100", share, baseline_share)
                for share, baseline_share in zip(shares, baseline_shares, strict=True)
            ]
            chart = bar_chart(
                key,
                f"{app}用户{label}分布对比{baseline_app}，{month:%Y-%m}",
                [("★ " if b["in_target_segment"] else "") + b["bucket"] for b in buckets],
                [
                    Bars(
                        f"{app}（占其用户 %）",
                        [_float(b["share_pct"]) for b in buckets],
                        kinds=[p.kind for p in shares],
                    ),
                    Bars(
                        f"基准 {baseline_app}（占其用户 %）",
                        [_float(b["baseline_share_pct"]) for b in buckets],
                        color="#9aa4b1",
                        kinds=[p.kind for p in baseline_shares],
                    ),
                ],
                x_title="用户占比（%）；右侧：TGI（应用占比 ÷ 基准占比 × 100）",
                value_format=lambda v: percent(v, 2),
                tick_format=lambda v: percent(v, 0),
                category_notes=[
                    MISSING if b["tgi"] is None else f"TGI {b['tgi']:.0f}{tgi.mark}"
                    for b, tgi in zip(buckets, tgis, strict=True)
                ],
                highlighted=[bool(b["in_target_segment"]) for b in buckets],
                highlight_label=f"★ 属于{segments.get(segment, segment)}",
                legend_notes=[f"数值或 TGI 后的 {MARKS[ILLUSTRATIVE]}：示意数据（来源见下表）"]
                if any(p.kind == ILLUSTRATIVE for p in shares + baseline_shares)
                else [],
            )
            charts.append(chart)
            parts.append(
                Figure(
                    chart,
                    f"TGI 高于 100：{app}的用户在该分组中比{baseline_app}更集中。底色（★）：属于"
                    f"{segments.get(segment, segment)}的分组。浅色柱为示意数据，由其算出的 TGI"
                    " 也是示意数据。",
                )
            )
            cite = Citations(f"{key}_table")
            parts.append(
                Table(
                    [
                        f"分组（{label}）",
                        f"{app}（占其用户 %）",
                        f"基准 {baseline_app}（占其用户 %）",
                        f"TGI（对比{baseline_app}）",
                    ],
                    [
                        [
                            b["bucket"],
                            cite(percent(_float(b["share_pct"]), 2), share),
                            cite(percent(_float(b["baseline_share_pct"]), 2), baseline_share),
                            cite(MISSING if b["tgi"] is None else f"{b['tgi']:.0f}", tgi),
                        ]
                        for b, share, baseline_share, tgi in zip(
                            buckets, shares, baseline_shares, tgis, strict=True
                        )
                    ],
                    "lrrr",
                    anchor=cite.anchor,
                    sources=cite.notes,
                )
            )
    return parts, charts


def _baseline_note(profile: list[dict]) -> Note:
    """Which baseline the TGIs of a profile are taken against, and where its shares come from."""
    first = profile[0]
    sources = list(dict.fromkeys(r["baseline_sources"] for r in profile if r["baseline_sources"]))
    if not sources:
        return Note(
            f"TGI 基准：{first['baseline_label']}（应用 {first['baseline_app']}，"
            "reference.audience_baselines 的默认基准）：该月没有交付其用户画像，因此没有 TGI。"
        )
    provenance = delivered(" | ".join(sources))
    kind = provenance.kind
    return Note(
        f"TGI 基准：{first['baseline_label']}（应用 {first['baseline_app']}，"
        f"reference.audience_baselines 的默认基准）。其占比的来源：{provenance.text}"
        + (f"——{KIND_ZH[kind]} {provenance.mark}：下面每个 TGI 也是。" if provenance.mark else "。")
    )


def _presence(conn) -> tuple[list, list[Chart]]:
    """Per platform and bank type: how many of the market's banks run an account there ("4 of
    the 6 state-owned banks"), against the regulator's count, and how many accounts are sizeable."""
    rows = _rows(
        conn,
        "SELECT presence.*, codes.label_zh FROM marts.bank_presence AS presence"
        " LEFT JOIN reference.category_codes AS codes"
        " ON codes.category = 'bank_type' AND codes.code = presence.bank_type"
        " ORDER BY presence.platform, presence.banks_in_market NULLS LAST, presence.bank_type",
    )
    if not rows:
        return [Empty("账号登记", "尚未发布账号登记数据（marts.bank_presence 为空）。")], []
    parts = []
    for platform in dict.fromkeys(r["platform"] for r in rows):
        cite = Citations(f"presence_{len(parts)}")
        registry = delivered("账号登记表（数据集 accounts；各账号的来源见 staging.stg_accounts）")
        sized = derived(
            "最新快照粉丝数不低于该值的已登记账号",
            "各账号的最新快照（marts.account_latest，各有来源）",
        )
        parts.append(Heading(platform))
        parts.append(
            Table(
                [
                    "银行类型",
                    "开设账号的银行（占市场同类银行）",
                    "覆盖率（占市场同类银行 %）",
                    "开设账号的银行名单",
                    "粉丝 ≥ 1万的账号",
                    "粉丝 ≥ 10万的账号",
                ],
                [
                    [
                        r["label_zh"] or r["bank_type"],
                        cite(
                            f"{r['banks_in_market']} 家中 {r['banks_with_account']} 家"
                            if r["banks_in_market"] is not None
                            else f"{r['banks_with_account']} 家（市场总数未知）",
                            derived(
                                "登记表中开设账号的该类银行数，对比市场上该类银行总数",
                                registry,
                                r["market_source"],
                            ),
                        ),
                        cite(
                            percent(r["presence_pct"]),
                            derived(
                                "开设账号的银行数 ÷ 市场同类银行数 × 100",
                                registry,
                                r["market_source"],
                            ),
                        ),
                        r["banks_with_account_names"] or MISSING,
                        cite(str(r["accounts_over_10k"]), sized),
                        cite(str(r["accounts_over_100k"]), sized),
                    ]
                    for r in rows
                    if r["platform"] == platform
                ],
                "lrrwrr",
                anchor=cite.anchor,
                sources=cite.notes,
            )
        )
    parts.append(
        Note(
            "银行数对比的是整个市场（seed bank_market：监管公布的各类银行数），而不是登记表；"
            "登记表中有名但没有数字的账号计为已开设，但不计入粉丝数各列（按最新快照）。"
        )
    )
    return parts, []


def _leaderboard(conn) -> tuple[list, list[Chart]]:
    latest = _rows(
        conn,
        "SELECT latest.platform, latest.follower_rank, latest.account_name, latest.bank,"
        " latest.followers, latest.follower_tier_label, latest.follower_growth_weekly_pct,"
        " latest.follower_growth_weekly_pct_low, latest.follower_growth_weekly_pct_high,"
        " latest.followers_change_within_rounding, latest.likes_and_collects_per_note,"
        " latest.likes_and_collects_per_follower,"
        " latest.snapshot_date, latest.source, previous.source AS previous_source,"
        " count(*) OVER (PARTITION BY latest.platform) AS accounts_on_platform"
        " FROM marts.account_latest AS latest"
        " LEFT JOIN marts.account_performance AS previous"
        " ON previous.platform = latest.platform AND previous.account_name = latest.account_name"
        " AND previous.snapshot_date = latest.previous_snapshot_date"
        # a rank is among the accounts of its own snapshot date: the latest date's first
        " QUALIFY row_number() OVER (PARTITION BY latest.platform"
        " ORDER BY latest.snapshot_date DESC, latest.follower_rank, latest.account_name) <= ?"
        " ORDER BY latest.platform, latest.snapshot_date DESC, latest.follower_rank,"
        " latest.account_name",
        [TOP_ACCOUNTS],
    )
    if not latest:
        return [Empty("账号快照", "尚未发布账号快照（marts.account_latest 为空）。")], []
    # only the charted accounts' history leaves DuckDB: a few hundred points, not every snapshot
    history = _rows(
        conn,
        "WITH charted AS (SELECT platform, account_name FROM marts.account_latest QUALIFY"
        " row_number() OVER (PARTITION BY platform"
        " ORDER BY snapshot_date DESC, follower_rank, account_name) <= ?)"
        " SELECT platform, account_name, snapshot_date, followers, source"
        " FROM marts.account_performance"
        " SEMI JOIN charted USING (platform, account_name)"
        " WHERE followers IS NOT NULL ORDER BY platform, account_name, snapshot_date",
        [CHARTED_ACCOUNTS],
    )
    parts, charts = [], []
    for number_, platform in enumerate(dict.fromkeys(r["platform"] for r in latest), start=1):
        accounts = [r for r in latest if r["platform"] == platform]
        parts.append(Heading(platform))
        parts.append(
            _shown(
                len(accounts),
                accounts[0]["accounts_on_platform"],
                "粉丝数最多",
                "marts.account_latest",
            )
        )
        cite = Citations(f"leaderboard_{number_}")
        parts.append(
            Table(
                [
                    "排名",
                    "账号",
                    "银行",
                    "粉丝数（人）",
                    "层级",
                    "粉丝增长（% / 周；括号内为取整允许的范围）",
                    "篇均赞藏（次）",
                    "赞藏比（赞藏 ÷ 粉丝）",
                    "快照日期",
                ],
                [_leaderboard_row(r, cite) for r in accounts],
                "rllrlrrrl",
                anchor=cite.anchor,
                sources=cite.notes,
            )
        )
        by_account: dict[str, list] = defaultdict(list)
        for row in history:
            if row["platform"] == platform:
                by_account[row["account_name"]].append(
                    (row["snapshot_date"], float(row["followers"]), row["source"])
                )
        order = [r["account_name"] for r in accounts if r["account_name"] in by_account]
        chart = line_chart(
            f"followers_{number_}",
            f"{platform}官方账号粉丝数",
            [
                Line(
                    name,
                    [(day, followers) for day, followers, _source in by_account[name]],
                    kinds=_point_kinds(by_account[name], lambda point: delivered(point[2])),
                )
                for name in order
            ],
            y_title="粉丝数（人）",
            y_format=persons,
        )
        charts.append(chart)
        charted = (
            f"图中为粉丝数最多的 {len(order)} 个账号。"
            if accounts[0]["accounts_on_platform"] > CHARTED_ACCOUNTS
            else ""
        )
        points = Citations(f"followers_{number_}")
        for name in order:
            for _day, _followers, source in by_account[name]:
                points.note(delivered(source))  # numbered for the list under the chart
        parts.append(
            Figure(
                chart,
                "横轴：快照日期（按时间比例：快照间隔不均）；纵轴：粉丝数（人）。单独的点是目前只有"
                "一次快照的账号。空心点的快照来源标明示意（illustrative，其部分数字为示意），菱形为"
                "推算（derived）；所画快照的来源列在下方。" + charted,
                sources=points.notes,
            )
        )
    return parts, charts


def _leaderboard_row(r: dict, cite: Citations) -> list:
    snapshot = delivered(r["source"])
    return [
        str(r["follower_rank"]),
        r["account_name"],
        r["bank"] or "（未登记）",
        cite(persons(r["followers"]), snapshot),
        r["follower_tier_label"] or MISSING,
        cite(
            _growth(r),
            derived(
                "粉丝数对比上次快照，折算为每周；范围为显示数字取整所允许的区间",
                snapshot,
                r["previous_source"],
            ),
        ),
        cite(
            number(r["likes_and_collects_per_note"]),
            derived("（点赞 + 收藏）÷ 笔记数", snapshot),
        ),
        cite(
            number(r["likes_and_collects_per_follower"], 2),
            derived("（点赞 + 收藏）÷ 粉丝数", snapshot),
        ),
        r["snapshot_date"].isoformat(),
    ]


def _growth(r: dict) -> str:
    """Weekly follower growth with the range the displayed counts' rounding allows, and "within
    rounding" when that range contains 0 (the change may be none at all)."""
    growth = signed_percent(r["follower_growth_weekly_pct"])
    if growth == MISSING:
        return growth
    shown = _with_range(
        growth,
        signed_percent(r["follower_growth_weekly_pct_low"]),
        signed_percent(r["follower_growth_weekly_pct_high"]),
    )
    return shown + ("，在取整误差内" if r["followers_change_within_rounding"] else "")


def _alerts(conn) -> tuple[list, list[Chart]]:
    """Follower drops kept as events (a purge, a real loss): listed, never a stop. A drop that
    looks like a data error is held back by its check, so it is not in the published copy."""
    rows = _rows(
        conn,
        "SELECT * FROM marts.account_alerts"
        " ORDER BY snapshot_date DESC, platform, followers_change_pct, account_name",
    )
    if not rows:
        return [
            Note(
                "无预警：没有账号在两次快照之间的掉粉超过预警阈值（dbt 变量"
                " follower_drop_alert_pct）。"
            )
        ], []
    cite = Citations("alerts")
    table = Table(
        ["平台", "账号", "银行", "起", "止", "粉丝数", "变化（%；范围）", "原因"],
        [
            [
                r["platform"],
                r["account_name"],
                r["bank"] or "（未登记）",
                r["previous_snapshot_date"].isoformat(),
                r["snapshot_date"].isoformat(),
                cite(
                    f"{persons(r['previous_followers'])} → {persons(r['followers'])}",
                    delivered(r["source"]),
                ),
                cite(
                    _with_range(
                        signed_percent(r["followers_change_pct"]),
                        signed_percent(r["followers_change_pct_low"]),
                        signed_percent(r["followers_change_pct_high"]),
                    ),
                    derived(
                        "粉丝数 ÷ 上次快照粉丝数 − 1；范围为取整所允许的区间",
                        r["source"],
                    ),
                ),
                _alert_reason(r),
            ]
            for r in rows
        ],
        "llllrrrw",
        anchor=cite.anchor,
        sources=cite.notes,
    )
    return [table], []


def _alert_reason(r: dict) -> str:
    """Why the drop is listed, in Chinese, from the alert's verdict and figures (the mart's
    `reason` says it in English for analysts)."""
    if r["verdict"] == "likely_data_error":
        return "疑似数据错误（单位丢失或账号错误），而非清理粉丝：待更正后重新交付"
    return (
        f"{r['days_since_previous']} 天内掉粉超过预警阈值（dbt 变量 follower_drop_alert_pct）："
        "记为事件，如平台清理虚假粉丝"
    )


def _weights(conn, score: str) -> dict[str, float]:
    """The score's components and their weights (for labels), heaviest first: the score models
    have a `<component>_component` and a `<component>_contribution` column for each."""
    return {
        r["component"]: float(r["weight"])
        for r in _rows(
            conn,
            "SELECT component, weight FROM reference.score_weights WHERE score = ?"
            " ORDER BY weight DESC, component",
            [score],
        )
    }


def _contributions(
    rows: list[dict], weights: dict[str, float], labels: dict[str, str]
) -> list[Bars]:
    """Each component's points in the score, as the score model computed them (they sum to it)."""
    return [
        Bars(
            f"{labels.get(component, component)}（权重 {weight:.2f}）",
            [_float(r[f"{component}_contribution"]) for r in rows],
        )
        for component, weight in weights.items()
    ]


def _marked(label: str, provenance: Provenance) -> str:
    """A chart's category label with the mark of its figures when they are illustrative."""
    return f"{label} {provenance.mark}" if provenance.kind == ILLUSTRATIVE else label


ILLUSTRATIVE_INPUT = f"名称后的 {MARKS[ILLUSTRATIVE]}：由示意数据算出"


def _counts_notes(r: dict) -> bool:
    """Whether an account score counts its new notes (the content component), whose sources it
    then cites beside the account snapshots'."""
    return bool(r.get("content_sources")) and r.get("content_contribution") is not None


def _component(r: dict, component: str) -> str:
    """A score component's percentile; one computed among too few peers is shown but said not to
    count (its contribution is null: the score re-weights over the others)."""
    shown = number(_float(r[f"{component}_component"]))
    if shown != MISSING and r[f"{component}_contribution"] is None:
        return f"{shown}（不计入：仅 {r[f'{component}_peers']} 个同业）"
    return shown


def _scores(conn) -> tuple[list, list[Chart]]:
    parts, charts = [], []
    weights = _weights(conn, "account")
    labels = code_labels(conn, "score_component")
    # a score is derived from the account's snapshot and, for growth and activity, the one
    # before it: both rows' sources are its inputs (the peers it is ranked among have their own).
    # The accounts shown are chosen first: joined before, the whole history of snapshots went
    # into two hash tables (5.9 GB at 4x the benchmark's default size, docs/performance.md).
    # Their snapshots are then read once, by account, and kept for both joins: joined to the
    # whole table twice, the query took about 2.7 times as long at the default size.
    latest = _rows(
        conn,
        "WITH latest AS (SELECT platform, max(snapshot_date) AS snapshot_date"
        " FROM marts.account_scores GROUP BY platform),"
        " shown AS (SELECT scores.*, count(*) OVER (PARTITION BY platform) AS accounts_scored"
        " FROM marts.account_scores AS scores JOIN latest USING (platform, snapshot_date)"
        " QUALIFY row_number() OVER (PARTITION BY platform"
        " ORDER BY score DESC NULLS LAST, account_name) <= ?),"
        " history AS MATERIALIZED (SELECT platform, account_name, snapshot_date,"
        " previous_snapshot_date, source FROM marts.account_performance"
        " WHERE (platform, account_name) IN (SELECT platform, account_name FROM shown))"
        " SELECT shown.*, snapshot.source, previous.source AS previous_source"
        " FROM shown"
        " LEFT JOIN history AS snapshot USING (platform, account_name, snapshot_date)"
        " LEFT JOIN history AS previous"
        " ON previous.platform = shown.platform AND previous.account_name = shown.account_name"
        " AND previous.snapshot_date = snapshot.previous_snapshot_date"
        " ORDER BY shown.platform, shown.score DESC NULLS LAST, shown.account_name",
        [TOP_ACCOUNTS],
    )
    if not latest:
        parts.append(Empty("账号得分"))
    for number_, platform in enumerate(dict.fromkeys(r["platform"] for r in latest), start=1):
        rows = [r for r in latest if r["platform"] == platform]
        snapshot = rows[0]["snapshot_date"]
        provenances = [
            derived(
                "同平台同日已登记账号中的百分位，按 reference.score_weights 加权；来自账号本次与"
                "上次快照" + ("及其新笔记" if _counts_notes(r) else ""),
                r["source"],
                *([r["previous_source"]] if r["previous_source"] else []),
                *([r["content_sources"]] if _counts_notes(r) else []),
            )
            for r in rows
        ]
        parts.append(Heading(f"{platform}账号，{snapshot.isoformat()}"))
        parts.append(
            _shown(len(rows), rows[0]["accounts_scored"], "得分最高", "marts.account_scores")
        )
        cite = Citations(f"account_scores_{number_}_table")
        parts.append(
            Table(
                ["账号", "银行", "得分（0–100）"]
                + [f"{labels.get(c, c)}（百分位）" for c in weights]
                + [f"计入的分项（共 {len(weights)} 项）", "同业（账号数）"],
                [
                    [r["account_name"], r["bank"] or MISSING, cite(number(r["score"]), provenance)]
                    + [_component(r, c) for c in weights]
                    + [str(r["components_used"]), str(r["peers"])]
                    for r, provenance in zip(rows, provenances, strict=True)
                ],
                "llr" + "r" * len(weights) + "rr",
                anchor=cite.anchor,
                sources=cite.notes,
            )
        )
        chart = bar_chart(
            f"account_scores_{number_}",
            f"{platform}账号得分及分项，{snapshot.isoformat()}",
            [
                _marked(r["account_name"], provenance)
                for r, provenance in zip(rows, provenances, strict=True)
            ],
            _contributions(rows, weights, labels),
            x_title="各分项在 0–100 分中贡献的分数（百分位 × 权重 ÷ 计入分项的权重之和）",
            value_format=lambda v: _trim(v, 1),
            stacked=True,
            x_max=100,
            total_format=lambda v: f"得分 {v:.1f}",
            legend_notes=[ILLUSTRATIVE_INPUT]
            if any(p.kind == ILLUSTRATIVE for p in provenances)
            else [],
        )
        charts.append(chart)
        parts.append(
            Figure(
                chart,
                "每个分项是账号在同平台同日已登记账号中的百分位（0–100）；缺少的分项（首次快照没有"
                "增长，日期附近未交付笔记则没有新笔记互动），或同业少于最低数量（seed"
                " score_settings，min_peers）的分项不计入，其余分项重新加权。每个得分都是推算"
                "数字（†）；上表注明各得分的来源。",
            )
        )
    platform_weights = _weights(conn, "platform")
    categories = code_labels(conn, "app_category")
    # a platform score is derived from the app-month's MAU and audience and, for MAU growth,
    # the previous month's MAU
    platforms = _rows(
        conn,
        "SELECT scores.*, fit.mau_source, fit.audience_sources,"
        " previous.mau_source AS previous_month_source"
        " FROM marts.platform_scores AS scores"
        " LEFT JOIN marts.platform_audience_fit AS fit USING (app, month)"
        " LEFT JOIN marts.platform_audience_fit AS previous ON previous.app = scores.app"
        " AND previous.month = CAST(scores.month - INTERVAL 1 MONTH AS DATE)"
        " WHERE (scores.app, scores.month) IN"
        " (SELECT (app, max(month)) FROM marts.platform_scores WHERE score IS NOT NULL"
        " GROUP BY app) ORDER BY scores.app_category, scores.score DESC, scores.app",
    )
    parts.append(Heading("平台：最近有得分的月份"))
    if not platforms:
        unscored = _rows(
            conn,
            "SELECT * FROM marts.platform_scores"
            " QUALIFY month = max(month) OVER (PARTITION BY app) ORDER BY app",
        )
        if not unscored:
            parts.append(Empty("平台得分"))
        [(min_peers,)] = conn.execute("SELECT min_peers FROM reference.score_settings").fetchall()
        for r in unscored:
            # rows without a score say why: usually too few apps of the category to compare
            reasons = "；".join(
                f"{labels.get(c, c)}"
                + (
                    "该月无数值"
                    if r[f"{c}_component"] is None
                    else f"仅 {r[f'{c}_peers']} 个同业（至少需 {min_peers} 个）"
                )
                for c in platform_weights
                if r[f"{c}_contribution"] is None
            )
            parts.append(Note(f"{r['app']}，{r['month']:%Y-%m}：没有得分；{reasons}。"))
        return parts, charts
    provenances = [
        derived(
            "同月应用中的百分位，按 reference.score_weights 加权；来自当月月活与用户画像及上月月活",
            *[s for s in (r["mau_source"], r["audience_sources"], r["previous_month_source"]) if s],
        )
        for r in platforms
    ]
    cite = Citations("platform_scores_table")
    parts.append(
        Table(
            ["应用", "类别", "月份", "得分（0–100）"]
            + [f"{labels.get(c, c)}（百分位）" for c in platform_weights]
            + [f"计入的分项（共 {len(platform_weights)} 项）", "同业（应用数）"],
            [
                [
                    r["app"],
                    categories.get(r["app_category"], r["app_category"]),
                    r["month"].strftime("%Y-%m"),
                    cite(number(r["score"]), provenance),
                ]
                + [_component(r, c) for c in platform_weights]
                + [str(r["components_used"]), str(r["peers"])]
                for r, provenance in zip(platforms, provenances, strict=True)
            ],
            "lllr" + "r" * len(platform_weights) + "rr",
            anchor=cite.anchor,
            sources=cite.notes,
        )
    )
    chart = bar_chart(
        "platform_scores",
        "平台得分及分项，最近有得分的月份",
        [
            _marked(f"{r['app']} ({r['month']:%Y-%m})", provenance)
            for r, provenance in zip(platforms, provenances, strict=True)
        ],
        _contributions(platforms, platform_weights, labels),
        x_title="各分项在 0–100 分中贡献的分数",
        value_format=lambda v: _trim(v, 1),
        stacked=True,
        x_max=100,
        total_format=lambda v: f"得分 {v:.1f}",
        legend_notes=[ILLUSTRATIVE_INPUT]
        if any(p.kind == ILLUSTRATIVE for p in provenances)
        else [],
    )
    charts.append(chart)
    parts.append(
        Figure(
            chart,
            "分项为同类别同月应用中的百分位；某类别只有一个应用时每个分项都是 50。每个得分都是"
            "推算数字（†）；上表注明各得分的来源。",
        )
    )
    return parts, charts


# ---- the content section (内容表现): which series and notes earn an account's interactions ----

# The publication months the series table and chart show per account (the latest first); every
# month is in marts.account_content_mix.
CONTENT_MONTHS = 3
# The accounts whose content is shown per platform (the most interactions first): each takes
# several tables, so the page stays small enough to send; every account is in the marts.
CONTENT_ACCOUNTS = 5
# The notes listed per account: its hits first, then its other notes by interactions.
TOP_NOTES = 10
OUTSIDE_SERIES = "合集外（未归入任何合集）"
HIT_VERDICTS = {True: "是", False: "否", None: "无判定（基准笔记不足）"}
# interactions_definition (macros/interactions.sql) in Chinese, longest phrase first.
DEFINITION_WORDS = (
    ("comments and shares not delivered", "未交付评论数和分享数"),
    ("comments not delivered", "未交付评论数"),
    ("shares not delivered", "未交付分享数"),
    ("likes", "点赞"),
    ("collects", "收藏"),
    ("comments", "评论"),
    ("shares", "分享"),
    ("+", " + "),
    (" (", "（"),
    (")", "）"),
)


def interactions_definition_zh(definition: str) -> str:
    """`likes+collects+comments (shares not delivered)` as 点赞 + 收藏 + 评论（未交付分享数）."""
    for english, chinese in DEFINITION_WORDS:
        definition = definition.replace(english, chinese)
    return definition


def _content(conn) -> tuple[list, list[Chart]]:
    """Per account with notes: its series against its notes outside any, then its hits. Each
    part is a function (conn, account row, number) → (blocks, charts) in ACCOUNT_CONTENT, so
    the themes (marts.content_themes) and the posting rhythm (marts.posting_rhythm,
    marts.posting_times) are further parts appended there when their marts are published."""
    accounts = _rows(
        conn,
        "SELECT platform, account_name, any_value(bank) AS bank,"
        " sum(notes_published) AS notes, sum(interactions) AS interactions,"
        " count(*) OVER (PARTITION BY platform) AS accounts_with_notes"
        " FROM marts.account_content_mix GROUP BY platform, account_name"
        " QUALIFY row_number() OVER (PARTITION BY platform"
        " ORDER BY sum(interactions) DESC, account_name) <= ?"
        " ORDER BY platform, interactions DESC, account_name",
        [CONTENT_ACCOUNTS],
    )
    if not accounts:
        return [Empty("note", "尚未发布笔记数据（marts.note_performance 为空）。")], []
    parts: list = [
        Note(
            "互动量 = 点赞 + 收藏 + 评论，交付了分享数时再加分享（新红的“互动量”口径）；各账号下"
            "注明其笔记实际计入的项目。笔记发布后头几天增长最快，累计数偏向老笔记：每个数字都注明"
            "发布月份或笔记龄（发布日到快照日的天数）。"
        ),
        _hit_rule(conn),
    ]
    charts: list[Chart] = []
    for number_, account in enumerate(accounts, start=1):
        if number_ == 1 or account["platform"] != accounts[number_ - 2]["platform"]:
            parts.append(Heading(f"平台：{account['platform']}"))
            shown = account["accounts_with_notes"]
            if shown > CONTENT_ACCOUNTS:
                parts.append(
                    Note(
                        f"笔记互动量最高的 {CONTENT_ACCOUNTS} 个账号（共 {shown} 个）；"
                        f"全部账号见 {settings.ANALYTICS_DATABASE_FILE} 的"
                        " marts.account_content_mix。"
                    )
                )
        bank = account["bank"] or "未登记的账号"
        parts.append(Heading(f"账号：{account['account_name']}（{bank}）"))
        for part in ACCOUNT_CONTENT:
            blocks, part_charts = part(conn, account, number_)
            parts += blocks
            charts += part_charts
    return parts, charts


def _hit_rule(conn) -> Note:
    """The hit rule in words, from the seed note_performance reads (reference.hit_rules)."""
    rules = _rows(conn, "SELECT * FROM reference.hit_rules")
    if not rules:
        return Note("爆文规则：reference.hit_rules 为空，没有笔记有爆文判定。")
    [rule] = rules
    return Note(
        f"爆文规则（reference.hit_rules，分析师可修改）：笔记互动量 ≥"
        f" {_trim(float(rule['multiple_of_median']), 2)} × 该账号在此笔记发布前"
        f" {rule['window_days']} 天内发布的笔记的互动量中位数（取同一快照日的数字）；"
        f"少于 {rule['min_baseline_notes']} 篇笔记构成基准、或中位数为 0 时无判定。"
        "较早的笔记积累互动的时间更长，规则对新笔记更严格：请结合笔记龄阅读。"
    )


def _series_mix(conn, account: dict, number_: int) -> tuple[list, list[Chart]]:
    """The account's series (合集) per publication month against its notes outside any series,
    as marts.account_content_mix has them; the sources are those of the notes counted."""
    rows = _rows(
        conn,
        "WITH months AS (SELECT DISTINCT month FROM marts.account_content_mix"
        " WHERE platform = $platform AND account_name = $account"
        " ORDER BY month DESC LIMIT $months)"
        " SELECT mix.* FROM marts.account_content_mix AS mix SEMI JOIN months USING (month)"
        " WHERE mix.platform = $platform AND mix.account_name = $account"
        " ORDER BY mix.month DESC, mix.in_series DESC, mix.interactions DESC, mix.series",
        {
            "platform": account["platform"],
            "account": account["account_name"],
            "months": CONTENT_MONTHS,
        },
    )
    months = sorted({r["month"] for r in rows})
    first = min((r["snapshot_date_min"] for r in rows), default=None)
    last = max((r["snapshot_date_max"] for r in rows), default=None)
    as_of = f"{last}" if first == last else f"{first} 至 {last}"
    definitions = sorted(
        {d for r in rows for d in (r["interactions_definitions"] or "").split("; ") if d}
    )
    parts: list = [
        Heading("合集表现：各合集与合集外笔记"),
        Note(
            f"最近 {len(months)} 个发布月份（全部月份见 marts.account_content_mix）。每篇笔记计入"
            f"其发布月份，取其最新快照的数字（截至快照 {as_of}）；近月的笔记较新、互动仍在增长，"
            "请在同一月份内比较合集"
            "与合集外的笔记。本账号的互动量计入："
            + "；".join(interactions_definition_zh(d) for d in definitions)
            + "。"
        ),
    ]
    cite = Citations(f"content_series_{number_}_table")
    parts.append(
        Table(
            [
                "发布月份",
                "合集",
                "笔记数（篇）",
                "互动量（各笔记最新快照之和）",
                "每篇互动量中位数",
                "爆文（篇）/ 有判定的笔记（篇）",
                "爆文率（%）",
                "占账号当月互动量（%）",
            ],
            [
                [
                    r["month"].strftime("%Y-%m"),
                    r["series"] if r["in_series"] else OUTSIDE_SERIES,
                    str(r["notes_published"]),
                    cite(
                        number(_float(r["interactions"]), 0),
                        derived("各笔记最新快照的互动量之和", r["sources"]),
                    ),
                    cite(
                        number(_float(r["median_interactions_per_note"]), 0),
                        derived("各笔记最新快照互动量的中位数", r["sources"]),
                    ),
                    f"{r['hit_notes']} / {r['notes_with_hit_verdict']}",
                    cite(
                        percent(_float(r["hit_rate_pct"])),
                        derived("爆文数 ÷ 有判定的笔记数 × 100", r["sources"]),
                    ),
                    cite(
                        percent(_float(r["share_of_account_interactions_pct"])),
                        derived("该行互动量 ÷ 账号当月全部笔记的互动量 × 100", r["sources"]),
                    ),
                ]
                for r in rows
            ],
            "llrrrrrr",
            anchor=cite.anchor,
            sources=cite.notes,
        )
    )
    if not any(r["in_series"] for r in rows):
        parts.append(Note("该账号的笔记都不在合集中：没有可比较的合集。"))
        return parts, []
    # one row per series (the most interactions over the months shown first), 合集外 last; a
    # bar per month
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        if r["in_series"]:
            totals[r["series"]] += float(r["interactions"] or 0)
    labels = sorted(totals, key=lambda series: (-totals[series], series))
    by_cell = {(r["series"] if r["in_series"] else None, r["month"]): r for r in rows}
    categories = labels + [None]

    def kind(cell: dict | None) -> str:
        return derived("各笔记最新快照互动量的中位数", cell["sources"]).kind if cell else ""

    chart = bar_chart(
        f"content_series_{number_}",
        f"{account['account_name']}：各合集每篇互动量中位数，按发布月份（截至快照 {as_of}）",
        [label or OUTSIDE_SERIES for label in categories],
        [
            Bars(
                f"{month:%Y-%m} 发布",
                [
                    _float(by_cell[(c, month)]["median_interactions_per_note"])
                    if (c, month) in by_cell
                    else None
                    for c in categories
                ],
                kinds=[kind(by_cell.get((c, month))) for c in categories],
            )
            for month in months
        ],
        x_title="每篇笔记互动量中位数（各笔记最新快照；“无”：该月无此合集的笔记）",
        value_format=lambda v: number(v, 0),
    )
    parts.append(
        Figure(
            chart,
            "每行一个合集，最后一行为合集外的笔记；每根柱为一个发布月份的每篇互动量中位数。"
            "浅色虚线框的柱为示意数字（illustrative）；来源见上表。",
        )
    )
    return parts, [chart]


def _account_hits(conn, account: dict, number_: int) -> tuple[list, list[Chart]]:
    """The account's hits, then its other notes with the most interactions, each at its latest
    snapshot and with its age (a lifetime total favours old notes)."""
    rows = _rows(
        conn,
        "WITH latest AS (FROM marts.note_performance"
        " WHERE platform = ? AND account_name = ?"
        " QUALIFY row_number() OVER (PARTITION BY note_id ORDER BY snapshot_date DESC) = 1)"
        " SELECT latest.*, codes.label_zh AS note_type_label,"
        " count(*) FILTER (WHERE latest.is_hit) OVER () AS hits, count(*) OVER () AS notes"
        " FROM latest LEFT JOIN reference.category_codes AS codes"
        " ON codes.category = 'note_type' AND codes.code = latest.note_type"
        " ORDER BY latest.is_hit IS TRUE DESC, latest.interactions DESC, latest.note_id"
        " LIMIT ?",
        [account["platform"], account["account_name"], TOP_NOTES],
    )
    hits = rows[0]["hits"] if rows else 0
    cite = Citations(f"content_hits_{number_}_table")
    return [
        Heading(
            f"爆文与互动量最高的笔记（{hits} 篇爆文，共 {rows[0]['notes'] if rows else 0} 篇笔记）"
        ),
        Table(
            [
                "标题",
                "合集",
                "类型",
                "发布日期",
                "快照日期",
                "笔记龄（天）",
                "互动量",
                "较上次快照（天数）",
                "爆文基准：此前笔记的互动量中位数",
                "爆文",
            ],
            [
                [
                    r["title"] or "（无标题）",
                    r["series"] or OUTSIDE_SERIES,
                    r["note_type_label"] or MISSING,
                    r["published_at"].strftime("%Y-%m-%d"),
                    r["snapshot_date"].isoformat(),
                    str(r["age_days"]),
                    cite(
                        number(_float(r["interactions"]), 0),
                        derived(
                            interactions_definition_zh(r["interactions_definition"]), r["source"]
                        ),
                    ),
                    cite(
                        MISSING
                        if r["interactions_change"] is None
                        else f"{r['interactions_change']:+,}（{r['days_since_previous']} 天）",
                        derived("互动量 − 上次快照的互动量", r["source"]),
                    ),
                    cite(
                        number(_float(r["baseline_median_interactions"]), 0),
                        derived(
                            f"该账号此前笔记（{r['baseline_notes']} 篇）同一快照日互动量的中位数",
                            r["source"],
                        ),
                    ),
                    HIT_VERDICTS[r["is_hit"]],
                ]
                for r in rows
            ],
            "wlllllrrrl",
            anchor=cite.anchor,
            sources=cite.notes,
        ),
        *_shown_notes(len(rows), rows[0]["notes"] if rows else 0),
    ], []


def _shown_notes(shown: int, total: int) -> list[Note]:
    """Says so when the hits table lists fewer notes than the account has."""
    if shown >= total:
        return []
    return [
        Note(
            f"表中列出爆文优先、互动量最高的 {shown} 篇（共 {total} 篇）；全部笔记见"
            f" {settings.ANALYTICS_DATABASE_FILE} 的 marts.note_performance。"
        )
    ]


def _account_themes(conn, account: dict, number_: int) -> tuple[list, list[Chart]]:
    """The account's content themes (marts.content_themes) against the same themes' notes of the
    platform's registered accounts of other banks, with both sides' note ages and interactions
    definitions; the sources are the mart's, those of the notes counted on each side."""
    rows = _rows(
        conn,
        "SELECT * FROM marts.content_themes"
        " WHERE platform = $platform AND account_name = $account"
        " ORDER BY theme = 'unthemed', median_interactions_per_note DESC, theme",
        {"platform": account["platform"], "account": account["account_name"]},
    )
    if not rows:
        return [], []
    unthemed = next((r["notes"] for r in rows if r["theme"] == "unthemed"), 0)

    def definitions(column: str) -> str:
        found = {d for r in rows for d in (r[column] or "").split("; ") if d}
        return "；".join(interactions_definition_zh(d) for d in sorted(found)) or MISSING

    own_definitions = definitions("interactions_definitions")
    peer_definitions = definitions("peer_interactions_definitions")
    cite = Citations(f"content_themes_{number_}_table")
    return [
        Heading("内容主题：各主题每篇互动量，对比同业"),
        Note(
            "主题按关键词与话题规则划分（reference.content_theme_rules，分析师可修改；规则与其在样例上的"
            f"准确度见 dbt_project/README.md）。一篇笔记可属于多个主题，占比之和可超过 100%；"
            f"未命中任何规则的笔记计入“未归类”（本账号 {unthemed} 篇）。同业 = 同平台其他银行"
            "的已登记账号同一主题的笔记（同一银行的其他账号不算同业）；指数 = 本账号每篇互动量"
            "中位数 ÷ 同业的 × 100（100 = 与同业相当），未按笔记龄或互动量口径调整：笔记越新、"
            "口径越窄（不含分享），互动量越低，请对照两侧的笔记龄中位数阅读。互动量口径：本账号计入"
            f"{own_definitions}；同业计入{peer_definitions}"
            + ("（口径不同）。" if own_definitions != peer_definitions else "。")
        ),
        Table(
            [
                "主题",
                "笔记数（篇）",
                "占账号笔记（%）",
                "每篇互动量中位数",
                "笔记龄中位数（天）",
                "爆文率（%）",
                "同业每篇互动量中位数（账号数）",
                "同业笔记龄中位数（天）",
                "相对同业指数（同业 = 100）",
            ],
            [
                [
                    r["theme_label"],
                    str(r["notes"]),
                    percent(_float(r["share_of_account_notes_pct"])),
                    cite(
                        number(_float(r["median_interactions_per_note"]), 0),
                        derived("该主题各笔记最新快照互动量的中位数", r["sources"]),
                    ),
                    number(_float(r["median_age_days"]), 0),
                    percent(_float(r["hit_rate_pct"])),
                    MISSING
                    if r["peer_median_interactions_per_note"] is None
                    else cite(
                        f"{number(_float(r['peer_median_interactions_per_note']), 0)}"
                        f"（{r['peer_accounts']}）",
                        derived("同业该主题各笔记最新快照互动量的中位数", r["peer_sources"]),
                    ),
                    MISSING
                    if r["peer_median_age_days"] is None
                    else number(_float(r["peer_median_age_days"]), 0),
                    MISSING
                    if r["index_vs_peers"] is None
                    else cite(
                        number(_float(r["index_vs_peers"]), 0),
                        derived(
                            "本账号每篇中位数 ÷ 同业每篇中位数 × 100",
                            r["sources"],
                            r["peer_sources"],
                        ),
                    ),
                ]
                for r in rows
            ],
            "lrrrrrrrr",
            anchor=cite.anchor,
            sources=cite.notes,
        ),
    ], []


def _posting_rhythm(conn, account: dict, number_: int) -> tuple[list, list[Chart]]:
    """The account's weekly rhythm (marts.posting_rhythm) in a sentence, then the share of its
    notes published in each active period, month by month, beside the period's share of the
    platform audience's activity (marts.posting_vs_active_periods)."""
    params = {"platform": account["platform"], "account": account["account_name"]}
    [weeks] = _rows(
        conn,
        "SELECT count(*) AS weeks, min(week_start) AS first_week, max(week_start) AS last_week,"
        " sum(notes_published) AS notes, count(*) FILTER (WHERE notes_published = 0) AS empty,"
        " sum(notes_without_time) AS without_time,"
        " max(account_latest_snapshot_date) AS latest_snapshot,"
        " bool_or(is_partial_week) AS partial,"
        " bool_or(is_partial_week AND notes_published = 0) AS partial_empty,"
        " count(*) FILTER (WHERE NOT is_partial_week) AS whole_weeks,"
        " sum(notes_published) FILTER (WHERE NOT is_partial_week) AS whole_week_notes"
        " FROM marts.posting_rhythm WHERE platform = $platform AND account_name = $account",
        params,
    )
    if not weeks["weeks"]:
        return [], []
    # a partial last week (its Sunday after the latest snapshot) would pull the average down
    # only because the week is not over: the average is over whole weeks, and the sentence says
    # the last week is partial
    average = (
        f"平均每周 {number(weeks['whole_week_notes'] / weeks['whole_weeks'], 1)} 篇"
        + (f"（按 {weeks['whole_weeks']} 个完整周计）" if weeks["partial"] else "")
        + "，"
        if weeks["whole_weeks"]
        else ""
    )
    parts: list = [
        Heading("发布节奏：每周笔记数与发布时段"),
        Note(
            f"{weeks['first_week']} 至 {weeks['last_week']} 所在的 {weeks['weeks']} 周内发布"
            f" {weeks['notes']} 篇笔记，{average}"
            f"其中 {weeks['empty']} 周没有发布（"
            + ("含最后一周；" if weeks["partial_empty"] else "")
            + "逐周数字见 marts.posting_rhythm）。"
            + (
                f"最后一周（{weeks['last_week']} 起）不完整：该账号笔记的快照只到"
                f" {weeks['latest_snapshot']}。"
                if weeks["partial"]
                else ""
            )
            + (
                f"{weeks['without_time']} 篇笔记只交付了发布日期、没有时刻，不计入下表的时段。"
                if weeks["without_time"]
                else ""
            )
        ),
    ]
    rows = _rows(
        conn,
        "WITH months AS (SELECT DISTINCT month FROM marts.posting_vs_active_periods"
        " WHERE platform = $platform AND account_name = $account"
        " ORDER BY month DESC LIMIT $months)"
        " SELECT periods.* FROM marts.posting_vs_active_periods AS periods"
        " SEMI JOIN months USING (month)"
        " WHERE platform = $platform AND account_name = $account"
        " ORDER BY active_period_order, month",
        {**params, "months": CONTENT_MONTHS},
    )
    if not rows:
        return parts, []
    months = sorted({r["month"] for r in rows})
    latest = months[-1]
    timed = {r["month"]: r["timed_notes"] for r in rows}
    periods = code_labels(conn, "audience_dimension")["active_period"]
    audience = [r for r in rows if r["month"] == latest]
    audience_month = next((r["audience_month"] for r in audience if r["audience_month"]), None)
    # months from the first shown to the latest snapshot's without a timed note have no row in
    # the mart: name them, so the columns are not read as consecutive months
    skipped = [
        month
        for month in _months_between(months[0], weeks["latest_snapshot"])
        if month not in timed
    ]
    cite = Citations(f"content_rhythm_{number_}_table")
    by_period: dict[str, dict] = defaultdict(dict)
    for r in rows:
        by_period[r["active_period_label"]][r["month"]] = r
    parts.append(
        Table(
            [
                "时段",
                *(
                    f"{month:%Y-%m} 发布的笔记（%，括号内为篇数；共 {timed[month]} 篇有时刻）"
                    for month in months
                ),
                "平台用户活跃占比（%，"
                + (f"{audience_month:%Y-%m} 数据）" if audience_month else "未交付）"),
                f"{latest:%Y-%m} 笔记占比 − 用户占比（百分点）",
            ],
            [
                [
                    label,
                    *(
                        cite(
                            f"{percent(_float(cells[month]['notes_share_pct']))}"
                            f"（{cells[month]['notes_in_period']} 篇）",
                            derived(
                                "该时段有时刻的笔记数 ÷ 当月有时刻的笔记数 × 100",
                                cells[month]["notes_sources"],
                            ),
                        )
                        if month in cells
                        else MISSING
                        for month in months
                    ),
                    MISSING
                    if latest not in cells or cells[latest]["audience_active_share_pct"] is None
                    else cite(
                        percent(_float(cells[latest]["audience_active_share_pct"])),
                        delivered(cells[latest]["audience_sources"]),
                    ),
                    MISSING
                    if latest not in cells
                    or cells[latest]["notes_minus_audience_pct_points"] is None
                    else cite(
                        number(_float(cells[latest]["notes_minus_audience_pct_points"]), 1),
                        derived(
                            "笔记占比 − 平台用户活跃占比",
                            cells[latest]["notes_sources"],
                            cells[latest]["audience_sources"],
                        ),
                    ),
                ]
                for label, cells in by_period.items()
            ],
            "l" + "r" * (len(months) + 2),
            anchor=cite.anchor,
            sources=cite.notes,
        )
    )
    parts.append(
        Note(
            "表中只列出有带时刻笔记的月份"
            + (
                "，"
                + "、".join(f"{month:%Y-%m}" for month in skipped)
                + " 没有带时刻的笔记，未列出：各列不一定是相连的月份"
                if skipped
                else ""
            )
            + "。笔记占比旁是该时段的笔记篇数：篇数少时占比一篇就差很多。"
            "平台用户活跃占比是平台用户的活跃（使用时长）在各时段的分布，合计 100%，"
            "不是各时段活跃用户占全部用户的比例。"
            f"时段的钟点见 reference.audience_buckets（{periods}的各分组）。"
            "在用户活跃的时段发布是一个待验证的假设，不是规则：请对照各时段笔记的互动量（marts.posting_times）。"
            + ("" if audience_month else "该平台没有交付用户活跃时段的数据。")
        )
    )
    return parts, []


def _months_between(first: date, last: date) -> list[date]:
    """The first days of the months from first's to last's, both included."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


# The parts of an account's content, in order (see _content).
ACCOUNT_CONTENT: tuple[Callable[..., tuple[list, list[Chart]]], ...] = (
    _series_mix,
    _account_themes,
    _account_hits,
    _posting_rhythm,
)


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    status: str  # ok, warn, bad, or "" for a count that is neither good nor bad


@dataclass(frozen=True)
class QualityBlock:
    """The run's checks: counts as tiles, what failed or warned, the link to the Data Docs."""

    kind: ClassVar[str] = "quality"
    tiles: list[Tile]
    note: str
    problems: Table | None
    data_docs: str | None  # relative to the report, so the link survives moving both


def _quality(summary: QualitySummary, report_dir: Path) -> QualityBlock:
    failed, warnings = summary.failed, summary.warnings
    tiles = [
        Tile("项检查通过", f"{summary.passed}", "ok"),
        Tile("项检查失败（阻断发布）", f"{len(failed)}", "bad" if failed else "ok"),
        Tile("项警告", f"{len(warnings)}", "warn" if warnings else "ok"),
    ]
    if summary.rows_quarantined_last_ingest is not None:
        tiles.append(
            Tile(
                "行在最近一次导入中被隔离",
                f"{summary.rows_quarantined_last_ingest}",
                "warn" if summary.rows_quarantined_last_ingest else "ok",
            )
        )
    if summary.rows_in_quarantine is not None:
        tiles.append(Tile("行在 audit.quarantine 中（累计）", f"{summary.rows_in_quarantine}", ""))
    note = summary.scope + "。"
    if summary.quarantine_run:
        note += f"隔离行数取自运行 {summary.quarantine_run[:8]} 的导入。"
    problems = [("失败", c) for c in failed] + [("警告", c) for c in warnings]
    return QualityBlock(
        tiles=tiles,
        note=note,
        problems=Table(
            # what each check found, as a sentence with the figure and the limit; what it
            # guards is on the quality page and in the UI (the checks' definitions are worded
            # for operators, in English)
            ["结果", "数据", "发现"],
            [[level, c.asset, c.description or MISSING] for level, c in problems],
            "llw",
        )
        if problems
        else None,
        data_docs=None
        if summary.data_docs is None
        else Path(os.path.relpath(summary.data_docs, report_dir)).as_posix(),
    )


def build_report(analytics_path: Path, quality: QualitySummary, report_dir: Path) -> Report:
    """Every section of the report, from the published copy (opened read-only, then closed)."""
    # the section modules import this module's blocks and helpers: imported once it is loaded
    from orchestration.defs.report.campaigns import campaign_performance
    from orchestration.defs.report.creators import creators
    from orchestration.defs.report.funnel import conversion_funnel

    # under the pipeline's memory cap: DuckDB's own default let the scores section take 5.9 GB
    # at 4x the benchmark's default size
    with duckdb.connect(str(analytics_path), read_only=True, config=connection_config()) as conn:
        [(published_at, published_by)] = conn.execute(
            "SELECT published_at, run_id FROM publication"
        ).fetchall() or [(None, None)]
        sections: list[tuple[str, str, Callable]] = [
            ("reach", "平台触达", _platform_reach),
            ("audience", "用户画像对比基准（TGI）", _audience_profiles),
            ("presence", "各平台的银行覆盖", _presence),
            ("accounts", "官方账号", _leaderboard),
            ("alerts", "预警：粉丝下降", _alerts),
            ("scores", "得分", _scores),
            ("content", "内容表现", _content),
            ("campaigns", "活动表现", campaign_performance),
            ("creators", "达人合作", creators),
            ("funnel", "转化漏斗（机密）", conversion_funnel),
        ]
        gathered, charts = [], []
        for anchor, heading, section in sections:
            blocks, section_charts = section(conn)
            gathered.append(Section(anchor, heading, blocks))
            charts += section_charts
    gathered.append(Section("quality", "本次运行的数据质量", [_quality(quality, report_dir)]))
    html = render_page(
        gathered,
        published=(
            f"由运行 {published_by[:8]} 发布于 {settings.local_time(published_at)}"
            if published_at
            else "尚未发布"
        ),
        generated=settings.local_time(datetime.now(UTC)),
    )
    return Report(html=html, charts=charts)
