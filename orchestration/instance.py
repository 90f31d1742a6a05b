"""The project's Dagster instance (orchestration/dagster.yaml names it): Dagster's own SQLite
storage in DAGSTER_HOME, the same files, tables and layout, with one change to the event log.

Dagster's SqliteEventLogStorage makes a new SQLAlchemy engine for every transaction: it creates
the engine, opens the database, commits, closes it (the last connection to close checkpoints the
WAL into the database file) and throws the engine away. A `make run` of the sample writes about
900 events (planned assets and checks, outputs, materializations, check results), most of them
twice (the run's database and the index), and that churn cost about 7.5 s of a 67 s run on a
slow machine (docs/performance.md, the instance round). Here each database keeps its
engine and one connection for as long as the process uses it; after each transaction that wrote,
the connection checkpoints the WAL as closing it did, so the database file changes with every
event as before: the UI's live view of a running run watches that file.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as db
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite import sqlite_event_log
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData

# Databases whose connection a process keeps: a run writes two (its own and the index); the UI
# reads many runs' and keeps the ones it read last.
KEPT_DATABASES = 8


class KeptConnectionSqliteEventLogStorage(sqlite_event_log.SqliteEventLogStorage):
    """Dagster's SQLite event log (a database per run, and an index), each database's engine
    and connection kept instead of made for every transaction."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, db.Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._inherited: list[OrderedDict[str, db.Engine]] = []
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> db.Engine:
        if os.getpid() != self._engines_pid:
            # a forked child: SQLite's connections must not be used, nor closed, by a child
            # (Dagster starts runs and workers as new processes; this is only a guard)
            self._inherited.append(self._engines)
            self._engines, self._engines_pid = OrderedDict(), os.getpid()
        engine = self._engines.pop(shard, None) or db.create_engine(
            self.conn_string_for_shard(shard),
            # one connection kept; Dagster's first use of a database (_initdb) opens two more
            # for a moment, which the pool's overflow closes again
            pool_size=1,
            connect_args={"timeout": sqlite_event_log.SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        self._engines[shard] = engine  # the most recently used last
        while len(self._engines) > KEPT_DATABASES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                sqlite = conn.connection.driver_connection
                changes = sqlite.total_changes
                with conn.begin():
                    yield conn
                if sqlite.total_changes != changes:
                    # what closing the connection did: the WAL's pages into the database file.
                    # PASSIVE never waits on a reader; what it leaves, the next write takes.
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").close()

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        """`dagster run wipe`: this process lets go of the databases before their files are
        deleted. Another process holding one open (the UI) would go on writing to the deleted
        file until it restarts: stop the UI before wiping."""
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()  # the file watcher first: it may still be reading a run
        self._dispose_engines()


class CardreachSqliteStorage(DagsterSqliteStorage):
    """Dagster's default storage in DAGSTER_HOME, its event log kept-connection."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Dagster's own event log is made here and replaced: making it only creates the index
        # database when the home has none, which this one would do the same way.
        super().__init__(base_dir, inst_data)
        self._event_log_storage = KeptConnectionSqliteEventLogStorage(
            _event_logs_directory(base_dir)
        )

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> CardreachSqliteStorage:
        # Dagster's builds a DagsterSqliteStorage whatever the class
        return cls.from_local(inst_data=inst_data, **config_value)


class CardreachInstance(dg.DagsterInstance):
    """The instance `dagster.yaml` in DAGSTER_HOME makes (`instance_class`): Dagster's, with
    CardreachSqliteStorage as its storage when the file names none."""

    @classmethod
    def config_schema(cls) -> dict:
        return {}  # no settings of its own; Dagster asks every instance class for them

    @staticmethod
    def config_defaults(base_dir: str) -> dict:
        return {
            **InstanceRef.config_defaults(base_dir),
            "storage": ConfigurableClassData(
                __name__, CardreachSqliteStorage.__name__, yaml.dump({"base_dir": base_dir})
            ),
        }
