"""The benchmark: the pipeline against the hand-written DuckDB baseline, on the same files.

    python -m orchestration.bench.run [--accounts 10000 --days 365 --apps 50 --months 36
                                       --seed 1 --workdir DIR]

In one invocation, in a work folder of its own (default `$CARDREACH_WAREHOUSE/bench/`):

1. generates the landing files (`landing/`, see orchestration.bench.generate);
2. **full**: runs the pipeline from an empty warehouse (`warehouse/`) exactly as `make run` does,
   `python -m orchestration.cli run` in a subprocess, with its own DAGSTER_HOME (the project's
   dagster.yaml);
3. **baseline**: runs `baseline.sql` in a fresh process (`python -m orchestration.bench.baseline`)
   on the same files, then checks that it agrees with the pipeline's marts row by row;
4. **incremental** (+1 day): appends the next day's drop and runs the pipeline again: the first
   daily run after a full run, which copies the analysts' copy whole;
5. **steady** (+2 days): appends the day after and runs again: a daily run after a daily run,
   as every later day is, which rewrites the publication before the latest in place
   (orchestration.defs.publish.publication). The generated files end two days before today, so
   that both drops are days the pipeline accepts;
6. prints a table and, as its last line, one JSON object with every figure.

Wall times are those of the whole subprocess. The pipeline's stages come from its Dagster run's
event log (STEP_START to STEP_SUCCESS/STEP_FAILURE per step, in the work folder's instance):
`startup` is process start to RUN_START (imports, definitions, dbt manifest), `other` is the
rest (between steps, the summary, exit). Peak RSS is measured two ways: the process tree's total
resident memory sampled from /proc every 0.1 s (all processes of the run summed: the Dagster
process and the dbt subprocesses it starts; shared pages count once per process), and the
kernel's exact peak of the largest single process (ru_maxrss from os.wait4, taken by the small
launcher orchestration.bench.peak). `peak_rss_mb` is the larger of the two over the full run.
The samples, lined up with the steps, also give each stage's peak: which stage sets it.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.bench.generate import Params, append_day, generate

BASELINE_DB = "baseline.duckdb"
MARKER = ".cardreach-bench"  # a work folder this bench made, and may clear
STAGES = ("startup", "ingest", "dbt_models", "checks", "scoring", "publish", "other")
STAGE_LABELS = {
    "startup": "startup (imports, definitions)",
    "ingest": "ingest (files -> raw, audit)",
    "dbt_models": "dbt models + dbt tests",
    "checks": "checks (Great Expectations)",
    "scoring": "scoring (dbt)",
    "publish": "publish analytics.duckdb",
    "other": "other (between steps, exit)",
}
# The daily runs after the full run, each on the next day's drop: (key prefix, column label).
# The second is the steady state: a daily run after a daily run.
DAILY_RUNS = (("incremental", "+1 day"), ("steady", "+2 days"))
QUIET_ENV = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
}


# ---------------------------------------------------------------------------------------------
# Measuring a subprocess: wall time, peak memory of its process tree


def _ppid_and_rss(pid: int, page: int) -> tuple[int, int] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        with open(f"/proc/{pid}/statm", "rb") as handle:
            resident = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    # the command name may hold spaces and parentheses: the fields follow the last ')'
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]), resident * page


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped (Linux)."""

    def __init__(self, root: int, interval: float = 0.1, include_root: bool = True):
        super().__init__(daemon=True)
        self.root = root
        self.include_root = include_root
        self.interval = interval
        self.peak_bytes = 0
        # (time.time(), bytes) per sample: lined up with the run's steps, the memory of each stage
        self.timeline: list[tuple[float, int]] = []
        self.available = Path("/proc/self/statm").exists()
        self._stop_event = threading.Event()

    def sample(self) -> int:
        page = os.sysconf("SC_PAGE_SIZE")
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                found = _ppid_and_rss(int(entry.name), page)
                if found:
                    parents[int(entry.name)], rss[int(entry.name)] = found
        children: dict[int, list[int]] = {}
        for pid, ppid in parents.items():
            children.setdefault(ppid, []).append(pid)
        total = rss.get(self.root, 0) if self.include_root else 0
        todo = list(children.get(self.root, []))
        while todo:
            pid = todo.pop()
            total += rss.get(pid, 0)
            todo += children.get(pid, [])
        return total

    def run(self) -> None:
        while self.available and not self._stop_event.is_set():
            total = self.sample()
            self.timeline.append((time.time(), total))
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Measured:
    wall_s: float
    returncode: int
    started_at: float  # time.time() at start, to line up with Dagster's event timestamps
    tree_peak_mb: float | None
    single_peak_mb: float
    log: Path
    timeline: list[tuple[float, int]] = field(default_factory=list)

    @property
    def peak_mb(self) -> float:
        return max(self.tree_peak_mb or 0.0, self.single_peak_mb)


def measure(command: list[str], env: dict, log: Path) -> Measured:
    """Run `command` through the small launcher `orchestration.bench.peak` (see there why), and
    sample the memory of everything below the launcher."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_file = log.with_suffix(".peak.json")
    peak_file.unlink(missing_ok=True)
    launcher = [sys.executable, "-m", "orchestration.bench.peak", str(peak_file), "--"]
    with log.open("wb") as output:
        started_at = time.time()
        start = time.perf_counter()
        process = subprocess.Popen(
            launcher + command,
            env=env,
            cwd=settings.REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        sampler = TreeSampler(process.pid, include_root=False)
        sampler.start()
        launcher_status = process.wait()
        wall = time.perf_counter() - start
        sampler.stop()
    try:
        peak = json.loads(peak_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        peak = {"returncode": launcher_status or 1, "maxrss_kb": 0}
    return Measured(
        wall_s=wall,
        returncode=peak["returncode"],
        started_at=started_at,
        tree_peak_mb=sampler.peak_bytes / 2**20 if sampler.available else None,
        single_peak_mb=peak["maxrss_kb"] / 1024,  # kilobytes on Linux
        log=log,
        timeline=sampler.timeline,
    )


# ---------------------------------------------------------------------------------------------
# The pipeline's stages, from its Dagster run


def stage_of(step_key: str) -> str:
    if step_key.startswith("ingest"):
        return "ingest"
    if "_ge_" in step_key:
        return "checks"
    if "score" in step_key:
        return "scoring"
    if step_key.startswith("publish"):
        return "publish"
    if "dbt" in step_key:
        return "dbt_models"
    return "other"


def run_stages(dagster_home: Path, measured: Measured) -> dict:
    """Seconds per stage of the latest run in the instance, its step durations, and how it
    wrote the analysts' copy (the publish asset's `built_as`)."""
    import dagster as dg
    from dagster import DagsterEventType as Event

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        latest = instance.get_run_records(limit=1)
        # only a run this process created: a process that failed before starting one has none
        if not latest or latest[0].create_timestamp.timestamp() < measured.started_at - 1:
            return {"stages": {}, "steps": {}, "run_id": None}
        run = latest[0].dagster_run
        records = instance.all_logs(run.run_id)
    started: dict[str, float] = {}
    steps: dict[str, float] = {}
    intervals: dict[str, list[tuple[float, float]]] = {stage: [] for stage in STAGES}
    run_start = run_end = publication = None
    first_event = records[0].timestamp if records else None
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == Event.RUN_START:
            run_start = record.timestamp
        elif kind in (Event.RUN_SUCCESS, Event.RUN_FAILURE):
            run_end = record.timestamp
        elif kind == Event.STEP_START:
            started[event.step_key] = record.timestamp
        elif kind in (Event.STEP_SUCCESS, Event.STEP_FAILURE) and event.step_key in started:
            steps[event.step_key] = record.timestamp - started[event.step_key]
            intervals[stage_of(event.step_key)].append((started[event.step_key], record.timestamp))
        elif kind == Event.ASSET_MATERIALIZATION:
            built_as = event.materialization.metadata.get("built_as")
            publication = built_as.value if built_as is not None else publication
    stages = dict.fromkeys(STAGES, 0.0)
    for key, seconds in steps.items():
        stages[stage_of(key)] += seconds
    if run_start is not None:
        stages["startup"] = max(0.0, run_start - measured.started_at)
        intervals["startup"].append((measured.started_at, run_start))
    stages["other"] += max(0.0, measured.wall_s - sum(stages.values()))
    checks_raw = sum(s for k, s in steps.items() if "_ge_" in k and k.startswith("raw__"))
    # startup = loading (imports, definitions) + creating the run (its planned-asset events)
    loading = first_event - measured.started_at if first_event is not None else None
    return {
        "startup_load_s": round(loading, 3) if loading is not None else None,
        "startup_run_setup_s": (
            round(run_start - first_event, 3) if run_start and first_event else None
        ),
        "run_id": run.run_id,
        "status": str(run.status.value),
        "stages": {k: round(v, 3) for k, v in stages.items()},
        "checks_raw_s": round(checks_raw, 3),
        "checks_marts_s": round(stages["checks"] - checks_raw, 3),
        "run_s": round(run_end - run_start, 3) if run_start and run_end else None,
        "publication": publication,  # how the analysts' copy was written (its built_as)
        "steps": {k: round(v, 3) for k, v in steps.items()},
        "peak_rss_by_stage_mb": stage_peaks(measured.timeline, intervals),
    }


def stage_peaks(
    timeline: list[tuple[float, int]], intervals: dict[str, list[tuple[float, float]]]
) -> dict[str, float | None]:
    """The process tree's peak RSS (MB) while each stage's steps ran: which stage sets the peak.
    Steps run one after another, so a sample falls in one stage's interval at most."""
    peaks: dict[str, float | None] = {}
    for stage, spans in intervals.items():
        inside = [b for t, b in timeline if any(start <= t <= end for start, end in spans)]
        peaks[stage] = round(max(inside) / 2**20, 1) if inside else None
    return peaks


# ---------------------------------------------------------------------------------------------
# Does the baseline compute what the pipeline computes?

COMPARED = {
    "account_performance": (
        ("platform", "account_name", "snapshot_date"),
        (
            "bank",
            "bank_type",
            "followers",
            "followers_step",
            "notes",
            "likes",
            "collects",
            "likes_and_collects",
            "comments",
            "shares",
            "days_since_previous",
            "followers_change",
            "followers_change_within_rounding",
            "follower_tier",
            "follower_rank",
            "accounts_on_date",
        ),
        (
            "likes_and_collects_per_note",
            "likes_and_collects_per_follower",
            "collects_per_like",
            "followers_change_pct",
            "follower_growth_weekly_pct",
            "notes_per_week",
            "followers_share_pct",
        ),
    ),
    "platform_audience_fit": (
        ("app", "month"),
        ("app_category", "mau"),
        (
            "mau_mom_pct",
            "mau_yoy_pct",
            "mau_vs_card_industry",
            "share_under_35_pct",
            "share_mid_plus_consumption_pct",
            "target_share_pct",
            "target_share_min_pct",
            "target_share_max_pct",
        ),
    ),
}


def compare(pipeline_db: Path, baseline_db: Path) -> dict:
    """Per mart: rows only one side has, and rows whose compared columns differ (floats within
    1e-9 relative: the two sum and divide in different orders)."""
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH '{pipeline_db}' AS p (READ_ONLY)")
        conn.execute(f"ATTACH '{baseline_db}' AS b (READ_ONLY)")
        out = {}
        for table, (keys, exact, floats) in COMPARED.items():
            present = {
                row[0]
                for row in conn.execute(
                    "SELECT column_name FROM duckdb_columns()"
                    " WHERE database_name = 'p' AND schema_name = 'marts' AND table_name = ?",
                    [table],
                ).fetchall()
            }
            exact = [c for c in exact if c in present]
            floats = [c for c in floats if c in present]
            on = " AND ".join(f"p.{k} = b.{k}" for k in keys)
            differs = [f"p.{c} IS DISTINCT FROM b.{c}" for c in exact] + [
                f"((p.{c} IS NULL) <> (b.{c} IS NULL)"
                f" OR abs(p.{c} - b.{c}) > 1e-9 * greatest(1, abs(p.{c})))"
                for c in floats
            ]
            only_p, only_b, both, differing = conn.execute(
                f"SELECT count(*) FILTER (WHERE b.{keys[0]} IS NULL),"
                f" count(*) FILTER (WHERE p.{keys[0]} IS NULL),"
                f" count(*) FILTER (WHERE p.{keys[0]} IS NOT NULL AND b.{keys[0]} IS NOT NULL),"
                f" count(*) FILTER (WHERE {' OR '.join(differs)})"
                f" FROM p.marts.{table} AS p FULL JOIN b.main.{table} AS b ON {on}"
            ).fetchone()
            out[table] = {
                "rows_compared": both,
                "only_pipeline": only_p,
                "only_baseline": only_b,
                "differing": differing,
                "columns": len(exact) + len(floats),
            }
        return out
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Workdir:
    root: Path
    landing: Path = field(init=False)
    warehouse: Path = field(init=False)
    dagster_home: Path = field(init=False)
    dbt_target: Path = field(init=False)
    baseline: Path = field(init=False)
    logs: Path = field(init=False)

    def __post_init__(self):
        self.landing = self.root / "landing"
        self.warehouse = self.root / "warehouse"
        self.dagster_home = self.root / "dagster_home"
        self.dbt_target = self.root / "dbt_target"
        self.baseline = self.root / "baseline"
        self.logs = self.root / "logs"

    def folders(self) -> tuple[Path, ...]:
        return (
            self.landing,
            self.warehouse,
            self.dagster_home,
            self.dbt_target,
            self.baseline,
            self.logs,
        )

    def reset(self) -> None:
        """Empty the folders of an earlier bench; refuse a folder the bench did not make."""
        if self.root.exists() and any(self.root.iterdir()):
            if not (self.root / MARKER).exists():
                raise SystemExit(
                    f"{self.root} is not empty and is not a bench work folder: choose another"
                    " --workdir"
                )
            for path in self.folders():
                if path.exists():
                    shutil.rmtree(path)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / MARKER).write_text("made by python -m orchestration.bench.run\n")
        for path in self.folders():
            path.mkdir(parents=True)
        shutil.copy(settings.DAGSTER_YAML, self.dagster_home)  # the instance `make run` uses

    def pipeline_env(self) -> dict:
        return {
            **os.environ,
            **QUIET_ENV,
            settings.LANDING_ENV: str(self.landing),
            settings.WAREHOUSE_ENV: str(self.warehouse),
            "DAGSTER_HOME": str(self.dagster_home),
            # dbt's invocation folders, and the partial parse they start from (prepare_dbt)
            "DBT_TARGET_PATH": str(self.dbt_target),
        }


def prepare_dbt(work: Workdir) -> float:
    """The work folder's own dbt folder, holding the manifest and parse `make` prepared (one
    parse serves every warehouse): the first dbt step would otherwise parse the whole project
    (~3-5 s), which `make run` does not. Parsed here only when there is none yet. Not the column
    lineage worked out by earlier runs: the full run works it out, as a first run does."""
    from orchestration.dbt import invocation_folders_root, seed_target_folder

    start = time.perf_counter()
    if (invocation_folders_root() / "manifest.json").exists():
        seed_target_folder(work.dbt_target, lineage=False)
    else:
        subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "prepare-dbt"],
            cwd=settings.REPO_ROOT,
            env=work.pipeline_env(),
            check=True,
        )
    return round(time.perf_counter() - start, 3)


def run_pipeline(work: Workdir, label: str) -> tuple[Measured, dict]:
    measured = measure(
        [sys.executable, "-m", "orchestration.cli", "run"],
        work.pipeline_env(),
        work.logs / f"{label}.log",
    )
    return measured, run_stages(work.dagster_home, measured)


def run_baseline(work: Workdir) -> tuple[Measured, dict]:
    database = work.baseline / BASELINE_DB
    measured = measure(
        [
            sys.executable,
            "-m",
            "orchestration.bench.baseline",
            "--landing",
            str(work.landing),
            "--database",
            str(database),
        ],
        {**os.environ, **QUIET_ENV},
        work.logs / "baseline.log",
    )
    lines = measured.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    inner = json.loads(lines[-1]) if measured.returncode == 0 and lines else {}
    return measured, inner


def _tail(log: Path, lines: int = 25) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join("    " + line for line in text[-lines:])


def _machine() -> dict:
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {"cpu_count": os.cpu_count(), "memory_gib": memory}


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _s(value) -> str:
    return "-" if value is None else f"{value:,.1f}"


def report_table(result: dict, full: dict, dailies: dict[str, dict]) -> str:
    runs = [("full", full)] + [(p, dailies.get(p) or {"stages": {}}) for p, _ in DAILY_RUNS]
    heading = "".join(f"{label:>10}" for label in ("full", *(label for _, label in DAILY_RUNS)))

    def row(label: str, values) -> str:
        return f"  {label:<32}" + "".join(f"{_s(value):>10}" for value in values)

    lines = [
        f"cardreach bench: {result['accounts']:,} accounts x {result['days']} days"
        f" ({result['snapshot_rows']:,} snapshot rows, {result['bad_rows']:,} bad),"
        f" {result['apps']} apps x {result['months']} months, seed {result['seed']}",
        f"machine: {result['cpu_count']} cores, {result['memory_gib']} GiB;"
        f" load average {result['load_average_start']} at start, {result['load_average_end']}"
        " at end",
        f"generated in {result['generate_s']:.1f} s",
        "",
        f"{'seconds':<34}{heading}",
    ]
    details = {
        "startup": (
            ("startup_load_s", "load: imports, definitions"),
            ("startup_run_setup_s", "run setup: planned events"),
        ),
        "checks": (("checks_raw_s", "on raw tables"), ("checks_marts_s", "on marts")),
    }
    for stage in STAGES:
        lines.append(row(STAGE_LABELS[stage], (run["stages"].get(stage) for _, run in runs)))
        for key, label in details.get(stage, ()):
            lines.append(row("  " + label, (run.get(key) for _, run in runs)))
    lines += [
        row("pipeline total (wall)", (result.get(f"{prefix}_s") for prefix, _ in runs)),
        row(
            "peak RSS, MB",
            [result.get("peak_rss_mb")]
            + [result.get(f"{prefix}_peak_rss_mb") for prefix, _ in DAILY_RUNS],
        ),
        f"    full: process tree {_s(result['full_peak_rss_tree_mb'])},"
        f" largest process {_s(result['full_peak_rss_single_mb'])}",
        "",
        f"{'peak RSS of the process tree, MB':<34}{heading}",
    ]
    for stage in STAGES[:-1]:  # "other" is between steps: no interval of its own
        peaks = ((run.get("peak_rss_by_stage_mb") or {}).get(stage) for _, run in runs)
        lines.append(row(STAGE_LABELS[stage], peaks))
    lines.append("")
    for prefix, label in DAILY_RUNS:
        lines.append(f"analysts' copy, {label}: {result.get(f'{prefix}_publication') or '-'}")
    lines += [
        "",
        f"baseline (baseline.sql, fresh process): {_s(result.get('baseline_s'))} s"
        f" (prepare {_s(result.get('baseline_prepare_s'))},"
        f" SQL {_s(result.get('baseline_sql_s'))}),"
        f" peak RSS {_s(result.get('baseline_peak_rss_mb'))} MB",
        f"ratio_full = full / baseline = {result.get('ratio_full')}   (target <= 2)",
        f"ratio_incremental = +1 day / full = {result.get('ratio_incremental')}   (target <= 0.1)",
        f"ratio_steady = +2 days / full = {result.get('ratio_steady')}"
        "   (a daily run after a daily run)",
        f"peak_rss_mb = {result['peak_rss_mb']}   (target <= 2048)",
    ]
    for table, figures in (result.get("agreement") or {}).items():
        lines.append(
            f"agreement {table}: {figures['rows_compared']:,} rows compared on"
            f" {figures['columns']} columns, {figures['differing']} differ,"
            f" {figures['only_pipeline']} only in the pipeline,"
            f" {figures['only_baseline']} only in the baseline"
        )
    return "\n".join(lines)


def _daily_run(work: Workdir, prefix: str, label: str, full_run: Measured) -> tuple[dict, dict]:
    """The next day's drop appended and the pipeline run on it: its figures for the result,
    under `prefix`, and its stages (run_stages)."""
    appended = append_day(work.landing)
    print(f"{prefix} run ({label}): + {appended.files[-1]} ...", flush=True)
    run, stages = run_pipeline(work, prefix)
    if run.returncode != 0:
        print(f"the {prefix} run failed (exit {run.returncode}):\n{_tail(run.log)}")
    return (
        {
            f"{prefix}_ok": run.returncode == 0,
            f"{prefix}_s": round(run.wall_s, 3),
            f"{prefix}_peak_rss_mb": round(run.peak_mb, 1),
            f"ratio_{prefix}": round(run.wall_s / full_run.wall_s, 3),
            **{f"{prefix}_{k}_s": v for k, v in stages["stages"].items()},
            f"{prefix}_checks_raw_s": stages.get("checks_raw_s"),
            f"{prefix}_checks_marts_s": stages.get("checks_marts_s"),
            f"{prefix}_startup_load_s": stages.get("startup_load_s"),
            f"{prefix}_startup_run_setup_s": stages.get("startup_run_setup_s"),
            f"{prefix}_peak_rss_by_stage_mb": stages.get("peak_rss_by_stage_mb"),
            f"{prefix}_publication": stages.get("publication"),
        },
        stages,
    )


def bench(args) -> tuple[dict, int]:
    work = Workdir(args.workdir.resolve())
    work.reset()
    params = Params(
        accounts=args.accounts,
        days=args.days,
        apps=args.apps,
        months=args.months,
        seed=args.seed,
        end_date=(settings.today() - timedelta(days=len(DAILY_RUNS))).isoformat(),
        bad_rate=args.bad_rate,
    )
    result: dict = {
        "engine": settings.engine(),  # CARDREACH_ENGINE: what dbt builds on (docs/scaling.md)
        "accounts": params.accounts,
        "days": params.days,
        "apps": params.apps,
        "months": params.months,
        "seed": params.seed,
        **_machine(),
        "load_average_start": _load(),
        "workdir": str(work.root),
    }
    generated = generate(work.landing, params)
    result |= {
        "snapshot_rows": generated.snapshot_rows,
        "bad_rows": generated.bad_rows,
        "files": len(generated.files),
        "generate_s": generated.seconds,
    }
    print(f"generated {generated.snapshot_rows:,} snapshot rows in {generated.seconds:.1f} s")

    result["dbt_parse_s"] = prepare_dbt(work)
    print("full run: python -m orchestration.cli run on an empty warehouse ...", flush=True)
    full_run, full = run_pipeline(work, "full")
    result |= {
        "full_ok": full_run.returncode == 0,
        "full_s": round(full_run.wall_s, 3),
        "full_peak_rss_tree_mb": round(full_run.tree_peak_mb or 0, 1),
        "full_peak_rss_single_mb": round(full_run.single_peak_mb, 1),
        "peak_rss_mb": round(full_run.peak_mb, 1),
        **{f"full_{k}_s": v for k, v in full["stages"].items()},
        "full_checks_raw_s": full.get("checks_raw_s"),
        "full_checks_marts_s": full.get("checks_marts_s"),
        "full_startup_load_s": full.get("startup_load_s"),
        "full_startup_run_setup_s": full.get("startup_run_setup_s"),
        "full_peak_rss_by_stage_mb": full.get("peak_rss_by_stage_mb"),
    }
    dailies: dict[str, dict] = {}
    if full_run.returncode != 0:
        print(f"the full run failed (exit {full_run.returncode}):\n{_tail(full_run.log)}")
    else:
        print("baseline: python -m orchestration.bench.baseline ...", flush=True)
        base_run, inner = run_baseline(work)
        result |= {
            "baseline_ok": base_run.returncode == 0,
            "baseline_s": round(base_run.wall_s, 3),
            "baseline_peak_rss_mb": round(base_run.peak_mb, 1),
            "baseline_prepare_s": inner.get("baseline_prepare_s"),
            "baseline_sql_s": inner.get("baseline_sql_s"),
            "ratio_full": round(full_run.wall_s / base_run.wall_s, 2),
        }
        if base_run.returncode != 0:
            print(f"the baseline failed (exit {base_run.returncode}):\n{_tail(base_run.log)}")
        else:
            agreement = compare(work.warehouse / "cardreach.duckdb", work.baseline / BASELINE_DB)
            result["agreement"] = agreement
            result["baseline_matches"] = all(
                not (t["differing"] or t["only_pipeline"] or t["only_baseline"])
                for t in agreement.values()
            )

        for prefix, label in DAILY_RUNS:
            figures, dailies[prefix] = _daily_run(work, prefix, label, full_run)
            result |= figures
            if not result[f"{prefix}_ok"]:
                break
    result["load_average_end"] = _load()
    details = {
        "full_steps": full.get("steps"),
        **{f"{prefix}_steps": daily.get("steps") for prefix, daily in dailies.items()},
    }
    (work.root / "results.json").write_text(
        json.dumps({**result, **details}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print()
    print(report_table(result, full, dailies))
    ok = (
        result.get("full_ok")
        and result.get("baseline_ok")
        and all(result.get(f"{prefix}_ok") for prefix, _ in DAILY_RUNS)
        and result.get("baseline_matches")
    )
    return result, 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--apps", type=int, default=50)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bad-rate", type=float, default=0.001)
    parser.add_argument(
        "--workdir",
        type=Path,
        help="work folder (default: $CARDREACH_WAREHOUSE/bench); emptied at the start",
    )
    args = parser.parse_args(argv)
    args.workdir = args.workdir or settings.warehouse_dir() / "bench"
    result, status = bench(args)
    print(json.dumps(result, ensure_ascii=False))
    return status


if __name__ == "__main__":
    sys.exit(main())
