"""The code location's shape pinned as a snapshot: every asset with its group and kinds, every
check, and the daily job's selection. An accidental change of lineage or naming (a moved file
that drops an asset, a renamed check) shows here as a diff; a deliberate one is accepted with
`CARDREACH_UPDATE_SNAPSHOT=1 pytest tests/test_definitions.py`."""

import json
import os
import warnings
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def shape(definitions: dg.Definitions | None = None) -> dict:
    definitions = definitions if definitions is not None else defs()
    graph = definitions.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "upstream": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(c.name for c in node.check_keys),
        }
    job = definitions.resolve_job_def("cardreach_daily")
    return {
        "assets": assets,
        "cardreach_daily": sorted(
            k.to_user_string() for k in job.asset_layer.executable_asset_keys
        ),
        "schedules": sorted(s.name for s in definitions.schedules or []),
        "sensors": sorted(s.name for s in definitions.sensors or []),
    }


def test_the_code_location_matches_its_snapshot():
    current = shape()
    if os.environ.get("CARDREACH_UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(
            json.dumps(current, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8",
        )
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_the_definitions_are_the_defs_folders_without_the_component_types_description():
    """The code location loads the defs folder as dg.load_from_defs_folder does, less the
    description of every installed component type it adds for the UI (cardreach has none)."""
    ours = defs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = dg.load_from_defs_folder(path_within_project=settings.REPO_ROOT)
    assert shape(ours) == shape(theirs)
    assert set(theirs.resources or {}) == set(ours.resources or {}) == {"dbt", "warehouse"}
    assert "plugin_component_types_json" in theirs.get_repository_def().metadata
    assert not ours.get_repository_def().metadata
    # the component tree the UI and the code server read stays attached
    assert ours.component_tree is not None and theirs.component_tree is not None
    assert ours.get_repository_def().get_component_tree() is not None


def test_every_asset_has_a_description_and_an_owner():
    graph = defs().resolve_asset_graph()
    missing = [
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if not graph.get(key).description or not graph.get(key).owners
    ]
    assert missing == []


def test_every_check_says_what_it_guards_and_the_content_assets_are_documented():
    """The UI lists every check with what it guards (dbt tests included, which dagster-dbt
    leaves blank), and the content assets show owners, kinds, a schema whose every column is
    described, and their dbt tests as checks, like the older marts."""
    graph = defs().resolve_asset_graph()
    blank = [
        str(key) for key in graph.asset_check_keys if not graph.get_check_spec(key).description
    ]
    assert blank == []
    for name in ["staging/stg_notes", "marts/note_performance", "marts/account_content_mix"]:
        node = graph.get(dg.AssetKey(name.split("/")))
        assert node.owners and node.description and {"dbt", "duckdb"} <= node.kinds, name
        columns = node.metadata["dagster/column_schema"].columns
        assert columns and all(column.description for column in columns), name
        grain = [k for k in node.check_keys if k.name.startswith("unique_combination_")]
        assert len(grain) == 1, name
        described = graph.get_check_spec(grain[0]).description
        assert described.startswith("One row per platform, ") and "Severity error" in described
    registry = dg.AssetCheckKey(
        dg.AssetKey(["marts", "note_performance"]), "relationships_note_performance_to_registry"
    )
    assert graph.get_check_spec(registry).description == (
        "Every (platform, account_name) of note_performance is a (platform, account_name) of"
        " stg_accounts (rows with a null key part are skipped)."
        " Severity warn: a failure is reported and stops nothing."
    )
    # a model's required columns are one check, naming them
    required = dg.AssetCheckKey(
        dg.AssetKey(["marts", "account_performance"]), "account_performance_not_null"
    )
    assert graph.get_check_spec(required).description.startswith(
        "account_performance's platform, account_name, snapshot_date, is_registered,"
    )
    # a test of some rows says which: the score is null when no component counts
    score = dg.AssetCheckKey(
        dg.AssetKey(["marts", "account_scores"]), "not_null_account_scores_score"
    )
    assert graph.get_check_spec(score).description.startswith(
        "Among the rows of account_scores where weight_used > 0:"
        " account_scores.score is never null."
    )
    # and a relationship to one category of a seed names the category
    category = dg.AssetCheckKey(
        dg.AssetKey(["reference", "audience_buckets"]),
        "audience_buckets_dimension_is_a_category_code",
    )
    assert "is a (code) of category_codes where category = 'audience_dimension'" in (
        graph.get_check_spec(category).description
    )


# The UI lists an asset's checks in a column at least 294 px wide whose names MiddleTruncate
# keeps whole only as far as they fit (dagster-webserver 1.13, AssetChecks.tsx): 294 px less the
# paddings and the status icon leave about 213 px of 14 px text, 28 characters of snake_case,
# shown as the same count of characters from each end around an ellipsis. Twelve from each end is
# that width with a margin for wide letters.
CHECK_NAME_ENDS_SHOWN = 12


def _as_the_ui_truncates(name: str, ends: int = CHECK_NAME_ENDS_SHOWN) -> str:
    return name if len(name) <= 2 * ends + 1 else f"{name[:ends]}…{name[-ends:]}"


def test_every_check_has_a_description_and_a_name_distinct_as_the_ui_shows_it():
    graph = defs().resolve_asset_graph()
    undescribed, alike = [], {}
    for key in graph.get_all_asset_keys():
        checks = graph.get(key).check_keys
        undescribed += [
            f"{key.to_user_string()}:{c.name}"
            for c in checks
            if not (graph.get_check_spec(c).description or "").strip()
        ]
        shown: dict[str, list[str]] = {}
        for check in checks:
            shown.setdefault(_as_the_ui_truncates(check.name), []).append(check.name)
        alike.update(
            {f"{key.to_user_string()}:{t}": names for t, names in shown.items() if len(names) > 1}
        )
    assert undescribed == []
    assert alike == {}


def test_the_truncation_rule_tells_apart_what_the_ui_would_not():
    """The names the UI showed alike before they were given names of their own."""
    assert _as_the_ui_truncates(
        "value_between_account_scores_engagement_per_note_component__100__0"
    ) == _as_the_ui_truncates(
        "value_between_account_scores_engagement_per_follower_component__100__0"
    )


def test_groups_follow_the_datas_route():
    """Ingest (raw and audit), then each dbt model in the group of its folder under models/
    (staging, intermediate, marts, scoring), the seeds in `reference`, then publish."""
    from orchestration.dbt import prepared_manifest

    graph = defs().resolve_asset_graph()
    group_of = {
        key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()
    }
    expected = {}
    for node in prepared_manifest()["nodes"].values():
        if node["resource_type"] == "model":
            folder = Path(node["original_file_path"]).parts[1]  # models/<folder>/<model>.sql
            expected[f"{node['schema']}/{node['alias']}"] = folder
        elif node["resource_type"] == "seed":
            expected[f"{node['schema']}/{node['alias']}"] = "reference"
    for key in group_of:
        if key.startswith(("raw/", "audit/")):
            expected[key] = "ingest"
    assert {key: group_of[key] for key in expected} == expected
    assert {"staging", "intermediate", "marts", "scoring", "reference"} <= set(expected.values())
    # nothing outside the route's groups
    assert set(group_of.values()) == set(expected.values()) | {"publish"}


def test_raw_and_audit_assets_describe_their_columns_from_the_contract():
    from orchestration.contract.datasets import DATASETS
    from orchestration.defs.ingest.load import FILE_LOG_COLUMNS, raw_table_columns

    graph = defs().resolve_asset_graph()
    for dataset in DATASETS.values():
        schema = graph.get(dg.AssetKey(["raw", dataset.name])).metadata["dagster/column_schema"]
        assert [(c.name, c.type) for c in schema.columns] == raw_table_columns(dataset)
        assert all(c.description for c in schema.columns), dataset.name
        for column in dataset.columns:  # the contract's own words, when it has them
            if column.description:
                described = next(c for c in schema.columns if c.name == column.name)
                assert described.description.startswith(column.description)
    file_log = graph.get(dg.AssetKey(["audit", "file_log"])).metadata["dagster/column_schema"]
    assert [(c.name, c.type) for c in file_log.columns] == FILE_LOG_COLUMNS
    assert all(c.description for c in file_log.columns)


def test_assets_link_to_their_code_on_this_machine():
    graph = defs().resolve_asset_graph()
    for name, file in [
        ("marts/account_performance", "dbt_project/models/marts/account_performance.sql"),
        ("reference/banks", "dbt_project/seeds/banks.csv"),
        ("raw/account_snapshots", "orchestration/defs/ingest/assets.py"),
    ]:
        metadata = graph.get(dg.AssetKey(name.split("/"))).metadata
        [reference] = metadata["dagster/code_references"].code_references
        assert Path(reference.file_path) == Path(__file__).parent.parent / file
