"""The project's Dagster instance (orchestration/dagster.yaml names it): Dagster's own SQLite
storage in DAGSTER_HOME, the same files, tables and layout, with one change to the event log.

Dagster's SqliteEventLogStorage makes a new SQLAlchemy engine for every statement it runs: it
creates the engine, opens the database, commits, closes it (SQLite then checkpoints the WAL into
the database file) and throws the engine away. A `make run` of the sample writes about 900 events
(planned assets and checks, outputs, materializations, check results), half of them twice (the
run's database and the index), and that churn was a sixth of the run: about 10 s of 62 s on a
slow machine (docs/performance.md, the instance round). Here each database keeps its engine and
one connection for as long as the process uses it; after each statement the connection
checkpoints the WAL as closing it did, so the database file changes with every event as before:
the UI's live view of a running run watches that file.
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


class EventLogStorage(sqlite_event_log.SqliteEventLogStorage):
    """Dagster's SQLite event log (one database per run and an index), each database's engine
    kept instead of made for every statement."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, db.Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> db.Engine:
        if os.getpid() != self._engines_pid:  # a forked child: its parent's connections are not its
            self._engines, self._engines_pid = OrderedDict(), os.getpid()
        engine = self._engines.pop(shard, None) or db.create_engine(
            self.conn_string_for_shard(shard),
            pool_size=1,
            # one statement at a time (the storage's lock), from whichever thread asks
            connect_args={
                "timeout": sqlite_event_log.SQLITE_BUSY_TIMEOUT_SECONDS,
                "check_same_thread": False,
            },
        )
        self._engines[shard] = engine
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
                with conn.begin():
                    yield conn
                # what closing the connection did: the WAL's pages into the database file
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._dispose_engines()  # before the run databases' files are deleted
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


class SqliteStorage(DagsterSqliteStorage):
    """Dagster's default storage in DAGSTER_HOME, its event log EventLogStorage."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = EventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> SqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


class CardreachInstance(dg.DagsterInstance):
    """The instance `dagster.yaml` in DAGSTER_HOME makes (`instance_class`): Dagster's, with
    SqliteStorage as its storage when the file names none."""

    @classmethod
    def config_schema(cls) -> dict:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> dict:
        return {
            **InstanceRef.config_defaults(base_dir),
            "storage": ConfigurableClassData(
                __name__, SqliteStorage.__name__, yaml.dump({"base_dir": base_dir})
            ),
        }
