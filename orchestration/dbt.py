"""The dbt project as Dagster sees it: where it is, how to run it, and its prepared manifest.

The manifest is prepared by `make` (or here, once, when it is missing), never at every
definitions load: `dbt parse` takes seconds and `dagster dev` reloads often.
"""

import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from pydantic import Field

from orchestration.metadata import OWNERS
from orchestration.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, WAREHOUSE_ENV, warehouse_dir
from orchestration.warehouse import Warehouse

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"

# dbt folder -> Dagster group, one rule for every model (seeds are reference data for staging).
_GROUPS = {
    "staging": "staging",
    "intermediate": "marts",
    "marts": "marts",
    "scoring": "scoring",
    "seeds": "staging",
}
# dbt models tagged `scoring` run in a step of their own, after the quality gate.
SCORING_SELECTOR = "tag:scoring"
# dagster-dbt gives each dbt invocation a folder of its own under target/ (its log, manifest and
# run_results.json: about 7 MB). A daily pipeline makes two, which over a year is 5 GB: keep the
# newest few per step, enough to look into the last runs.
KEPT_INVOCATION_FOLDERS = 10


def prepared_manifest() -> Path:
    """The manifest.json, parsed now only when no build has prepared it yet."""
    if not MANIFEST_PATH.exists():
        subprocess.run(
            # --target-path: MANIFEST_PATH, whatever DBT_TARGET_PATH says
            [
                str(DBT_EXECUTABLE),
                "parse",
                "--quiet",
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                "target",
            ],
            cwd=DBT_PROJECT_DIR,
            check=True,
            # the absolute path the runs hand dbt: a different profile defeats partial parsing
            env={**os.environ, WAREHOUSE_ENV: str(warehouse_dir())},
        )
    return MANIFEST_PATH


class DbtBuildConfig(dg.Config):
    """Launchpad options of the dbt steps."""

    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental models (stg_account_snapshots,"
        " int_account_snapshot_changes, account_performance, account_scores) from scratch"
        " instead of only the rows new deliveries touched. Needed after changing a seed they use,"
        " such as follower tiers or score weights.",
    )


def dbt_build_step(name: str, select: str = "fqn:*", exclude: str | None = None):
    """An asset step that runs `dbt build` on the selected models (and their tests as checks)."""

    @dbt_assets(
        manifest=prepared_manifest(),
        dagster_dbt_translator=CardreachTranslator(),
        select=select,
        exclude=exclude,
        name=name,
    )
    def _build(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: Warehouse,
        config: DbtBuildConfig,
    ):
        # dbt's profile reads the same setting as the warehouse resource: hand it the folder.
        os.environ[WAREHOUSE_ENV] = str(warehouse.warehouse_dir)
        args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
        try:
            yield from dbt.cli(args, context=context).stream()
        finally:
            try:
                prune_invocation_folders(invocation_folders_root(), name)
            except OSError as error:  # never in place of dbt's own outcome
                context.log.warning(f"could not prune old dbt invocation folders: {error}")

    return _build


def invocation_folders_root() -> Path:
    """Where dagster-dbt puts each invocation's folder (and finds `partial_parse.msgpack` to
    copy into it): DBT_TARGET_PATH, relative to the dbt project, else its `target/`."""
    root = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return root if root.is_absolute() else DBT_PROJECT_DIR / root


def prune_invocation_folders(
    target: Path, step_name: str, keep: int = KEPT_INVOCATION_FOLDERS
) -> None:
    """Remove all but the newest `keep` invocation folders of the step (`<step>-...` in target)."""
    folders = sorted(
        (p for p in target.glob(f"{step_name}-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )
    for folder in folders[:-keep] if keep else folders:
        shutil.rmtree(folder, ignore_errors=True)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=os.fspath(DBT_PROJECT_DIR),
        profiles_dir=os.fspath(DBT_PROJECT_DIR),
        dbt_executable=os.fspath(DBT_EXECUTABLE),
    )


class CardreachTranslator(DagsterDbtTranslator):
    """Keys stay dagster-dbt's ([schema, model]; sources [raw, table], matching the ingest assets);
    the group follows the dbt folder."""

    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_group_name(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "seed":
            return _GROUPS["seeds"]
        folder = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else ""
        return _GROUPS.get(folder, "marts")

    def get_owners(self, dbt_resource_props):
        return OWNERS
