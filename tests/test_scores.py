"""The scores follow their seed: a weight or a component is a row of `reference.score_weights`.

One pipeline run on the sample, then each test edits the seed's table in its own copy of the
database and rebuilds the scores as an operator would (`cardreach dbt build --select
tag:scoring --full-refresh`), with no change to any SQL file.
"""

import shutil
import subprocess

import dagster as dg
import duckdb
import pytest
from conftest import cardreach_dbt, query, run_pipeline

from orchestration.dbt import dbt_resource
from orchestration.defs.scoring.assets import cardreach_scores

ACCOUNT_COMPONENTS = [
    "scale",
    "engagement_per_note",
    "engagement_per_follower",
    "growth",
    "activity",
    "content",
]


@pytest.fixture
def database(sample_warehouse, tmp_path):
    """A copy of the shared sample run's database in a warehouse folder of the test's own."""
    folder = tmp_path / "warehouse"
    folder.mkdir()
    return shutil.copy(sample_warehouse.database_path, folder / sample_warehouse.database_path.name)


def execute(database, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(database)) as conn:
        return conn.execute(sql, params or []).fetchall()


def rebuild_scores(database) -> subprocess.CompletedProcess:
    return cardreach_dbt(database.parent, "build", "--select", "tag:scoring", "--full-refresh")


def account_rows(database, components: list[str]) -> dict[tuple, dict]:
    columns = [f"{c}_{kind}" for c in components for kind in ("component", "contribution")]
    names = ["score", "weight_used", "components_used", *columns]
    rows = execute(
        database,
        f"SELECT platform, account_name, snapshot_date, {', '.join(names)}"
        " FROM marts.account_scores",
    )
    return {row[:3]: dict(zip(names, row[3:], strict=True)) for row in rows}


def assert_contributions_sum_to_the_score(rows: dict[tuple, dict], components: list[str]):
    for key, row in rows.items():
        total = sum(row[f"{c}_contribution"] or 0 for c in components)
        if row["score"] is None:  # nothing counts (too few peers): no points either
            assert total == 0, key
        else:
            assert total == pytest.approx(row["score"], abs=0.05), key


def test_a_weight_changed_in_the_seed_changes_scores_and_contributions(database):
    before = account_rows(database, ACCOUNT_COMPONENTS)
    # scale from 0.25 to 0.60: the other components weigh relatively less
    execute(
        database,
        "UPDATE reference.score_weights SET weight = 0.6"
        " WHERE score = 'account' AND component = 'scale'",
    )
    done = rebuild_scores(database)
    assert done.returncode == 0, done.stdout[-3000:]
    after = account_rows(database, ACCOUNT_COMPONENTS)
    assert after.keys() == before.keys()
    assert_contributions_sum_to_the_score(after, ACCOUNT_COMPONENTS)
    changed = scored = 0
    for key, row in after.items():
        old = before[key]
        # the percentiles do not depend on the weights; where scale counts, the denominator
        # grew by 0.35 (the sample's 2024 dates have one account: nothing counts there)
        assert [row[f"{c}_component"] for c in ACCOUNT_COMPONENTS] == [
            old[f"{c}_component"] for c in ACCOUNT_COMPONENTS
        ]
        if row["scale_contribution"] is None:
            assert row["weight_used"] == old["weight_used"] == 0, key
            continue
        assert float(row["weight_used"]) == pytest.approx(float(old["weight_used"]) + 0.35)
        assert row["scale_contribution"] == pytest.approx(
            0.6 * row["scale_component"] / float(row["weight_used"])
        )
        scored += 1
        changed += row["score"] != old["score"]
    assert changed > scored / 2  # a score moves unless all its percentiles are equal


def test_a_seed_row_for_an_existing_metric_adds_a_component(database):
    execute(
        database,
        "INSERT INTO reference.score_weights VALUES"
        " ('account', 'audience', 0.25, 'followers', 'Followers again, to weigh scale double')",
    )
    done = rebuild_scores(database)
    assert done.returncode == 0, done.stdout[-3000:]
    components = [*ACCOUNT_COMPONENTS, "audience"]
    rows = account_rows(database, components)
    assert_contributions_sum_to_the_score(rows, components)
    for key, row in rows.items():
        assert row["audience_component"] == row["scale_component"], key
        assert row["audience_contribution"] == pytest.approx(row["scale_contribution"]), key
    # every account has followers: the new component counts wherever scale does (the 7 accounts
    # of 2025-04-17; growth and activity, which one of them has, count nowhere)
    [(fewest, most)] = execute(
        database,
        "SELECT min(components_used), max(components_used) FROM marts.account_scores"
        " WHERE snapshot_date = DATE '2025-04-17'",
    )
    assert (fewest, most) == (4, 4)
    # the metric is shown once, and the new columns follow the seed's order
    [(columns,)] = execute(
        database,
        "SELECT list(column_name ORDER BY column_index) FROM duckdb_columns()"
        " WHERE schema_name = 'marts' AND table_name = 'account_scores'",
    )
    assert columns.count("followers") == 1
    assert columns.index("audience_component") == columns.index("content_component") + 1
    assert columns.index("audience_contribution") == columns.index("content_contribution") + 1


def test_a_seed_row_naming_a_missing_metric_stops_the_build_naming_the_row(database):
    execute(
        database,
        "INSERT INTO reference.score_weights VALUES"
        " ('platform', 'downloads', 0.2, 'app_downloads', 'Not delivered')",
    )
    done = rebuild_scores(database)
    assert done.returncode != 0
    assert (
        "seed score_weights, row (score platform, component downloads): metric 'app_downloads'"
        " is not a column of" in done.stdout
    )


def test_a_component_among_fewer_peers_than_the_minimum_does_not_count(sample_run):
    """On the sample's 2025-04-17 only 招行 has a growth and an activity (its earlier snapshots):
    a percentile among one peer is 50 whatever the value, and counting it dragged 招行 from about
    80 to 70.2 (with content among 2 peers: only 中信 and 招行 have notes)."""
    rows = {
        row[0]: row[1:]
        for row in query(
            sample_run,
            "SELECT account_name, score, components_used, growth_component, growth_peers,"
            " growth_contribution, activity_peers, activity_contribution, components_left_out"
            " FROM marts.account_scores WHERE snapshot_date = DATE '2025-04-17'",
        )
    }
    cmb = rows["招商银行信用卡申请"]
    score, used, growth, growth_peers, growth_points, activity_peers, activity_points, left = cmb
    assert (growth, growth_peers, growth_points) == (50.0, 1, None)  # shown, not counted
    assert (activity_peers, activity_points) == (1, None)
    assert used == 3
    assert left == (
        "growth (1 peer, minimum 3); activity (1 peer, minimum 3); content (2 peers, minimum 3)"
    )
    # (0.25 × 64.3 + 0.15 × 92.9 + 0.15 × 92.9) / 0.55: scale 4.5 / 7, the engagements 6.5 / 7
    assert score == pytest.approx(79.9, abs=0.05)
    assert score > rows["中信银行信用卡"][0]
    assert max(rows, key=lambda name: rows[name][0]) == "招商银行信用卡申请"


def test_the_minimum_of_peers_is_a_seed(database):
    """The minimum is read from reference.score_settings: at 1, a lone peer's 50 counts again."""
    execute(database, "UPDATE reference.score_settings SET min_peers = 1")
    done = rebuild_scores(database)
    assert done.returncode == 0, done.stdout[-3000:]
    [(score, used, left)] = execute(
        database,
        "SELECT score, components_used, components_left_out FROM marts.account_scores"
        " WHERE account_name = '招商银行信用卡申请' AND snapshot_date = DATE '2025-04-17'",
    )
    # + 0.2 × 50 (growth) + 0.1 × 50 (activity) + 0.15 × 75 (content: 招行's new notes above
    # 中信's), over all the weights, 1
    assert (score, used, left) == (70.2, 6, None)


def notes_of(account_name: str, likes: list[int]) -> list[dict]:
    """Notes of the account seen on the sample's 2025-04-17, published a week before."""
    return [
        {
            "platform": "小红书",
            "account_name": account_name,
            "note_id": f"{account_name}-{number}",
            "published_at": "2025-04-10",
            "snapshot_date": "2025-04-17",
            "note_type": "图文",
            "likes": str(count),
            "collects": "0",
            "comments": "0",
            "source": "test",
        }
        for number, count in enumerate(likes)
    ]


SCORE_COLUMNS = (
    "account_name, median_interactions_per_new_note, content_component, content_peers,"
    " content_contribution, components_left_out, score"
)


def test_notes_of_a_third_account_make_the_content_component_count(landing, sample_copy, warehouse):
    """The sample has notes of 中信 and 招行 only: content among 2 peers does not count. Notes of
    宁波 and 平安 delivered later for the same date (an incremental build: no account snapshot is
    new) bring 4 peers, and the date's scores are rebuilt with content counted."""
    landing.csv(
        "notes__more.csv",
        notes_of("宁波银行信用卡", [1, 3, 9]) + notes_of("平安银行信用卡中心", [40000, 50000]),
    )
    assert run_pipeline().success
    on_date = " FROM marts.account_scores WHERE snapshot_date = DATE '2025-04-17' ORDER BY 1"
    rows = {r[0]: r[1:] for r in query(warehouse, f"SELECT {SCORE_COLUMNS}{on_date}")}
    # medians 3 and 45,000; the sample's 中信 (2,830) below 招行 (13,946.5): 0.5/4 ... 3.5/4
    assert rows["宁波银行信用卡"][:3] == (3.0, 12.5, 4)
    assert rows["中信银行信用卡"][1:3] == (37.5, 4)
    assert rows["招商银行信用卡申请"][1:3] == (62.5, 4)
    assert rows["平安银行信用卡中心"][:3] == (45000.0, 87.5, 4)
    for name in ["宁波银行信用卡", "中信银行信用卡", "招商银行信用卡申请", "平安银行信用卡中心"]:
        median, component, peers, points, left_out, score = rows[name]
        assert points is not None and "content" not in (left_out or ""), name
    for name in ["交通银行信用卡买单吧", "兴业银行信用卡", "北京银行信用卡"]:
        median, component, peers, points, left_out, score = rows[name]
        assert (median, component, points) == (None, None, None), name
        assert "content (no value of median_interactions_per_new_note)" in left_out, name
    # the incremental build scored as a build of the scores from scratch does
    incremental = query(warehouse, f"SELECT {SCORE_COLUMNS}{on_date}")
    assert dg.materialize(
        [cardreach_scores],
        resources={"warehouse": warehouse, "dbt": dbt_resource()},
        run_config={"ops": {"cardreach_scores": {"config": {"full_refresh": True}}}},
    ).success
    assert query(warehouse, f"SELECT {SCORE_COLUMNS}{on_date}") == incremental
