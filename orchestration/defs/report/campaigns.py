"""活动表现: each bank's campaigns, what they moved, and whether they lifted the official
account's growth above its own trend (marts.campaign_performance).

Per bank and account, a table of its campaigns: the window, the UGC notes the topic gained, the
account's follower change, its compounded weekly growth in the window against the baseline before
it, the uplift with the range the counts' rounding allows and its verdict, and the cost of the
collaborations naming the campaign. A sentence then names the campaigns above the trend. A
campaign the mart could not measure says which edge lacked a snapshot. Each figure cites the
sources of the rows it is computed from, so illustrative figures are marked.
"""

import duckdb

from orchestration import settings
from orchestration.defs.report.charts import Chart
from orchestration.defs.report.document import (
    MISSING,
    Empty,
    Heading,
    Note,
    Table,
    _rows,
)
from orchestration.defs.report.provenance import Citations, derived

VERDICTS_ZH = {
    "above_trend": "高于趋势",
    "below_trend": "低于趋势",
    "within_rounding": "在取整误差内",
}
UNMEASURED_ZH = "未测量"


def _signed(value, decimals: int = 2, unit: str = "") -> str:
    return MISSING if value is None else f"{float(value):+.{decimals}f}{unit}"


def _interval(point: str, low: str, high: str) -> str:
    """A point with the range rounding allows, when the range is more than the point."""
    if point == MISSING or (low == point and high == point):
        return point
    if high == MISSING:
        return f"{point}（至少 {low}）"
    return f"{point}（{low} 至 {high}）"


def _count_change(r: dict, column: str) -> str:
    return _interval(
        _signed(r[column], 0),
        _signed(r[f"{column}_low"], 0),
        _signed(r[f"{column}_high"], 0),
    )


def _followers(r: dict) -> str:
    if r["followers_change"] is None:
        return MISSING
    # whole counts: a campaign moves a few hundred followers, which 万 would round away
    change = _count_change(r, "followers_change")
    return f"{r['start_followers']:,} → {r['end_followers']:,}（{change}）"


def _growth(r: dict) -> str:
    """Weekly growth in the window against the baseline's, in percent per week."""
    window = _signed(r["window_weekly_growth_pct"], 2, "%")
    baseline = _signed(r["baseline_weekly_growth_pct"], 2, "%")
    if window == MISSING and baseline == MISSING:
        return MISSING
    return f"{window} / {baseline}"


def _uplift(r: dict) -> str:
    return _interval(
        _signed(r["uplift_pct_points"], 2),
        _signed(r["uplift_pct_points_low"], 2),
        _signed(r["uplift_pct_points_high"], 2),
    )


def _cost(r: dict) -> str:
    if not r["collaborations"]:
        return MISSING
    known = r["collaboration_cost_yuan"]
    unknown = r["collaborations_without_cost"]
    text = "费用未知" if known is None else f"¥{float(known):,.0f}"
    if known is not None and unknown:
        text = f"≥ {text}"
    text += f"（{r['collaborations']} 项合作，{r['collaboration_creators']} 位博主"
    return text + (f"，{unknown} 项未报价）" if unknown else "）")


def _why(r: dict, tolerance: int) -> str:
    """Why a campaign is not (wholly) measured, in Chinese, from the edges the mart left empty;
    and which campaigns share its uplift."""
    reasons = []
    if r["account_name"] is None:
        reasons.append("未指定官方账号")
    else:
        if r["baseline_snapshot_date"] is None:
            reasons.append(
                f"基线起点（开始前 {r['baseline_days']} 天）前 {tolerance} 天内无账号快照"
            )
        if r["start_snapshot_date"] is None:
            reasons.append(f"开始日 {r['start_date']:%Y-%m-%d} 前 {tolerance} 天内无账号快照")
        if r["end_snapshot_date"] is None:
            reasons.append(f"结束日 {r['end_date']:%Y-%m-%d} 后 {tolerance} 天内无账号快照")
        if not reasons and r["unmeasured_reason"]:  # any other reason the mart gives, as it is
            reasons.append(f"未测量：{r['unmeasured_reason']}")
    if r["topic_unmeasured_reason"] is not None:
        reasons.append(f"话题前后 {tolerance} 天内缺快照，UGC 未测量")
    if r["overlapping_campaigns"]:
        shared = len(r["overlapping_campaigns"].split(", "))
        reasons.append(f"与 {shared} 个活动重叠，提升共享")
    return "；".join(reasons) or MISSING


def _campaign(r: dict) -> str:
    """The campaign's name, and its topic when the name is not the topic already."""
    bare = "".join(ch for ch in r["name"] if ch not in "'\"‘’“”")
    return r["name"] if bare == r["topic"] else f"{r['name']}（#{r['topic']}#）"


def _window(r: dict) -> str:
    start, end = r["start_date"], r["end_date"]
    shown_end = f"{end:%m-%d}" if end.year == start.year else f"{end:%Y-%m-%d}"
    return f"{start:%Y-%m-%d}–{shown_end}（{r['window_days']} 天）"


def _campaign_table(rows: list[dict], tolerance: int, number_: int) -> Table:
    """One citation per campaign, on its name, numbering every source its row is computed from
    (campaign, topic and account snapshots, notes, collaborations): a citation per figure made
    the table weigh as much as the rest of the page."""
    cite = Citations(f"campaigns-{number_}")
    body = [
        [
            cite(
                _campaign(r),
                derived("本行数字的来源：活动、话题与账号快照、笔记、合作", r["sources"]),
            ),
            _window(r),
            _count_change(r, "ugc_notes_gained"),
            _followers(r),
            _growth(r),
            _uplift(r),
            VERDICTS_ZH.get(r["uplift_verdict"], UNMEASURED_ZH),
            _cost(r),
            _why(r, tolerance),
        ]
        for r in rows
    ]
    return Table(
        [
            "活动",
            "活动期",
            "UGC 笔记增量",
            "粉丝变化",
            "周增长率：活动期 / 基线",
            "提升（百分点）",
            "判定",
            "合作费用",
            "说明",
        ],
        body,
        "llrrrrllw",
        anchor=cite.anchor,
        sources=cite.notes,
    )


def _lifted(rows: list[dict]) -> Note:
    """Which campaigns lifted growth above the account's trend, said in one sentence."""
    above = [r for r in rows if r["uplift_verdict"] == "above_trend"]
    counts = {v: sum(r["uplift_verdict"] == v for r in rows) for v in VERDICTS_ZH}
    unmeasured = sum(r["uplift_verdict"] is None for r in rows)
    if above:
        named = "、".join(
            f"“{r['name']}”（{_signed(r['uplift_pct_points'], 2)} 个百分点）"
            for r in sorted(above, key=lambda r: -float(r["uplift_pct_points"]))
        )
        lead = f"把账号粉丝周增长拉到自身趋势之上的活动有 {len(above)} 个：{named}。"
    else:
        lead = "没有活动把账号粉丝周增长明确拉到自身趋势之上（整个取整区间都高于 0）。"
    return Note(
        lead + f"低于趋势 {counts['below_trend']} 个，在取整误差内 {counts['within_rounding']} 个，"
        f"未测量 {unmeasured} 个（原因见“说明”）。"
    )


def campaign_performance(conn: duckdb.DuckDBPyConnection) -> tuple[list, list[Chart]]:
    """Per bank and official account, its campaigns (marts.campaign_performance)."""
    try:
        rows = _rows(
            conn,
            "SELECT * FROM marts.campaign_performance"
            " ORDER BY bank, platform, account_name NULLS LAST, start_date, campaign_id",
        )
        [setting] = _rows(conn, "SELECT * FROM reference.campaign_settings")
    except duckdb.CatalogException:  # not published yet
        rows = []
    if not rows:
        return [Empty("campaign", "尚未发布活动数据（marts.campaign_performance 为空）。")], []
    tolerance = setting["edge_tolerance_days"]
    parts: list = [
        Note(
            "提升 = 活动期内官方账号粉丝的周复合增长率 − 活动开始前"
            f" {setting['baseline_days']} 天（基线）账号自身的周复合增长率，单位为百分点；"
            "范围是粉丝数取整（如 4.2万）允许的区间。整个范围高于 0 判为“高于趋势”，低于 0 判为"
            "“低于趋势”，跨过 0 则“在取整误差内”。每个端点取其外侧最近的快照（开始前最近、结束后"
            f"最早），相差超过 {tolerance} 天则不测量并说明原因（reference.campaign_settings，"
            "分析师可修改）。同一账号的其他活动与活动期或基线期重叠时，提升为共同作用。"
            "UGC 笔记增量为话题下笔记数的变化。活动名后的编号指向表下的来源，涵盖该行全部数字；"
            "带 * 的行含示意（illustrative）数据，请勿引用。"
            f"重叠的活动及全部字段见 {settings.ANALYTICS_DATABASE_FILE} 的"
            " marts.campaign_performance。"
        )
    ]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["bank"], r["platform"], r["account_name"]), []).append(r)
    for number_, ((bank, platform, account_name), campaigns) in enumerate(groups.items(), 1):
        parts.append(
            Heading(f"{bank or '未登记的银行'}：{account_name or '未指定官方账号'}（{platform}）")
        )
        parts.append(_lifted(campaigns))
        parts.append(_campaign_table(campaigns, tolerance, number_))
    total_cost = sum(float(r["collaboration_cost_yuan"] or 0) for r in rows)
    if total_cost:
        parts.append(
            Note(
                f"合作费用为点名该活动的博主合作的已知报价之和（共 ¥{total_cost:,.0f}）；"
                "有合作未报价时写作“≥”。"
            )
        )
    return parts, []
