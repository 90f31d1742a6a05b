"""Where cardreach reads and writes: the two settings of the contract, resolved in one place.

Both settings are read when asked for, not at import, so a test (or an operator's shell) that
sets them before a run is always obeyed.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

LANDING_ENV = "CARDREACH_LANDING"
WAREHOUSE_ENV = "CARDREACH_WAREHOUSE"
DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse"


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
