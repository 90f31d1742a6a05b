"""Ingestion alone, into a fresh database: the ingest stage timed apart, as a whole process.

    python -m orchestration.bench.ingest --landing DIR --workdir DIR

Empties `workdir` (a folder it made, or an empty one), ingests every file of `landing` as the
pipeline's ingest step does (same memory cap), and prints the files, rows and seconds.
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

from orchestration import settings
from orchestration.defs.ingest.load import ensure_schemas, ingest_landing
from orchestration.warehouse import Warehouse

MARKER = ".cardreach-bench-ingest"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.bench.ingest")
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.workdir.exists() and any(args.workdir.iterdir()):
        if not (args.workdir / MARKER).exists():
            raise SystemExit(f"{args.workdir} is not empty and was not made by this benchmark")
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)
    (args.workdir / MARKER).touch()
    warehouse = Warehouse(landing=str(args.landing), warehouse=str(args.workdir))
    start = time.perf_counter()
    with warehouse.connect() as conn:
        ensure_schemas(conn)
        report = ingest_landing(
            conn, args.landing, settings.archive_dir(args.workdir), settle_seconds=0
        )
    seconds = time.perf_counter() - start
    print(
        f"{len(report.outcomes)} files, {report.rows_loaded()} rows loaded,"
        f" {report.rows_quarantined()} quarantined, {seconds:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
