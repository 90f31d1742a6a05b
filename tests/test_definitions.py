"""The code location's shape pinned as a snapshot: every asset with its group and kinds, every
check, and the daily job's selection. An accidental change of lineage or naming (a moved file
that drops an asset, a renamed check) shows here as a diff; a deliberate one is accepted with
`CARDREACH_UPDATE_SNAPSHOT=1 pytest tests/test_definitions.py`."""

import json
import os
from pathlib import Path

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
