"""Runs the hand-written baseline (`baseline.sql`) on a landing folder, in a process of its own.

    python -m orchestration.bench.baseline --landing DIR --database FILE [--scratch DIR]

The only Python around the SQL is what DuckDB cannot do itself here: list the files by dataset
and format, convert GB18030 CSV files to UTF-8 (DuckDB 1.5 needs the `encodings` extension for
GB18030, which cannot be installed without the internet), and check each CSV header against the
column order the script reads positionally. That time counts: the printed JSON line has the
conversion and the SQL seconds, and the bench measures the whole process from outside.
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import duckdb

from orchestration.bench.layout import (
    CSV_HEADERS,
    SNAPSHOT_COLUMNS,
)
from orchestration.settings import DBT_PROJECT_DIR, today

SQL_PATH = Path(__file__).with_name("baseline.sql")
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
TARGET_SEGMENT = "card_customer"  # dbt_project.yml vars: target_segment


class BaselineError(Exception):
    pass


def _dataset(path: Path) -> str:
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return stem.split("__", 1)[0].lower()


def _utf8_csv(path: Path, scratch: Path) -> tuple[Path, bool, int]:
    """The file itself when it is UTF-8 with LF line ends, else a UTF-8 LF copy in `scratch`;
    checks the header; also returns the number of data rows (no value holds a line break)."""
    raw = path.read_bytes()
    rewrite = raw.startswith(b"\xef\xbb\xbf") or b"\r\n" in raw
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
        rewrite = True
    header = tuple(h.strip() for h in text[: text.find("\n")].strip().split(","))
    if header not in CSV_HEADERS[_dataset(path)]:
        raise BaselineError(f"{path.name}: unexpected header {header}")
    rows = raw.count(b"\n") - 1 + (not raw.endswith(b"\n"))
    if rewrite:
        # DuckDB applies the line ending it sniffed in the first file of a list to every file:
        # a file whose line ends differ from the first one's reads as no rows, silently.
        target = scratch / path.name
        target.write_text(text.replace("\r\n", "\n"), encoding="utf-8")
        return target, True, rows
    return path, False, rows


def _placeholder(kind: str, scratch: Path, conn: duckdb.DuckDBPyConnection) -> str:
    """An empty file of a kind, so that a format no file of the folder uses reads as no rows."""
    path = scratch / f"empty.{kind}"
    if kind == "csv":
        path.write_text(",".join(SNAPSHOT_COLUMNS) + "\n", encoding="utf-8")
    elif kind == "jsonl":
        path.write_text("", encoding="utf-8")
    else:
        columns = ", ".join(
            f"NULL::{'DATE' if c == 'snapshot_date' else 'VARCHAR'} AS {c}"
            for c in SNAPSHOT_COLUMNS
        )
        conn.execute(f"COPY (SELECT {columns} WHERE false) TO '{path}' (FORMAT parquet)")
    return str(path)


def run_baseline(landing: Path, database: Path, scratch: Path) -> dict:
    started = time.perf_counter()
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    files: dict[str, list[str]] = {
        key: []
        for key in (
            "snapshot_csv",
            "snapshot_jsonl",
            "snapshot_parquet",
            "accounts_csv",
            "activity_csv",
            "audience_csv",
        )
    }
    converted = 0
    expected_snapshot_rows = 0
    for path in sorted(p for p in landing.iterdir() if p.is_file() and not p.name.startswith(".")):
        dataset, extension = _dataset(path), path.suffix.lower()
        if dataset == "account_snapshots" and extension in (".jsonl", ".parquet"):
            files[f"snapshot_{extension[1:]}"].append(str(path))
            if extension == ".jsonl":
                expected_snapshot_rows += sum(1 for line in path.open("rb") if line.strip())
        elif extension == ".csv" and dataset in CSV_HEADERS:
            readable, was_converted, rows = _utf8_csv(path, scratch)
            converted += was_converted
            if dataset == "account_snapshots":
                expected_snapshot_rows += rows
            key = {
                "account_snapshots": "snapshot_csv",
                "accounts": "accounts_csv",
                "app_activity": "activity_csv",
                "app_audience": "audience_csv",
            }[dataset]
            files[key].append(str(readable))
        else:
            raise BaselineError(f"{path.name}: not a file this baseline reads")
    # Files sort by name in delivery order; converted copies keep their names.
    for key in files:
        files[key].sort(key=lambda p: Path(p).name)
    prepared = time.perf_counter()

    database.unlink(missing_ok=True)
    conn = duckdb.connect(str(database))
    try:
        for key, kind in (
            ("snapshot_csv", "csv"),
            ("snapshot_jsonl", "jsonl"),
            ("snapshot_parquet", "parquet"),
        ):
            if not files[key]:
                files[key] = [_placeholder(kind, scratch, conn)]
        for key in ("accounts_csv", "activity_csv", "audience_csv"):
            if not files[key]:
                raise BaselineError(f"no {key.removesuffix('_csv')} file in {landing}")
        for key, value in files.items():
            conn.execute(f"SET VARIABLE {key} = ?", [value])
        for seed in ("follower_tiers", "audience_buckets", "target_segments", "audience_baselines"):
            conn.execute(f"SET VARIABLE {seed}_csv = ?", [str(SEEDS_DIR / f"{seed}.csv")])
        conn.execute("SET VARIABLE target_segment = ?", [TARGET_SEGMENT])
        # the pipeline's today (settings.today), which its rule against future dates counts from
        conn.execute("SET VARIABLE today = ?::DATE", [today().isoformat()])
        if files["snapshot_parquet"][0] != str(scratch / "empty.parquet"):
            expected_snapshot_rows += conn.execute(
                "SELECT sum(num_rows) FROM parquet_file_metadata(?)", [files["snapshot_parquet"]]
            ).fetchone()[0]
        conn.execute(SQL_PATH.read_text(encoding="utf-8"))
        # Every delivered row must have been read, good or bad (see the CRLF note above).
        read = conn.execute("SELECT count(*) FROM snapshot_rows").fetchone()[0]
        if read != expected_snapshot_rows:
            raise BaselineError(
                f"read {read} snapshot rows, the files hold {expected_snapshot_rows}"
            )
        conn.execute("CHECKPOINT")
        finished = time.perf_counter()
        rows = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("account_performance", "platform_audience_fit", "quarantine")
        }
    finally:
        conn.close()
    return {
        "baseline_prepare_s": round(prepared - started, 3),
        "baseline_sql_s": round(finished - prepared, 3),
        "baseline_inner_s": round(finished - started, 3),
        "files_rewritten_as_utf8_lf": converted,
        "snapshot_rows_read": read,
        "snapshot_files": sum(
            len(files[k]) for k in ("snapshot_csv", "snapshot_jsonl", "snapshot_parquet")
        ),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.bench.baseline")
    parser.add_argument("--landing", required=True, type=Path)
    parser.add_argument("--database", required=True, type=Path)
    parser.add_argument("--scratch", type=Path, help="for converted files (default: beside db)")
    args = parser.parse_args(argv)
    scratch = args.scratch or args.database.with_name(args.database.stem + "_scratch")
    try:
        result = run_baseline(args.landing, args.database, scratch)
    except BaselineError as error:
        print(f"baseline: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
