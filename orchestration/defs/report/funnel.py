"""转化漏斗（机密）: which campaigns' 种草 turned into cards and spending (marts.campaign_funnel).

The funnel is the bank's own figures: its marts reach the analysts' copy, which the report is
built from, only when CARDREACH_PUBLISH_CONFIDENTIAL is true. Without them the section says so
and how to change it; with them every table is headed CONFIDENTIAL (机密), and each campaign's row
puts its public reach (UGC notes, the uplift verdict) beside its conversion (applications,
approvals and their rate, activations, first spend, spending and cost per card).
"""

import duckdb

from orchestration import settings
from orchestration.defs.report.campaigns import UNMEASURED_ZH, VERDICTS_ZH
from orchestration.defs.report.charts import Chart
from orchestration.defs.report.document import MISSING, Empty, Heading, Note, Table, _rows
from orchestration.defs.report.provenance import Citations, derived

CONFIDENTIAL_ZH = "机密 CONFIDENTIAL"


def _count(value) -> str:
    return MISSING if value is None else f"{int(value):,}"


def _with_rate(value, rate) -> str:
    return _count(value) if rate is None else f"{_count(value)}（{float(rate):.1f}%）"


def _yuan(value) -> str:
    return MISSING if value is None else f"¥{float(value):,.0f}"


def _campaign_table(rows: list[dict], number_: int) -> Table:
    cite = Citations(f"funnel-{number_}")
    body = [
        [
            cite(r["name"], derived("本行数字的来源：活动、话题、账号、转化与费用", r["sources"])),
            _count(r["ugc_notes_gained"]),
            VERDICTS_ZH.get(r["uplift_verdict"], UNMEASURED_ZH),
            _count(r["applications"]),
            _with_rate(r["approvals"], r["approvals_rate_pct"]),
            _with_rate(r["activations"], r["activations_rate_pct"]),
            _with_rate(r["first_spend"], r["first_spend_rate_pct"]),
            _yuan(r["spend_per_activation_yuan"]),
            _yuan(r["cost_per_approval_yuan"]),
        ]
        for r in rows
    ]
    return Table(
        [
            "活动",
            "UGC 笔记增量",
            "粉丝增长判定",
            "申请",
            "核卡（核卡率）",
            "激活（激活率）",
            "首刷（首刷率）",
            "每张激活卡消费",
            "每张核卡成本",
        ],
        body,
        "lrlrrrrrr",
        anchor=cite.anchor,
        sources=cite.notes,
    )


def conversion_funnel(conn: duckdb.DuckDBPyConnection) -> tuple[list, list[Chart]]:
    """Per bank, its campaigns' reach beside their conversion, when published."""
    try:
        rows = _rows(
            conn,
            "SELECT * FROM marts.campaign_funnel WHERE applications IS NOT NULL"
            " ORDER BY bank, platform, start_date, campaign_id",
        )
    except duckdb.CatalogException:  # withheld, as by default
        return [
            Empty(
                "funnel",
                f"{CONFIDENTIAL_ZH}：银行自有的转化数据（marts.funnel_conversion、"
                "marts.campaign_funnel）默认只留在流水线数据库，不发布到分析库，本报告也不显示；"
                f"设置 {settings.PUBLISH_CONFIDENTIAL_ENV}=true 后重新运行即可显示。",
            )
        ], []
    if not rows:
        return [Empty("funnel", "尚未发布转化数据（marts.campaign_funnel 无转化记录）。")], []
    parts: list = [
        Note(
            f"{CONFIDENTIAL_ZH}：本节为银行自有数据（{settings.PUBLISH_CONFIDENTIAL_ENV}=true"
            " 时发布），仅限内部使用，请勿外传。每个活动的公开触达（话题 UGC 笔记增量、账号粉丝"
            "增长相对自身趋势的判定，见“活动表现”）与银行漏斗归因于该活动的全部天数和渠道的转化"
            "并列：申请、核卡、激活、首刷，括号内为相对上一环节的转化率；成本为博主合作费用与"
            "银行自有费用（marketing_costs）之和。周、月与渠道明细见 marts.funnel_conversion。"
            "活动名后的编号指向表下的来源；带 * 的行含示意（illustrative）数据，请勿引用。"
        )
    ]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["bank"], r["platform"]), []).append(r)
    for number_, ((bank, platform), campaigns) in enumerate(groups.items(), 1):
        parts.append(Heading(f"{bank}（{platform}）· {CONFIDENTIAL_ZH}"))
        parts.append(_campaign_table(campaigns, number_))
    return parts, []
