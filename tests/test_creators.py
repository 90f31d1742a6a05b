"""The creator marts on the shipped sample (creator_value, creator_fit, bank_creator_usage), the
gate on creator audiences, and the report's 达人合作 section. Expected figures are computed here
from the sample files and seeds, never written in."""

import csv
import html
import math
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
from conftest import SAMPLE_LANDING, query, run_pipeline

from orchestration import settings

SEEDS = settings.DBT_PROJECT_DIR / "seeds"
CHECK = "ge_creator_audience_share_totals"


def read_csv(path: Path) -> list[dict]:
    """A sample file as delivered: UTF-8 (with or without BOM) or GB18030, as ingestion reads it."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return list(csv.DictReader(text.splitlines()))


def share(text: str) -> float:
    return float(text.strip().rstrip("%"))


def creators_file() -> list[dict]:
    return read_csv(SAMPLE_LANDING / "creators__2025-04-17.csv")


# ---- creator_value ----


def expected_cpe(row: dict) -> tuple[float | None, str | None]:
    """The cheaper format per engagement: quoted price ÷ the delivered median interactions."""
    median = int(row["互动中位数"])
    options = [
        (int(row[column]) / median, kind)
        for column, kind in (("图文报价", "image"), ("视频报价", "video"))
        if row[column] and median
    ]
    return min(options, key=lambda option: option[0]) if options else (None, None)


def test_creator_value_ranks_creators_by_cpe(sample_run):
    by_date: dict[str, list] = defaultdict(list)
    for row in creators_file():
        cpe, kind = expected_cpe(row)
        by_date[row["日期"]].append((row["博主ID"], cpe, kind))
    assert len(by_date) == 2
    for day, creators in by_date.items():
        priced = sorted((c for c in creators if c[1] is not None), key=lambda c: c[1])
        assert len(priced) >= 5 and len({c[1] for c in priced}) == len(priced)  # no ties here
        rows = query(
            sample_run,
            "SELECT creator_id, cpe_yuan, cpe_format, cpe_rank FROM marts.creator_value"
            " WHERE snapshot_date = CAST(? AS DATE) ORDER BY cpe_rank NULLS LAST, creator_id",
            [day],
        )
        assert [r[0] for r in rows[: len(priced)]] == [c[0] for c in priced]
        assert [r[3] for r in rows[: len(priced)]] == list(range(1, len(priced) + 1))
        for (_, cpe, kind), (_, got_cpe, got_kind, _) in zip(priced, rows, strict=False):
            assert math.isclose(got_cpe, cpe, rel_tol=1e-9) and got_kind == kind
        # a creator without a price has no cpe and no rank
        unpriced = {c[0] for c in creators if c[1] is None}
        assert unpriced and {r[0] for r in rows if r[3] is None} == unpriced


def test_creator_value_growth_is_since_the_previous_snapshot(sample_run):
    by_creator: dict[str, list] = defaultdict(list)
    for row in creators_file():
        by_creator[row["博主ID"]].append(row)
    creator_id, (first, last) = next(iter(sorted(by_creator.items())))
    days = (_date(last["日期"]) - _date(first["日期"])).days
    expected = ((int(last["粉丝数"]) / int(first["粉丝数"])) ** (7 / days) - 1) * 100
    [(change, growth, median, is_latest)] = query(
        sample_run,
        "SELECT followers_change, follower_growth_weekly_pct, median_interactions_per_note,"
        " is_latest FROM marts.creator_value WHERE creator_id = ? AND snapshot_date = ?",
        [creator_id, _date(last["日期"])],
    )
    assert change == int(last["粉丝数"]) - int(first["粉丝数"])
    assert math.isclose(growth, expected, rel_tol=1e-9)
    assert median == int(last["互动中位数"]) and is_latest


def _date(text: str):
    from datetime import date

    return date.fromisoformat(text)


# ---- creator_fit ----


def target_share(shares: dict[tuple[str, str], float]) -> float:
    """The target segment's share of an audience, as macros/target_share.sql defines it: per
    dimension the segment restricts, the share in its buckets (an age bucket wholly under the
    card-holding age left out); the point estimate multiplies them (independence)."""
    buckets = {
        (r["dimension"], r["vendor_label"]): r for r in read_csv(SEEDS / "audience_buckets.csv")
    }
    segment = [
        r for r in read_csv(SEEDS / "target_segments.csv") if r["segment_code"] == "card_customer"
    ]
    min_age = 18  # var card_holder_min_age
    result = 1.0
    for dimension in sorted({r["dimension"] for r in segment}):
        codes = {r["bucket_code"] for r in segment if r["dimension"] == dimension}
        in_segment = 0.0
        for (dim, label), value in shares.items():
            if dim != dimension:
                continue
            bucket = buckets[(dim, label)]
            age_max = bucket["age_max"]
            if bucket["bucket_code"] in codes and (
                dim != "age" or not age_max or int(age_max) >= min_age
            ):
                in_segment += value
        result *= in_segment / 100
    return result * 100


def test_a_creators_target_tgi_recomputed_from_the_sample_files(sample_run):
    creator_rows = read_csv(SAMPLE_LANDING / "creator_audience__2025-03.csv")
    app_rows = [
        r for r in read_csv(SAMPLE_LANDING / "app_audience__2025-01.csv") if r["应用"] == "小红书"
    ]
    platform = target_share({(r["维度"], r["分组"]): share(r["占比"]) for r in app_rows})
    creators = sorted({r["博主ID"] for r in creator_rows})
    assert len(creators) >= 2
    for creator_id in creators:
        creator = target_share(
            {
                (r["维度"], r["分组"]): share(r["占比"])
                for r in creator_rows
                if r["博主ID"] == creator_id
            }
        )
        [(got_share, got_platform, got_tgi, platform_month)] = query(
            sample_run,
            "SELECT target_share_pct, platform_target_share_pct, target_tgi, platform_month"
            " FROM marts.creator_fit WHERE creator_id = ? AND month = DATE '2025-03-01'",
            [creator_id],
        )
        assert math.isclose(got_share, creator, abs_tol=1e-5)
        assert math.isclose(got_platform, platform, abs_tol=1e-5)
        assert math.isclose(got_tgi, creator / platform * 100, rel_tol=1e-6)
        assert platform_month.isoformat() == "2025-01-01"
    # the platform side is the one platform_audience_fit publishes: one definition
    [(published,)] = query(
        sample_run,
        "SELECT target_share_pct FROM marts.platform_audience_fit"
        " WHERE app = '小红书' AND month = DATE '2025-01-01'",
    )
    assert math.isclose(published, platform, abs_tol=1e-5)


# ---- bank_creator_usage ----


def test_bank_creator_usage_shows_the_banks_sharing_a_creator(sample_run):
    collaborations = read_csv(SAMPLE_LANDING / "collaborations__2024.csv")
    banks = sorted({r["银行"] for r in collaborations if r["博主ID"] == "5c8a01"})
    assert banks == ["中信银行", "招商银行"]
    rows = query(
        sample_run,
        "SELECT bank, other_banks, other_banks_count, creator_name FROM marts.bank_creator_usage"
        " WHERE creator_id = '5c8a01' ORDER BY bank",
    )
    assert [(bank, others, count) for bank, others, count, _ in rows] == [
        ("中信银行", "招商银行", 1),
        ("招商银行", "中信银行", 1),
    ]
    names = {r["博主"] for r in creators_file() if r["博主ID"] == "5c8a01"}
    assert {name for *_, name in rows} == names
    # cost: the known costs summed, the unknown ones counted apart (never read as 0)
    expected: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0, 0])
    for r in collaborations:
        entry = expected[(r["银行"], r["博主ID"])]
        entry[2] += 1
        if r["费用"]:
            entry[0] += Decimal(r["费用"])
        else:
            entry[1] += 1
    got = {
        (bank, creator_id): [cost or Decimal(0), without, collaborations_]
        for bank, creator_id, cost, without, collaborations_ in query(
            sample_run,
            "SELECT bank, creator_id, cost_yuan, collaborations_without_cost, collaborations"
            " FROM marts.bank_creator_usage",
        )
    }
    assert got == {key: list(value) for key, value in expected.items()}
    assert any(without for _, without, _ in got.values())


# ---- the gate ----


def creator_audience(creator_id: str, ages: dict[str, str]) -> list[dict]:
    return [
        {
            "platform": "小红书",
            "creator_id": creator_id,
            "month": "2025-03",
            "dimension": "age",
            "bucket": bucket,
            "share_pct": value,
            "source": "test",
        }
        for bucket, value in ages.items()
    ]


def test_a_creator_audience_summing_to_120_fails_the_gate_and_is_not_published(
    landing, sample_copy, warehouse
):
    published_before = _published(warehouse, "SELECT * FROM marts.creator_fit ORDER BY ALL")
    sample_creators = {row[1] for row in published_before}
    assert sample_creators  # the sample's, whose shares sum to 100

    bad = {"24岁以下": "40", "25-30岁": "40", "31-35岁": "25", "36岁及以上": "15"}
    assert sum(map(float, bad.values())) == 120
    landing.csv("creator_audience__b.csv", creator_audience("c-bad", bad))
    result = run_pipeline()
    failed = {c.check_name: c for c in result.get_asset_check_evaluations() if not c.passed}
    check = failed[CHECK]
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.asset_key == dg.AssetKey(["staging", "stg_creator_audience"])
    # the failure names the creator, the month, the dimension and the total, and no other creator
    detail = html.unescape(check.metadata["failed_expectations"].value)
    assert re.search(r'"creator_id": "c-bad".*"month": "2025-03-01".*"dimension": "age"', detail)
    assert '"share_total_pct": 120' in detail
    assert not [creator for creator in sample_creators if creator in detail]
    # the pipeline's database holds the latest build; the analysts' copy keeps its creator_fit
    assert query(
        warehouse, "SELECT count(*) FROM marts.creator_fit WHERE creator_id = 'c-bad'"
    ) == [(1,)]
    assert _published(warehouse, "SELECT * FROM marts.creator_fit ORDER BY ALL") == published_before


def _published(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse.analytics_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


# ---- the report ----


def test_the_report_has_the_creator_section(sample_run):
    page = settings.report_path(sample_run.warehouse_dir).read_text(encoding="utf-8")
    assert "达人合作" in page
    section = page[page.index('id="creators"') :]
    section = html.unescape(re.sub(r"<[^>]+>", " ", section[: section.index("</section>")]))
    cheapest = query(
        sample_run,
        "SELECT creator_name FROM marts.creator_value WHERE is_latest AND cpe_rank = 1",
    )[0][0]
    fitting = [
        name
        for (name,) in query(
            sample_run,
            "SELECT creator_name FROM marts.creator_fit WHERE target_tgi > 100",
        )
    ]
    assert cheapest in section and fitting
    sentence = section[section.index("TGI > 100") :]
    assert all(f"{name}*" in sentence for name in fitting)  # illustrative, marked
    not_fitting = query(
        sample_run, "SELECT creator_name FROM marts.creator_fit WHERE target_tgi <= 100"
    )
    assert all(name not in sentence for (name,) in not_fitting)
    assert "中信银行、招商银行" in section or "招商银行、中信银行" in section
