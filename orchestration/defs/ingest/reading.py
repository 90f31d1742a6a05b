"""Reading a delivered file into DuckDB: its rows as text by contract column, each with its line,
and every row that cannot be read as a problem with its reason; in bounded memory whatever the
file's size or shape.

DuckDB's own readers do the bulk: `read_csv` for CSV, `read_parquet` for Parquet. Python reads
only what they cannot decide:
- **CSV**: DuckDB reads every row it can, strictly, and keeps the rows it rejects with their
  line. A row with too few fields (padded: the rest is blank) or too many (quarantined) is
  re-read by Python's csv module from the rejected line, as before. DuckDB gives no line number
  for a good row, so it is derived: a good row takes the next line that is neither rejected nor
  empty. That holds only while one row is one line, so the counts are checked against the file's
  lines (`encoding.TextShape`); a file where they may disagree (a quoted line break, mixed or
  lone carriage returns, a quote beside a space or inside a value, a rejected line longer than
  DuckDB keeps) is read by Python's csv module instead, a block of rows at a time.
  `tests/test_reading.py` holds the two readers to the same rows, lines and problems.
  A batch's files of one dataset and header can be read together, in one `read_csv` over all
  of them (`stage(..., together=True)`, then `flush`): DuckDB's per-statement cost is then paid
  once, and its threads share the trimming, which one 10,000-row file keeps to one thread.
  Each file's line numbers hold only while none of its lines is rejected or empty and no value
  spans two lines; any other file is read again alone.
- **JSON Lines**: Python, a block of lines at a time (`json.loads` is C). DuckDB's JSON reader
  gives no line numbers, which the quarantine and every raw row need, and it sets one schema for
  the file from a sample, so a file whose lines carry different keys is read as maps
  (docs/performance.md).
- **Text encodings**: GB18030 files are converted to a UTF-8 copy first, streamed
  (`encoding.utf8_text`).

Everything is staged as text in temporary tables (`staged_<dataset>`, `staged_problems`) that
DuckDB can spill to disk; the validator (`bulk_validation`) types them from there.
"""

import csv
import json
import math
from array import array
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.contract.datasets import Column, Dataset
from orchestration.defs.ingest.encoding import BOM, UTF8_COPY_SUFFIX, TextShape, utf8_text
from orchestration.defs.ingest.landing import UnreadableFile
from orchestration.defs.ingest.validation import HeaderMap, Problem
from orchestration.warehouse import sql_literal

# Rows handed between Python and DuckDB at a time: what bounds Python's memory.
CHUNK_ROWS = 50_000
# What Python's str.strip() removes, for DuckDB's trim(): a value is trimmed alike by any reader.
# Written out: finding them among all of Unicode's characters cost every process that imports
# this about 0.13 s of its start (tests/test_reading.py checks they are still str.isspace()'s).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
PROBLEMS_TABLE = "staged_problems"
# A float that Python or DuckDB would write with an exponent, written out with enough decimals
# that a tiny fraction (1e-07) stays a fraction (never 0.000000, a valid count of 0).
POSITIONAL = "%.17f"
# A rejected line this long may have been cut by DuckDB (which keeps 10,000 characters of it):
# Python reads the file instead.
KEPT_REJECTED_CHARS = 9_000
TOO_MANY_FIELDS = (
    "the row has {fields} fields but the header has {width}: quote values that contain commas"
)


def staged_table(dataset: Dataset) -> str:
    return f"staged_{dataset.name}"


# As a regular expression class: DuckDB's trim(text, characters) is ten times slower, and most
# values have nothing to trim, so the pattern is only replaced where it matches.
_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"


def _trimmed(sql: str) -> str:
    """SQL for a text value trimmed as str.strip() trims it, NULL when blank."""
    ends = f"'^{_SPACE}+|{_SPACE}+$'"
    return (
        f"nullif(CASE WHEN regexp_matches({sql}, '^{_SPACE}|{_SPACE}$')"
        f" THEN regexp_replace({sql}, {ends}, '', 'g') ELSE {sql} END, '')"
    )


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


@dataclass
class _Layout:
    """Where each contract column and each extra column sits in a delivered header."""

    contract: dict[str, int]  # contract column -> position (the last, if a name repeats)
    extras: dict[str, int]  # extra column -> position

    @classmethod
    def of(cls, header: list[str], header_map: HeaderMap) -> "_Layout":
        positions = {name: i for i, name in enumerate(header)}
        return cls(
            contract={c.name: positions[name] for name, c in header_map.columns.items()},
            extras={name: positions[name] for name in dict.fromkeys(header_map.extras)},
        )

    def select_list(self, dataset: Dataset, fields: list[str]) -> str:
        """SQL selecting a staging table's columns from the SQL of each delivered field: the
        contract's columns (NULL when absent), then the extras as one JSON object."""
        values = [
            f'{fields[self.contract[c.name]]} AS "{c.name}"'
            if c.name in self.contract
            else f'NULL AS "{c.name}"'
            for c in dataset.columns
        ]
        extras = "NULL"
        if self.extras:
            pairs = ", ".join(
                f"{sql_literal(name)}, {fields[at]}" for name, at in self.extras.items()
            )
            extras = f"CAST(json_object({pairs}) AS VARCHAR)"
        return f"{', '.join(values)}, {extras} AS extra_columns"


@dataclass
class _QueuedCsv:
    """A CSV file whose encoding, line shape and header Python has checked, waiting to be
    staged with others (`Stager.flush`)."""

    text_path: Path
    shape: TextShape
    dataset: Dataset
    load_id: int
    header: list[str]
    layout: _Layout
    held: ExitStack = field(repr=False)  # keeps a converted UTF-8 copy until it is staged

    @property
    def data_lines(self) -> int:
        """The lines after the header, without the empty ones at the end."""
        return self.shape.lines - 1 - self.shape.trailing_empty


class Stager:
    """Stages delivered files into temporary tables of one connection; `clear` empties them."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, workdir: Path):
        self.conn, self.workdir = conn, workdir
        self.problem_seq = 0
        self._staged: set[str] = set()
        self._queued: dict[int, _QueuedCsv] = {}  # by load_id
        self.clear()
        # converted copies a run stopped mid-way left behind (encoding.utf8_text names them)
        for leftover in workdir.glob(f"*{UTF8_COPY_SUFFIX}") if workdir else ():
            leftover.unlink(missing_ok=True)

    # -- the staging tables ---------------------------------------------------------------
    def table(self, dataset: Dataset) -> str:
        name = staged_table(dataset)
        if name not in self._staged:
            columns = ", ".join(f'"{c.name}" VARCHAR' for c in dataset.columns)
            self.conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {name} (load_id BIGINT, line_number INTEGER,"
                f" {columns}, extra_columns VARCHAR)"
            )
            self._staged.add(name)
        return name

    def add_problems(self, load_id: int, problems: list[Problem]) -> None:
        if not problems:
            return
        first = self.problem_seq
        self.problem_seq += len(problems)
        table = pa.table(
            {
                "load_id": pa.array([load_id] * len(problems), pa.int64()),
                "line_number": pa.array([p.line_number for p in problems], pa.int32()),
                "column_name": pa.array([p.column_name for p in problems], pa.string()),
                "raw_value": pa.array([p.raw_value for p in problems], pa.string()),
                "reason": pa.array([p.reason for p in problems], pa.string()),
                "seq": pa.array(range(first, self.problem_seq), pa.int64()),
            }
        )
        self._append(PROBLEMS_TABLE, table)

    def _append(self, table_name: str, rows: pa.Table) -> None:
        self.conn.register("incoming_rows", rows)
        try:
            self.conn.execute(f"INSERT INTO {table_name} BY NAME SELECT * FROM incoming_rows")
        finally:
            self.conn.unregister("incoming_rows")

    def append_rows(
        self, dataset: Dataset, load_id: int, header: list[str], rows: list[tuple[int, list]]
    ) -> None:
        """(line, field values under `header`) rows, already trimmed, into the staging table."""
        layout = _Layout.of(header, HeaderMap.of(dataset, header))
        self._append_rows(dataset, load_id, layout, rows)

    def _append_rows(
        self,
        dataset: Dataset,
        load_id: int,
        layout: _Layout,
        rows: list[tuple[int, list]],
        extras: list[str | None] | None = None,
    ) -> None:
        """Rows into the staging table; their extra columns from `layout`, or given (`extras`,
        one JSON object or None per row, when each row has its own, as in JSON Lines)."""
        if not rows:
            return
        columns: dict[str, pa.Array] = {
            "load_id": pa.array([load_id] * len(rows), pa.int64()),
            "line_number": pa.array([line for line, _ in rows], pa.int32()),
        }
        for column in dataset.columns:
            at = layout.contract.get(column.name)
            values = [None] * len(rows) if at is None else [fields[at] for _, fields in rows]
            columns[column.name] = pa.array(values, pa.string())
        if extras is None and layout.extras:
            extras = [
                json.dumps(
                    {name: fields[at] for name, at in layout.extras.items()},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                for _, fields in rows
            ]
        columns["extra_columns"] = pa.array(extras or [None] * len(rows), pa.string())
        self._append(self.table(dataset), pa.table(columns))

    def discard(self, dataset: Dataset, load_id: int) -> None:
        """Forget what was staged of a file (it is refused whole after all)."""
        queued = self._queued.pop(load_id, None)
        if queued is not None:
            queued.held.close()
        self._unstage(dataset, load_id)

    def _unstage(self, dataset: Dataset, load_id: int) -> None:
        self.conn.execute(f"DELETE FROM {self.table(dataset)} WHERE load_id = ?", [load_id])
        self.conn.execute(f"DELETE FROM {PROBLEMS_TABLE} WHERE load_id = ?", [load_id])

    def staged_rows(self, dataset: Dataset, load_id: int) -> int:
        query = f"SELECT count(*) FROM {self.table(dataset)} WHERE load_id = ?"
        return self.conn.execute(query, [load_id]).fetchone()[0]

    def queued_lines(self, load_id: int) -> int | None:
        """A file waiting to be staged (`stage(..., together=True)`): its data lines, at least
        its rows; None for a file staged already."""
        queued = self._queued.get(load_id)
        return None if queued is None else queued.data_lines

    def clear(self) -> None:
        """Drop what was staged (dropped, not deleted: DuckDB keeps a temporary table's deleted
        rows until it is dropped), and forget what waits to be."""
        for queued in self._queued.values():
            queued.held.close()
        self._queued = {}
        for name in self._staged | {PROBLEMS_TABLE}:
            self.conn.execute(f"DROP TABLE IF EXISTS {name}")
        self._staged = set()
        self.conn.execute(
            f"CREATE TEMP TABLE {PROBLEMS_TABLE} (load_id BIGINT, line_number INTEGER,"
            " column_name VARCHAR, raw_value VARCHAR, reason VARCHAR, seq BIGINT)"
        )

    # -- reading ----------------------------------------------------------------------------
    def stage(
        self, path: Path, extension: str, dataset: Dataset, load_id: int, together: bool = False
    ) -> str | None:
        """Stage a file's rows and the problems of its unreadable rows; its text encoding (None
        for Parquet). `UnreadableFile` when it cannot be read at all (nothing is then staged).
        `together`: a CSV file DuckDB may read with others waits for `flush` (it is checked
        and its header read now: whatever makes it unreadable is raised here)."""
        try:
            match extension:
                case ".csv":
                    return self._stage_csv(path, dataset, load_id, together)
                case ".jsonl":
                    return self._stage_jsonl(path, dataset, load_id)
                case ".parquet":
                    self._stage_parquet(path, dataset, load_id)
                    return None
        except UnreadableFile:
            self.discard(dataset, load_id)
            raise
        raise UnreadableFile(
            f"unsupported file type '{extension or '(none)'}': deliver .csv, .jsonl or .parquet"
        )

    # CSV ---------------------------------------------------------------------------------------
    def _stage_csv(self, path: Path, dataset: Dataset, load_id: int, together: bool) -> str:
        with ExitStack() as held:
            text_path, shape = held.enter_context(utf8_text(path, self.workdir))
            header, header_lines = _csv_header(text_path)
            header_map = HeaderMap.of(dataset, header)
            layout = _Layout.of(header, header_map)
            simple = not (shape.mixed_line_ends or shape.spaced_quote) and header_lines == 1
            if simple and together:
                self._queued[load_id] = _QueuedCsv(
                    text_path, shape, dataset, load_id, header, layout, held.pop_all()
                )
            else:
                self._stage_csv_alone(text_path, shape, dataset, load_id, layout, header, simple)
            return shape.encoding

    def _stage_csv_alone(self, path, shape, dataset, load_id, layout, header, simple=True):
        """One file by DuckDB's reader where it gives exact lines (a `simple` file: one header
        line, one kind of line end), else by Python's."""
        if not (simple and self._duckdb_csv(path, shape, dataset, load_id, layout, header)):
            self._python_csv(path, dataset, load_id, layout, len(header))

    def flush(self) -> dict[int, str]:
        """Stage the CSV files waiting (`stage(..., together=True)`): those of one dataset and
        header in one read, and any file that read cannot give exact lines for alone, as `stage`
        reads it. The reason of each file found unreadable meanwhile, by load_id (nothing of it
        is staged)."""
        groups: dict[tuple, list[_QueuedCsv]] = defaultdict(list)
        for queued in self._queued.values():
            groups[(queued.dataset.name, tuple(queued.header))].append(queued)
        refused: dict[int, str] = {}
        try:
            for files in groups.values():
                alone = self._duckdb_csv_together(files) if len(files) > 1 else files
                for f in alone:
                    try:
                        self._stage_csv_alone(
                            f.text_path, f.shape, f.dataset, f.load_id, f.layout, f.header
                        )
                    except UnreadableFile as error:
                        self.discard(f.dataset, f.load_id)
                        refused[f.load_id] = str(error)
        finally:
            for queued in self._queued.values():
                queued.held.close()
            self._queued = {}
        return refused

    def _duckdb_csv(
        self,
        path: Path,
        shape: TextShape,
        dataset: Dataset,
        load_id: int,
        layout: _Layout,
        header: list[str],
    ) -> bool:
        """Stage the file with DuckDB's CSV reader; False (nothing staged) when the reader cannot
        tell each row's line, or fails."""
        conn = self.conn
        try:
            fields = self._read_csv_rows([path], len(header))
            return self._stage_csv_rows(path, shape, dataset, load_id, layout, fields)
        except duckdb.Error:  # DuckDB's reader failed: Python reads it
            self._unstage(dataset, load_id)  # the file itself (a converted copy) stays
            return False
        finally:
            for table in ("csv_rows", "csv_rejects", "csv_reject_scans", "csv_rejected"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")

    def _duckdb_csv_together(self, files: list[_QueuedCsv]) -> list[_QueuedCsv]:
        """Stage files of one dataset and header with one read of DuckDB's CSV reader; the
        files it staged nothing of, to be read alone: those with a rejected line, an empty line
        among their rows or a line break inside a value (their lines need `_stage_csv_rows`),
        all of them if the read fails."""
        conn = self.conn
        dataset, layout = files[0].dataset, files[0].layout
        try:
            fields = self._read_csv_rows([f.text_path for f in files], len(files[0].header))
            rows = {
                path: (count, broken)
                for path, count, broken in conn.execute(
                    f"SELECT csv_file, count(*), coalesce(bool_or({_line_break(fields)}), false)"
                    " FROM csv_rows GROUP BY csv_file"
                ).fetchall()
            }
            rejected = {
                path
                for (path,) in conn.execute(
                    "SELECT DISTINCT s.file_path FROM csv_rejects AS e"
                    " JOIN csv_reject_scans AS s USING (scan_id, file_id)"
                ).fetchall()
            }
            # Without a rejected line, an empty one or a value over two lines, a file's k-th row
            # (from 1) is its k-th line after the header: exactly its lines are its rows.
            exact = [
                f
                for f in files
                if str(f.text_path) not in rejected
                and rows.get(str(f.text_path), (0, False)) == (f.data_lines, False)
            ]
            if exact:
                self._insert_together(dataset, layout, fields, exact)
        except duckdb.Error:  # e.g. a line longer than DuckDB's limit: each file alone
            for f in files:
                self._unstage(dataset, f.load_id)
            return files
        finally:
            for table in ("csv_rows", "csv_rejects", "csv_reject_scans"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
        return [f for f in files if f not in exact]

    def _insert_together(self, dataset, layout, fields, files: list[_QueuedCsv]) -> None:
        """The rows of `files` (read together into csv_rows), each numbered by its place in its
        file, into the staging table."""
        conn = self.conn
        ids = pa.table(
            {
                "csv_file": pa.array([str(f.text_path) for f in files], pa.string()),
                "load_id": pa.array([f.load_id for f in files], pa.int64()),
            }
        )
        conn.register("csv_files", ids)
        try:
            conn.execute(
                f"""
                INSERT INTO {self.table(dataset)} BY NAME
                SELECT f.load_id, CAST(r.line AS INTEGER) AS line_number,
                    {layout.select_list(dataset, fields)}
                FROM (
                    SELECT csv_file, line, {_trimmed_fields(fields)}
                    FROM (
                        SELECT *, row_number() OVER (PARTITION BY csv_file ORDER BY rowid) AS line
                        FROM csv_rows
                    )
                    WHERE NOT {_blank_row(fields)}
                ) AS r JOIN csv_files AS f USING (csv_file)
                """
            )
        finally:
            conn.unregister("csv_files")

    def _read_csv_rows(self, paths: list[Path], width: int) -> list[str]:
        """DuckDB's strict read of CSV files of `width` fields into csv_rows (each row's file in
        `csv_file`), the rows it rejects into csv_rejects; the names of the fields' columns."""
        fields = [f"c{i}" for i in range(width)]
        columns = "{" + ", ".join(f"'{f}': 'VARCHAR'" for f in fields) + "}"
        self.conn.execute(
            "CREATE OR REPLACE TEMP TABLE csv_rows AS SELECT * FROM read_csv(?, header = true,"
            f" columns = {columns}, auto_detect = false, delim = ',', quote = '\"',"
            " escape = '\"', strict_mode = true, filename = 'csv_file', store_rejects = true,"
            " rejects_table = 'csv_rejects', rejects_scan = 'csv_reject_scans')",
            [[str(path) for path in paths]],
        )
        return fields

    def _stage_csv_rows(self, path, shape, dataset, load_id, layout, fields) -> bool:
        conn, width = self.conn, len(fields)
        rows, broken = conn.execute(
            f"SELECT count(*), coalesce(bool_or({_line_break(fields)}), false) FROM csv_rows"
        ).fetchone()
        # The rejected lines (1 = the first data line), and whether any is not a ragged row
        # of one line (then DuckDB's line numbers cannot be trusted either), or may have been
        # cut (DuckDB keeps 10,000 characters of a rejected line).
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE csv_rejected AS SELECT line - 1 AS line,"
            " trim(any_value(csv_line), E'\\r\\n') AS csv_line,"
            " bool_and(error_type IN ('TOO MANY COLUMNS', 'MISSING COLUMNS')) AS ragged"
            " FROM csv_rejects GROUP BY line"
        )
        rejected, unusual = conn.execute(
            "SELECT count(*), count(*) FILTER (NOT ragged OR regexp_matches(csv_line, '[\\r\\n]')"
            f" OR length(csv_line) >= {KEPT_REJECTED_CHARS}) FROM csv_rejected"
        ).fetchone()
        data_lines = shape.lines - 1
        empty_inside = data_lines - rows - rejected - shape.trailing_empty
        if broken or unusual or empty_inside < 0:
            return False
        # Empty lines at the end come after every row: only those before one need finding.
        empty = _empty_lines(path) if empty_inside else []
        if empty_inside and len(empty) != empty_inside + shape.trailing_empty:
            return False
        # A good row takes the next line that is neither rejected nor empty: the k-th (from 0)
        # takes k + 1 + (how many of those lines come before it); simply k + 1 when none is.
        line_of = "r.k + 1 + coalesce(t.before, 0)"
        thresholds = "ASOF LEFT JOIN thresholds AS t ON r.k >= t.k"
        if not rejected and not empty:
            line_of, thresholds = "r.k + 1", ""
        conn.register("csv_empty_lines", pa.table({"line": pa.array(empty, pa.int64())}))
        try:
            conn.execute(
                f"""
                INSERT INTO {self.table(dataset)} BY NAME
                WITH skipped AS (
                    SELECT line FROM csv_rejected UNION ALL SELECT line FROM csv_empty_lines
                ),
                steps AS (
                    SELECT line - row_number() OVER (ORDER BY line) AS k,
                        row_number() OVER (ORDER BY line) AS before
                    FROM skipped
                ),
                thresholds AS (SELECT k, max(before) AS before FROM steps GROUP BY k)
                SELECT {load_id} AS load_id,
                    CAST({line_of} AS INTEGER) AS line_number,
                    {layout.select_list(dataset, fields)}
                FROM (
                    SELECT rowid AS k, {_trimmed_fields(fields)}
                    FROM csv_rows WHERE NOT {_blank_row(fields)}
                ) AS r
                {thresholds}
                """
            )
        finally:
            conn.unregister("csv_empty_lines")
        # The ragged rows, in Python, a block at a time: too few fields are padded, too many
        # are quarantined, as Python's reader does.
        for offset in range(0, rejected, CHUNK_ROWS):
            chunk = conn.execute(
                "SELECT line, csv_line FROM csv_rejected ORDER BY line LIMIT ? OFFSET ?",
                [CHUNK_ROWS, offset],
            ).fetchall()
            good, problems = [], []
            for line, text in chunk:
                parsed = _without_trailing_empty(next(csv.reader([text]), []), width)
                if not "".join(parsed).strip():
                    continue  # blank, as Python's reader skips it
                if len(parsed) > width:
                    reason = TOO_MANY_FIELDS.format(fields=len(parsed), width=width)
                    problems.append(Problem(line, None, None, reason))
                else:
                    good.append(
                        (line, [_blank(v) for v in parsed] + [None] * (width - len(parsed)))
                    )
            self._append_rows(dataset, load_id, layout, good)
            self.add_problems(load_id, problems)
        return True

    def _python_csv(self, path: Path, dataset: Dataset, load_id: int, layout, width: int):
        """Python's csv module, a block of rows at a time: the reader of every CSV DuckDB's
        cannot give exact lines for."""
        with path.open(encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(text)
            next(reader)
            header_lines = reader.line_num
            rows: list[tuple[int, list]] = []
            problems: list[Problem] = []
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    line = reader.line_num - header_lines
                    problems.append(Problem(line, None, None, f"not a readable CSV row: {error}"))
                    continue
                if not "".join(fields).strip():
                    continue  # blank line
                line = reader.line_num - header_lines
                fields = _without_trailing_empty(fields, width)
                if len(fields) > width:
                    reason = TOO_MANY_FIELDS.format(fields=len(fields), width=width)
                    problems.append(Problem(line, None, None, reason))
                    continue
                fields = [_blank(v) for v in fields] + [None] * (width - len(fields))
                rows.append((line, fields))
                if len(rows) + len(problems) >= CHUNK_ROWS:
                    self._append_rows(dataset, load_id, layout, rows)
                    self.add_problems(load_id, problems)
                    rows, problems = [], []
            self._append_rows(dataset, load_id, layout, rows)
            self.add_problems(load_id, problems)

    # JSON Lines -------------------------------------------------------------------------------
    def _stage_jsonl(self, path: Path, dataset: Dataset, load_id: int) -> str:
        labels = HeaderMap.labels(dataset)
        keys: dict[str, Column | None] = {}  # every key met, in order: the file's header
        positions = {c.name: i for i, c in enumerate(dataset.columns)}
        layout = _Layout(contract=positions, extras={})  # values by contract column
        objects = 0
        with utf8_text(path, self.workdir) as (text_path, shape):
            rows: list[tuple[int, list]] = []
            extras: list[str | None] = []
            problems: list[Problem] = []

            with text_path.open("rb") as handle:
                # Records end at "\n" (or "\r\n") only: str.splitlines() would also split at
                # U+2028, U+2029, U+0085 and others, which are text inside a JSON string.
                for line_number, raw in enumerate(handle, start=1):
                    if line_number == 1 and raw.startswith(BOM):
                        raw = raw[len(BOM) :]
                    line = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
                    if not line.strip():
                        continue
                    obj, reason = _json_line(line)
                    if reason is None and not isinstance(obj, dict):
                        reason = "each line must be one JSON object {...}"
                    if reason is not None:
                        problems.append(Problem(line_number, None, None, reason))
                        continue
                    objects += 1
                    values: list = [None] * len(dataset.columns)
                    extra: dict[str, str | None] = {}
                    for key, value in obj.items():
                        key = key.strip()
                        if key not in keys:
                            keys[key] = HeaderMap.column_of(labels, key)
                        column = keys[key]
                        if column is not None:
                            values[positions[column.name]] = as_text(value)
                        elif key:
                            extra[key] = as_text(value)
                    rows.append((line_number, values))
                    extras.append(
                        json.dumps(extra, ensure_ascii=False, separators=(",", ":"))
                        if extra
                        else None
                    )
                    if len(rows) + len(problems) >= CHUNK_ROWS:
                        self._append_rows(dataset, load_id, layout, rows, extras)
                        self.add_problems(load_id, problems)
                        rows, extras, problems = [], [], []
                self._append_rows(dataset, load_id, layout, rows, extras)
            self.add_problems(load_id, problems)
            if not objects:
                if self.conn.execute(
                    f"SELECT count(*) FROM {PROBLEMS_TABLE} WHERE load_id = ?", [load_id]
                ).fetchone()[0]:
                    raise UnreadableFile(
                        "not JSON Lines: no line is a JSON object (one object per line, e.g. "
                        '{"platform": "小红书", ...})'
                    )
                raise UnreadableFile("the file is empty: JSON Lines needs one object per line")
            HeaderMap.of(dataset, list(keys))  # raises for a missing or doubled column
            return shape.encoding

    # Parquet ------------------------------------------------------------------------------------
    def _stage_parquet(self, path: Path, dataset: Dataset, load_id: int) -> None:
        conn = self.conn
        try:
            described = conn.execute(
                "DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]
            ).fetchall()
        except duckdb.Error as error:
            raise UnreadableFile(f"not a readable Parquet file: {_first_line(error)}") from None
        names = [name for name, *_ in described]
        header = [name.strip() for name in names]
        header_map = HeaderMap.of(dataset, header)
        layout = _Layout.of(header, header_map)
        zones = {}
        if any(t.upper().startswith("TIMESTAMP WITH TIME ZONE") for _, t, *_ in described):
            import pyarrow.parquet as pq  # the zone's name is in the Arrow schema only

            schema = pq.read_schema(path)
            zones = {f.name: getattr(f.type, "tz", None) for f in schema}
        texts = [
            _parquet_text(f'"{n.replace(chr(34), chr(34) * 2)}"', t, zones.get(n))
            for n, t, *_ in described
        ]
        try:
            conn.execute(
                f"""
                INSERT INTO {self.table(dataset)} BY NAME
                SELECT {load_id} AS load_id, CAST(file_row_number + 1 AS INTEGER) AS line_number,
                    {layout.select_list(dataset, texts)}
                FROM read_parquet(?, file_row_number = true)
                """,
                [str(path)],
            )
        except duckdb.Error as error:
            raise UnreadableFile(f"not a readable Parquet file: {_first_line(error)}") from None


def _trimmed_fields(fields: list[str]) -> str:
    """SQL: the fields, each trimmed of the contract's spaces, under its own name."""
    return ", ".join(f"{_trimmed(f)} AS {f}" for f in fields)


def _blank_row(fields: list[str]) -> str:
    """SQL: whether a row is blank (every field empty or spaces): no row, though it takes its
    line."""
    return f"regexp_full_match(concat({', '.join(fields)}), '{_SPACE}*')"


def _line_break(fields: list[str]) -> str:
    """SQL: whether any of the fields holds a line break (a quoted value over two lines)."""
    return " OR ".join(f"contains({f}, chr(10)) OR contains({f}, chr(13))" for f in fields)


def _without_trailing_empty(fields: list[str], width: int) -> list[str]:
    """A row's fields without the empty ones past the header's width (a trailing comma, as some
    exporters end every row with): they hold nothing to lose. DuckDB's reader drops them too."""
    while len(fields) > width and fields[-1] == "":
        fields = fields[:-1]
    return fields


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _csv_header(path: Path) -> tuple[list[str], int]:
    """The header's names, trimmed, and how many lines it takes."""
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise UnreadableFile("the file is empty: a CSV needs a header row") from None
        except csv.Error as error:
            raise UnreadableFile(f"not a readable CSV: {error}") from None
        header = [h.strip() for h in header]
        if not any(header):
            raise UnreadableFile("the first line is empty: a CSV needs a header row")
        return header, reader.line_num


def _empty_lines(path: Path) -> array:
    """The empty lines ("" or "\\r") after the header, 1 = the first data line (8 bytes each)."""
    empty = array("q")
    with path.open("rb") as handle:
        next(handle, None)
        for n, raw in enumerate(handle, start=1):
            if raw in (b"\n", b"\r\n", b"\r"):
                empty.append(n)
    return empty


def _json_line(line: str) -> tuple[object, str | None]:
    """The line's JSON value, or None and the reason it is not one."""
    try:
        # strict=False: control characters such as a tab, unescaped inside a string as some
        # exporters write them, are the value's text.
        value = json.loads(line, strict=False)
    except json.JSONDecodeError as error:
        return None, f"not a JSON object: {error.msg} at column {error.colno}"
    except (ValueError, RecursionError) as error:  # a 5,000-digit number, nesting too deep
        return None, f"not a JSON object: {error}"
    if "\\u" in line:  # an escaped lone surrogate (\ud800) is half a character: not storable
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None, "not a JSON object: an escape (\\ud800-\\udfff) that is half a character"
    return value, None


def _parquet_text(column: str, duckdb_type: str, zone: str | None = None) -> str:
    """SQL for a Parquet column's value as the text the validator reads, written as `as_text`
    writes the same value from JSON; `zone` is a zoned timestamp column's time zone."""
    upper = duckdb_type.upper()
    if upper == "VARCHAR":
        return _trimmed(column)
    if upper in ("DOUBLE", "FLOAT"):
        # The shortest text that reads back as the value (as Python's repr, 44.74 for a 32-bit
        # 44.74), never in exponent form (as `as_text` writes it); NaN is blank.
        shortest = f"CAST({column} AS VARCHAR)"
        return (
            f"CASE WHEN isnan({column}) OR isinf({column}) THEN NULL"
            f" WHEN contains({shortest}, 'e')"
            f" THEN printf('{POSITIONAL}', CAST({shortest} AS DOUBLE)) ELSE {shortest} END"
        )
    if upper.startswith("DECIMAL"):
        # Database exports type counts as DECIMAL(18,0) or DECIMAL(38,2): a whole value reads
        # as the integer it is, any other as its digits (12.5).
        text = f"CAST({column} AS VARCHAR)"
        return (
            f"CASE WHEN {column} = trunc({column}) THEN CAST(CAST({column} AS HUGEINT) AS VARCHAR)"
            f" ELSE rtrim({text}, '0') END"
        )
    if upper.startswith("TIMESTAMP WITH TIME ZONE"):
        # The wall-clock time in the column's own zone (an export's 2025-04-17 00:00 +08:00 is
        # the 17th), whatever this machine's zone.
        local = f"timezone({sql_literal(zone or 'UTC')}, {column})"
        return f"strftime({local}, '%Y-%m-%dT%H:%M:%S')"
    if upper.startswith("TIMESTAMP"):
        return f"strftime({column}, '%Y-%m-%dT%H:%M:%S')"
    if upper.endswith("[]") or upper.startswith(("STRUCT", "MAP")):
        return f"CAST(to_json({column}) AS VARCHAR)"
    return f"CAST({column} AS VARCHAR)"  # integers, dates, booleans


def as_text(value: object) -> str | None:
    """A JSON value as the text the validator reads."""
    if value is None:
        return None
    if isinstance(value, str):
        return _blank(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        # Exporters write counts as floats (127000.0); the validator accepts trailing zeros.
        text = repr(value)
        return format(value, POSITIONAL[1:]) if "e" in text else text
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
