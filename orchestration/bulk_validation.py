"""Validating a whole delivered file at once in DuckDB, with the Python validator as the judge of
anything unusual.

Millions of snapshot values are written the same few ways: `5207`, `12.7万`, `3.4w`, `44.74%`,
`2025-04-17`. This module types those forms with vectorized SQL, which is exact for them (the
same integer arithmetic as `parsing.parse_count`). A row with any value outside them, or any
value the SQL refuses (a bad count, an impossible or future date, an unknown category, a missing
required value), is handed to `validation.validate_record`, row by row: it either reads the
unusual form (`１２，７００`, `10万+`, `赞`, `2025.4.17`) or says exactly what is wrong. So the
SQL only ever decides rows that are good in the common forms; every reason a person reads still
comes from the one Python validator, and `tests/test_bulk_validation.py` holds the two to the
same results.
"""

from datetime import date

import duckdb
import pyarrow as pa

from orchestration.datasets import Column, Dataset, Kind
from orchestration.landing import Records
from orchestration.validation import (
    HeaderMap,
    Problem,
    raw_columns,
    typed_columns,
    validate_record,
)

# Arrow types of the raw tables' columns (DuckDB type names as `raw_columns` gives them).
ARROW_TYPES = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "JSON": pa.string(),
}

# The common forms, no spaces, no signs, no separators: anything else goes to Python.
# A count: at most 18 plain digits (a BIGINT), or digits with a unit. Nine integer digits and
# eight decimals keep the scaled value below 10^17, so the SQL arithmetic cannot overflow.
_PLAIN_COUNT = "[0-9]{1,18}"
_UNIT_COUNT = r"^([0-9]{1,9})(?:\.([0-9]{1,8}))?([万萬亿億千wWkK])$"
_PERCENT = r"[0-9]{1,3}(\.[0-9]{1,9})?%?"
_MONTH = "[0-9]{4}(-[0-9]{1,2}|/[0-9]{1,2}|年[0-9]{1,2}月)"
_DATE = "[0-9]{4}(-[0-9]{1,2}-[0-9]{1,2}|/[0-9]{1,2}/[0-9]{1,2}|年[0-9]{1,2}月[0-9]{1,2}日)"
_ISO_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CATEGORY = "[A-Za-z_ -]+"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _unit_exponent(unit: str) -> str:
    return (
        f"CASE WHEN {unit} IN ('万', '萬', 'w', 'W') THEN 4"
        f" WHEN {unit} IN ('亿', '億') THEN 8 ELSE 3 END"
    )


# Year, month and day of any accepted date or month form, once its shape is known.
_DATE_PARTS = "'^([0-9]{4})[^0-9]+([0-9]{1,2})[^0-9]*([0-9]{0,2})', ['y', 'm', 'd']"


def _checked_date(form: str, value: str, latest: str) -> str:
    """The date when the text had an accepted form, a year the parser accepts and is not after
    `latest`; else NULL."""
    return (
        f"CASE WHEN {form} AND year({value}) BETWEEN 1900 AND 2999 AND {value} <= {latest}"
        f" THEN {value} END"
    )


def _typed_sql(column: Column, text: str, today: date):
    """How one contract column is typed from its delivered text (the column `text`), in two
    steps, so each regular expression runs once per value: first (SQL, alias) pairs read from
    the text (its form, its parts), then (SQL, raw column) pairs computed from those aliases,
    the value first, NULL where the text is not in a common form or not valid."""
    name = column.name
    read = [(text, f"{name}__text")]
    text, form, parts = (f'"{name}__{step}"' for step in ("text", "form", "parts"))
    today_sql = f"DATE '{today.isoformat()}'"
    match column.kind:
        case Kind.TEXT:
            return read, [(text, name)]
        case Kind.CATEGORY:
            code = f"replace(replace(lower({text}), '-', '_'), ' ', '_')"
            allowed = ", ".join(_literal(a) for a in column.allowed)
            read.append((f"regexp_full_match({text}, '{_CATEGORY}')", f"{name}__form"))
            return read, [(f"CASE WHEN {form} AND {code} IN ({allowed}) THEN {code} END", name)]
        case Kind.COUNT:
            # Most values are plain digits: only the others are taken apart.
            plain = f"regexp_full_match({text}, '{_PLAIN_COUNT}')"
            read += [
                (plain, f"{name}__form"),
                (
                    f"CASE WHEN NOT {plain} THEN"
                    f" regexp_extract({text}, '{_UNIT_COUNT}', ['int', 'frac', 'unit']) END",
                    f"{name}__parts",
                ),
            ]
            exponent = _unit_exponent(f"{parts}.unit")
            kept = f"left({parts}.frac, {exponent})"  # decimals the unit absorbs
            unit_step = f"CAST(10 ** ({exponent} - length({kept})) AS BIGINT)"
            unit_value = (
                f"CASE WHEN {parts}.int <> ''"
                f" AND ltrim(substr({parts}.frac, {exponent} + 1), '0') = ''"
                f" THEN CAST({parts}.int || {kept} AS BIGINT) * {unit_step} END"
            )
            return read, [
                (f"CASE WHEN {form} THEN CAST({text} AS BIGINT) ELSE {unit_value} END", name),
                (text, f"{name}_raw"),
                (f"CASE WHEN {form} THEN 1 ELSE {unit_step} END", f"{name}_step"),
                (f"CASE WHEN {text} IS NOT NULL THEN false END", f"{name}_censored"),
            ]
        case Kind.PERCENT:
            read.append((f"regexp_full_match({text}, '{_PERCENT}')", f"{name}__form"))
            share = f"CAST(rtrim({text}, '%') AS DOUBLE)"
            return read, [
                (f"CASE WHEN {form} AND {share} <= 100 THEN {share} END", name),
                (text, f"{name}_raw"),
            ]
        case Kind.MONTH:
            read += [
                (f"regexp_full_match({text}, '{_MONTH}')", f"{name}__form"),
                (f"regexp_extract({text}, {_DATE_PARTS})", f"{name}__parts"),
            ]
            value = f"TRY_CAST({parts}.y || '-' || {parts}.m || '-01' AS DATE)"
            return read, [(_checked_date(form, value, f"date_trunc('month', {today_sql})"), name)]
        case Kind.DATE:
            # ISO dates (most values) are cast as they are; only the other forms are taken apart.
            iso = f"regexp_full_match({text}, '{_ISO_DATE}')"
            read += [
                (f"({iso} OR regexp_full_match({text}, '{_DATE}'))", f"{name}__form"),
                (
                    f"CASE WHEN NOT {iso} THEN regexp_extract({text}, {_DATE_PARTS}) END",
                    f"{name}__parts",
                ),
                (f"CASE WHEN {iso} THEN TRY_CAST({text} AS DATE) END", f"{name}__iso"),
            ]
            value = (
                f'coalesce("{name}__iso",'
                f" TRY_CAST({parts}.y || '-' || {parts}.m || '-' || {parts}.d AS DATE))"
            )
            return read, [(_checked_date(form, value, today_sql), name)]
    raise AssertionError(column.kind)


def _typed_query(dataset: Dataset, header: HeaderMap, positions: dict[str, int], today: date):
    """SELECT of the typed raw columns and an `ok` flag from the table `delivered_text` (its
    columns: `line_number`, and `c<i>` for the header's i-th name)."""
    delivered_of = {column.name: name for name, column in header.columns.items()}
    read: list[str] = []
    typed: list[str] = []
    ok: list[str] = []
    for column in dataset.columns:
        delivered = delivered_of.get(column.name)
        if delivered is None:  # not in the file: every typed column of it is NULL
            typed += [f'NULL::{type_} AS "{name}"' for name, type_ in typed_columns(column)]
            continue
        reads, values = _typed_sql(column, f"c{positions[delivered]}", today)
        read += [f'{sql} AS "{alias}"' for sql, alias in reads]
        typed += [f'{sql} AS "{name}"' for sql, name in values]
        value, text = f'"{column.name}"', f'"{column.name}__text"'
        typed.append(text)
        ok.append(
            f"{value} IS NOT NULL"
            if column.required
            else f"({text} IS NULL OR {value} IS NOT NULL)"
        )
    # A row must also carry one complete group of `one_of` (likes and collects, or their sum).
    one_of = [
        "(" + " AND ".join(f'"{c}" IS NOT NULL' for c in group) + ")" for group in dataset.one_of
    ]
    ok.append(f"({' OR '.join(one_of)})" if one_of else "true")
    raw_names = ", ".join(f'"{name}"' for name, _ in raw_columns(dataset))
    return f"""
        SELECT line_number, {raw_names}, {" AND ".join(ok)} AS ok
        FROM (
            SELECT line_number, {", ".join(typed)}
            FROM (SELECT line_number, {", ".join(read)} FROM delivered_text)
        )
    """


def insert_validated(
    conn: duckdb.DuckDBPyConnection,
    records: Records,
    dataset: Dataset,
    header: HeaderMap,
    table: str,
    lineage: dict[str, object],
    today: date,
) -> tuple[int, list[Problem], set[int]]:
    """Insert the file's good rows into `table` (lineage values on every row, unknown columns as
    JSON in `extra_columns`); return the rows inserted, the problems of the others, and their
    line numbers. Runs inside the caller's transaction."""
    positions = records.positions()
    delivered = pa.table(
        [pa.array(records.line_numbers, pa.int32())]
        + [pa.array(column, pa.string()) for column in records.columns],
        names=["line_number", *(f"c{i}" for i in range(len(records.header)))],
    )
    columns = raw_columns(dataset)
    names = ", ".join(f'"{n}"' for n, _ in columns)
    extras = ", ".join(
        f"{_literal(name)}, d.c{positions[name]}" for name in dict.fromkeys(header.extras)
    )
    conn.register("delivered_text", delivered)
    try:
        typed = _typed_query(dataset, header, positions, today)
        conn.execute(f"CREATE OR REPLACE TEMP TABLE delivered_typed AS {typed}")
        good, problems, rejected = _validate_in_python(conn, dataset, header, positions, today)
        schema = [("line_number", pa.int32())] + [(n, ARROW_TYPES[t]) for n, t in columns]
        conn.register("python_typed", pa.Table.from_pylist(good, schema=pa.schema(schema)))
        [(inserted,)] = conn.execute(
            f"""
            INSERT INTO {table} BY NAME
            SELECT
                $load_id AS load_id, $file_name AS file_name, $sha256 AS sha256,
                $delivered_at AS delivered_at, t.line_number, {names},
                {f"json_object({extras})" if extras else "NULL"} AS extra_columns
            FROM (
                SELECT line_number, {names} FROM delivered_typed WHERE ok
                UNION ALL
                SELECT line_number, {names} FROM python_typed
            ) AS t
            {"JOIN delivered_text AS d USING (line_number)" if extras else ""}
            ORDER BY t.line_number
            """,
            lineage,
        ).fetchall()
    finally:
        conn.execute("DROP TABLE IF EXISTS delivered_typed")
        for view in ("delivered_text", "python_typed"):
            conn.unregister(view)  # a no-op for a name never registered
    return inserted, problems, rejected


def _validate_in_python(conn, dataset, header, positions, today):
    """Rows the SQL did not vouch for, through the Python validator: its good rows (typed) and
    the others' problems."""
    names = list(positions)
    selected = ", ".join(f"c{positions[name]}" for name in names)
    unusual = conn.execute(
        f"SELECT d.line_number, {selected} FROM delivered_text AS d"
        " JOIN delivered_typed AS t USING (line_number) WHERE NOT t.ok ORDER BY d.line_number"
    ).fetchall()
    good: list[dict] = []
    problems: list[Problem] = []
    rejected: set[int] = set()
    for line_number, *values in unusual:
        record = dict(zip(names, values, strict=True))
        typed, row_problems = validate_record(dataset, header, line_number, record, today)
        if row_problems:
            problems.extend(row_problems)
            rejected.add(line_number)
        else:
            good.append({"line_number": line_number, **typed})
    return good, problems, rejected
