"""The Dagster resource for cardreach's folders and its pipeline database.

Connections are short-lived: open, do one step's work, close, so the file is held for as little
time as possible. Analysts never open this database; they read the published copy.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import settings


class WarehouseLocked(RuntimeError):
    """Another process holds the pipeline database."""


class Warehouse(dg.ConfigurableResource):
    """Landing and warehouse folders; by default CARDREACH_LANDING and CARDREACH_WAREHOUSE."""

    landing: str | None = None
    warehouse: str | None = None
    # How long to wait for another writer to let go of the database before failing the step.
    lock_wait_seconds: float = 30.0

    @property
    def landing_dir(self) -> Path:
        return settings.resolve(self.landing) if self.landing else settings.landing_dir()

    @property
    def warehouse_dir(self) -> Path:
        return settings.resolve(self.warehouse) if self.warehouse else settings.warehouse_dir()

    @property
    def database_path(self) -> Path:
        return self.warehouse_dir / "cardreach.duckdb"

    @property
    def analytics_path(self) -> Path:
        return self.warehouse_dir / "analytics.duckdb"

    @property
    def archive_dir(self) -> Path:
        return self.warehouse_dir / "archive"

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        self.warehouse_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                conn = duckdb.connect(str(self.database_path), read_only=read_only)
                break
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise WarehouseLocked(
                        f"cannot open {self.database_path}: {error}. Another process holds it;"
                        " analysts should open analytics.duckdb instead."
                    ) from error
                time.sleep(0.5)
        try:
            yield conn
        finally:
            conn.close()
