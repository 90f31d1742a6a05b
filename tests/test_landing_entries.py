"""Every landing entry gets an outcome, whatever it is and whatever its name's bytes; the folders
may not overlap; a failed step says what stopped it. Every entry is built in the test."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import dagster as dg
import duckdb
import pytest
from conftest import materialize_ingest, point_settings_at, query, run_pipeline

from orchestration.cli import summarize
from orchestration.defs.ingest.landing import discover
from orchestration.defs.ingest.load import LEDGER_NAME, replay_archive

ACCOUNT = {
    "platform": "小红书",
    "account_name": "兴业银行信用卡",
    "bank": "兴业银行",
    "bank_type": "joint_stock",
}
ACCOUNTS_CSV = "platform,account_name,bank,bank_type\n小红书,兴业银行信用卡,兴业银行,joint_stock\n"


def file_log(warehouse) -> list[tuple]:
    return query(
        warehouse,
        "SELECT file_name, status, message FROM audit.file_log ORDER BY file_name, load_id",
    )


def metadata_of(result, key: str) -> dict:
    [materialization] = [
        m
        for m in result.asset_materializations_for_node("ingest_landing_files")
        if m.asset_key.to_user_string() == key
    ]
    return materialization.metadata


def test_every_entry_that_is_no_delivery_is_skipped_with_its_reason_once(
    landing, warehouse, tmp_path
):
    landing.csv("accounts.csv", [ACCOUNT])
    (landing.path / "drop").mkdir()
    landing.csv("drop/accounts__more.csv", [ACCOUNT | {"account_name": "北京银行信用卡"}])
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "accounts.csv").write_text(ACCOUNTS_CSV, encoding="utf-8")
    (landing.path / "accounts__linked.csv").symlink_to(outside / "accounts.csv")
    (landing.path / "linked_folder").symlink_to(outside, target_is_directory=True)
    os.mkfifo(landing.path / "account_snapshots__pipe.csv")  # reading it would block forever
    for name in ("accounts.csv.tmp", "accounts.csv.part", "~$accounts.csv", "accounts.csv~"):
        landing.raw(name, ACCOUNTS_CSV.encode())
    landing.raw(".accounts.csv", ACCOUNTS_CSV.encode())
    (landing.path / ".sync").mkdir()
    landing.raw(".sync/accounts__synced.csv", ACCOUNTS_CSV.encode())

    first = materialize_ingest(warehouse)
    assert first.success
    log = {name: (status, message) for name, status, message in file_log(warehouse)}
    assert {name: status for name, (status, _) in log.items()} == {
        "accounts.csv": "loaded",
        "drop/accounts__more.csv": "loaded",
        "accounts__linked.csv": "skipped",
        "linked_folder": "skipped",
        "account_snapshots__pipe.csv": "skipped",
        "accounts.csv.tmp": "skipped",
        "accounts.csv.part": "skipped",
        "~$accounts.csv": "skipped",
        "accounts.csv~": "skipped",
        ".accounts.csv": "skipped",
        ".sync": "skipped",  # one entry for the hidden folder: nothing inside it is read
    }
    assert log["accounts__linked.csv"][1].startswith("a symbolic link")
    assert log["linked_folder"][1].startswith("a symbolic link")
    assert "FIFO" in log["account_snapshots__pipe.csv"][1]
    assert "temporary or partial name (….tmp)" in log["accounts.csv.tmp"][1]
    assert "(~$…)" in log["~$accounts.csv"][1]
    assert log[".accounts.csv"][1].startswith("a hidden file")
    assert log[".sync"][1].startswith("a hidden folder")
    # Only the two deliveries were read: nothing behind a link or in a hidden folder.
    assert query(warehouse, "SELECT account_name FROM raw.accounts ORDER BY 1") == [
        ("兴业银行信用卡",),
        ("北京银行信用卡",),
    ]
    skipped = query(
        warehouse,
        "SELECT count(*), count(sha256), count(archive_path) FROM audit.file_log"
        " WHERE status = 'skipped'",
    )
    assert skipped == [(9, 0, 0)]  # never read, never archived
    assert metadata_of(first, "audit/file_log")["entries_skipped"].value == 9
    assert metadata_of(first, "audit/file_log")["files_skipped"].value == 9

    # The same entries on the next runs: the ledger does not grow.
    assert materialize_ingest(warehouse).success
    second = materialize_ingest(warehouse)
    assert len(file_log(warehouse)) == 11
    assert metadata_of(second, "audit/file_log")["entries_skipped"].value == 9
    # Renamed to its final name, a temporary file is a delivery like any other.
    os.rename(landing.path / "accounts.csv.part", landing.path / "accounts__final.csv")
    assert materialize_ingest(warehouse).success
    assert dict((n, s) for n, s, _ in file_log(warehouse))["accounts__final.csv"] == "loaded"


GBK_NAME = b"account_snapshots__\xd5\xd0\xd0\xd0.csv"  # 招行 in GBK, from a Windows share
SNAPSHOT_CSV = (
    "platform,account_name,snapshot_date,followers,notes,likes,collects,source\n"
    "小红书,招商银行信用卡申请,2025-04-17,4.4万,212,1万,2000,test\n"
)


def test_names_that_are_not_utf8_are_kept_exactly_and_shown_readably(landing, warehouse):
    folder = landing.path / os.fsdecode(b"\xb6\xfe\xd4\xc2")  # a GBK folder: 二月
    folder.mkdir()
    (folder / os.fsdecode(GBK_NAME)).write_bytes(SNAPSHOT_CSV.encode())
    # Not GB18030 either: shown with escapes, still kept exactly.
    (landing.path / os.fsdecode(b"accounts__\xff.csv")).write_bytes(ACCOUNTS_CSV.encode())
    settled = time.time() - 60
    for path in (folder / os.fsdecode(GBK_NAME), landing.path / os.fsdecode(b"accounts__\xff.csv")):
        os.utime(path, (settled, settled))

    assert materialize_ingest(warehouse).success
    rows = query(
        warehouse,
        "SELECT file_name, file_name_bytes, status, rows_loaded FROM audit.file_log ORDER BY 1",
    )
    assert rows == [
        ("accounts__\\xff.csv", b"accounts__\xff.csv".hex(), "loaded", 1),
        ("二月/account_snapshots__招行.csv", (b"\xb6\xfe\xd4\xc2/" + GBK_NAME).hex(), "loaded", 1),
    ]
    assert query(warehouse, "SELECT file_name, followers FROM raw.account_snapshots") == [
        ("二月/account_snapshots__招行.csv", 44000)
    ]
    # The delivery ledger holds both forms, in valid UTF-8 JSON...
    ledger = [
        json.loads(line)
        for line in (warehouse.archive_dir / LEDGER_NAME).read_text(encoding="utf-8").splitlines()
    ]
    by_name = {entry["file_name"]: entry for entry in ledger}
    assert bytes.fromhex(by_name["二月/account_snapshots__招行.csv"]["file_name_bytes"]) == (
        b"\xb6\xfe\xd4\xc2/" + GBK_NAME
    )
    # ...so a rebuild from the archive logs the same names and bytes.
    with duckdb.connect(str(warehouse.warehouse_dir / "replica.duckdb")) as conn:
        replay_archive(conn, warehouse.archive_dir)
        assert (
            conn.execute(
                "SELECT file_name, file_name_bytes, status, rows_loaded FROM audit.file_log"
                " ORDER BY 1"
            ).fetchall()
            == rows
        )
    # Known by name, size and mtime on the next run: nothing new.
    again = materialize_ingest(warehouse)
    assert metadata_of(again, "audit/file_log")["files_unchanged"].value == 2
    assert len(query(warehouse, "SELECT * FROM audit.file_log")) == 2


def test_a_file_whose_mtime_is_ahead_is_ingested_once_it_holds_still(landing, warehouse):
    path = landing.raw("accounts.csv", ACCOUNTS_CSV.encode())
    ahead = time.time() + 3600  # the sender's clock runs an hour fast
    os.utime(path, (ahead, ahead))
    first = materialize_ingest(warehouse)
    assert first.success
    [(status, message)] = query(warehouse, "SELECT status, message FROM audit.file_log")
    assert status == "loaded" and "ahead of this machine's clock" in message
    assert metadata_of(first, "audit/file_log")["files_mtime_in_future"].value == 1
    second = materialize_ingest(warehouse)
    assert metadata_of(second, "audit/file_log")["files_unchanged"].value == 1


def test_a_file_whose_mtime_is_ahead_and_still_grows_waits(landing):
    path = landing.raw("accounts.csv", ACCOUNTS_CSV.encode())
    ahead = time.time() + 3600
    os.utime(path, (ahead, ahead))

    def write_more():
        with path.open("a", encoding="utf-8") as handle:
            handle.write("小红书,北京银行信用卡,北京银行,city_commercial\n")
        os.utime(path, (ahead + 1, ahead + 1))

    writer = threading.Timer(0.3, write_more)
    writer.start()
    scan = discover(landing.path, recheck_seconds=1.5)
    writer.join()
    assert scan.files == [] and scan.unsettled == ["accounts.csv"]
    # Unchanged across the next look: settled.
    [settled] = discover(landing.path, recheck_seconds=0.2).files
    assert settled.mtime_in_future and settled.size_bytes == path.stat().st_size


@pytest.mark.parametrize(
    ("landing_at", "warehouse_at", "setting"),
    [
        ("landing", "landing/warehouse", "Change CARDREACH_WAREHOUSE"),
        ("warehouse/landing", "warehouse", "Change CARDREACH_LANDING"),
        ("data", "data", "CARDREACH_LANDING="),
    ],
)
def test_overlapping_landing_and_warehouse_folders_refuse_to_start(
    tmp_path, monkeypatch, landing_at, warehouse_at, setting
):
    from conftest import Landing

    landing = Landing(tmp_path / landing_at)
    landing.csv("accounts.csv", [ACCOUNT])
    point_settings_at(monkeypatch, landing, tmp_path / warehouse_at)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = run_pipeline()
    assert not result.success
    summary, failed = summarize(result)
    assert failed
    assert setting in summary and "Error occurred" not in summary
    assert "the run failed before any step" in summary
    # Nothing was written: no database, no archive, no lock file in either folder.
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    conn = duckdb.connect(sys.argv[1])  # a writer outside cardreach (a DBeaver session, say)
    print("held", flush=True)
    time.sleep(60)
    """
)


def test_a_lock_conflict_reads_as_one_in_the_summary(landing, warehouse):
    landing.csv("accounts.csv", [ACCOUNT])
    warehouse.warehouse_dir.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse.database_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        from orchestration.defs.ingest.assets import ingest_landing_files

        result = dg.materialize(
            [ingest_landing_files], resources={"warehouse": warehouse}, raise_on_error=False
        )
        summary, failed = summarize(result)
    finally:
        holder.kill()
        holder.wait()
    assert failed
    [line] = [line for line in summary.splitlines() if "step ingest_landing_files failed" in line]
    assert "another process holds the pipeline database" in line
    assert "Conflicting lock" in line  # DuckDB's own words: which process holds it
    assert "Error occurred" not in summary


def test_a_step_stopped_by_a_file_names_the_file_in_the_summary(landing, warehouse):
    path = landing.csv("accounts.csv", [ACCOUNT])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    # The archive is damaged where this file goes: its folder is a file.
    warehouse.archive_dir.mkdir(parents=True)
    (warehouse.archive_dir / digest[:2]).write_text("not a folder")
    from orchestration.defs.ingest.assets import ingest_landing_files

    result = dg.materialize(
        [ingest_landing_files], resources={"warehouse": warehouse}, raise_on_error=False
    )
    assert not result.success
    summary, _ = summarize(result)
    [line] = [line for line in summary.splitlines() if "failed:" in line]
    assert line.startswith("   ! step ingest_landing_files failed: accounts.csv: FileExistsError")
    assert "Error occurred" not in summary


def test_the_summary_lists_skipped_entries(landing, warehouse):
    landing.csv("accounts.csv", [ACCOUNT])
    (landing.path / "accounts__linked.csv").symlink_to(landing.path / "accounts.csv")
    from orchestration.defs.ingest.assets import ingest_landing_files

    result = dg.materialize([ingest_landing_files], resources={"warehouse": warehouse})
    summary, _ = summarize(result)
    assert "1 entries skipped" in summary
    assert "! accounts__linked.csv skipped: a symbolic link" in summary
