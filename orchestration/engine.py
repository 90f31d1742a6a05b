"""The engine dbt builds on (CARDREACH_ENGINE), as the Dagster side sees it (docs/scaling.md).

On DuckDB, dbt builds in the pipeline's own database and everything after it reads the tables
there. On Spark, dbt reads the raw layer from the lake (ingest/lake.py) and builds each model as
a Parquet table in Spark's table folder. Every step after a dbt step (the Great Expectations
gate, the scores' checks, publication, the report) is the same code on both engines: each table
a dbt step built on Spark is copied back, whole, into the pipeline's database, in place of the
last copy. The analysts' copy is therefore the same DuckDB file whichever engine built it.
dbt runs in the pipeline's process on both engines; on Spark its session lives on for the run's
next dbt step (check_spark_session_is_for).
"""

from __future__ import annotations

import functools
import re
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.warehouse import sql_literal

# Which engine last built each dbt step's models in this warehouse (dbt_build_step): a step whose
# models another engine built runs with --full-refresh, since the incremental models' tables
# (their column order and types, their partitions, Spark's own copy) are the other engine's.
ENGINE_RECORD = "audit.dbt_engine"
# A model whose pre-hook records a full rewrite in the quality ledger (dbt macro record_rewrite)
_RECORDS_REWRITE = re.compile(r"record_rewrite\(\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*\)")


def on_spark() -> bool:
    return settings.engine() == "spark"


def engine_switched_from(conn: duckdb.DuckDBPyConnection, step: str) -> str | None:
    """The engine that last built this step's models, when it is not today's. A warehouse with
    no record was built on DuckDB, the only engine before the record existed (a new warehouse
    on Spark then builds from scratch anyway). Creates the record when it is missing."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS audit")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {ENGINE_RECORD} (step VARCHAR PRIMARY KEY,"
        " engine VARCHAR NOT NULL, run_id VARCHAR, recorded_at TIMESTAMP NOT NULL)"
    )
    row = conn.execute(f"SELECT engine FROM {ENGINE_RECORD} WHERE step = ?", [step]).fetchone()
    last = row[0] if row else settings.DEFAULT_ENGINE
    return None if last == settings.engine() else last


def record_engine(conn: duckdb.DuckDBPyConnection, step: str, run_id: str) -> None:
    """This step's models were built, all of them with today's engine."""
    conn.execute(
        f"INSERT OR REPLACE INTO {ENGINE_RECORD} VALUES (?, ?, ?, now()::TIMESTAMP)",
        [step, settings.engine(), run_id],
    )


def check_spark_session_is_for(warehouse: Path) -> None:
    """dbt runs on Spark in the pipeline's process, as on DuckDB (dbt_in_process), and the Spark
    session its first step starts (a JVM, the metastore, Spark's compiled code) serves the run's
    next dbt steps: restarted, it was most of the scores' 40 s on the sample. A session is fixed
    to the table folder and metastore it started with, so a process whose session is another
    warehouse's stops here, before dbt would build into the wrong folder."""
    running = _spark_context()
    if running is None:  # no session in this process: dbt starts one for this warehouse
        return
    started_for = _local_folder(running.getConf().get("spark.sql.warehouse.dir", ""))
    wanted = settings.spark_tables_dir(warehouse).resolve()
    if started_for is not None and started_for != wanted:
        raise RuntimeError(
            f"this process's Spark session builds into {started_for}, not into {wanted}:"
            " Spark fixes its table folder when its session starts. Run each warehouse in a"
            " process of its own (`make run` does)."
        )


def spark_application() -> str | None:
    """The id of this process's Spark application, if it has one: each Spark dbt step says it,
    so the run's log shows which steps shared a session."""
    running = _spark_context()
    return running.applicationId if running is not None else None


_SIZE = re.compile(r"(\d+)([kKmMgGtT])")


@dataclass
class JavaOptions:
    """The options CARDREACH_SPARK_JAVA_OPTIONS gives Spark's JVM, as the JVM holds them."""

    in_effect: list[str] = field(default_factory=list)
    # Spark starts its JVM with -XX:+IgnoreUnrecognizedVMOptions: a misspelt -XX option is
    # dropped without a word, so each is read back from the JVM
    ignored: list[str] = field(default_factory=list)


def spark_java_options() -> JavaOptions:
    """How this process's Spark JVM holds the options CARDREACH_SPARK_JAVA_OPTIONS sets: each
    Spark dbt step says them in the run's log. A -XX option is in effect when the JVM's flag has
    the value it sets; any other, when the JVM started with it (Java refuses to start on an
    unknown one)."""
    running = _spark_context()
    found = JavaOptions()
    if running is None:
        return found
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import IllegalArgumentException  # Java's, as pyspark raises it

    jvm = running._jvm  # noqa: SLF001 - pyspark's gateway to its JVM
    management = jvm.java.lang.management.ManagementFactory
    started_with = set(management.getRuntimeMXBean().getInputArguments())
    hotspot = management.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
    )
    for option in settings.spark_java_options():
        if option.startswith("-XX:"):
            name, _, wanted = option.removeprefix("-XX:").partition("=")
            if not wanted:  # -XX:+Flag or -XX:-Flag
                sign, name = name[:1], name[1:]
                wanted = "true" if sign == "+" else "false"
            try:
                held = hotspot.getVMOption(name).getValue()
            except (IllegalArgumentException, Py4JJavaError):  # a flag this JVM does not have
                held = None
            effective = held is not None and _same_flag_value(held, wanted)
        else:
            effective = option in started_with
        (found.in_effect if effective else found.ignored).append(option)
    return found


def _same_flag_value(held: str, wanted: str) -> bool:
    """A JVM flag's value as the JVM reports it against as the option wrote it: sizes in bytes
    (1g), numbers in any notation (0x10, 75 for 75.0)."""
    if size := _SIZE.fullmatch(wanted):
        wanted = str(int(size[1]) * 1024 ** ("kmgt".index(size[2].lower()) + 1))
    for number in (functools.partial(int, base=0), float):
        try:
            return number(held) == number(wanted)
        except ValueError:
            continue
    return held == wanted


def cancel_spark_jobs() -> None:
    """Spark's running jobs in this process cancelled (an interrupted dbt step on Spark)."""
    running = _spark_context()
    if running is not None:
        running.cancelAllJobs()


def _spark_context():
    if "pyspark" not in sys.modules:  # no session was ever started in this process
        return None
    from pyspark import SparkContext

    return SparkContext._active_spark_context  # noqa: SLF001 - pyspark's one per process


def _local_folder(location: str) -> Path | None:
    """A table folder as Spark holds it (the path given; once Spark has used it, a `file:` URI
    of the path with `..` and `//` taken out), as a resolved local path."""
    if not location:
        return None
    parsed = urllib.parse.urlparse(location)
    return Path(parsed.path if parsed.scheme == "file" else location).resolve()


def spark_table_folder(warehouse: Path, relation: str) -> Path:
    """A table's folder in Spark's table folder: `<schema>.db/<table>`, Spark's layout."""
    schema, table = relation.split(".")
    return settings.spark_tables_dir(warehouse) / f"{schema}.db" / table


def _parts(folder: Path) -> list[Path]:
    """A Spark table's data files: Parquet, partition folders included, Spark's own hidden
    files (_SUCCESS, .crc) left out."""
    return sorted(
        path
        for path in folder.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in path.relative_to(folder).parts)
    )


def rewrite_stamps(node: dict) -> list[str]:
    """The columns whose rewrite a model records in the quality ledger (its record_rewrite
    pre-hook): a copied table's rows are all new to the checks on those columns."""
    hooks = node.get("config", {}).get("pre-hook") or []
    return [
        column
        for hook in hooks
        for column in _RECORDS_REWRITE.findall(
            hook.get("sql", "") if isinstance(hook, dict) else hook
        )
    ]


@dataclass
class CopyBack:
    """What one copy from Spark did: rows copied by relation, and the built tables Spark wrote
    no data file for (the pipeline's database keeps its earlier copy of those)."""

    rows: dict[str, int] = field(default_factory=dict)
    without_files: list[str] = field(default_factory=list)


def copy_back(
    conn: duckdb.DuckDBPyConnection,
    warehouse: Path,
    built: dict[str, dict],
    full_refresh: bool,
    run_id: str,
) -> CopyBack:
    """Copy each built table (`schema.table`: its manifest node) from Spark's Parquet files into
    the pipeline's database, replacing it whole, with the descriptions dbt's persist_docs gives
    it on DuckDB (publication passes them on to the analysts)."""
    from orchestration.defs.quality.ledger import record_rewrite

    done = CopyBack()
    for relation, node in built.items():
        schema, table = relation.split(".")
        folder = spark_table_folder(warehouse, relation)
        parts = _parts(folder)
        if not parts:
            done.without_files.append(relation)
            continue
        # partitioned by (platform, snapshot_date): `platform=.../snapshot_date=.../part.parquet`
        partitioned = any(part.parent != folder for part in parts)
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        existing = conn.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_schema = ?"
            " AND table_name = ?",
            [schema, table],
        ).fetchone()
        if existing == ("VIEW",):  # DuckDB's view of the model, from a build on DuckDB before
            conn.execute(f'DROP VIEW "{schema}"."{table}"')
        conn.execute(
            f'CREATE OR REPLACE TABLE "{schema}"."{table}" AS SELECT * FROM read_parquet(?,'
            " hive_partitioning = ?)",
            [[str(p) for p in parts], partitioned],
        )
        _describe(conn, schema, table, node)
        done.rows[relation] = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[
            0
        ]
        # a daily build on Spark overwrites the touched dates' partitions with a higher stamp and
        # keeps the others: a rewrite without a higher stamp is a full refresh or a first build
        if full_refresh or existing is None:
            for column in rewrite_stamps(node):
                record_rewrite(conn, column, run_id)
    return done


def _describe(conn: duckdb.DuckDBPyConnection, schema: str, table: str, node: dict) -> None:
    """The table's and its columns' descriptions from the manifest, as dbt's persist_docs writes
    them on DuckDB (on Spark it wrote them into Spark's catalog)."""
    target = f'"{schema}"."{table}"'
    if node.get("description"):
        conn.execute(f"COMMENT ON TABLE {target} IS {sql_literal(node['description'])}")
    present = {
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ?"
            " AND table_name = ?",
            [schema, table],
        ).fetchall()
    }
    for name, column in node.get("columns", {}).items():
        if column.get("description") and name in present:
            conn.execute(
                f'COMMENT ON COLUMN {target}."{name}" IS {sql_literal(column["description"])}'
            )
