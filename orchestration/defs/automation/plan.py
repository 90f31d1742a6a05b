"""What a run has to rebuild: the models downstream of the feeds that changed, not the others.

A daily drop usually touches one feed (the account snapshots). Rebuilding, testing and checking
the models of every other feed costs the same as on the day they were built and changes nothing,
so `make run`, the sensor and the schedule launch `cardreach_daily` on a subset of its assets:
ingestion, publication and the report always; of the dbt models, those downstream of a feed with
deliveries the last complete build did not cover, the assets whose quality suite reads one of
those models, and the models that read today's date when the day changed (dbt tag
settings.AS_OF_TODAY_TAG). Their dbt tests and quality checks come with them.

The build record (`<warehouse>/build_record.json`) says what the last complete build covered: per
feed, a digest of the ingested files (from the ingest record), the day and the project's
fingerprint. Publication writes it at the end of a run that built every model it had to and held
nothing back; until then the same feeds stay stale, so a failed step, a held-back table, a
delivery that landed after its run was planned or a run of some assets from the UI is followed by
a run that rebuilds them again (`make run` counts stale models as something new). No record, another
version of the project, a missing database or `make run FORCE=1`: everything is rebuilt.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.contract.datasets import DATASETS
from orchestration.dbt import (
    as_of_today_models,
    asset_keys_of,
    dbt_asset_keys,
    models_downstream_of,
    models_read_by,
)
from orchestration.defs.automation.run_tags import project_fingerprint, shown_names
from orchestration.defs.ingest.landing import dataset_name_of
from orchestration.defs.ingest.record import IngestRecord
from orchestration.defs.quality.checks import suite_files
from orchestration.warehouse import write_atomically

BUILD_RECORD_VERSION = 1


def build_fingerprint() -> str:
    """The project as it builds: its files and settings, not where its folders are (a copy of
    the warehouse builds as the original did)."""
    return project_fingerprint(with_folders=False)


def feed_digests(record: IngestRecord) -> dict[str, str]:
    """Per feed, a digest of the files ingested into it (name and content)."""
    by_feed: dict[str, list[str]] = {}
    for name, ingested in record.files.items():
        by_feed.setdefault(dataset_name_of(name), []).append(f"{name}\0{ingested.sha256}")
    return {
        feed: hashlib.sha256("\n".join(sorted(files)).encode()).hexdigest()[:16]
        for feed, files in sorted(by_feed.items())
    }


@dataclass
class BuildRecord:
    fingerprint: str
    day: str
    feeds: dict[str, str] = field(default_factory=dict)
    run_id: str = ""

    @classmethod
    def read(cls, warehouse: Path) -> "BuildRecord | None":
        try:
            content = json.loads(settings.build_record(warehouse).read_text(encoding="utf-8"))
            if content.get("version") != BUILD_RECORD_VERSION:
                return None
            return cls(
                str(content["fingerprint"]),
                str(content["day"]),
                {str(k): str(v) for k, v in content["feeds"].items()},
                str(content.get("run_id", "")),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # nothing known: the next run rebuilds everything

    def write(self, warehouse: Path) -> None:
        content = {"version": BUILD_RECORD_VERSION, **self.__dict__}
        write_atomically(
            json.dumps(content, indent=1, sort_keys=True), settings.build_record(warehouse)
        )


@dataclass(frozen=True)
class Staleness:
    """Which dbt models a run has to build, and why (None: every one)."""

    models: frozenset[dg.AssetKey] | None
    why: str
    feeds: tuple[str, ...] = ()


def staleness(
    warehouse: Path, new_files: list[str] = (), force: bool = False, today: date | None = None
) -> Staleness:
    """What the warehouse's models lack: everything, or the models downstream of the feeds whose
    ingested files (and `new_files`, not ingested yet) the last complete build did not cover, with
    the models that read today's date on a new day (`today`, by default settings.today())."""
    if force:
        return Staleness(None, "a run of everything was asked for")
    record = BuildRecord.read(warehouse)
    if record is None:
        return Staleness(None, "no complete build is recorded for this warehouse")
    if not settings.pipeline_database(warehouse).exists():
        return Staleness(None, "the pipeline database is missing")
    if record.fingerprint != build_fingerprint():
        return Staleness(None, "the project changed since the last complete build")
    now = feed_digests(IngestRecord.read(warehouse))
    feeds = {
        feed for feed in set(now) | set(record.feeds) if now.get(feed) != record.feeds.get(feed)
    }
    feeds |= {dataset_name_of(name) for name in new_files}
    known = [feed for feed in sorted(feeds) if feed in DATASETS]
    models = set(models_downstream_of(known))
    why = f"new deliveries of {', '.join(known)}" if known else "no feed changed"
    if record.day != (today or settings.today()).isoformat():
        models |= as_of_today_models()
        why += f"; a new day ({record.day} was the last build's)"
    return Staleness(frozenset(models | _checked_with(models)), why, tuple(known))


def _checked_with(models: set[dg.AssetKey]) -> set[dg.AssetKey]:
    """The assets whose quality suite reads one of `models`: a suite is attached to the asset
    whose data it judges (stg_notes) and may read a model another feed also builds
    (int_note_account_totals reads the account snapshots too). Rebuilt with them (a view, or
    cheap), so that the suite runs again whenever what it reads changed."""
    attached = set()
    for path in suite_files():
        meta = json.loads(path.read_text(encoding="utf-8")).get("meta", {})
        read = asset_keys_of(node["unique_id"] for node in models_read_by(meta.get("query", "")))
        if read & models and meta.get("asset"):
            attached.add(dg.AssetKey(meta["asset"].split("/")))
    return attached & dbt_asset_keys()


@dataclass(frozen=True)
class RunPlan:
    """The assets a run of cardreach_daily materializes (None: all) and why, in a line."""

    selection: list[dg.AssetKey] | None
    summary: str


def plan_run(all_keys, warehouse: Path, new_files: list[str] = (), force: bool = False) -> RunPlan:
    """The subset of `all_keys` (the job's assets) a run needs: every asset that is not a dbt
    model or seed (ingestion, publication, the report), and the stale dbt models."""
    stale = staleness(warehouse, new_files, force)
    if stale.models is None:
        return RunPlan(None, f"everything: {stale.why}")
    dbt_keys = dbt_asset_keys()
    selection = sorted(key for key in all_keys if key not in dbt_keys or key in stale.models)
    built = len(stale.models & dbt_keys)
    return RunPlan(selection, f"{built} of {len(dbt_keys)} dbt models and seeds: {stale.why}")


def record_complete_build(
    warehouse: Path, materialized: set[dg.AssetKey], run_id: str, day: date
) -> str:
    """After a publication that held nothing back: record the build as complete for the run's
    `day` if this run built every model the warehouse lacked on that day (else the same feeds
    stay stale). Says what it did."""
    stale = staleness(warehouse, today=day)
    required = dbt_asset_keys() if stale.models is None else stale.models
    missing = sorted(key.to_user_string() for key in required - materialized)
    if missing:
        return (
            f"build not recorded as complete: {len(missing)} models not built in this run"
            f" ({shown_names(missing)})"
        )
    BuildRecord(
        build_fingerprint(), day.isoformat(), feed_digests(IngestRecord.read(warehouse)), run_id
    ).write(warehouse)
    return f"build recorded as complete ({stale.why})"


def plan_for(context, warehouse, new_files: list[str] = ()) -> RunPlan:
    """The plan of a run the sensor or the schedule requests, from its code location's assets
    (a context built without one, in a test, plans the whole job)."""
    try:
        keys = context.repository_def.asset_graph.materializable_asset_keys
    except Exception:
        return RunPlan(None, "everything: the code location's assets are not known here")
    return plan_run(keys, warehouse.warehouse_dir, new_files)
