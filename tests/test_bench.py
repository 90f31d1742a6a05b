"""The benchmark's data generator, and the benchmark end to end at a tiny size.

The benchmark itself (`make bench`, 10,000 accounts x 365 days) is never run by the test suite.
"""

import json
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from orchestration.bench import generate as gen
from orchestration.bench.generate import Params, append_day, generate
from orchestration.defs.ingest.landing import discover
from orchestration.defs.ingest.load import ingest_landing
from orchestration.defs.ingest.reading import PROBLEMS_TABLE, Stager

YESTERDAY = settings.today() - timedelta(days=1)


def params(**overrides) -> Params:
    values = {
        "accounts": 40,
        "days": 12,
        "apps": 3,
        "months": 4,
        "seed": 7,
        "end_date": YESTERDAY.isoformat(),
    }
    return Params(**(values | overrides))


def deliveries(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def test_the_same_seed_writes_the_same_files(tmp_path):
    generate(tmp_path / "a", params())
    generate(tmp_path / "b", params())
    generate(tmp_path / "c", params(seed=8))
    first = deliveries(tmp_path / "a")
    assert first == deliveries(tmp_path / "b")
    other = deliveries(tmp_path / "c")
    assert set(other) == set(first)
    assert other != first


def test_files_are_the_contract_s_and_the_pipeline_reads_them(tmp_path):
    p = params(accounts=50, days=12, apps=3, months=4, bad_rate=0.0, gap_rate=0.0)
    summary = generate(tmp_path, p)

    snapshots = sorted(n for n in summary.files if n.startswith("account_snapshots__"))
    assert len(snapshots) == 12
    assert snapshots[-1] == f"account_snapshots__{YESTERDAY.isoformat()}.csv"  # day index 11
    assert {Path(n).suffix for n in snapshots} == {".csv", ".jsonl", ".parquet"}

    delivered = {d.name: d for d in discover(tmp_path).files}
    assert set(delivered) == set(summary.files)  # the hidden manifest is not a delivery
    rows: dict[str, int] = defaultdict(int)
    encodings = set()
    shares: dict[tuple, Decimal] = defaultdict(Decimal)
    conn = duckdb.connect()
    stager = Stager(conn, tmp_path / "staging")
    for load_id, (name, file) in enumerate(delivered.items(), start=1):
        dataset = file.dataset
        encodings.add(stager.stage(file.path, file.extension, dataset, load_id))
        problems = f"SELECT count(*) FROM {PROBLEMS_TABLE} WHERE load_id = ?"
        assert conn.execute(problems, [load_id]).fetchone()[0] == 0, name
        rows[file.dataset_name] += stager.staged_rows(dataset, load_id)
        if file.dataset_name == "app_audience":
            for app, dimension, share in conn.execute(
                f"SELECT app, dimension, share_pct FROM {stager.table(dataset)} WHERE load_id = ?",
                [load_id],
            ).fetchall():
                shares[(app, name, dimension)] += Decimal(share.rstrip("%"))
    assert summary.snapshot_rows == 50 * 12
    assert rows == {
        "account_snapshots": 50 * 12,
        "accounts": 50,
        "app_activity": (3 + 1) * 4,  # the apps and the 信用卡APP整体 aggregate
        "app_audience": (3 + 1) * 4 * (4 + 4 + 2),  # age, consumption, gender buckets
    }
    assert {"utf-8", "gb18030", None} <= encodings  # None: Parquet
    assert set(shares.values()) == {Decimal(100)}


def test_bad_rows_are_quarantined_at_about_the_rate_asked(tmp_path):
    landing, p = tmp_path / "landing", params(accounts=300, days=10, bad_rate=0.05)
    summary = generate(landing, p)
    assert 0.03 < summary.bad_rows / summary.snapshot_rows < 0.07

    with duckdb.connect(str(tmp_path / "cardreach.duckdb")) as conn:
        report = ingest_landing(conn, landing, tmp_path / "archive")
        assert report.rows_quarantined("account_snapshots") == summary.bad_rows
        assert report.rows_loaded("account_snapshots") + summary.bad_rows == summary.snapshot_rows
        assert report.rows_quarantined() == summary.bad_rows  # registry and apps are clean
        reasons = {r for (r,) in conn.execute("SELECT reason FROM audit.quarantine").fetchall()}
        assert any("is not a count" in r for r in reasons)
        assert any("missing required value" in r for r in reasons)
        # what the quality gate asks of the feed: every date covers at least half the accounts
        # of the one before, and no account loses more than 30% of its followers
        (coverage,) = conn.execute(
            "WITH per_date AS (SELECT platform, snapshot_date, count(DISTINCT account_name) AS n"
            " FROM raw.account_snapshots GROUP BY ALL) SELECT min(n / prev) FROM (SELECT n,"
            " lag(n) OVER (PARTITION BY platform ORDER BY snapshot_date) AS prev FROM per_date)"
        ).fetchone()
        assert coverage > 0.8
        (worst,) = conn.execute(
            "SELECT min(followers / prev) FROM (SELECT followers, lag(followers) OVER"
            " (PARTITION BY platform, account_name ORDER BY snapshot_date) AS prev"
            " FROM raw.account_snapshots) WHERE prev > 0"
        ).fetchone()
        assert worst > 0.7
        # counts written as people write them, and a heavy tail of followers
        with_units, steps, top, median = conn.execute(
            "SELECT count(*) FILTER (WHERE regexp_matches(followers_raw, '[万wk亿,]')),"
            " max(followers_step), max(followers), median(followers)"
            " FROM raw.account_snapshots"
        ).fetchone()
        assert with_units > 0 and steps >= 1000
        assert top > 50 * median


def test_append_day_writes_exactly_the_next_day(tmp_path):
    end = YESTERDAY - timedelta(days=1)
    generate(tmp_path / "a", params(days=5, end_date=end.isoformat()))
    before = deliveries(tmp_path / "a")

    summary = append_day(tmp_path / "a")

    after = deliveries(tmp_path / "a")
    (added,) = set(after) - set(before)
    assert added == f"account_snapshots__{(end + timedelta(days=1)).isoformat()}.csv"
    assert {n: after[n] for n in before} == before
    assert summary.days_written == 6
    # the same bytes as the sixth day of a six-day generation: the series continues
    generate(tmp_path / "b", params(days=6, end_date=(end + timedelta(days=1)).isoformat()))
    assert after[added] == deliveries(tmp_path / "b")[added]


def test_append_day_refuses_a_day_in_the_future(tmp_path):
    generate(tmp_path, params(days=2, end_date=settings.today().isoformat()))
    with pytest.raises(SystemExit, match="in the future"):
        append_day(tmp_path)


def test_the_command_line(tmp_path, capsys):
    out = tmp_path / "landing"
    assert gen.main(["--out", str(out), "--accounts", "5", "--days", "2", "--apps", "1",
                     "--months", "2", "--seed", "3", "--end-date",
                     (YESTERDAY - timedelta(days=1)).isoformat()]) == 0  # fmt: skip
    assert gen.main(["--out", str(out), "--append-day"]) == 0
    assert len([n for n in deliveries(out) if n.startswith("account_snapshots__")]) == 3
    # generating again into the same folder replaces the earlier generation's files
    assert gen.main(["--out", str(out), "--accounts", "5", "--days", "1", "--apps", "1",
                     "--months", "1"]) == 0  # fmt: skip
    assert len([n for n in deliveries(out) if n.startswith("account_snapshots__")]) == 1
    # and a folder it did not write is left alone
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty"):
        gen.main(["--out", str(tmp_path / "other"), "--days", "1", "--accounts", "1"])
    capsys.readouterr()


STAGE_KEYS = ("startup", "ingest", "dbt_models", "checks", "scoring", "publish", "other")


def test_the_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path):
    workdir = tmp_path / "bench"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.bench.run",
            "--accounts",
            "20",
            "--days",
            "5",
            "--apps",
            "3",
            "--months",
            "4",
            "--workdir",
            str(workdir),
        ],  # fmt: skip
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])

    for key in ("accounts", "days", "snapshot_rows", "full_s", "incremental_s", "steady_s",
                "baseline_s", "ratio_full", "ratio_incremental", "ratio_steady",
                "peak_rss_mb"):  # fmt: skip
        assert key in result, key
    for prefix in ("full", "incremental", "steady"):
        for stage in STAGE_KEYS:
            assert result[f"{prefix}_{stage}_s"] >= 0, (prefix, stage)
        assert result[f"{prefix}_ok"] is True
        # the stages account for the whole wall time
        stages = sum(result[f"{prefix}_{stage}_s"] for stage in STAGE_KEYS)
        assert stages == pytest.approx(result[f"{prefix}_s"], abs=0.05)
        assert result[f"{prefix}_ingest_s"] > 0 and result[f"{prefix}_dbt_models_s"] > 0
    assert result["accounts"] == 20 and result["days"] == 5
    assert 90 <= result["snapshot_rows"] <= 100  # a few accounts may miss a day
    assert result["baseline_s"] > 0 and result["full_s"] > result["baseline_s"]
    assert result["ratio_full"] == pytest.approx(result["full_s"] / result["baseline_s"], rel=0.01)
    for prefix in ("incremental", "steady"):
        assert result[f"ratio_{prefix}"] == pytest.approx(
            result[f"{prefix}_s"] / result["full_s"], rel=0.01
        )
    # the first daily run copies the full run's publication; the next one rewrites that first
    # publication in place, as every later daily run does
    assert result["incremental_publication"].startswith("a copy of the previous publication")
    assert "rewritten in place" in result["steady_publication"]
    assert "analysts' copy, +2 days: the publication before the previous one" in completed.stdout
    assert 50 < result["peak_rss_mb"] < 16_000
    # each stage's peak was sampled while its steps ran (one lasting 0.5 s has samples every
    # 0.1 s), and none exceeds the run's peak
    stage_peaks = result["full_peak_rss_by_stage_mb"]
    timed = [stage for stage in STAGE_KEYS if stage != "other" and result[f"full_{stage}_s"] > 0.5]
    assert {"dbt_models", "scoring"} <= set(timed)
    for stage in timed:
        assert 50 < stage_peaks[stage] <= result["full_peak_rss_tree_mb"], stage
    assert result["baseline_matches"] is True
    agreement = result["agreement"]["account_performance"]
    assert agreement["rows_compared"] == result["snapshot_rows"] - result["bad_rows"]
    # the work folder holds everything the run wrote; the repository's warehouse is untouched
    assert (workdir / "warehouse" / "cardreach.duckdb").exists()
    assert (workdir / "results.json").exists()
    assert "telemetry" in (workdir / "dagster_home" / "dagster.yaml").read_text()
