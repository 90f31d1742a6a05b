"""The code location's shape pinned as a snapshot: every asset with its group and kinds, every
check, and the daily job's selection. An accidental change of lineage or naming (a moved file
that drops an asset, a renamed check) shows here as a diff; a deliberate one is accepted with
`CARDREACH_UPDATE_SNAPSHOT=1 pytest tests/test_definitions.py`."""

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def shape() -> dict:
    definitions = defs()
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
