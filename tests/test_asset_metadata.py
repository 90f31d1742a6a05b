"""What the UI shows of a dbt model after a real build: its columns typed as the database holds
them, its row count and the upstream columns each column is computed from."""

import itertools
import json
import os
import subprocess
import sys
import textwrap

import dagster as dg
import duckdb

from orchestration import dbt_command, dbt_in_process, settings
from orchestration.dbt import (
    DBT_PROJECT,
    CardreachTranslator,
    dbt_resource,
    hand_dbt_its_settings,
    invocation_folders_root,
    prepared_manifest,
    read_manifest,
    seed_target_folder,
)
from orchestration.defs.ingest.assets import ingest_landing_files
from orchestration.defs.scoring.assets import cardreach_scores
from orchestration.defs.transform.assets import cardreach_dbt_models

ACCOUNT_PERFORMANCE = dg.AssetKey(["marts", "account_performance"])
STG_ACCOUNTS = dg.AssetKey(["staging", "stg_accounts"])  # a view
# Models whose SQL joins, unions, selects * and windows the most (of the 44, for a test's time:
# dagster-dbt's walk takes about 0.4 s a model)
INTRICATE_MODELS = (
    "account_performance",
    "bank_presence",
    "campaign_performance",
    "audience_similarity",
    "funnel_conversion",
    "note_themes",
    "stg_accounts",
)


def _build_the_models(warehouse, selection=None) -> dict[dg.AssetKey, dict]:
    result = dg.materialize(
        [ingest_landing_files, cardreach_dbt_models],
        resources={"warehouse": warehouse, "dbt": dbt_resource()},
        selection=selection,
    )
    assert result.success
    return {
        e.materialization.asset_key: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }


def test_a_built_model_shows_its_column_types_row_count_and_column_lineage(
    landing, warehouse, tmp_path, monkeypatch
):
    # a dbt target folder of its own, without the lineage the worker's other builds kept: the
    # variants counted below are this test's two builds'
    monkeypatch.setenv(
        "DBT_TARGET_PATH", str(seed_target_folder(tmp_path / "target", lineage=False))
    )
    landing.copy_sample()
    built = _build_the_models(warehouse)

    with duckdb.connect(str(warehouse.database_path), read_only=True) as conn:
        for key in (ACCOUNT_PERFORMANCE, STG_ACCOUNTS):
            schema, table = key.path
            columns = conn.execute(
                "SELECT column_name, data_type FROM duckdb_columns()"
                " WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
            rows = conn.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
            metadata = built[key]
            shown = metadata["dagster/column_schema"].schema.columns
            assert [(c.name, c.type) for c in shown] == columns, key
            assert all(c.description for c in shown), key  # the model's yml, as DuckDB comments
            assert metadata["dagster/row_count"].value == rows > 0, key

    lineage = built[ACCOUNT_PERFORMANCE]["dagster/column_lineage"].lineage.deps_by_column
    assert (
        dg.TableColumnDep(
            dg.AssetKey(["intermediate", "int_account_snapshot_changes"]), "followers"
        )
        in lineage["followers"]
    )
    # a staging model reads its source: the raw table's columns, keyed as the ingest assets
    stg_lineage = built[STG_ACCOUNTS]["dagster/column_lineage"].lineage.deps_by_column
    assert dg.TableColumnDep(dg.AssetKey(["raw", "accounts"]), "bank") in stg_lineage["bank"]

    _agrees_with_dagster_dbt(warehouse)

    # kept by model (a few variants: fingerprint, deps, source) for the next build, which works
    # it out again only for what changed
    cache = invocation_folders_root() / settings.COLUMN_LINEAGE_FILE
    kept = cache.read_text()
    known = json.loads(kept)
    assert [[["raw", "accounts"], "bank"]] in [
        deps["bank"] for _, deps, _ in known["model.cardreach.stg_accounts"]
    ]
    # the next build compiles the incremental model another way (only the new loads): the
    # lineage kept for its source and schemas serves it, not worked out again (marked here)
    marked = {"followers": [[["marked", "by_the_test"], "followers"]]}
    for variant in known["model.cardreach.account_performance"]:
        variant[1] = marked
    try:
        cache.write_text(json.dumps(known))
        again = _build_the_models(warehouse, [ACCOUNT_PERFORMANCE])[ACCOUNT_PERFORMANCE][
            "dagster/column_lineage"
        ]
        assert again.lineage.deps_by_column["followers"] == [
            dg.TableColumnDep(dg.AssetKey(["marked", "by_the_test"]), "followers")
        ]
        variants = json.loads(cache.read_text())["model.cardreach.account_performance"]
        assert len({fingerprint for fingerprint, _, _ in variants}) == 2
        assert len({source for _, _, source in variants}) == 1
    finally:
        cache.write_text(kept)


def _agrees_with_dagster_dbt(warehouse) -> None:
    """cardreach walks each model's lineage once for all its columns (orchestration/dbt.py,
    column_deps); dagster-dbt's own function, one column at a time, finds the same. Both work it
    out here from the build's compiled SQL, nothing read from the kept lineage."""
    from dagster_dbt.core.dbt_cli_event import (
        EventHistoryMetadata,
        _build_column_lineage_metadata,
    )

    from orchestration.dbt import _column_lineage, _relation
    from orchestration.metadata import columns_by_table

    manifest = prepared_manifest()
    # the build's own dbt folder: the compiled SQL it ran
    target_path = max(
        invocation_folders_root().glob("cardreach_dbt_models-*"), key=lambda p: p.stat().st_mtime
    )
    with duckdb.connect(str(warehouse.database_path), read_only=True) as conn:
        columns = columns_by_table(conn)

    def typed(node: dict) -> dict:
        return {name: {"data_type": kind} for name, kind, _ in columns[_relation(node)]}

    compared = 0
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["name"] not in INTRICATE_MODELS:
            continue
        parents = {}
        for parent_id in node["depends_on"]["nodes"]:
            parent = manifest["nodes"].get(parent_id) or manifest["sources"][parent_id]
            parents[parent["relation_name"]] = typed(parent)
        theirs = _build_column_lineage_metadata(
            event_history_metadata=EventHistoryMetadata(columns=typed(node), parents=parents),
            dbt_resource_props=node,
            manifest=manifest,
            dagster_dbt_translator=CardreachTranslator(),
            target_path=target_path,
            project=DBT_PROJECT,
        )["dagster/column_lineage"].deps_by_column
        ours = _column_lineage(
            columns, manifest, node, target_path, CardreachTranslator(), known={}
        )["dagster/column_lineage"].deps_by_column
        assert {c: set(deps) for c, deps in ours.items()} == {
            c: set(deps) for c, deps in theirs.items()
        }, node["name"]
        assert any(ours.values()), node["name"]
        compared += 1
    assert compared == len(INTRICATE_MODELS)


def test_a_dbt_step_on_a_new_warehouse_starts_from_the_parse_made_for_another(
    sample_copy, monkeypatch
):
    """dbt reuses a parse only for the profile's hash, which on DuckDB leaves out the database
    file and DuckDB's settings (orchestration/dbt_command.py): a step on a warehouse
    no parse was made for (a copy of the sample, at a new path, with another memory cap, on
    another day: macros/today.sql) starts from the one kept, parsing nothing. Each build's
    dbt.log is in dbt's usual text lines, its debug lines kept."""
    monkeypatch.setenv(settings.MEMORY_LIMIT_ENV, "900MB")
    monkeypatch.setenv(settings.TODAY_ENV, "2031-01-01")
    result = dg.materialize(
        [cardreach_scores], resources={"warehouse": sample_copy, "dbt": dbt_resource()}
    )
    assert result.success
    [folder] = invocation_folders_root().glob(f"cardreach_scores-{result.run_id[:7]}-*")
    log = (folder / "dbt.log").read_text(encoding="utf-8")
    assert "Partial parsing enabled, no changes found, skipping parsing" in log
    assert "Unable to do partial parsing" not in log
    assert not log.lstrip().startswith("{") and "[debug]" in log
    # each node's outcome and timing for the operator; not the artifacts nothing reads
    results = json.loads((folder / "run_results.json").read_text(encoding="utf-8"))["results"]
    assert {"model.cardreach.account_scores", "model.cardreach.platform_scores"} <= {
        r["unique_id"] for r in results if r["status"] == "success"
    }
    assert not (folder / "graph.gpickle").exists() and not (folder / "manifest.json").exists()


def test_under_dagster_dev_loading_the_definitions_starts_from_the_parse_made_for_another(
    tmp_path,
):
    """`dagster dev` (`make ui`) parses the project at each definitions load: the code server's,
    each run's. In the process, with the check above: a load for a warehouse no parse was made
    for parses nothing (dagster-dbt's preparer parsed all of it in a `dbt` process, about 7 s)."""
    target = seed_target_folder(tmp_path / "target")
    loaded = subprocess.run(
        [sys.executable, "-c", "from orchestration.definitions import defs; defs()"],
        cwd=settings.REPO_ROOT,
        env=os.environ
        | {
            "DAGSTER_IS_DEV_CLI": "1",  # what `dagster dev` sets for its processes
            "DBT_TARGET_PATH": str(target),
            settings.WAREHOUSE_ENV: str(tmp_path / "warehouse"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    log = (target / "dbt.log").read_text(encoding="utf-8")
    assert "Partial parsing enabled, no changes found, skipping parsing" in log
    assert "Unable to do partial parsing" not in log


def test_a_manifest_being_written_by_a_parse_is_read_once_it_is_whole(tmp_path):
    """dbt writes manifest.json in place. A process loading the definitions while another
    parses (under `dagster dev`, the code server reloading as a run starts) waits for the
    parse's guard (dagster-dbt's, which `prepare` parses under) and reads the whole file."""
    manifest = tmp_path / "manifest.json"
    whole = {"metadata": {"adapter_type": "duckdb"}, "nodes": {f"n{i}": i for i in range(50000)}}
    parse = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from dagster._utils import run_with_concurrent_update_guard

        path, text = Path(sys.argv[1]), sys.stdin.read()

        def write():
            with path.open("w") as f:
                f.write(text[: len(text) // 2])
                f.flush()
                print("half written", flush=True)
                time.sleep(1.5)
                f.write(text[len(text) // 2 :])

        run_with_concurrent_update_guard(path, write)
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", parse, str(manifest)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    writer.stdin.write(json.dumps(whole))
    writer.stdin.close()
    assert writer.stdout.readline().strip() == "half written"
    assert read_manifest(manifest) == whole
    assert writer.wait(timeout=60) == 0


def test_the_profile_hash_a_parse_is_checked_by_leaves_out_only_the_database_file():
    """What else of a DuckDB profile can reach a parse still makes dbt parse again."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    def profile_hash(**changed):
        profile = {"database": "cardreach", "schema": "main", "path": "/a/cardreach.duckdb"}
        return dbt_command.profile_hash_for_parsing(
            DuckDBCredentials(**(profile | {"settings": {"memory_limit": "1GB"}} | changed))
        )

    assert profile_hash(path="/b/cardreach.duckdb", settings={"memory_limit": "2GB"}) == (
        profile_hash()
    )
    assert profile_hash(database="other") != profile_hash()
    assert profile_hash(schema="other") != profile_hash()
    assert profile_hash(extensions=["spatial"]) != profile_hash()


def test_a_failed_dbt_build_says_dbts_error_and_lets_go_of_the_database(sample_copy):
    """dbt runs inside the pipeline's process on DuckDB (orchestration/dbt_in_process.py): a
    build that fails is the step's failure with dbt's own words, and dbt closes the database
    either way, so the step, the next one and the next build in the same process open it."""
    database = str(sample_copy.database_path)
    with duckdb.connect(database) as conn:
        conn.execute("ALTER TABLE marts.account_performance RENAME TO account_performance_away")
    failed = dg.materialize(
        [cardreach_scores],
        resources={"warehouse": sample_copy, "dbt": dbt_resource()},
        raise_on_error=False,
    )
    assert not failed.success
    [failure] = failed.get_step_failure_events()
    said = failure.step_failure_data.error.message
    assert "failed with exit code `1`" in said
    assert "Errors parsed from dbt logs" in said and "account_performance" in said
    with duckdb.connect(database) as conn:  # read-write, in this process: dbt let go of it
        conn.execute("ALTER TABLE marts.account_performance_away RENAME TO account_performance")
    again = dg.materialize(
        [cardreach_scores], resources={"warehouse": sample_copy, "dbt": dbt_resource()}
    )
    assert again.success
    assert again.get_asset_materialization_events()


def test_an_interrupted_dbt_build_stops_and_lets_go_of_the_database(sample_copy, tmp_path):
    """An interrupt can land while dagster-dbt turns one of dbt's lines into events, where it
    does not forward it to dbt: the step stops dbt itself (dbt_in_process.stop). dbt stops with
    the build unfinished and closes the database, which then opens read-only in this process
    (refused while dbt holds it read-write)."""
    hand_dbt_its_settings(sample_copy.warehouse_dir)
    flags = dbt_in_process.invocation_flags(tmp_path / "target", settings.DBT_PROJECT_DIR)
    process = dbt_in_process.InProcessDbt(
        ["build", "--full-refresh", *flags], settings.DBT_PROJECT_DIR
    )
    said = [json.loads(line) for line in itertools.islice(process.stdout, 3)]
    assert process.poll() is None, said  # still building

    dbt_in_process.stop(process, timeout=60)
    assert process.poll() == 2  # dbt's status for a build it did not finish
    # read-only: refused while this process still holds the file open read-write
    with duckdb.connect(str(sample_copy.database_path), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit.file_log").fetchone()[0] > 0
