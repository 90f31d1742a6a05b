"""New files flow in by themselves: a sensor that launches `cardreach_daily` when deliveries land.

What has been ingested is not the sensor's to remember: ingestion writes it in the warehouse
folder (`ingest/record.py`), whoever started the run (`make run`, the schedule, the UI, this
sensor), so a file the command line ingested never launches a run here. A file whose size and
mtime match the record is not read; one that differs is hashed, and is new only when its content
differs too.

The cursor stays small however many files arrive: the files still being written
(`"settling": {name: [size, mtime_ns]}`: settled once a later tick sees them unchanged, or once
they have aged past the settle period), the files that settled by holding still but are younger
than the settle period and not ingested yet (`"held"`, same form; a file whose mtime is ahead of
the clock stays there until ingested, since it can never age), and the run key of
the last request (`"requested"`), so that the same change never requests a run twice while its
run is queued or ingesting.

What counts as a delivery is decided by `landing.scan_landing`, as for ingestion: an entry that
ingestion skips (a symbolic link, a special file, a temporary name, a hidden file or folder)
never requests a run; the next run, whatever starts it, logs it once. Names are the readable
form ingestion logs (`readable_name`), so a name that is not UTF-8 is one JSON key like any.
"""

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration.defs.automation.plan import plan_for
from orchestration.defs.automation.run_tags import run_tags
from orchestration.defs.ingest.landing import LandingEntry, file_sha256, scan_landing
from orchestration.defs.ingest.record import IngestRecord
from orchestration.settings import SETTLE_SECONDS, FolderConflict
from orchestration.warehouse import Warehouse

TICK_SECONDS = 30
IN_PROGRESS = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)


def _observe(landing: Path) -> dict[str, LandingEntry]:
    """Every delivery in the landing folder (recursively, like `discover`), by readable name."""
    return {entry.name: entry for entry in scan_landing(landing) if entry.skip_reason is None}


@dataclass
class SensorCursor:
    settling: dict[str, list[int]] = field(default_factory=dict)  # name -> [size, mtime_ns]
    held: dict[str, list[int]] = field(default_factory=dict)  # settled while still young
    requested: str | None = None  # run key of the last request

    @classmethod
    def load(cls, cursor: str | None) -> "SensorCursor":
        try:
            seen = json.loads(cursor) if cursor else {}
            return cls(
                settling=dict(seen.get("settling") or {}),
                held=dict(seen.get("held") or {}),
                requested=seen.get("requested"),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()  # an unreadable cursor means starting over; the record knows the rest

    def dump(self) -> str:
        content = {"settling": self.settling, "held": self.held, "requested": self.requested}
        kept = {key: value for key, value in content.items() if value}
        return json.dumps(kept, ensure_ascii=False, sort_keys=True)


def _run_key(changed: dict[str, str]) -> str:
    """The same set of (file, content) pairs always gives the same key, so it never runs twice."""
    pairs = sorted(changed.items())
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def evaluate_landing(
    landing: Path, record: IngestRecord, previous: SensorCursor, now_ns: int
) -> tuple[SensorCursor, dict[str, str], list[str], int]:
    """One look at the folder: the new cursor, the files whose content is not ingested
    {name: sha256}, those still being written, and how many deliveries there are."""
    cursor = SensorCursor(requested=previous.requested)
    changed: dict[str, str] = {}
    settle_ns = SETTLE_SECONDS * 1_000_000_000
    deliveries = _observe(landing)
    for name, entry in sorted(deliveries.items()):
        if record.knows_stat(entry):
            continue  # as ingestion last saw it: not read again
        size, mtime_ns = entry.size, entry.mtime_ns
        stat = [size, mtime_ns]
        # Settled: the previous tick saw this very size and mtime, or nothing touched it lately.
        same_stat = stat in (previous.settling.get(name), previous.held.get(name))
        if not (same_stat or now_ns - mtime_ns >= settle_ns):
            cursor.settling[name] = stat
            continue
        path = entry.path  # the file system's name: `name` may be a readable form of it
        try:
            sha256 = file_sha256(path)
            after = path.stat()
        except OSError:
            continue  # gone or unreadable: a later tick looks again; the run logs why it skips
        if (after.st_size, after.st_mtime_ns) != (size, mtime_ns):
            # Written to while being read: wait for it to be still.
            cursor.settling[name] = [after.st_size, after.st_mtime_ns]
            continue
        if record.knows_content(name, sha256):
            continue  # touched, same content: no delivery
        if now_ns - mtime_ns < settle_ns:
            # settled by holding still, not by age: remembered as settled until it ages or is
            # ingested (a file whose mtime is ahead of the clock can never age)
            cursor.held[name] = stat
        changed[name] = sha256
    return cursor, changed, sorted(cursor.settling), len(deliveries)


def _run_in_progress(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    """A run of the job queued or under way (from `make run`, the UI, the schedule or a tick)."""
    runs = instance.get_runs(
        dg.RunsFilter(job_name="cardreach_daily", statuses=list(IN_PROGRESS)), limit=1
    )
    return runs[0] if runs else None


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
        " launches nothing while the landing and warehouse folders overlap, nor for a file any run"
        " already ingested (the ingest record in the warehouse folder)."
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
    cursor, changed, settling, seen = evaluate_landing(
        landing,
        IngestRecord.read(warehouse.warehouse_dir),
        SensorCursor.load(context.cursor),
        time.time_ns(),
    )
    if settling:
        context.log.info(f"{len(settling)} files still being written: {_names(settling)}")
    names = sorted(changed)
    run_key = _run_key(changed) if changed else None
    if not changed:
        cursor.requested = None  # all ingested: the request it remembered has been served
    if not changed or run_key == cursor.requested:
        if settling:
            reason = f"{len(settling)} files still being written: {_names(settling)}"
        elif changed:
            reason = (
                f"{len(names)} new or changed files already have their run (queued or"
                f" ingesting): {_names(names)}"
            )
        else:
            reason = f"no new or changed files in {landing} ({seen} files seen)"
        return dg.SensorResult(skip_reason=reason, cursor=cursor.dump())
    busy = _run_in_progress(context.instance)
    if busy is not None:
        # that run ingests what is there when it starts and writes the record: what it leaves
        # is requested once it is over, never a second run over the same files
        return dg.SensorResult(
            skip_reason=f"{len(names)} new or changed files wait for run {busy.run_id[:8]}"
            f" ({busy.status.value.lower()}) to end: {_names(names)}",
            cursor=cursor.dump(),
        )
    plan = plan_for(context, warehouse, names)
    context.log.info(
        f"{len(names)} new or changed files in {landing}: {_names(names)}; builds {plan.summary}"
    )
    cursor.requested = run_key
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                tags=run_tags("sensor", names),
                asset_selection=plan.selection,
            )
        ],
        cursor=cursor.dump(),
    )
