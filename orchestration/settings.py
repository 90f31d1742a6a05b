"""Where cardreach reads and writes: the two settings of the contract, and DuckDB's memory cap,
resolved in one place.

Settings are read when asked for, not at import, so a test (or an operator's shell) that
sets them before a run is always obeyed.
"""

import os
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
# The venv's own dbt, so Dagster never picks up another dbt from the PATH.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

LANDING_ENV = "CARDREACH_LANDING"
WAREHOUSE_ENV = "CARDREACH_WAREHOUSE"
DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse"
# DuckDB's memory cap for the pipeline's own work (its connections and dbt's). DuckDB's default,
# 80% of RAM, lets one large window or join take most of the machine; under this cap the same
# work spills to `cardreach.duckdb.tmp/` beside the database and takes about as long.
MEMORY_LIMIT_ENV = "CARDREACH_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"


def resolve(value: str) -> Path:
    """A setting may be absolute or relative to the repository root (never to the caller's cwd)."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path)


def landing_dir() -> Path:
    """Folder of delivered snapshot files; cardreach never changes or deletes anything in it."""
    return resolve(os.environ.get(LANDING_ENV) or DEFAULT_LANDING)


def warehouse_dir() -> Path:
    """Folder of all state cardreach writes."""
    return resolve(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)


def pipeline_database() -> Path:
    """The pipeline's own database: one writer at a time, never opened by analysts."""
    return warehouse_dir() / "cardreach.duckdb"


def analytics_database() -> Path:
    """The copy of the marts published for analysts."""
    return warehouse_dir() / "analytics.duckdb"


def archive_dir() -> Path:
    """Content-addressed copy of every file ever delivered, by sha256."""
    return warehouse_dir() / "archive"


_MEMORY_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*([KMGT]i?B|B)\s*$", re.IGNORECASE)


def duckdb_memory_limit() -> str:
    """DuckDB's memory_limit for the pipeline's connections, such as `1GB` or `512MB`."""
    value = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
    # DuckDB reads some other texts (a negative number) as "no limit": refuse them here
    if not _MEMORY_SIZE.match(value):
        raise ValueError(
            f"{MEMORY_LIMIT_ENV}={value!r} is not a memory size: write it like 1GB or 512MB."
        )
    return value
