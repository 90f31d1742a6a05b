"""Great Expectations suites, kept as JSON in `expectations/`, run against pandas DataFrames.

A suite file is GE 1.x's own ExpectationSuite JSON (see `expectations/README.md`), read with
GE's own schema and expectation classes, so GE's errors are the ones reported. The caller
runs the suite on a query with `validate_query`: it reads from DuckDB only the columns the suite
names, a part of the rows at a time where the suite allows it, and validates each frame with
`validate_dataframe` (`read_checked_columns` reads the same frame whole); the result says
which expectations failed, how badly, with a sample of the offending values, and whether any
failure is an *error* (an expectation whose `meta.severity` is not "warning").

Great Expectations is imported inside the functions only: it takes seconds to import, and the
Dagster definitions must load without it. A suite's expectations are validated in groups, each
on the columns it reads and in an ephemeral, in-memory Data Context of its own (creating one
takes milliseconds), and reported as one validation. Every expectation's outcome, passed or
failed, is kept with the figure it observed (`SuiteResult.checked`), so the gate's page
(`orchestration/defs/report/quality.py`) shows every suite; GE's own Data Docs are not built
(their pages need a CDN to render and cost more than the validation).

Any exception GE raises (or records against an expectation) reaches the caller as an exception:
a check that could not be evaluated never passes silently.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import importlib.abc
import importlib.util
import json
import math
import re
import sys
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestration import settings
from orchestration.warehouse import connection_config, give_back_memory

if TYPE_CHECKING:
    from collections.abc import Iterator

    import duckdb
    import pandas as pd
    import pyarrow as pa

SEVERITIES = ("error", "warning")
SAMPLE_SIZE = 10

# Type names a suite may use for a text column. A text column a type expectation reads is handed
# to GE as `object` (see `_normalise_frame`), whose values GE checks one by one against a Python
# type: only "str" matches them ("string" is an error, the others fail), so each becomes "str".
_TEXT_TYPE_NAMES = {"str", "string", "object", "StringDtype", "unicode"}
# pandas' nullable dtypes, which DuckDB gives for integer and boolean columns holding nulls. GE's
# type list knows them only by class name ("Int32Dtype"); its single type compares the dtype's
# scalar type, which a nullable dtype shares with its numpy one ("int32").
_NULLABLE_TYPE_NAMES = {
    **{name: (f"{name}Dtype", name.lower()) for name in ("Int8", "Int16", "Int32", "Int64")},
    **{name: (f"{name}Dtype", name.lower()) for name in ("UInt8", "UInt16", "UInt32", "UInt64")},
    **{name: (f"{name}Dtype", name.lower()) for name in ("Float32", "Float64")},
    "boolean": ("BooleanDtype", "bool"),
}
# Kwargs through which built-in expectations name columns of the checked table.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list", "column_set")
# Expectations on the table's column names, not on values.
_COLUMN_NAME_TYPES = {
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_table_column_count_to_equal",
    "expect_table_column_count_to_be_between",
    "expect_column_to_exist",
}
# Groups of expectations (see `_groups`) that do not read a given set of columns.
_NAMES = "column names"
_WHOLE = "whole table"
# Rows per Arrow batch when reading a query: what is held twice, in Arrow and in pandas.
_BATCH_ROWS = 500_000
# Rows `validate_query` validates at a time when a suite allows it: what a check holds in pandas
# (and GE copies) whatever the table's size. Below it a table is read whole, as before.
PART_ROWS = 1_000_000
# From this many rows a frame validated is freed by the cycle collector (GE's objects refer to
# it in cycles), which is slow once GE is loaded: worth it for a large frame only.
LARGE_FRAME_ROWS = 100_000
# Expectations decided row by row: on a table, their outcome is their outcome on its parts
# added up (counts add, samples follow one another, a range is the widest) when no `mostly`
# lets a share of failures pass. A row count, a mean or uniqueness needs every row at once, and
# a type check reads the dtype, which for a nullable column depends on the rows read.
_ROW_WISE = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
}
# Expectations that check a column's Python types value by value.
_TYPE_CHECKS = {"expect_column_values_to_be_in_type_list", "expect_column_values_to_be_of_type"}
# Checks whose outcome is the same whether a column holds integers or the same numbers as floats.
_NUMBER_CHECKS = {
    "expect_column_values_to_be_between",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_unique",
}
# Integers up to 2**53 are exact in float64.
_EXACT_IN_FLOAT = 2**53
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$"
)


class SuiteError(ValueError):
    """A suite file that cannot be read as an expectation suite; the message names the file."""


class ExpectationRunError(RuntimeError):
    """Great Expectations could not evaluate an expectation (missing column, type clash, ...)."""


@dataclass(frozen=True)
class FailedExpectation:
    expectation_type: str  # e.g. "expect_column_values_to_be_between"
    column: str | None
    kwargs: dict  # the expectation's kwargs as written in the suite (no batch_id)
    unexpected_count: int | None
    unexpected_percent: float | None
    sample_unexpected: list  # up to 10 unexpected values (or rows), JSON-serialisable
    severity: str  # "error" or "warning"
    notes: str | None  # meta.notes: what the expectation guards, in a sentence
    observed_value: Any = None  # what an aggregate expectation saw (row count, max, columns)
    label: str | None = None  # meta.label: what the column holds, in words (e.g. 最新快照距今天数)
    unit: str | None = None  # meta.unit: the unit of its figures (e.g. 天)
    rows: int | None = None  # how many rows GE evaluated (element_count)

    @property
    def columns(self) -> list[str]:
        """Every column the expectation is about (one, several, or none for table checks)."""
        if self.column is not None:
            return [self.column]
        if isinstance(self.kwargs.get("column_list"), list):
            return [str(c) for c in self.kwargs["column_list"]]
        return [str(self.kwargs[k]) for k in ("column_A", "column_B") if k in self.kwargs]


@dataclass(frozen=True)
class CheckedExpectation:
    """One expectation of a validation, passed or failed, with what it observed."""

    expectation_type: str
    columns: list[str]
    kwargs: dict  # as written in the suite
    severity: str  # "error" or "warning"
    notes: str | None
    label: str | None
    unit: str | None
    passed: bool
    rows: int | None  # rows evaluated (element_count), None for checks on column names
    unexpected_count: int | None
    observed_range: tuple | None  # (min, max) of a `between` column over the rows read
    failure: FailedExpectation | None  # its failure, when it failed
    missing_count: int | None = None  # rows a value check left out as missing (GE's count)


@dataclass(frozen=True)
class SuiteResult:
    suite_name: str
    success: bool  # True when no error-severity expectation failed
    evaluated: int
    failed: list[FailedExpectation]
    checked: list[CheckedExpectation] = field(default_factory=list)  # every one, in suite order

    @property
    def errors(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == "error"]

    @property
    def warnings(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == "warning"]

    def as_markdown(self) -> str:
        """A Markdown table of the failed expectations, for Dagster metadata."""
        from orchestration.defs.quality.sentences import failure_sentence

        if not self.failed:
            return f"All {self.evaluated} expectations of suite `{self.suite_name}` passed."
        lines = [
            f"Suite `{self.suite_name}`: {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s) among {self.evaluated} expectations.",
            "",
            "| what failed | severity | expectation | unexpected | sample | guards |",
            "|---|---|---|---|---|---|",
        ]
        for f in sorted(self.failed, key=lambda f: f.severity != "error"):
            if f.unexpected_count is None:
                unexpected = ""
            elif f.unexpected_percent is None:
                unexpected = str(f.unexpected_count)
            else:
                unexpected = f"{f.unexpected_count} ({f.unexpected_percent:.1f}%)"
            if f.sample_unexpected:
                sample = json.dumps(f.sample_unexpected, ensure_ascii=False)
            elif f.observed_value is not None:
                sample = "observed: " + json.dumps(f.observed_value, ensure_ascii=False)
            else:
                sample = ""
            cells = [
                failure_sentence(f),
                f.severity,
                f"`{f.expectation_type}({', '.join(f.columns)})`",
                unexpected,
                _clip(sample, 160),
                f.notes or "",
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        return "\n".join(lines)


def suite_path(name: str) -> Path:
    """Where the suite of a dataset or mart lives: `expectations/<name>.json`."""
    return settings.EXPECTATIONS_DIR / f"{name}.json"


def load_suite(path: Path) -> dict:
    """The suite file as a dict, once GE has read it as an ExpectationSuite: its own schema
    (keys and their types), its expectation classes (types and kwargs). SuiteError names the
    file, the expectation and what GE says is wrong."""
    path = Path(path)
    data = _read_json(path)
    _build_suite(path, data)
    return data


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read expectation suite {path}: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(
            f"expectation suite {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from exc


def check_suite(path: Path) -> int:
    """How many expectations the suite at `path` holds, once GE has built every one of them
    (as `load_suite`: unknown types and bad kwargs are reported)."""
    return len(load_suite(path)["expectations"])


def read_checked_columns(
    conn: duckdb.DuckDBPyConnection, query: str, path: Path
) -> tuple[pd.DataFrame, list[str]]:
    """Every row of `query`, run on DuckDB, with only the columns whose values the suite at
    `path` checks; and the names of all the query's columns, for `validate_dataframe`'s
    `table_columns`.

    A wide table read whole costs memory and time in every expectation (GE copies and hashes
    the frame), while a suite checks the values of a handful of columns. The query's column
    names come from DuckDB without running it; the checked columns are read in the query's
    order, and a checked column the query lacks is left out, so GE cannot evaluate its
    expectations, as with the whole table. Expectations on column names (a column set, a column
    count) are checked against all the names. A suite whose columns are not all known before it
    runs (see `checked_columns`) reads every column.
    """
    relation, names = _checked_relation(conn, query, path)
    return next(_frames(relation, None)), names


@dataclass(frozen=True)
class QueryValidation:
    result: SuiteResult
    rows: int  # rows of the query validated
    parts: int  # frames they were validated in, one after another


def validate_query(
    conn: duckdb.DuckDBPyConnection,
    query: str,
    path: Path,
    data_asset_name: str | None = None,
    rows_per_part: int = PART_ROWS,
) -> QueryValidation:
    """The suite at `path` on every row of `query`, read as `read_checked_columns` reads it.

    A suite whose expectations are all decided row by row (`_ROW_WISE`, with no `mostly` and no
    `row_condition`; expectations on column names do not count) reads and validates
    `rows_per_part` rows at a time and adds their outcomes up (`_added_up`): a check
    holds one part in pandas, whatever the table's size (at 4x the benchmark's default size the
    first check of account_performance read 14.5 M rows whole and peaked at 4.6 GB). Any other
    suite reads its rows whole. Each frame is freed before the next is read.
    """
    path = Path(path)
    relation, names = _checked_relation(conn, query, path)
    whole = not all(_row_wise(item) for item in load_suite(path)["expectations"])
    results, rows = [], 0
    # closed on an error too: its stream and its converter connection end with it
    frames = contextlib.closing(_frames(relation, None if whole else rows_per_part))
    with frames as parts:
        for frame in parts:
            rows += len(frame)
            results.append(validate_dataframe(path, frame, data_asset_name, table_columns=names))
            large = len(frame) >= LARGE_FRAME_ROWS
            del frame
            if large:
                gc.collect()
            give_back_memory()
    return QueryValidation(_added_up(results), rows, len(results))


def _row_wise(item: dict) -> bool:
    kwargs = item.get("kwargs") or {}
    if item["type"] in _COLUMN_NAME_TYPES:
        return True
    return item["type"] in _ROW_WISE and "mostly" not in kwargs and not kwargs.get("row_condition")


def _checked_relation(
    conn: duckdb.DuckDBPyConnection, query: str, path: Path
) -> tuple[duckdb.DuckDBPyRelation | int, list[str]]:
    """What `read_checked_columns` reads, a relation (or only the number of rows, for a suite
    that checks row counts or column names and no values), and the query's column names."""
    relation = conn.sql(query)
    if relation is None:
        raise ExpectationRunError(f"the query of suite {Path(path).name} is no SELECT: {query}")
    names = list(relation.columns)
    suite = load_suite(path)
    checked = checked_columns(suite["expectations"])
    if checked is None:
        return relation, names
    # the columns a failure's sample names its rows by (meta.identify_by), read with the checked
    checked |= set(identify_by(suite))
    for item in suite["expectations"]:
        checked |= set(identify_by(item))
    columns = [name for name in names if name in checked]
    if not columns:  # row counts and column names only: how many rows, without values
        (rows,) = relation.aggregate("count(*)").fetchone()
        return rows, names
    return relation.project(", ".join(_quoted(name) for name in columns)), names


def _added_up(parts: list[SuiteResult]) -> SuiteResult:
    """One suite's results on consecutive parts of a table as its result on the whole: counts
    added, GE's percentage taken again over the rows it counts (those not missing; every row for
    the null checks, which report no missing count), samples in the parts' order up to
    `SAMPLE_SIZE`, ranges widened (in the values' order: ISO moments as moments). Only for
    row-wise expectations without `mostly` (`validate_query`), whose outcome on the whole is
    passed when every part passed."""
    if len(parts) == 1:
        return parts[0]
    checked = []
    for outcomes in zip(*(part.checked for part in parts), strict=True):
        if outcomes[0].expectation_type in _COLUMN_NAME_TYPES:  # the same names in every part
            checked.append(outcomes[0])
            continue
        rows = _total(o.rows for o in outcomes)
        unexpected = _total(o.unexpected_count for o in outcomes)
        missing = _total(o.missing_count for o in outcomes)
        ranges = [o.observed_range for o in outcomes if o.observed_range is not None]
        failures = [o.failure for o in outcomes if o.failure is not None]
        failure = None
        if failures:
            counted = (rows or 0) - (missing or 0)
            percent = failures[0].unexpected_percent
            failure = dataclasses.replace(
                failures[0],
                unexpected_count=unexpected,
                unexpected_percent=(
                    unexpected / counted * 100 if percent is not None and counted else percent
                ),
                sample_unexpected=[s for f in failures for s in f.sample_unexpected][:SAMPLE_SIZE],
                rows=rows,
            )
        checked.append(
            dataclasses.replace(
                outcomes[0],
                passed=all(o.passed for o in outcomes),
                rows=rows,
                unexpected_count=unexpected,
                missing_count=missing,
                observed_range=(
                    (
                        min((r[0] for r in ranges), key=_in_order),
                        max((r[1] for r in ranges), key=_in_order),
                    )
                    if ranges
                    else None
                ),
                failure=failure,
            )
        )
    failed = [c.failure for c in checked if c.failure is not None]
    return SuiteResult(
        suite_name=parts[0].suite_name,
        success=not any(f.severity == "error" for f in failed),
        evaluated=parts[0].evaluated,
        failed=failed,
        checked=checked,
    )


def _in_order(value: Any) -> Any:
    """A range bound as it compares: an ISO date or moment (`_json_safe`'s text) as a moment, so
    that offsets across a clock change compare by the instant."""
    import pandas as pd

    if isinstance(value, str) and _ISO_DATE.match(value):
        with contextlib.suppress(ValueError, OverflowError):
            moment = pd.Timestamp(value)
            return moment.tz_convert("UTC").tz_localize(None) if moment.tzinfo else moment
    return value


def _total(counts) -> int | None:
    counts = [c for c in counts if c is not None]
    return sum(counts) if counts else None


def _frames(relation: duckdb.DuckDBPyRelation | int, rows: int | None) -> Iterator[pd.DataFrame]:
    """The relation's rows as DuckDB's `.df()` gives them (same dtypes and values), whole
    (`rows` None) or in frames of at least `rows` rows, in a fraction of `.df()`'s peak memory.
    A number of rows (`_checked_relation`) gives one frame of that many rows and no columns.

    `.df()` holds the whole result in DuckDB while it makes a Python string of every text value,
    which pandas then packs into Arrow again: several times the text's size at peak
    (docs/performance.md). Here the rows stream as Arrow record batches and each batch is
    converted and let go before the next: text columns become pandas `str` columns (`object` on
    pandas 2, as `.df()` gives), every other column is converted by DuckDB itself, so `.df()`'s
    dtype rules hold (nullable Int64 for integers with nulls, DATE as datetime64, DECIMAL as
    float64, ...).
    """
    import duckdb
    import pandas as pd

    if isinstance(relation, int):
        yield pd.DataFrame(index=pd.RangeIndex(relation))
        return
    reader = relation.to_arrow_reader(min(_BATCH_ROWS, rows or _BATCH_ROWS))
    names = reader.schema.names
    pieces: list[list[pd.Series]] = [[] for _ in names]
    held, given = 0, 0
    # Another connection: a query on the relation's own would end the stream.
    with duckdb.connect(config=connection_config()) as converter:
        for batch in reader:
            held += batch.num_rows
            for position, values in enumerate(batch.columns):
                pieces[position].append(_column_to_pandas(converter, values))
            del batch, values  # DuckDB frees a batch once no column of it is referenced
            if rows is not None and held >= rows:
                yield _joined(pieces, names)
                pieces, held, given = [[] for _ in names], 0, given + 1
    if held or not given:
        # no rows at all: nothing to hold, and `.df()` knows the dtypes of no values
        yield _joined(pieces, names) if held else relation.limit(0).df()


def _joined(pieces: list[list[pd.Series]], names: list[str]) -> pd.DataFrame:
    """Batches of columns as one frame. Batches of a nullable column without nulls come as
    numpy dtypes; pandas' concat settles on the nullable one, as `.df()` does for the whole
    column. Text is not copied again (the Arrow chunks are kept), numbers are: one column's
    pieces at a time, each list emptied as it goes."""
    import pandas as pd

    columns = []
    while pieces:
        columns.append(pd.concat(pieces.pop(0), ignore_index=True))
    frame = pd.DataFrame(dict(enumerate(columns)), copy=False)
    frame.columns = names  # by position: a query may repeat a column name
    return frame


def _column_to_pandas(converter: duckdb.DuckDBPyConnection, values: pa.Array) -> pd.Series:
    import pandas as pd
    import pyarrow as pa

    if pa.types.is_dictionary(values.type):  # an ENUM, which `.df()` makes an ordered categorical
        categories = pd.Index(values.dictionary.to_pylist())
        return _column_to_pandas(converter, values.dictionary_decode()).astype(
            pd.CategoricalDtype(categories, ordered=True)
        )
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        # Copied into buffers of pyarrow's own: pandas would otherwise keep the whole batch.
        empty = pa.array([], pa.large_string())
        return pa.concat_arrays([empty, values.cast(pa.large_string())]).to_pandas()
    return converter.from_arrow(pa.table({"v": values})).df()["v"]


def checked_columns(expectations: list[dict]) -> set[str] | None:
    """The columns whose values the expectations check; None when that is not known before GE
    runs: a `row_condition` (pandas query text that may name any column) or a column given as a
    suite parameter. Expectations on column names alone check no values."""
    checked: set[str] = set()
    for item in expectations:
        kwargs = item.get("kwargs") or {}
        if item["type"] in _COLUMN_NAME_TYPES:
            continue
        named = _named_columns(kwargs)
        if named is None or kwargs.get("row_condition"):
            return None
        checked |= named
    return checked


def identify_by(suite: dict) -> list[str]:
    """The columns that say which row a value is (`meta.identify_by`, e.g. a creator, month and
    dimension): a failed value expectation's sample then lists those rows, with the value, rather
    than bare values that name no record. An expectation's own `meta.identify_by` (the same call
    on the expectation) takes the place of its suite's, for a figure that needs others beside it."""
    names = (suite.get("meta") or {}).get("identify_by") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        where = suite.get("name") or suite.get("type")
        raise SuiteError(f"{where}: meta.identify_by must be a list of columns")
    return names


def _named_columns(kwargs: dict) -> set[str] | None:
    """The columns an expectation's kwargs name; None if one is not a plain name."""
    named: set[str] = set()
    for key in _COLUMN_KWARGS:
        if isinstance(kwargs.get(key), str):
            named.add(kwargs[key])
        elif key in kwargs:
            return None
    for key in _COLUMN_LIST_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            named.update(value)
        elif key in kwargs:
            return None
    return named


def validate_dataframe(
    suite_path: Path,
    df: pd.DataFrame,
    data_asset_name: str | None = None,
    table_columns: list[str] | None = None,
) -> SuiteResult:
    """Run the suite at `suite_path` against `df` (which is not modified).

    `table_columns` are the names of all the columns of the table `df` was read from, when `df`
    holds only some (`read_checked_columns`): expectations on column names (a column set, an
    ordered list, a count) are checked against them, the others against `df`.

    The result holds every expectation's outcome (`checked`), the failed ones with their sample
    (`failed`).
    """
    import pandas as pd

    suite_path = Path(suite_path)
    data = load_suite(suite_path)
    frame, made_float = _normalise_frame(df, data["expectations"])
    items = [_normalise_expectation(item, frame) for item in data["expectations"]]
    suite = _build_suite(suite_path, data, items)
    asset_name = data_asset_name or suite.name

    # Each group of expectations is validated against the columns it reads, every row of them:
    # GE's pandas engine copies the whole frame it is given for each column expectation (to
    # drop the column's nulls), which for a wide frame costs as much memory again, and time.
    results: list = [None] * len(items)
    for key, positions in _groups(items).items():
        if key == _NAMES:  # column names only: no rows
            part = pd.DataFrame(columns=table_columns if table_columns is not None else df.columns)
        elif key == _WHOLE:
            part = frame
        else:
            part = frame[[name for name in frame.columns if name in key]]
        run = _validate(suite_path, data, [items[i] for i in positions], part, asset_name)
        for position, result in zip(positions, run.results, strict=True):
            results[position] = result

    _raise_for_exceptions(suite_path, results)
    checked = [
        _checked(r, data["expectations"][i], df, made_float, identify_by(data))
        for i, r in enumerate(results)
    ]
    failed = [c.failure for c in checked if c.failure is not None]
    return SuiteResult(
        suite_name=suite.name,
        success=not any(f.severity == "error" for f in failed),
        evaluated=len(results),
        failed=failed,
        checked=checked,
    )


def _groups(items: list[dict]) -> dict[object, list[int]]:
    """Positions of the expectations by what they read: `_NAMES` (column names), `_WHOLE` (any
    column: a row_condition or a column given as a parameter), or the set of columns they name
    (empty for row counts)."""
    groups: dict[object, list[int]] = {}
    for position, item in enumerate(items):
        kwargs = item.get("kwargs") or {}
        if item["type"] in _COLUMN_NAME_TYPES:
            key: object = _NAMES
        else:
            named = _named_columns(kwargs)
            key = _WHOLE if named is None or kwargs.get("row_condition") else frozenset(named)
        groups.setdefault(key, []).append(position)
    return groups


def _validate(path: Path, data: dict, items: list[dict], frame: pd.DataFrame, asset_name: str):
    """GE's validation of `items` on `frame`, its results in the order of `items`, in an
    in-memory context of its own (creating one takes milliseconds)."""
    gx = _gx()
    context = _context()
    batch_definition = (
        context.data_sources.add_pandas("pandas")
        .add_dataframe_asset(asset_name)
        .add_batch_definition_whole_dataframe("whole_dataframe")
    )
    suite = context.suites.add(_build_suite(path, data, items))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite)
    )
    # BASIC has the counts and the sampled values. SUMMARY adds the index of every unexpected
    # row and a pandas query naming them, for which GE copies the frame once more per
    # expectation: 2.5x the time of BASIC at 3.6 M rows. The rows of missing values, the one
    # sample needing an index, are looked up in `_failed`.
    result = definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "BASIC", "partial_unexpected_count": SAMPLE_SIZE},
    )
    # GE reports in its own order.
    position = {e.id: i for i, e in enumerate(suite.expectations)}
    result.results = [
        r for _, r in sorted((position[r.expectation_config.id], r) for r in result.results)
    ]
    return result


# What Great Expectations imports and these suites never use (they validate pandas frames with
# GE's core expectations), kept out of its import in each process that runs a check:
# - pyspark, which GE imports when it finds it, to offer a Spark engine (it is installed for dbt's
#   Spark profile): not found, which GE supports;
# - scipy.stats (the statistics of a few distributional expectations) and altair (the charts of
#   GE's data docs), which GE imports whatever it runs: their modules run on first use instead.
NOT_FOUND_BY_GE = ("pyspark",)
RUN_ON_FIRST_USE_BY_GE = ("scipy.stats", "altair")


class _GreatExpectationsImports(importlib.abc.MetaPathFinder):
    """For the imports of the thread that made it: `import pyspark` fails as if pyspark were not
    installed, and the modules of RUN_ON_FIRST_USE_BY_GE are found as usual but loaded lazily
    (importlib.util.LazyLoader: the module's code runs when an attribute is first read or it is
    imported again, in whichever thread does so first; on Python 3.11 that first load takes no
    lock, and nothing here uses them). Other threads import as usual meanwhile. A module imported
    already is left as it is: a process that has imported pyspark (dbt on Spark) gives GE the
    real one."""

    def __init__(self):
        self._thread = threading.get_ident()
        self._not_found = tuple(name for name in NOT_FOUND_BY_GE if name not in sys.modules)

    def find_spec(self, name, path=None, target=None):
        if threading.get_ident() != self._thread:
            return None
        if name.partition(".")[0] in self._not_found:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        if name not in RUN_ON_FIRST_USE_BY_GE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def _gx():
    """Great Expectations, imported on first use, without what the suites never use
    (_GreatExpectationsImports). That spares each process that runs a check about 1.2 s of GE's
    6-9 s import and 18 MB for pyspark, and about 1.5 s and 75 MiB more for scipy.stats and
    altair, on a slow 2-core machine (docs/performance.md, "The import round" and "The lazy
    round"). pyspark stays importable afterwards, and scipy.stats and altair load whole when
    used."""
    if "great_expectations" not in sys.modules:
        finder = _GreatExpectationsImports()
        sys.meta_path.insert(0, finder)
        try:
            import great_expectations  # noqa: F401
        finally:
            sys.meta_path.remove(finder)
    import great_expectations as gx

    return gx


# -- building the suite ---------------------------------------------------------------------


def _build_suite(path: Path, data: Any, items: list[dict] | None = None):
    """The GE ExpectationSuite of the suite file's `data`, read as GE's own JSON store reads
    one (its schema: keys and their types), with `items` (this run's copies of the file's
    expectations) in place of the file's when given. SuiteError names the file, the expectation
    and GE's message."""
    gx = _gx()
    from great_expectations.core.expectation_suite import expectationSuiteSchema
    from marshmallow import ValidationError

    if isinstance(data, dict) and items is not None:
        data = {**data, "expectations": items}
    try:
        loaded = expectationSuiteSchema.load(data)
    except ValidationError as exc:
        raise SuiteError(f"expectation suite {path}: {_schema_errors(data, exc.messages)}") from exc
    # GE reads a suite without "expectations" as an empty one, which would pass every run.
    if "expectations" not in data:
        raise SuiteError(f"expectation suite {path} needs an 'expectations' list")
    expectations = []
    for number, config in enumerate(loaded["expectations"], start=1):
        where = f"expectation suite {path}: expectation #{number} ({config.type})"
        # meta.severity is the project's convention, which GE does not know; GE's own
        # top-level severity (critical/warning/info) counts only where it is absent.
        severity = (config.meta or {}).get("severity")
        if severity is not None:
            if severity not in SEVERITIES:
                raise SuiteError(
                    f"{where}: meta.severity must be one of {', '.join(SEVERITIES)}, "
                    f"not {severity!r}"
                )
            config.severity = "warning" if severity == "warning" else "critical"
        # Built one by one: GE's suite constructor logs an expectation it cannot build (an
        # unknown type) and leaves it out.
        try:
            expectations.append(config.to_domain_obj())
        except Exception as exc:
            raise SuiteError(f"{where}: {_one_line(exc)}") from exc
    try:
        return gx.ExpectationSuite(
            name=loaded.get("name"),
            expectations=expectations,
            meta=loaded.get("meta"),
            notes=loaded.get("notes"),
            suite_parameters=loaded.get("suite_parameters"),
        )
    except Exception as exc:
        raise SuiteError(f"expectation suite {path}: {_one_line(exc)}") from exc


def _schema_errors(data: Any, messages: Any) -> str:
    """GE's schema errors, `{"key": ["..."], "expectations": {0: {"key": ["..."]}}}`, as one
    line naming each expectation by number and type."""
    if not isinstance(messages, dict):
        return " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
    problems = []
    for key, value in messages.items():
        if key == "expectations" and isinstance(value, dict):
            items = data.get("expectations") or []
            for index, fields in sorted(value.items()):
                kind = items[index].get("type") if isinstance(items[index], dict) else None
                which = f"expectation #{index + 1}" + (
                    f" ({kind})" if isinstance(kind, str) else ""
                )
                problems.append(f"{which}: {_schema_errors(items[index], fields)}")
        elif key == "_schema":  # the value itself, not one of its keys
            problems.append(f"{_schema_errors(data, value)} (a JSON object is expected)")
        else:
            problems.append(f"{key}: {_schema_errors(data, value)}")
    return "; ".join(problems)


def _severity(expectation_config, original: dict | None) -> str:
    meta = (original or {}).get("meta") or {}
    if "severity" in meta:
        return meta["severity"]
    native = getattr(expectation_config, "severity", None)
    native = getattr(native, "value", native)
    return "warning" if native in ("warning", "info") else "error"


# -- making DuckDB DataFrames and suites meet -----------------------------------------------


def _normalise_frame(df: pd.DataFrame, expectations: list[dict]) -> tuple[pd.DataFrame, set]:
    """A shallow copy of `df` in the dtypes GE's pandas engine evaluates right, and fast; also
    the names of the columns made float64 (their samples are reported as integers again).

    - Text columns a type expectation reads become `object`. pandas 3 gives text the `str`
      dtype, which no type name matches in `expect_column_values_to_be_in_type_list`; on an
      object column GE checks each value's Python type. Other text columns keep `str` (GE's
      value checks treat it as object, in a fraction of the memory: GE copies the column).
    - The columns no type expectation reads are widened where GE's `between` would otherwise
      compare value by value in Python (it is vectorised on int64, float64 and datetime64[ns]
      only): datetime64 of another unit (DuckDB's DATE and TIMESTAMP come as microseconds)
      becomes nanoseconds when its values fit (years 1678-2261); numpy integers narrower than
      64 bits become int64; nullable integers (DuckDB's Int32/Int64 for columns with nulls)
      become float64 if only `_NUMBER_CHECKS` read them and every value is exact there (text
      checks would see "12.0"). Nulls stay missing values. Timings in docs/performance.md.
    """
    import numpy as np
    import pandas as pd
    from pandas.api.types import is_integer_dtype

    typed = {
        item["kwargs"]["column"]
        for item in expectations
        if item["type"] in _TYPE_CHECKS and isinstance(item.get("kwargs", {}).get("column"), str)
    }
    numbers_only = _numbers_only_columns(expectations)
    frame = df.copy(deep=False)
    made_float = set()
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        dtype = column.dtype
        if name in typed:
            if isinstance(dtype, pd.StringDtype):
                frame.isetitem(position, column.astype(object))
        elif not isinstance(dtype, np.dtype):  # pandas' own dtypes: nullable, categorical, text
            if (
                name in numbers_only
                and is_integer_dtype(dtype)
                and (
                    column.isna().all()
                    or (column.min() >= -_EXACT_IN_FLOAT and column.max() <= _EXACT_IN_FLOAT)
                )
            ):
                frame.isetitem(position, column.astype("float64"))
                made_float.add(name)
        elif dtype.kind == "M" and dtype != "M8[ns]":
            # outside 1678-2261 a column cannot be nanoseconds: GE compares it value by value
            with contextlib.suppress(OverflowError, ValueError):
                frame.isetitem(position, column.astype("datetime64[ns]"))
        elif dtype.kind == "i" and dtype.itemsize < 8:
            frame.isetitem(position, column.astype(np.int64))
    return frame, made_float


def _numbers_only_columns(expectations: list[dict]) -> set[str]:
    """The columns only `_NUMBER_CHECKS` read (expectations on column names do not count):
    their outcome is the same whether a column holds integers or the same numbers as floats.
    None at all when an expectation may read any column (a row_condition, a column parameter)."""
    compared: set[str] = set()
    other: set[str] = set()
    for item in expectations:
        kind = item["type"]
        kwargs = item.get("kwargs") or {}
        named = _named_columns(kwargs)
        if named is None or kwargs.get("row_condition"):
            return set()
        if kind in _COLUMN_NAME_TYPES:
            continue
        if kind in _NUMBER_CHECKS and isinstance(kwargs.get("column"), str):
            compared.add(kwargs["column"])
        else:
            other |= named
    return compared - other


def _normalise_expectation(item: dict, frame: pd.DataFrame) -> dict:
    """This run's copy of an expectation, its kwargs adjusted to the frame (see the README):
    text and nullable type names made GE's, date bounds of datetime columns made datetimes."""
    import pandas as pd

    item = json.loads(json.dumps(item))
    kwargs = item.setdefault("kwargs", {})
    kind = item["type"]
    if kind == "expect_column_values_to_be_in_type_list" and isinstance(
        kwargs.get("type_list"), list
    ):
        names = list(kwargs["type_list"])
        if any(name in _TEXT_TYPE_NAMES for name in names):
            names.append("str")
        names += [
            _NULLABLE_TYPE_NAMES[n][0] for n in kwargs["type_list"] if n in _NULLABLE_TYPE_NAMES
        ]
        kwargs["type_list"] = list(dict.fromkeys(names))
    elif kind == "expect_column_values_to_be_of_type" and isinstance(kwargs.get("type_"), str):
        if kwargs["type_"] in _TEXT_TYPE_NAMES:
            kwargs["type_"] = "str"
        elif kwargs["type_"] in _NULLABLE_TYPE_NAMES:
            kwargs["type_"] = _NULLABLE_TYPE_NAMES[kwargs["type_"]][1]
    column = kwargs.get("column")
    if isinstance(column, str) and column in frame.columns:
        dtype = frame[column].dtype
        # GE reads "2024-01-01" as a date, which pandas refuses to compare with a datetime64
        # column ("Cannot compare Timestamp with datetime.date"); a datetime it compares.
        if pd.api.types.is_datetime64_any_dtype(dtype):
            for bound in ("min_value", "max_value"):
                moment = _as_timestamp(kwargs.get(bound), getattr(dtype, "tz", None))
                if moment is not None:
                    kwargs[bound] = moment
    return item


def _as_timestamp(value: Any, tz) -> str | None:
    """A date bound as an ISO datetime in the zone of a datetime64 column (`tz`)."""
    import pandas as pd

    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        return None
    try:
        moment = pd.Timestamp(value.strip())
    except (ValueError, OverflowError):
        return None  # not a real date: GE itself says what is wrong with it
    if tz is not None and moment.tzinfo is None:
        moment = moment.tz_localize(tz)
    elif tz is None and moment.tzinfo is not None:
        moment = moment.tz_convert("UTC").tz_localize(None)
    return moment.isoformat()


# -- reading GE's result --------------------------------------------------------------------


def _raise_for_exceptions(path: Path, results: list) -> None:
    problems = []
    for r in results:
        messages = _exception_messages(r.exception_info)
        if messages:
            config = r.expectation_config
            column = config.kwargs.get("column")
            where = config.type + (f" on column '{column}'" if column else "")
            if any("NA is ambiguous" in m for m in messages):
                messages.append(
                    "a nullable column holds nulls: for a row-wise check of several columns "
                    'add "ignore_row_if": "any_value_is_missing" to its kwargs'
                )
            problems.append(f"{where}: {'; '.join(messages)}")
    if problems:
        raise ExpectationRunError(
            f"Great Expectations could not evaluate suite {path.name}: " + " | ".join(problems)
        )


def _exception_messages(info) -> list[str]:
    """GE records an exception either flat or keyed by metric; gather every message."""
    if not isinstance(info, dict):
        return []
    if "raised_exception" in info:
        if info.get("raised_exception"):
            return [str(info.get("exception_message") or "unknown error")]
        return []
    messages: list[str] = []
    for value in info.values():
        for message in _exception_messages(value):
            if message not in messages:
                messages.append(message)
    return messages


def _checked(
    r, original: dict, df: pd.DataFrame, made_float: set, identify: list[str]
) -> CheckedExpectation:
    """The outcome of one expectation; a `between` column's range is read from `df` (GE's BASIC
    result has no min and max), so a passed bound shows how close the data came to it."""
    identify = identify_by(original) or identify
    failure = None if r.success else _failed(r, original, df, made_float, identify)
    kwargs = dict(original.get("kwargs") or {})
    meta = original.get("meta") or {}
    column = kwargs.get("column") if isinstance(kwargs.get("column"), str) else None
    result = dict(r.result or {})
    observed_range = None
    if (
        original["type"] == "expect_column_values_to_be_between"
        and column in df.columns
        and not kwargs.get("row_condition")
        and df[column].notna().any()
    ):
        observed_range = tuple(_json_safe([df[column].min(), df[column].max()]))
        if column in made_float or _is_integer_column(df[column]):
            observed_range = tuple(
                int(v) if isinstance(v, float) and v.is_integer() else v for v in observed_range
            )
    count = result.get("unexpected_count")
    rows = result.get("element_count")
    missing = result.get("missing_count")
    return CheckedExpectation(
        expectation_type=original["type"],
        columns=_columns_of(kwargs),
        kwargs=_json_safe(kwargs),
        severity=_severity(r.expectation_config, original),
        notes=meta.get("notes") if isinstance(meta.get("notes"), str) else None,
        label=meta.get("label") if isinstance(meta.get("label"), str) else None,
        unit=meta.get("unit") if isinstance(meta.get("unit"), str) else None,
        passed=bool(r.success),
        rows=int(rows) if rows is not None else None,
        unexpected_count=int(count) if count is not None else None,
        observed_range=observed_range,
        failure=failure,
        missing_count=int(missing) if missing is not None else None,
    )


def _is_integer_column(column) -> bool:
    from pandas.api.types import is_integer_dtype

    return is_integer_dtype(column.dtype)


def _columns_of(kwargs: dict) -> list[str]:
    if isinstance(kwargs.get("column"), str):
        return [kwargs["column"]]
    for key in _COLUMN_LIST_KWARGS:
        if isinstance(kwargs.get(key), list):
            return [str(c) for c in kwargs[key]]
    return [str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs]


def _failed(
    r, original: dict | None, df: pd.DataFrame, made_float: set, identify: list[str] = ()
) -> FailedExpectation:
    config = r.expectation_config
    result = dict(r.result or {})
    kwargs = dict((original or {}).get("kwargs") or config.kwargs)
    kwargs.pop("batch_id", None)
    column = kwargs.get("column") if isinstance(kwargs.get("column"), str) else None
    meta = (original or {}).get("meta") or config.meta or {}
    notes = meta.get("notes") or (original or {}).get("notes")

    sample: list = []
    if (
        config.type == "expect_column_values_to_not_be_null"
        and column in df.columns
        and not kwargs.get("row_condition")
    ):
        # The values are all null; the rows say which records they are: the first ones, as GE
        # would list them (with a row_condition GE's own rows would differ: none are shown).
        rows = df.loc[df.index[df[column].isna().to_numpy()][:SAMPLE_SIZE]]
        sample = rows.to_dict(orient="records")
    elif "partial_unexpected_list" in result:
        sample = list(result["partial_unexpected_list"])[:SAMPLE_SIZE]
        if column in made_float:
            sample = [int(v) if isinstance(v, float) and v.is_integer() else v for v in sample]
        if (
            sample
            and identify
            and column in df.columns
            and all(name in df.columns for name in identify)
            and not kwargs.get("row_condition")
        ):
            # The rows holding the unexpected values, named by meta.identify_by: which record
            # failed, not only by how much (a value-wise check: a row holding an unexpected
            # value is itself unexpected).
            rows = df.loc[df[column].isin(sample), [*identify, column]][:SAMPLE_SIZE]
            sample = rows.to_dict(orient="records")
    elif config.type in (
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
    ):
        mismatched = (result.get("details") or {}).get("mismatched")
        if isinstance(mismatched, dict):
            if not kwargs.get("exact_match", True):  # other columns are allowed: not the cause
                mismatched = {"missing": mismatched.get("missing")}
            sample = [{k: v for k, v in mismatched.items() if v}]

    count = result.get("unexpected_count")
    percent = result.get("unexpected_percent")
    return FailedExpectation(
        expectation_type=config.type,
        column=column,
        kwargs=_json_safe(kwargs),
        unexpected_count=int(count) if count is not None else None,
        unexpected_percent=float(percent) if percent is not None else None,
        sample_unexpected=_json_safe(sample),
        severity=_severity(config, original),
        notes=notes if isinstance(notes, str) else None,
        observed_value=_json_safe(result.get("observed_value")),
        label=meta.get("label") if isinstance(meta.get("label"), str) else None,
        unit=meta.get("unit") if isinstance(meta.get("unit"), str) else None,
        rows=int(result["element_count"]) if result.get("element_count") is not None else None,
    )


def _json_safe(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, missing values as None, moments as ISO."""
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# -- GE's context ---------------------------------------------------------------------------


def _context():
    """An ephemeral Data Context: in-memory stores, no Data Docs site."""
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
