"""The quality gate's verdict for one run: which published tables a failed check holds back.

A Great Expectations check that fails with ERROR severity stops what depends on the data it
checked, and nothing else. The dbt steps build everything (the pipeline's own database always
holds the latest build, good or bad, for the operator to look into); publication asks `held_back`
which of the analysts' tables are downstream of a check that failed *in this run*, and leaves
those as they were last published. A broken audience delivery therefore never stops the account
marts, their scores or their publication, nor the other way round. The run still fails (`make
run` exits non-zero, the run is tagged `cardreach/held_back`) and names each check and what it
held back.

Why not Dagster's blocking checks: a blocking check fails its step, and Dagster then skips every
step downstream of it whole, and an asset a step leaves out skips every later step that depends
on it (publication depends on every mart). So the checks are plain checks with a high
`dagster/priority` (the run's single-process executor runs each as soon as its asset is built),
and `held_back` refuses to decide, failing the step, if a check it depends on has not run yet: the
order is never trusted silently. A failed dbt test is another matter: a model's own invariant is
broken (a bug, or impossible data), and dbt and Dagster stop what follows, as they do by default.
"""

from collections import defaultdict
from dataclasses import dataclass

import dagster as dg

# The run tag publication sets when a failed check held tables back (`make run` reads it).
HELD_BACK_TAG = "cardreach/held_back"

# Op tag of every quality check: ahead of any other step that is ready at the same time.
CHECK_PRIORITY_TAGS = {"dagster/priority": "100"}
# Op tag of ingestion: first of all, even in a run whose dbt models read no raw table of its own
# (a new day's, nothing delivered), where they were built before the landing folder was read.
INGEST_PRIORITY_TAGS = {"dagster/priority": "200"}


@dataclass(frozen=True)
class HeldBack:
    """A table left out of this run's publication, and why: every checked asset it depends on
    (itself, or an ancestor) whose checks failed, with those checks, first in key order."""

    asset: dg.AssetKey
    causes: tuple[tuple[dg.AssetKey, tuple[str, ...]], ...]

    @property
    def because_of(self) -> dg.AssetKey:
        return self.causes[0][0]

    @property
    def checks(self) -> tuple[str, ...]:
        return self.causes[0][1]

    @property
    def causes_text(self) -> str:
        return "; ".join(
            f"{', '.join(checks)} on {checked.to_user_string()}" for checked, checks in self.causes
        )

    @property
    def reason(self) -> str:
        return f"{self.asset.to_user_string()} held back: " + "; ".join(
            f"check {', '.join(checks)} failed on {checked.to_user_string()}"
            for checked, checks in self.causes
        )


def asset_graph(context: dg.AssetExecutionContext):
    """The graph of every asset of the code location (or of the job, in a test without one)."""
    try:
        return context.repository_def.asset_graph
    except Exception:  # dg.materialize in a test: no code location, the job's own graph
        return context.job_def.asset_layer.asset_graph


def _run_events(context: dg.AssetExecutionContext, event_type: dg.DagsterEventType) -> list:
    records = context.instance.all_logs(context.run_id, of_type=event_type)
    return [record.dagster_event for record in records]


def failed_by_asset(evaluations) -> dict[dg.AssetKey, list[str]]:
    """Of check evaluations, the checks that failed with ERROR severity, by the asset checked."""
    failed: dict[dg.AssetKey, list[str]] = defaultdict(list)
    for evaluation in evaluations:
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            failed[evaluation.asset_key].append(evaluation.check_name)
    return dict(failed)


def failed_checks(context: dg.AssetExecutionContext) -> dict[dg.AssetKey, list[str]]:
    """The checks that failed with ERROR severity in this run, by the asset they checked."""
    events = _run_events(context, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    return failed_by_asset(event.asset_check_evaluation_data for event in events)


def ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    stack = [key]
    while stack:
        for parent in graph.get(stack.pop()).parent_keys:
            if parent not in seen and graph.has(parent):
                seen.add(parent)
                stack.append(parent)
    return seen


def materialized_in_run(context: dg.AssetExecutionContext) -> set[dg.AssetKey]:
    """The assets this run has materialized so far."""
    return {
        event.event_specific_data.materialization.asset_key
        for event in _run_events(context, dg.DagsterEventType.ASSET_MATERIALIZATION)
    }


def _checks_not_yet_run(context, upstream: set[dg.AssetKey]) -> list[str]:
    """Checks of this run on a built upstream asset that have not reported: run out of order."""
    built = materialized_in_run(context)
    evaluated = {
        event.asset_check_evaluation_data.asset_check_key
        for event in _run_events(context, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    }
    selection = context.run.asset_check_selection
    planned = (
        selection
        if selection is not None
        else context.job_def.asset_layer.asset_graph.asset_check_keys
    )
    return sorted(
        key.to_user_string()
        for key in planned
        if key.asset_key in upstream and key.asset_key in built and key not in evaluated
    )


def hold_back(graph, keys, failed: dict[dg.AssetKey, list[str]]) -> list[HeldBack]:
    """Of `keys`, the assets that depend on (or are) an asset in `failed` (its failed checks)."""
    held = []
    for key in sorted(k for k in keys if graph.has(k)):
        upstream = ancestors(graph, key) | {key}
        causes = tuple(
            (checked, tuple(sorted(failed[checked])))
            for checked in sorted(upstream & failed.keys())
        )
        if causes:
            held.append(HeldBack(key, causes))
    return held


def held_back(context: dg.AssetExecutionContext, keys) -> list[HeldBack]:
    """Of `keys`, the assets that depend on (or are) an asset whose check failed in this run;
    a failure if a check they depend on has not run yet."""
    graph = asset_graph(context)
    upstream = set().union(*(ancestors(graph, k) | {k} for k in keys if graph.has(k)))
    missing = _checks_not_yet_run(context, upstream)
    if missing:
        raise dg.Failure(
            f"the quality checks {', '.join(missing)} have not run yet, so this step cannot know"
            " what they hold back: run the checks first (a run of the whole job orders them so)."
        )
    return hold_back(graph, keys, failed_checks(context))


def log_held_back(context: dg.AssetExecutionContext, held: list[HeldBack], action: str) -> None:
    for item in held:
        context.log.warning(f"{item.reason}: not {action} in this run")
