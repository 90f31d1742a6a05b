"""The bank's own funnel in the marts: stage totals and rates as the file's sums give them, and
confidential marts kept out of the analysts' copy until the setting allows them."""

import csv
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import duckdb
import pytest
from conftest import SAMPLE_LANDING, query

from orchestration import settings
from orchestration.contract.parsing import parse_amount
from orchestration.dbt import confidential_tables

STAGES = ["曝光", "点击", "申请", "核卡", "激活", "首刷"]


def sample_funnel() -> list[dict]:
    rows = []
    for path in sorted(SAMPLE_LANDING.glob("funnel_daily__*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    assert rows, "the sample ships a funnel"
    return rows


def test_monthly_approvals_over_applications_is_the_ratio_of_the_files_sums(sample_run):
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, Decimal(0), 0])
    for row in sample_funnel():
        key = (row["渠道"], row["活动ID"], row["日期"][:7] + "-01")
        sums[key][0] += int(row["申请"])
        sums[key][1] += int(row["核卡"])
        sums[key][2] += Decimal(row["消费金额"])
        sums[key][3] += int(row["激活"])
    got = {
        (channel, campaign, str(month)): (applications, approvals, rate, spend, per_activation)
        for channel, campaign, month, applications, approvals, rate, spend, per_activation in query(
            sample_run,
            "SELECT channel, campaign_id, period_start, applications, approvals,"
            " approvals_rate_pct, spend_amount_yuan, spend_per_activation_yuan"
            " FROM marts.funnel_conversion WHERE period_type = 'month' AND days_with_figures > 0",
        )
    }
    assert got.keys() == sums.keys()
    for key, (applications, approvals, spend, activations) in sums.items():
        assert got[key][:2] == (applications, approvals), key
        assert got[key][2] == pytest.approx(100 * approvals / applications, abs=1e-4), key
        assert got[key][3] == spend, key
        # yuan to the fen, halves rounded up as money is
        per_activation = (spend / activations).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert got[key][4] == pytest.approx(float(per_activation)), key
    # weeks and months hold the same totals
    assert query(
        sample_run,
        "SELECT period_type, sum(applications), sum(approvals) FROM marts.funnel_conversion"
        " GROUP BY ALL ORDER BY 1",
    ) == [
        (
            p,
            sum(int(r["申请"]) for r in sample_funnel()),
            sum(int(r["核卡"]) for r in sample_funnel()),
        )
        for p in ("month", "week")
    ]


def test_every_rate_is_the_stage_over_the_stage_before(sample_run):
    """A stage of 0 before a rate gives null: the dbt unit test
    funnel_conversion_rates_after_a_stage_of_zero_are_null holds that case."""
    rows = query(
        sample_run,
        "SELECT approvals, activations, activations_rate_pct FROM marts.funnel_conversion"
        " WHERE days_with_figures > 0",
    )
    for approvals, activations, rate in rows:
        assert rate == pytest.approx(100 * activations / approvals, abs=1e-4)  # 4 decimals


def test_the_funnel_marts_stay_out_of_the_analysts_copy_by_default(sample_run):
    confidential = confidential_tables()
    assert "marts.funnel_conversion" in confidential
    with duckdb.connect(str(sample_run.analytics_path), read_only=True) as analysts:
        published = {
            f"{schema}.{table}"
            for schema, table in analysts.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()"
            ).fetchall()
        }
    assert "marts.account_performance" in published
    assert not confidential & published
    for table in confidential:  # ...while the pipeline's database has them, with their comments
        ((comment,),) = query(
            sample_run,
            "SELECT comment FROM duckdb_tables() WHERE schema_name || '.' || table_name = ?",
            [table],
        )
        assert comment.startswith("CONFIDENTIAL")


def test_the_setting_publishes_them_and_turning_it_off_removes_them(sample_copy, monkeypatch):
    from orchestration.defs.publish.assets import analytics_database

    def publish() -> set[str]:
        assert dg.materialize([analytics_database], resources={"warehouse": sample_copy}).success
        with duckdb.connect(str(sample_copy.analytics_path), read_only=True) as analysts:
            return {
                f"{schema}.{table}"
                for schema, table in analysts.execute(
                    "SELECT schema_name, table_name FROM duckdb_tables()"
                ).fetchall()
            }

    monkeypatch.setenv(settings.PUBLISH_CONFIDENTIAL_ENV, "true")
    assert confidential_tables() <= publish()
    monkeypatch.setenv(settings.PUBLISH_CONFIDENTIAL_ENV, "false")
    assert not confidential_tables() & publish()
    # a table of the bank's figures that lost its dbt tag is still withheld by its column
    with duckdb.connect(str(sample_copy.database_path)) as conn:
        conn.execute(
            "CREATE TABLE marts.untagged AS SELECT 1 AS approvals, true AS is_confidential"
        )
    try:
        assert "marts.untagged" not in publish()
    finally:
        with duckdb.connect(str(sample_copy.database_path)) as conn:
            conn.execute("DROP TABLE marts.untagged")
    monkeypatch.setenv(settings.PUBLISH_CONFIDENTIAL_ENV, "maybe")
    with pytest.raises(ValueError, match="CARDREACH_PUBLISH_CONFIDENTIAL"):
        settings.publish_confidential()


def test_each_campaign_shows_its_reach_beside_its_conversion(sample_run):
    """campaign_funnel: every campaign once, its public reach from campaign_performance and the
    funnel the bank attributes to it, approvals over applications as the file's sums give them."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in sample_funnel():
        sums[row["活动ID"]][0] += int(row["申请"])
        sums[row["活动ID"]][1] += int(row["核卡"])
    rows = {
        campaign: rest
        for campaign, *rest in query(
            sample_run,
            "SELECT f.campaign_id, f.ugc_notes_gained, p.ugc_notes_gained, f.uplift_verdict,"
            " p.uplift_verdict, f.applications, f.approvals, f.approvals_rate_pct"
            " FROM marts.campaign_funnel AS f"
            " JOIN marts.campaign_performance AS p USING (campaign_id)",
        )
    }
    assert rows.keys() == {
        c for (c,) in query(sample_run, "SELECT campaign_id FROM staging.stg_campaigns")
    }
    for campaign, (
        notes,
        notes_public,
        verdict,
        verdict_public,
        apps,
        approvals,
        rate,
    ) in rows.items():
        assert (notes, verdict) == (notes_public, verdict_public), campaign
        if campaign in sums:
            assert (apps, approvals) == tuple(sums[campaign]), campaign
            assert rate == pytest.approx(100 * approvals / apps, abs=1e-4), campaign
        else:  # a campaign the funnel does not name has no conversion, not a conversion of 0
            assert (apps, approvals, rate) == (None, None, None), campaign
    assert sums.keys() <= rows.keys()
    assert any(notes is not None for notes, *_ in rows.values())


def test_a_campaigns_cost_is_its_creators_fees_and_the_banks_own_costs(sample_run):
    """Costs from both inputs, each counted once: collaborations naming the campaign (creators'
    fees) and marketing_costs naming it; per approved card from the campaign's approvals."""
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for name, column in (("collaborations__*.csv", "费用"), ("marketing_costs__*.csv", "费用")):
        for path in SAMPLE_LANDING.glob(name):
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    if row["活动ID"] and row[column]:
                        costs[row["活动ID"]] += parse_amount(row[column])
    assert costs, "the sample ships costs"
    rows = query(
        sample_run,
        "SELECT campaign_id, cost_yuan, approvals, cost_per_approval_yuan"
        " FROM marts.campaign_funnel",
    )
    for campaign, cost, approvals, per_approval in rows:
        assert cost == costs.get(campaign), campaign  # null, not 0, when nothing is known
        if cost is not None and approvals:
            expected = (cost / approvals).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert per_approval == pytest.approx(float(expected)), campaign


def test_every_known_cost_is_counted_once_even_without_funnel_figures(sample_run):
    """Costs of a period without funnel rows (a creator's fee outside any campaign) are kept
    beside null stages: the mart's costs add up to the files' in weeks and in months alike."""
    total = Decimal(0)
    for name in ("collaborations__*.csv", "marketing_costs__*.csv"):
        for path in SAMPLE_LANDING.glob(name):
            with path.open(encoding="utf-8", newline="") as handle:
                total += sum(parse_amount(r["费用"]) for r in csv.DictReader(handle) if r["费用"])
    assert query(
        sample_run,
        "SELECT period_type, sum(cost_yuan) FROM marts.funnel_conversion GROUP BY ALL ORDER BY 1",
    ) == [("month", total), ("week", total)]
    assert query(
        sample_run,
        "SELECT count(*) FROM marts.funnel_conversion"
        " WHERE days_with_figures = 0 AND cost_yuan IS NOT NULL AND applications IS NULL",
    ) != [(0,)]


def test_the_readme_funnel_queries_run_where_the_funnel_is(sample_run):
    """The README's queries of the confidential marts run on the pipeline's database of the
    sample and find rows (the analysts' copy lacks them by default)."""
    readme = (settings.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## The bank's own funnel")
    [block] = re.findall(
        r"```sql\n(.*?)```", readme[start : readme.index("\n## ", start + 3)], re.S
    )
    queries = [q for q in block.split(";\n") if q.strip()]
    assert len(queries) >= 2
    assert [q for q in queries if not query(sample_run, q)] == []
