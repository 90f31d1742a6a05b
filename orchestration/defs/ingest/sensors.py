"""New files flow in by themselves: a sensor that launches `cardreach_daily` when deliveries land.

The cursor is JSON of every delivery seen, by relative file name:
`{"name": {"sha256": ..., "size": ..., "mtime_ns": ...}}`. A file whose size and mtime match its
entry is not read again, so a tick over a large folder costs one `stat` per file. A file still
being written carries `"settling": true` (and the sha256 of its last delivered content, or null)
until a later tick sees it unchanged or it has aged past the settle period (so a file whose
mtime is ahead of the clock settles on the next tick that sees it unchanged).

What counts as a delivery is decided by `landing.scan_landing`, as for ingestion: an entry that
ingestion skips (a symbolic link, a special file, a temporary name, a hidden file or folder)
never requests a run; the next run, whatever starts it, logs it once. Names are the readable
form ingestion logs (`readable_name`), so a name that is not UTF-8 is one JSON key like any.
"""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from orchestration.defs.ingest.landing import LandingEntry, file_sha256, scan_landing
from orchestration.settings import SETTLE_SECONDS, FolderConflict
from orchestration.warehouse import Warehouse

TICK_SECONDS = 30


def _observe(landing: Path) -> dict[str, LandingEntry]:
    """Every delivery in the landing folder (recursively, like `discover`), by readable name."""
    return {entry.name: entry for entry in scan_landing(landing) if entry.skip_reason is None}


def _load_cursor(cursor: str | None) -> dict[str, dict]:
    if not cursor:
        return {}
    try:
        seen = json.loads(cursor)
    except json.JSONDecodeError:
        return {}  # an unreadable cursor means starting over; ingestion skips known files
    return seen if isinstance(seen, dict) else {}


def _entry(sha256: str | None, size: int, mtime_ns: int, settling: bool = False) -> dict:
    entry = {"sha256": sha256, "size": size, "mtime_ns": mtime_ns}
    return {**entry, "settling": True} if settling else entry


def _run_key(changed: dict[str, str]) -> str:
    """The same set of (file, content) pairs always gives the same key, so it never runs twice."""
    pairs = sorted(changed.items())
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def evaluate_landing(
    landing: Path, seen: dict[str, dict], now_ns: int
) -> tuple[dict[str, dict], dict[str, str], list[str]]:
    """One look at the folder: the new cursor, the changed files {name: sha256}, those settling."""
    cursor: dict[str, dict] = {}
    changed: dict[str, str] = {}
    settling: list[str] = []
    settle_ns = SETTLE_SECONDS * 1_000_000_000
    for name, entry in sorted(_observe(landing).items()):
        size, mtime_ns = entry.size, entry.mtime_ns
        previous = seen.get(name) or {}
        same_stat = previous.get("size") == size and previous.get("mtime_ns") == mtime_ns
        if same_stat and not previous.get("settling"):
            cursor[name] = previous  # unchanged since delivered: not read again
            continue
        delivered_sha = previous.get("sha256")
        # Settled: the previous tick saw this very size and mtime, or nothing touched it lately.
        if not (same_stat or now_ns - mtime_ns >= settle_ns):
            cursor[name] = _entry(delivered_sha, size, mtime_ns, settling=True)
            settling.append(name)
            continue
        path = entry.path  # the file system's name: `name` may be a readable form of it
        try:
            sha256 = file_sha256(path)
            after = path.stat()
        except OSError:
            continue  # gone or unreadable: a later tick looks again; the run logs why it skips
        if (after.st_size, after.st_mtime_ns) != (size, mtime_ns):
            # Written to while being read: wait for it to be still.
            cursor[name] = _entry(delivered_sha, after.st_size, after.st_mtime_ns, settling=True)
            settling.append(name)
            continue
        cursor[name] = _entry(sha256, size, mtime_ns)
        if sha256 != delivered_sha:  # a touched file with the same content is no delivery
            changed[name] = sha256
    return cursor, changed, settling


@dg.sensor(
    name="landing_files_sensor",
    job_name="cardreach_daily",
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the landing folder (CARDREACH_LANDING) and launches cardreach_daily when a"
        " delivery is new or its content changed (by sha256). A file still being written is"
        f" picked up once its size and mtime hold still for a tick or it is {SETTLE_SECONDS}s"
        " old. Entries ingestion skips (symbolic links, special files, temporary names, hidden"
        " files and folders) never launch a run. The same change never launches twice. It"
        " launches nothing while the landing and warehouse folders overlap."
    ),
)
def landing_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    # Resolved at every tick, so the daemon follows CARDREACH_LANDING as the runs do.
    warehouse = Warehouse()
    landing = warehouse.landing_dir
    try:
        warehouse.check_folders()
    except FolderConflict as conflict:
        return dg.SensorResult(skip_reason=str(conflict), cursor=context.cursor)
    if not landing.is_dir():
        return dg.SensorResult(
            skip_reason=f"the landing folder {landing} does not exist: create it or set"
            " CARDREACH_LANDING",
            cursor=context.cursor,
        )
    cursor, changed, settling = evaluate_landing(
        landing, _load_cursor(context.cursor), time.time_ns()
    )
    new_cursor = json.dumps(cursor, ensure_ascii=False, sort_keys=True)
    if settling:
        context.log.info(f"{len(settling)} files still being written: {_names(settling)}")
    if not changed:
        if settling:
            reason = f"{len(settling)} files still being written: {_names(settling)}"
        else:
            reason = f"no new or changed files in {landing} ({len(cursor)} files seen)"
        return dg.SensorResult(skip_reason=reason, cursor=new_cursor)
    names = sorted(changed)
    context.log.info(f"{len(names)} new or changed files in {landing}: {_names(names)}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=_run_key(changed),
                tags={
                    "cardreach/trigger": "landing_files",
                    "cardreach/changed_files": str(len(names)),
                },
            )
        ],
        cursor=new_cursor,
    )
