"""The whole pipeline on one large or awkward delivery at a time: time and peak memory.

    python -m orchestration.bench.large_files [--shapes many_rows,bad_rows,wide_jsonl]
                                              [--rows 2000000 --bad-rows 1000000
                                               --wide-lines 10000 --workdir DIR]

Each shape gets a fresh work folder (as `orchestration.bench.run` makes them) with a registry of
the accounts and one delivered file, and one `python -m orchestration.cli run`, what `make run`
runs, measured like the benchmark (process tree RSS sampled every 0.1 s; the largest single
process's exact peak):

- `many_rows`: one UTF-8 CSV of `--rows` account snapshots (20,000 accounts, one row per account
  and day), a third of the counts written with units (`12.7万`);
- `bad_rows`: one CSV of `--bad-rows` snapshots that are all bad, six defects in turn (a count
  `N/A`, a missing account name, an impossible date, a negative count, `约3万`, a row with two
  fields too many): every row is quarantined with its reason;
- `wide_jsonl`: one JSON Lines file of `--wide-lines` snapshots, each line with an extra key no
  other line has.

Prints a table and, last, one JSON object with every figure. docs/performance.md has the results.
"""

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.bench.run import Workdir, prepare_dbt, run_pipeline

ACCOUNTS = 20_000
SHAPES = ("many_rows", "bad_rows", "wide_jsonl")
HEADER = "platform,account_name,snapshot_date,followers,notes,likes,collects,comments,shares,source"


def write_registry(landing: Path, accounts: int) -> None:
    with duckdb.connect() as conn:
        conn.execute(
            f"""
            COPY (
                SELECT '小红书' AS platform, 'account_' || i AS account_name,
                    ['招商银行', '中信银行', '平安银行'][i % 3 + 1] AS bank,
                    'joint_stock' AS bank_type, 'card_center' AS account_role
                FROM range({accounts}) AS t(i)
            ) TO '{landing / "accounts.csv"}' (HEADER)
            """
        )


def write_many_rows(landing: Path, rows: int) -> Path:
    """`rows` snapshots: every account every day up to yesterday, counts only growing."""
    days = -(-rows // ACCOUNTS)
    first = settings.today() - timedelta(days=days)
    path = landing / f"account_snapshots__{settings.today() - timedelta(days=1)}.csv"
    with duckdb.connect() as conn:
        conn.execute(
            f"""
            COPY (
                SELECT '小红书' AS platform, 'account_' || (i % {ACCOUNTS}) AS account_name,
                    DATE '{first}' + CAST(i // {ACCOUNTS} AS INTEGER) AS snapshot_date,
                    CASE WHEN i % 3 = 0 AND f >= 10000 THEN printf('%.1f万', f // 1000 / 10.0)
                        ELSE CAST(f AS VARCHAR) END AS followers,
                    CAST(10 + i // {ACCOUNTS} AS VARCHAR) AS notes,
                    CAST(f * 3 AS VARCHAR) AS likes, CAST(f AS VARCHAR) AS collects,
                    CAST(f // 10 AS VARCHAR) AS comments, '' AS shares,
                    'illustrative' AS source
                FROM (
                    SELECT i, 1000 + (i % {ACCOUNTS}) * 37 + (i // {ACCOUNTS}) * 5 AS f
                    FROM range({rows}) AS t(i)
                )
            ) TO '{path}' (HEADER)
            """
        )
    return path


DEFECTS = (
    lambda i, day: f"小红书,account_{i},{day},N/A,10,1,1,0,,illustrative",
    lambda i, day: f"小红书,,{day},100,10,1,1,0,,illustrative",
    lambda i, day: f"小红书,account_{i},2025-02-30,100,10,1,1,0,,illustrative",
    lambda i, day: f"小红书,account_{i},{day},-35,10,1,1,0,,illustrative",
    lambda i, day: f"小红书,account_{i},{day},约3万,10,1,1,0,,illustrative",
    lambda i, day: f"小红书,account_{i},{day},100,10,1,1,0,,illustrative,x,y",
)


def write_bad_rows(landing: Path, rows: int) -> Path:
    day = settings.today() - timedelta(days=1)
    path = landing / f"account_snapshots__{day}.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for i in range(rows):
            out.write(DEFECTS[i % len(DEFECTS)](i % ACCOUNTS, day) + "\n")
    return path


def write_wide_jsonl(landing: Path, lines: int) -> Path:
    day = settings.today() - timedelta(days=1)
    path = landing / f"account_snapshots__{day}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            record = {
                "platform": "小红书",
                "account_name": f"account_{i % ACCOUNTS}",
                "snapshot_date": day.isoformat(),
                "followers": 1000 + i,
                "notes": 10,
                "likes_and_collects": 50,
                "source": "illustrative",
                f"extra_{i}": f"value {i}",
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def run_shape(shape: str, args) -> dict:
    work = Workdir(args.workdir / shape)
    work.reset()
    write_registry(work.landing, ACCOUNTS)
    writers = {
        "many_rows": lambda: write_many_rows(work.landing, args.rows),
        "bad_rows": lambda: write_bad_rows(work.landing, args.bad_rows),
        "wide_jsonl": lambda: write_wide_jsonl(work.landing, args.wide_lines),
    }
    delivered = writers[shape]()
    prepare_dbt(work)
    measured, stages = run_pipeline(work, shape)
    with duckdb.connect(str(settings.pipeline_database(work.warehouse)), read_only=True) as conn:
        loaded, quarantined = conn.execute(
            "SELECT sum(rows_loaded), sum(rows_quarantined) FROM audit.file_log"
            " WHERE file_name = ?",
            [delivered.name],
        ).fetchone()
    return {
        "shape": shape,
        "file_mb": round(delivered.stat().st_size / 2**20, 1),
        "returncode": measured.returncode,
        "wall_s": round(measured.wall_s, 1),
        "ingest_s": stages.get("stages", {}).get("ingest"),
        "tree_peak_rss_mb": round(measured.tree_peak_mb or 0),
        "single_peak_rss_mb": round(measured.single_peak_mb),
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "log": str(measured.log),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.bench.large_files", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--bad-rows", type=int, default=1_000_000)
    parser.add_argument("--wide-lines", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, help="default: $CARDREACH_WAREHOUSE/bench-files")
    args = parser.parse_args(argv)
    args.workdir = args.workdir or settings.warehouse_dir() / "bench-files"
    results = []
    print(
        f"{'shape':<12}{'file MB':>9}{'wall s':>9}{'ingest s':>10}{'tree MB':>9}"
        f"{'single MB':>11}{'loaded':>10}{'quarantined':>13}"
    )
    for shape in args.shapes.split(","):
        result = run_shape(shape, args)
        results.append(result)
        shown = {k: "-" if v is None else v for k, v in result.items()}  # a failed run
        print(
            f"{shape:<12}{shown['file_mb']:>9}{shown['wall_s']:>9}{shown['ingest_s']:>10}"
            f"{shown['tree_peak_rss_mb']:>9}{shown['single_peak_rss_mb']:>11}"
            f"{shown['rows_loaded']:>10}{shown['rows_quarantined']:>13}",
            flush=True,
        )
    print(json.dumps(results, ensure_ascii=False))
    return 0 if all(r["returncode"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
