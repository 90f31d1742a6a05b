"""The gate on a small graph of its own: what a failed check holds back, and that it refuses to
decide before the checks it depends on have run."""

import dagster as dg
import pytest

from orchestration import gate

RAW = dg.AssetKey("raw")
MART = dg.AssetKey("mart")
OTHER = dg.AssetKey("other")


@dg.multi_asset(specs=[dg.AssetSpec(RAW), dg.AssetSpec(OTHER)])
def delivered():
    yield dg.MaterializeResult(asset_key=RAW)
    yield dg.MaterializeResult(asset_key=OTHER)


@dg.asset(key=MART, deps=[RAW])
def mart():
    return None


def raw_check(passed: bool, severity=dg.AssetCheckSeverity.ERROR, tags=gate.CHECK_PRIORITY_TAGS):
    @dg.asset_check(asset=RAW, name="raw_is_plausible", op_tags=tags)
    def _check():
        return dg.AssetCheckResult(passed=passed, severity=severity)

    return _check


def publish_recording(verdicts: list):
    @dg.asset(key="published", deps=[MART, OTHER])
    def published(context: dg.AssetExecutionContext):
        verdicts.append(gate.held_back(context, [MART, OTHER]))

    return published


def run(check) -> tuple[dg.ExecuteInProcessResult, list]:
    verdicts: list = []
    defs = dg.Definitions(
        assets=[delivered, mart, publish_recording(verdicts)],
        asset_checks=[check],
        executor=dg.in_process_executor,
        jobs=[dg.define_asset_job("everything", selection=dg.AssetSelection.all())],
    )
    result = defs.resolve_job_def("everything").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    return result, verdicts


def test_a_failed_error_check_holds_back_what_depends_on_its_asset_only():
    result, [held] = run(raw_check(passed=False))
    assert result.success  # the run goes on; the CLI fails it by the check
    assert [(h.asset, h.because_of, h.checks) for h in held] == [(MART, RAW, ("raw_is_plausible",))]
    assert "check raw_is_plausible failed on raw" in held[0].reason


@pytest.mark.parametrize(
    ("passed", "severity"),
    [(True, dg.AssetCheckSeverity.ERROR), (False, dg.AssetCheckSeverity.WARN)],
)
def test_a_passed_check_or_a_warning_holds_back_nothing(passed, severity):
    result, verdicts = run(raw_check(passed=passed, severity=severity))
    assert result.success and verdicts == [[]]


def test_the_gate_refuses_to_decide_before_a_check_it_depends_on_has_run():
    # Without the priority the check may run after the step that asks: here it is made to.
    result, verdicts = run(raw_check(passed=False, tags={"dagster/priority": "-100"}))
    assert verdicts == []
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "published"
    assert "raw:raw_is_plausible have not run yet" in failure.step_failure_data.error.message


def test_every_check_of_the_pipeline_runs_ahead_of_the_steps_that_ask_for_its_verdict():
    """Publication asks every check on a built asset: each check op carries the priority, the
    freshness checks as the suites (a new day's run, with no scores to order them, ran
    publication first: tests/test_run_plan.py)."""
    from orchestration.definitions import defs

    checks = {c.node_def.name: c.node_def.tags for c in defs().asset_checks}
    assert "feed_freshness" in checks and len(checks) > 1
    assert {
        name
        for name, tags in checks.items()
        if not gate.CHECK_PRIORITY_TAGS.items() <= tags.items()
    } == set()
