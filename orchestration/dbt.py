"""The dbt project as Dagster sees it: where it is, how a step builds it, and how it is prepared.

The manifest is prepared by `dbt parse` in this process (dbt_in_process.parse; the project has no
packages, so nothing reaches for the network): by `make` through `python -m orchestration.cli
prepare-dbt`; under `dagster dev`, at each definitions load (the project may have changed: dbt
parses only the files that did, about 1 s); elsewhere only when no manifest exists yet.

The transform and scoring stages each run one `dbt build` of everything they own: the pipeline's
own database always holds the latest build, good or bad, for the operator to look into; what a
failed quality check holds back is decided at publication (`orchestration.gate`).
"""

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import time
import warnings
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from uuid import uuid4

import dagster as dg
from dagster._utils import run_with_concurrent_update_guard
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from filelock import FileLock
from packaging.version import Version
from pydantic import Field

from orchestration import dbt_in_process, engine, settings
from orchestration.metadata import OWNERS, columns_by_table
from orchestration.warehouse import Warehouse, write_atomically

# dbt models tagged `scoring` run in a step of their own, after the quality gate.
SCORING_SELECTOR = "tag:scoring"
# dagster-dbt gives each dbt invocation a folder of its own under target/ (its log, compiled SQL
# and run_results.json), two a day, gigabytes in a year: keep the newest few per step, enough to
# look into the last runs.
KEPT_INVOCATION_FOLDERS = 10
# Column lineage variants kept per model in the cache (_column_lineage).
LINEAGE_VARIANTS_KEPT = 4
# Each build's dbt.log in dbt's usual text lines, every debug line kept (each query). With
# dagster-dbt's `--log-format json` it would be JSON too: about 10 MB a build on the sample,
# and turning dbt's events into JSON was a tenth of a build's time (docs/performance.md).
DBT_LOG_FILE_FORMAT = ("--log-format-file", "debug")


def _target_path() -> Path:
    """dbt's target folder: DBT_TARGET_PATH when set (the benchmark keeps its own), else target/."""
    return Path(os.environ.get("DBT_TARGET_PATH") or "target")


DBT_PROJECT = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR,
    profiles_dir=settings.DBT_PROJECT_DIR,
    target_path=_target_path(),
)


def hand_dbt_its_settings(warehouse: Path | None = None, today: date | None = None) -> None:
    """Put into this process's environment what dbt's profile and models read (this warehouse's
    database, the run's day, DuckDB's memory cap and threads) and the venv's `dbt` first on the
    PATH, for any `dbt` process dagster-dbt would start (from the PATH, even when the venv is not
    activated)."""
    os.environ.update(settings.dbt_environment(warehouse, today))
    bin_dir = str(settings.DBT_EXECUTABLE.parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


# The lock file dagster-dbt's guard (run_with_concurrent_update_guard) parses under, beside the
# manifest: `manifest.concurrent-update-lock`.
PARSE_LOCK_SUFFIX = ".concurrent-update-lock"


def prepare(warehouse: Path | None = None) -> Path:
    """Parse the project (dbt in this process): the manifest the definitions read, and the parse
    the first dbt step on each warehouse starts from. Returns the manifest's path."""
    hand_dbt_its_settings(warehouse)
    project = DBT_PROJECT
    # one parse at a time (the code server and the daemon may both find the manifest missing):
    # dagster-dbt's own guard, which skips the parse when another process just made it
    run_with_concurrent_update_guard(
        project.manifest_path,
        dbt_in_process.parse,
        project_dir=project.project_dir,
        profiles_dir=project.profiles_dir,
        target_path=invocation_folders_root(),
    )
    return project.manifest_path


@cache
def prepared_manifest() -> dict:
    """The manifest, read once per process (every dbt step and publication use it): parsed again
    under `dagster dev` (each process that loads the definitions: the code server at each reload,
    each run), where the project may have changed; elsewhere only if missing. Here, not by
    dagster-dbt's preparer: it parses in a `dbt` process of its own, with dbt's own check of a
    saved parse, which the database file's path defeats (a whole parse, about 7 s a load)."""
    hand_dbt_its_settings()
    if DBT_PROJECT.preparer.using_dagster_dev() or not DBT_PROJECT.manifest_path.exists():
        prepare()
    manifest = read_manifest(DBT_PROJECT.manifest_path)
    if manifest["metadata"].get("adapter_type") != settings.engine():
        # parsed for the other engine: its models' materializations differ (macros/portable.sql)
        prepare()
        manifest = read_manifest(DBT_PROJECT.manifest_path)
    return manifest


def read_manifest(path: Path) -> dict:
    """The manifest at `path`, read under the lock `prepare` parses under: dbt writes the file
    in place, so without it a process loading the definitions while another parses (under
    `dagster dev`, the code server reloading while a run starts) could read half a file."""
    with FileLock(path.with_suffix(PARSE_LOCK_SUFFIX)).acquire(timeout=120):
        return json.loads(path.read_text(encoding="utf-8"))


def _asset_keys(chosen) -> set[dg.AssetKey]:
    """The asset keys of the manifest's nodes for which `chosen(unique_id, node)` is true."""
    translator = CardreachTranslator()
    manifest = prepared_manifest()
    return {
        translator.get_asset_spec(manifest, unique_id, DBT_PROJECT).key
        for unique_id, node in manifest["nodes"].items()
        if chosen(unique_id, node)
    }


def _is_table(node: dict) -> bool:
    return node["resource_type"] in ("model", "seed")


def published_asset_keys() -> list[dg.AssetKey]:
    """The assets analysts get, as dbt builds them: every model and seed whose schema is one of
    settings.PUBLISHED_SCHEMAS (the marts, the scores, the reference seeds)."""
    return sorted(
        _asset_keys(
            lambda _, node: (
                _is_table(node) and node["config"].get("schema") in settings.PUBLISHED_SCHEMAS
            )
        )
    )


@cache
def dbt_asset_keys() -> frozenset[dg.AssetKey]:
    """The asset key of every dbt model and seed."""
    return frozenset(_asset_keys(lambda _, node: _is_table(node)))


def models_downstream_of(feeds) -> set[dg.AssetKey]:
    """The asset keys of the dbt models that read any of the raw tables of `feeds`, directly or
    through other models."""
    manifest = prepared_manifest()
    found: set[str] = set()
    stack = [
        unique_id
        for unique_id, source in manifest["sources"].items()
        if source["source_name"] == "raw" and source["name"] in set(feeds)
    ]
    while stack:
        for child in manifest["child_map"].get(stack.pop(), []):
            if child.startswith("model.") and child not in found:
                found.add(child)
                stack.append(child)
    return asset_keys_of(found)


def asset_keys_of(unique_ids) -> set[dg.AssetKey]:
    """The asset keys of these dbt nodes (their manifest unique ids)."""
    chosen = set(unique_ids)
    return _asset_keys(lambda unique_id, _: unique_id in chosen)


def models_read_by(sql: str) -> list[dict]:
    """The dbt models a query names (`schema.table`), as manifest nodes: what a Great
    Expectations suite's query reads."""
    text = sql.lower()
    return [
        node
        for node in prepared_manifest()["nodes"].values()
        if node["resource_type"] == "model"
        and f"{node['config']['schema']}.{node['alias']}".lower() in text
    ]


def as_of_today_models() -> set[dg.AssetKey]:
    """The asset keys of the dbt models tagged settings.AS_OF_TODAY_TAG."""
    return _asset_keys(
        lambda _, node: (
            node["resource_type"] == "model"
            and settings.AS_OF_TODAY_TAG in node["config"].get("tags", [])
        )
    )


def confidential_tables() -> frozenset[str]:
    """The published tables ("schema.table") that hold the bank's own figures: the models tagged
    settings.CONFIDENTIAL_TAG in a published schema."""
    return frozenset(
        f"{node['config']['schema']}.{node['alias']}"
        for node in prepared_manifest()["nodes"].values()
        if node["resource_type"] == "model"
        and settings.CONFIDENTIAL_TAG in node["config"].get("tags", [])
        and node["config"].get("schema") in settings.PUBLISHED_SCHEMAS
    )


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
        project=DBT_PROJECT,
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
        # dbt's profile reads what the pipeline sets: this run's database and day, DuckDB's cap
        # and threads.
        hand_dbt_its_settings(warehouse.warehouse_dir, warehouse.today())
        # dbt's unit tests prove the models' SQL on fixed inputs, whatever was delivered: they
        # run in `make test` (tests/test_marts.py) and `make dbt ARGS=build`, not every day.
        # They were 29 of a run's 445 nodes and 7.8 s of its 29 s in dbt.
        args = ["build", "--exclude-resource-type", "unit_test", *DBT_LOG_FILE_FORMAT]
        with warehouse.connect() as conn:
            switched_from = engine.engine_switched_from(conn, name)
        if config.full_refresh or switched_from:
            args.append("--full-refresh")
        if switched_from:
            context.log.info(
                f"this step's models were last built on {switched_from}: every one is built"
                f" from scratch on {settings.engine()} (--full-refresh)"
            )
        target_path = (
            invocation_folders_root() / f"{name}-{context.run.run_id[:7]}-{uuid4().hex[:7]}"
        )
        try:
            reuse_parse(target_path)
        except OSError as error:  # a missed cache costs a parse, never the step
            context.log.warning(f"could not reuse dbt's last parse: {error}")
        try:
            if engine.on_spark():
                engine.check_spark_session_is_for(warehouse.warehouse_dir)
            invocation = dbt_in_process.cli(
                dbt,
                args,
                context=context,
                target_path=target_path,
                translator=CardreachTranslator(),
                manifest=prepared_manifest(),
                last_parse=invocation_folders_root() / "partial_parse.msgpack",
            )
            # what dbt built is read (column types, row counts, lineage) once it has exited and
            # let go of DuckDB's single-writer file: its events wait for it, in their order.
            events, failure = [], None
            try:
                for event in invocation.stream():
                    events.append(event)
            except Exception as error:  # dbt's failure, raised once its events are out
                failure = error
            except BaseException:  # an interrupt: dbt stops before the step says it failed
                dbt_in_process.stop(invocation.process, invocation.termination_timeout_seconds)
                raise
            if engine.on_spark():
                try:
                    copy_back_from_spark(events, warehouse, context, "--full-refresh" in args)
                except Exception as error:
                    if failure is None:
                        raise
                    # dbt's own failure is the one to see; this one is said beside it
                    context.log.error(
                        f"copying from Spark after the failed dbt build failed too: {error}"
                    )
            yield from with_built_table_metadata(events, invocation.target_path, warehouse, context)
            if failure is not None:
                raise failure
            # the switch is done once every model of the step was built on today's engine
            if switched_from and context.selected_asset_keys == context.assets_def.keys:
                with warehouse.connect() as conn:
                    engine.record_engine(conn, name, context.run.run_id)
        finally:  # neither in place of dbt's own outcome
            try:
                keep_parse(target_path)
            except OSError as error:
                context.log.warning(f"could not keep dbt's parse: {error}")
            try:
                prune_invocation_folders(invocation_folders_root(), name)
            except OSError as error:
                context.log.warning(f"could not prune old dbt invocation folders: {error}")

    return _build


def copy_back_from_spark(events, warehouse: Warehouse, context, full_refresh: bool) -> None:
    """What dbt built on Spark, copied into the pipeline's database for the steps after it
    (orchestration/engine.py)."""
    started = time.monotonic()
    manifest = prepared_manifest()
    built = {
        _relation(node): node
        for node in (
            manifest["nodes"][event.metadata["unique_id"].value]
            for event in events
            if _is_table_output(event)
        )
    }
    with warehouse.connect() as conn:
        done = engine.copy_back(
            conn, warehouse.warehouse_dir, built, full_refresh, context.run.run_id
        )
    session = f"application {engine.spark_application()}"
    try:
        java_options = engine.spark_java_options()
    except Exception as error:  # noqa: BLE001 - only the log line reads them: the build stands
        context.log.warning(f"Spark's JVM did not say which Java options it holds: {error}")
        java_options = engine.JavaOptions()
    if java_options.in_effect:
        session += f"; Java options {' '.join(java_options.in_effect)}"
    context.log.info(
        f"{len(done.rows)} tables dbt built on Spark ({session})"
        f" copied into the pipeline's database ({sum(done.rows.values()):,} rows) in"
        f" {time.monotonic() - started:.1f}s"
    )
    if java_options.ignored:
        context.log.warning(
            f"Spark's JVM does not hold {' '.join(java_options.ignored)} of"
            f" {settings.SPARK_JAVA_OPTIONS_ENV}: this Java does not know the flag (Spark starts"
            " it ignoring those), or holds another value (a session started before the setting"
            " changed keeps its own). `java -XX:+PrintFlagsFinal -version` lists the flags"
        )
    if done.without_files:
        context.log.warning(
            f"Spark wrote no data file for {', '.join(done.without_files)}: the pipeline's"
            f" database keeps its earlier copy. Spark's tables are read from"
            f" {settings.spark_tables_dir(warehouse.warehouse_dir)}: check that the profile's"
            " spark.sql.warehouse.dir is that folder (docs/scaling.md)"
        )


def with_built_table_metadata(events, target_path: Path, warehouse: Warehouse, context):
    """dbt's events, each model's and seed's output carrying what the UI shows of a table: its
    column types (and descriptions), its row count and, for a model, which upstream columns each
    of its columns is computed from. Read from the warehouse once dbt has finished and let go of
    it: dagster-dbt's own `fetch_column_metadata()` and `fetch_row_counts()` open the database
    while dbt writes it, two connections taking turns on DuckDB's single-writer file (with dbt
    in a subprocess it went through on the sample, but either side may meet the other's
    lock; in this process DuckDB refuses the second connection outright); they also count
    no view's rows and type columns in the adapter's words (`character varying(256)`). A table
    that cannot be read keeps dbt's output as it is, never failing the step."""
    outputs = [e for e in events if _is_table_output(e)]
    if not outputs:
        yield from events
        return
    started = time.monotonic()
    manifest = prepared_manifest()
    translator = CardreachTranslator()
    enriched: dict[str, dict] = {}
    # beside dbt's own artefacts, shared by every warehouse: the key is the compiled SQL and the
    # schemas, the same for any warehouse built from the same project
    known_lineage_path = invocation_folders_root() / settings.COLUMN_LINEAGE_FILE
    known_lineage = _read_known_lineage(known_lineage_path)
    try:
        with warehouse.connect(read_only=True) as conn:
            columns = columns_by_table(conn)
            for output in outputs:
                unique_id = output.metadata["unique_id"].value
                try:
                    enriched[unique_id] = _built_table_metadata(
                        conn, columns, manifest, unique_id, target_path, translator, known_lineage
                    )
                except Exception as error:  # metadata is a help, never the step's outcome
                    context.log.warning(f"no table metadata for {unique_id}: {error}")
        _write_known_lineage(known_lineage_path, known_lineage)
    except Exception as error:
        context.log.warning(f"no table metadata for the dbt models: {error}")
    context.log.debug(
        f"column types, row counts and column lineage of {len(enriched)} dbt tables read in"
        f" {time.monotonic() - started:.2f}s"
    )
    for event in events:
        if _is_table_output(event):
            extra = enriched.get(event.metadata["unique_id"].value)
            if extra:
                event = event.with_metadata({**event.metadata, **extra})
        yield event


def _is_table_output(event) -> bool:
    """A model's or seed's output among dbt's events (its tests are check results)."""
    return isinstance(event, dg.Output) and "unique_id" in event.metadata


def _relation(node: dict) -> str:
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def _built_table_metadata(
    conn, columns: dict, manifest: dict, unique_id: str, target_path: Path, translator, known
) -> dict:
    node = manifest["nodes"][unique_id]
    relation = _relation(node)
    if relation not in columns:
        return {}  # not built (a failed or skipped model)
    documented = node.get("columns") or {}
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=data_type,
                description=comment or (documented.get(name) or {}).get("description") or None,
            )
            for name, data_type, comment in columns[relation]
        ]
    )
    schema_name, table = relation.split(".")
    row_count = conn.execute(f'SELECT count(*) FROM "{schema_name}"."{table}"').fetchone()[0]
    metadata = {
        "dagster/column_schema": schema,
        "dagster/row_count": dg.MetadataValue.int(row_count),
    }
    if node["resource_type"] == "model":
        # sqlglot cannot read every query: without lineage, the types and counts still stand
        with contextlib.suppress(Exception):
            metadata.update(
                _column_lineage(columns, manifest, node, target_path, translator, known)
            )
    return metadata


def _column_lineage(
    columns: dict, manifest: dict, node: dict, target_path: Path, translator, known: dict
) -> dict:
    """A model's column lineage (`column_deps`: sqlglot on the compiled SQL against the
    parents' schemas), fed with the schemas the finished database holds. sqlglot takes a
    while, so a model's lineage is kept in `known` by its compiled SQL and schemas and only
    worked out again when one of them changed. A few variants are kept per model. An
    incremental model compiles one way on a fresh warehouse and another on the next day's, the
    same columns from the same parents: the other variant's lineage serves it when its source
    and the schemas are those it was worked out for (4.6 s + 5.0 s of the benchmark's first
    daily run at the default size, before; docs/performance.md)."""

    def typed(relation: str) -> dict:  # as dagster-dbt's lineage took them: kept keys stay valid
        return {name: {"data_type": data_type} for name, data_type, _ in columns[relation]}

    parents, parent_ids = {}, {}
    for parent_id in manifest["parent_map"].get(node["unique_id"], []):
        parent = manifest["nodes"].get(parent_id) or manifest["sources"].get(parent_id)
        if not (parent and parent.get("relation_name")):
            continue
        parent_ids[parent["relation_name"]] = parent_id
        if _relation(parent) in columns:
            parents[parent["relation_name"]] = typed(_relation(parent))
    own = typed(_relation(node))
    compiled = target_path / "compiled" / node["package_name"] / node["original_file_path"]
    sql = compiled.read_text(encoding="utf-8")
    fingerprint = hashlib.sha256(
        json.dumps([sql, own, parents], sort_keys=True).encode()
    ).hexdigest()
    source = hashlib.sha256(
        json.dumps([node["checksum"]["checksum"], own, parents], sort_keys=True).encode()
    ).hexdigest()
    variants = known.get(node["unique_id"])
    variants = [v for v in variants if len(v) == 3] if isinstance(variants, list) else []
    deps = next((deps for known_print, deps, _ in variants if known_print == fingerprint), None)
    if deps is None and node["config"].get("materialized") == "incremental":
        deps = next((deps for _, deps, known_source in variants if known_source == source), None)
    if deps is None:
        deps = column_deps(
            sql,
            manifest["metadata"]["adapter_type"],
            {
                relation: {name: kind["data_type"] for name, kind in types.items()}
                for relation, types in {**parents, node["relation_name"]: own}.items()
            },
            {
                relation: translator.get_asset_spec(manifest, unique_id, DBT_PROJECT).key.path
                for relation, unique_id in parent_ids.items()
            },
            own,
        )
    if not any(known_print == fingerprint for known_print, _, _ in variants):
        known[node["unique_id"]] = [[fingerprint, deps, source], *variants][:LINEAGE_VARIANTS_KEPT]
    return {
        "dagster/column_lineage": dg.TableColumnLineage(
            deps_by_column={
                column: [dg.TableColumnDep(dg.AssetKey(key), name) for key, name in upstream]
                for column, upstream in deps.items()
            }
        )
    }


def column_deps(
    sql: str, dialect: str, schemas: dict, asset_of: dict, own: dict
) -> dict[str, list[list]]:
    """Which parent columns each of a model's columns is computed from: `{column: [[parent's
    asset key path, parent's column], ...]}`. `schemas` are the column types of the model and
    its parents by relation name, `asset_of` the parents' asset keys by relation name, `own`
    the model's columns as the database holds them.

    dagster-dbt's own column lineage, found in one walk: dagster-dbt asks sqlglot for one column
    at a time, and sqlglot parses and qualifies the whole query again for each, then copies it
    for each step's label. The same deps (tests/test_asset_metadata.py), 6.1 s against 29.5 s
    for the sample's 44 models, imports included (docs/performance.md)."""
    from sqlglot import MappingSchema, exp, parse_one, to_table
    from sqlglot.expressions import normalize_table_name
    from sqlglot.lineage import lineage
    from sqlglot.optimizer import optimize

    schema = MappingSchema(dialect=dialect)
    for relation, types in schemas.items():
        schema.add_table(
            table=to_table(relation, dialect=dialect), column_mapping=types, dialect=dialect
        )
    optimized = optimize(parse_one(sql, dialect=dialect), schema=schema, dialect=dialect)
    parent_asset = {
        normalize_table_name(to_table(relation, dialect=dialect), dialect=dialect): key
        for relation, key in asset_of.items()
    }
    in_database = {name.lower() for name in own}
    # columns the database holds that no select of the query names (dagster-dbt's "implicitly
    # aliased" ones) depend on nothing known
    deps: dict[str, list[list]] = {
        name: [] for name in in_database - {n.lower() for n in optimized.named_selects}
    }
    # sqlglot >= 28.1 leaves an optimized AST that lineage() cannot walk: as dagster-dbt does,
    # it reads the optimized query back as text. Untrimmed, each step's source is the scope's
    # query as it is, not a copy cut to one column (a label this walk does not read).
    walked = lineage(
        None, optimized.sql(dialect=dialect), schema, dialect=dialect, trim_selects=False
    )
    for column, root in walked.items():
        if column.lower() not in in_database:
            continue
        found = set()
        for step in root.walk():
            if step.downstream:
                continue  # only the leaves name a parent's column
            table = step.expression.find(exp.Table)
            key = table and parent_asset.get(normalize_table_name(table, dialect=dialect))
            if key:
                found.add((tuple(key), exp.to_column(step.name).name.lower()))
        deps[column.lower()] = [[list(key), name] for key, name in sorted(found)]
    return deps


def _read_known_lineage(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_known_lineage(path: Path, known: dict) -> None:
    """Whole or not at all (renamed into place): two runs at once leave one's file, never a mix."""
    write_atomically(json.dumps(known), path)


def _kept_parse() -> Path:
    """Where the last parse dbt made on this engine is kept. A parse made for one warehouse
    serves every other: on DuckDB, dbt's check of a parse leaves out the database file and
    DuckDB's settings here (orchestration/dbt_command.py); dbt-spark's never held
    the warehouse's folders. It used to be kept per warehouse, and the first dbt step of each new
    one (the benchmark's, each test's, a second deployment's) parsed the whole project again."""
    return invocation_folders_root() / "partial_parse" / f"{settings.engine()}.msgpack"


def reuse_parse(target_path: Path) -> None:
    """Seed the invocation's folder with this engine's kept parse, when there is one (dagster-dbt
    then leaves it, copying target/'s only into a folder without one). A parse older than the
    project is still right: dbt parses again the files whose hashes changed."""
    kept = _kept_parse()
    if kept.exists():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target_path / "partial_parse.msgpack")


def keep_parse(target_path: Path) -> None:
    """Keep the parse dbt wrote in the invocation's folder for the next step on this engine
    (renamed into place: two runs at once leave one whole file)."""
    made = target_path / "partial_parse.msgpack"
    if not made.exists():
        return
    kept = _kept_parse()
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_name(f".{kept.name}.{uuid4().hex}.tmp")
    shutil.copyfile(made, partial)
    os.replace(partial, kept)
    for old in kept.parent.glob("*.msgpack"):  # kept per warehouse before, by a profile's hash
        if old.stem not in settings.ENGINES:
            old.unlink(missing_ok=True)


def invocation_folders_root() -> Path:
    """Where dagster-dbt puts each invocation's folder (and finds `partial_parse.msgpack` to
    copy into it): DBT_TARGET_PATH, relative to the dbt project, else its `target/`."""
    root = _target_path()
    return root if root.is_absolute() else settings.DBT_PROJECT_DIR / root


def seed_target_folder(folder: Path, seed: Path | None = None, lineage: bool = True) -> Path:
    """`folder` made a dbt target folder of its own (for DBT_TARGET_PATH), holding the manifest
    and the parse prepared in `seed` (by default this process's target folder), so that its dbt
    steps parse nothing, as `make run`'s do; and the column lineage worked out there, unless
    `lineage` is false. Returns `folder`."""
    seed = seed or invocation_folders_root()
    folder.mkdir(parents=True, exist_ok=True)
    names = ["manifest.json", "partial_parse.msgpack"]
    names += [settings.COLUMN_LINEAGE_FILE] if lineage else []
    for name in names:
        if (seed / name).exists():
            shutil.copy2(seed / name, folder / name)
    return folder


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


class CardreachDbtResource(DbtCliResource):
    """dagster-dbt's resource without two probes it makes at every `dbt.cli()`, about 3.9 s a
    dbt step on 2 cores, whatever the data (docs/performance.md): `dbt --version` in a
    subprocess (the venv's dbt is the locked dbt-core, read from the package metadata instead),
    and an in-process dbt adapter on the database, opened for dagster-dbt's
    `fetch_row_counts()` and `fetch_column_metadata()`, which cardreach does not use (it reads
    types and counts itself once dbt has exited: `with_built_table_metadata`). Both overrides
    are of dagster-dbt's private methods; `tests/test_asset_metadata.py` runs a real step
    through them."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    return CardreachDbtResource(
        project_dir=DBT_PROJECT,
        dbt_executable=os.fspath(settings.DBT_EXECUTABLE),
    )


class CardreachTranslator(DagsterDbtTranslator):
    """Keys stay dagster-dbt's ([schema, model]; sources [raw, table], matching the ingest assets);
    the group is the model's folder under models/ (staging, intermediate, marts, scoring), and
    `reference` for the seeds: one rule, no exceptions."""

    def __init__(self):
        # code references: each asset links to its .sql (or seed .csv) file on this machine
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_code_references=True
            )
        )

    def get_asset_spec(self, manifest, unique_id, project):
        # code references are a beta API of Dagster 1.13: its warning, repeated for each asset
        # at every load, is nothing an operator can act on
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=dg.BetaWarning)
            return super().get_asset_spec(manifest, unique_id, project)

    def get_group_name(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return dbt_resource_props["fqn"][1]

    def get_owners(self, dbt_resource_props):
        return OWNERS

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        """dagster-dbt describes a test's check only from its `meta`: the UI would list the
        checks of every model without a word on what they guard. Say it from the test itself."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=check_description(manifest["nodes"][unique_id]))


def _model_of(test: dict) -> str:
    """The model (or seed) a generic test is attached to, from its `model` argument."""
    reference = test.get("test_metadata", {}).get("kwargs", {}).get("model", "")
    start = reference.find("ref('")
    return reference[start + 5 : reference.index("'", start + 5)] if start >= 0 else ""


def check_description(test: dict) -> str:
    """What a dbt test guards, in a sentence, and what its failure does: the test's own
    description when it has one, else the leading comment of a singular test, else a sentence
    from the generic test's name and arguments."""
    severity = (test.get("config", {}).get("severity") or "error").lower()
    effect = (
        "Severity error: a failure stops what follows the model."
        if severity == "error"
        else "Severity warn: a failure is reported and stops nothing."
    )
    own = (test.get("description") or "").strip()
    if own:
        return f"{own} {effect}"
    metadata = test.get("test_metadata") or {}
    if not metadata:  # a singular test: its SQL starts with a comment saying what it returns
        comment = []
        for line in (test.get("raw_code") or "").splitlines():
            if not line.startswith("--"):
                break
            comment.append(line.removeprefix("--").strip())
        said = (
            " ".join(comment) or f"dbt test {test['name']}: passes when its query returns no row."
        )
        return f"{said} {effect}"
    name, kwargs, model = metadata["name"], metadata.get("kwargs", {}), _model_of(test)
    column = kwargs.get("column_name")
    if name == "not_null":
        said = f"{model}.{column} is never null."
    elif name == "not_null_columns":
        said = f"{model}'s {', '.join(kwargs['columns'])} are never null."
    elif name == "unique":
        said = f"{model}.{column} is unique."
    elif name == "unique_combination":
        said = f"One row per {', '.join(kwargs['combination_of_columns'])} in {model} (its grain)."
    elif name == "value_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        bounds = [f"≥ {low}" if low is not None else "", f"≤ {high}" if high is not None else ""]
        said = f"{model}.{column} is {' and '.join(b for b in bounds if b)} (or null)."
    elif name == "relationships_on_key":
        to = kwargs["to"].removeprefix("ref('").removesuffix("')")
        to_columns = kwargs.get("to_columns") or kwargs["columns"]
        among = f" where {kwargs['to_where']}" if kwargs.get("to_where") else ""
        said = (
            f"Every ({', '.join(kwargs['columns'])}) of {model} is a"
            f" ({', '.join(to_columns)}) of {to}{among} (rows with a null key part are skipped)."
        )
    elif name == "accepted_values":
        said = f"{model}.{column} is one of {', '.join(map(str, kwargs.get('values', [])))}."
    else:
        said = f"dbt test {name} on {model}" + (f".{column}" if column else "") + "."
    # a test configured with `where` checks only those rows: say so, or "never null" would
    # contradict the model's own documentation of when the column is null
    where = (test.get("config") or {}).get("where")
    if where:
        said = f"Among the rows of {model} where {where}: {said[0].lower()}{said[1:]}"
    return f"{said} {effect}"
