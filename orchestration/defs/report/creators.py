"""达人合作: which creators (KOLs) reach the bank's target segment, at what cost per engagement,
and which banks already work with them (marts.creator_value, creator_fit, bank_creator_usage).

Per platform, a table of the creators at their latest snapshot, the cheapest engagement first
(cpe_rank): vertical, followers and weekly growth, the delivered median interactions per note,
the quoted prices, the cost per engagement, the target segment's TGI against the platform's own
audience, and the banks working with them. A sentence then names the creators whose audience
over-indexes on the target segment (TGI > 100) with their cost. Each figure cites the sources of
the rows it is computed from, so illustrative figures are marked.
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
    _with_range,
    code_labels,
    number,
    persons,
    signed_percent,
)
from orchestration.defs.report.provenance import (
    ILLUSTRATIVE,
    MARKS,
    Citations,
    derived,
)


def _yuan(value, decimals: int = 0) -> str:
    return MISSING if value is None else f"¥{float(value):,.{decimals}f}"


def _tgi(value) -> str:
    return MISSING if value is None else f"{float(value):.0f}"


def creators(conn: duckdb.DuckDBPyConnection) -> tuple[list, list[Chart]]:
    """The creators of each platform at their latest snapshot, the cheapest engagement first;
    their target-segment TGI from their latest audience month."""
    rows = _rows(
        conn,
        "WITH fit AS (SELECT * FROM marts.creator_fit"
        " QUALIFY row_number() OVER (PARTITION BY platform, creator_id ORDER BY month DESC) = 1),"
        " banks AS (SELECT platform, creator_id,"
        " string_agg(bank, '、' ORDER BY last_collaboration_date DESC, bank) AS banks,"
        " string_agg(DISTINCT sources, ' | ') AS usage_sources"
        " FROM marts.bank_creator_usage GROUP BY platform, creator_id)"
        " SELECT value.*, fit.month AS audience_month, fit.platform_month, fit.target_tgi,"
        " fit.target_tgi_min, fit.target_tgi_max, fit.target_share_pct,"
        " fit.platform_target_share_pct, fit.sources AS fit_sources,"
        " banks.banks, banks.usage_sources"
        " FROM marts.creator_value AS value"
        " LEFT JOIN fit USING (platform, creator_id)"
        " LEFT JOIN banks USING (platform, creator_id)"
        " WHERE value.is_latest"
        " ORDER BY value.platform, value.snapshot_date DESC, value.cpe_rank NULLS LAST,"
        " value.creator_id",
    )
    if not rows:
        return [Empty("creator", "尚未发布达人数据（marts.creator_value 为空）。")], []
    parts: list = [
        Note(
            "CPE（每次互动成本）= 报价 ÷ 达人笔记互动中位数（互动中位数由数据商交付），取图文与视频"
            "中较便宜的一种；排名只在同一平台、同一快照日的达人之间比较。目标人群 TGI = 达人粉丝中"
            "目标客群（seeds/target_segments.csv）的占比 ÷ 平台用户中的同一占比 × 100，两者都假设"
            "年龄与消费水平相互独立；括号内是不作此假设时的范围。高于 100 表示达人的粉丝比平台用户"
            "更集中于目标客群。粉丝周增长为相邻两次快照间的周复合增长率，括号内为粉丝数取整允许的"
            "范围。达人名后的编号指向表下的来源，涵盖该行全部数字；带 * 的行含示意（illustrative）"
            "数据，请勿引用。"
        )
    ]
    for number_, platform in enumerate(dict.fromkeys(r["platform"] for r in rows), start=1):
        listed = [r for r in rows if r["platform"] == platform]
        cite = Citations(f"creators_{number_}")
        parts.append(Heading(f"平台：{platform}"))
        formats = code_labels(conn, "note_type")  # a price's format is a note's type
        parts.append(
            Table(
                [
                    "CPE 排名",
                    "达人",
                    "领域",
                    "粉丝数",
                    "粉丝周增长（取整误差范围）",
                    "互动中位数",
                    "报价（图文 / 视频）",
                    "CPE（元/互动）",
                    "目标人群 TGI（范围）",
                    "合作银行",
                    "快照日",
                ],
                [_row(r, cite, formats) for r in listed],
                "rllrrrrrrwl",
                anchor=cite.anchor,
                sources=cite.notes,
            )
        )
        parts.append(_fit_sentence(listed))
    parts.append(
        Note(
            f"全部达人与历次快照见 {settings.ANALYTICS_DATABASE_FILE} 的 marts.creator_value；"
            "分维度的受众对比见 marts.creator_audience_profile；各银行的合作次数、费用与同一达人"
            "的其他合作银行见 marts.bank_creator_usage。"
        )
    )
    return parts, []


def _row(r: dict, cite: Citations, formats: dict[str, str]) -> list:
    """One citation per creator, on the name, numbering every source its row is computed from
    (its snapshots, its audience and the platform's): a citation per figure made the section
    weigh twice its figures. How each figure is computed is said in the section's note."""
    prices = " / ".join(_yuan(r[f"price_{kind}"]) for kind in ("image", "video"))
    growth = signed_percent(r["follower_growth_weekly_pct"])
    bounds = [signed_percent(r[f"follower_growth_weekly_pct_{end}"]) for end in ("low", "high")]
    if bounds != [growth, growth]:  # exact counts: the point is the whole range
        growth = _with_range(growth, *bounds)
    cpe = _yuan(r["cpe_yuan"], 2)
    if cpe != MISSING:
        cpe += f"（{formats.get(r['cpe_format'], r['cpe_format'])}）"
    tgi = _with_range(_tgi(r["target_tgi"]), _tgi(r["target_tgi_min"]), _tgi(r["target_tgi_max"]))
    return [
        MISSING if r["cpe_rank"] is None else str(r["cpe_rank"]),
        cite(
            r["creator_name"],
            derived("本行数字的来源：达人快照与受众画像", r["sources"], r["fit_sources"]),
        ),
        r["vertical"] or MISSING,
        persons(r["followers"]),
        growth,
        number(r["median_interactions_per_note"], 0),
        prices,
        cpe,
        tgi,
        r["banks"] or "（暂无）",
        r["snapshot_date"].isoformat(),
    ]


def _fit_sentence(listed: list[dict]) -> Note:
    """Which creators fit the target segment (TGI > 100), cheapest engagement first, and at what
    cost; a figure computed from an illustrative input is marked."""
    fitting = [r for r in listed if r["target_tgi"] is not None and r["target_tgi"] > 100]
    if not fitting:
        return Note("目标人群 TGI 高于 100 的达人：暂无（或尚无受众画像）。")

    def mark(r: dict) -> str:
        provenance = derived("", r["sources"], r["fit_sources"])
        return MARKS[ILLUSTRATIVE] if provenance.kind == ILLUSTRATIVE else ""

    def cost(r: dict) -> str:
        if r["cpe_yuan"] is None:
            return "无报价"
        return f"CPE {_yuan(r['cpe_yuan'], 2)}/互动"

    named = "；".join(
        f"{r['creator_name']}{mark(r)}（TGI {_tgi(r['target_tgi'])}，{cost(r)}）"
        for r in sorted(
            fitting, key=lambda r: (r["cpe_yuan"] is None, r["cpe_yuan"] or 0, r["creator_id"])
        )
    )
    illustrative = any(mark(r) for r in fitting)
    return Note(
        f"粉丝比平台用户更集中于目标客群（TGI > 100）的达人，按每次互动成本从低到高：{named}。"
        + (f" {MARKS[ILLUSTRATIVE]} 示意数据（illustrative），非实际数字。" if illustrative else "")
    )
