"""Validating a whole delivered file at once in DuckDB, with the Python validator as the judge of
anything unusual.

Millions of snapshot values are written the same few ways: `5207`, `12.7万`, `3.4w`, `44.74%`,
`2025-04-17`. This module types those forms with vectorized SQL, which is exact for them (the
same integer arithmetic as `parsing.parse_count`). A row with any value outside them, or any
value the SQL refuses (a bad count or one above `parsing.MAX_COUNT`, an impossible or future
date, an unknown category, a missing required value), is handed to `validation.validate_record`,
row by row: it either reads the unusual form (`１２，７００`, `10万+`, `赞`, `2025.4.17`) or says
exactly what is wrong. So the SQL only ever decides rows that are good in the common forms; every
reason a person reads still comes from the one Python validator, and
`tests/test_bulk_validation.py` holds the two to the same results.
"""

from collections import Counter, defaultdict
from datetime import date

import pyarrow as pa

from orchestration.contract.datasets import Column, Dataset, Kind
from orchestration.contract.parsing import MAX_AMOUNT, MAX_COUNT
from orchestration.defs.ingest.reading import CHUNK_ROWS, Stager
from orchestration.defs.ingest.validation import (
    AMOUNT_TYPE,
    HeaderMap,
    Problem,
    raw_columns,
    validate_record,
)
from orchestration.warehouse import sql_literal

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
    AMOUNT_TYPE: pa.decimal128(18, 2),
}

# The common forms, no spaces, no signs: anything else goes to Python. A count: at most 18 digits
# (a BIGINT), maybe in groups of three, or digits with a unit. Nine integer digits and eight
# decimals keep the scaled value below 10^17, so the SQL arithmetic cannot overflow.
_PLAIN_COUNT = "[0-9]{1,18}|[0-9]{1,3}(,[0-9]{3}){1,5}"
_UNIT_COUNT = r"^([0-9]{1,9})(?:\.([0-9]{1,8}))?([万萬亿億千wWkK])$"
_PERCENT = r"[0-9]{1,3}(\.[0-9]{1,9})?%?"
_AMOUNT = r"[0-9]{1,13}(\.[0-9]{1,2})?"  # plain yuan; units, signs and separators go to Python
_MONTH = "[0-9]{4}(-[0-9]{1,2}|/[0-9]{1,2}|年[0-9]{1,2}月)"
_DATE = "[0-9]{4}(-[0-9]{1,2}-[0-9]{1,2}|/[0-9]{1,2}/[0-9]{1,2}|年[0-9]{1,2}月[0-9]{1,2}日)"
_ISO_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
# hours 00-23 only: DuckDB reads 24:00 as the next day's midnight, which the parser refuses
_ISO_DATETIME = "[0-9]{4}-[0-9]{2}-[0-9]{2}( ([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?"
_CATEGORY = "[A-Za-z_ -]+"
_FULL_WIDTH = "０１２３４５６７８９．，"  # as parsing.py folds them


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
            allowed = ", ".join(sql_literal(a) for a in column.allowed)
            read.append((f"regexp_full_match({text}, '{_CATEGORY}')", f"{name}__form"))
            typed = f"CASE WHEN {form} AND {code} IN ({allowed}) THEN {code} END"
            if column.labels:  # a label as delivered (图文) is its code (image)
                by_label = " ".join(
                    f"WHEN {sql_literal(label)} THEN {sql_literal(code)}"
                    for label, code in column.labels
                )
                typed = f"coalesce(CASE {text} {by_label} END, {typed})"
            return read, [(typed, name)]
        case Kind.COUNT:
            # Full-width digits (a few exports) are folded first, and only where present:
            # translate() is slow. Most values are then plain digits: only the others are
            # taken apart.
            folded = (
                f"CASE WHEN regexp_matches({text}, '[{_FULL_WIDTH}]')"
                f" THEN translate({text}, '{_FULL_WIDTH}', '0123456789.,') ELSE {text} END"
            )
            plain = f"regexp_full_match({folded}, '{_PLAIN_COUNT}')"
            read += [
                (folded, f"{name}__folded"),
                (plain, f"{name}__form"),
                (
                    f"CASE WHEN NOT {plain} THEN"
                    f" regexp_extract({folded}, '{_UNIT_COUNT}', ['int', 'frac', 'unit']) END",
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
            plain_value = f"""CAST(replace("{name}__folded", ',', '') AS BIGINT)"""
            return read, [
                (f"CASE WHEN {form} THEN {plain_value} ELSE {unit_value} END", name),
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
        case Kind.AMOUNT:
            read.append((f"regexp_full_match({text}, '{_AMOUNT}')", f"{name}__form"))
            amount = f"CAST({text} AS {AMOUNT_TYPE})"
            return read, [
                (f"CASE WHEN {form} AND {amount} <= {MAX_AMOUNT} THEN {amount} END", name),
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
            latest = "DATE '2999-12-31'" if column.future_allowed else today_sql
            return read, [(_checked_date(form, value, latest), name)]
        case Kind.DATETIME:
            # An ISO date, or an ISO date and hh:mm[:ss]; every other form goes to Python.
            read += [
                (f"regexp_full_match({text}, '{_ISO_DATETIME}')", f"{name}__form"),
                (f"TRY_CAST({text} AS TIMESTAMP)", f"{name}__parts"),
            ]
            checked = (
                f"CASE WHEN {form} AND year({parts}) BETWEEN 1900 AND 2999"
                f" AND CAST({parts} AS DATE) <= {today_sql} THEN {parts} END"
            )
            return read, [
                (checked, name),
                (f"CASE WHEN {form} THEN length({text}) > 10 END", f"{name}_has_time"),
            ]
    raise AssertionError(column.kind)


def _typed_query(dataset: Dataset, today: date, staged: str) -> str:
    """SELECT of the typed raw columns and an `ok` flag from a staging table (of
    `reading.Stager`), keeping `load_id`, `line_number` and `extra_columns`."""
    read: list[str] = []
    typed: list[str] = []
    ok: list[str] = []
    for column in dataset.columns:
        reads, values = _typed_sql(column, f'"{column.name}"', today)
        read += [f'{sql} AS "{alias}"' for sql, alias in reads]
        typed += [f'{sql} AS "{name}"' for sql, name in values]
        value, text = f'"{column.name}"', f'"{column.name}__text"'
        typed.append(text)
        accepted = f"{value} IS NOT NULL"
        if column.kind is Kind.COUNT:
            # A count above the range goes to Python, which says why it is refused.
            accepted = f"coalesce({value} <= {MAX_COUNT}, false)"
        ok.append(accepted if column.required else f"({text} IS NULL OR {accepted})")
    # A row must also carry one complete group of `one_of` (likes and collects, or their sum).
    one_of = [
        "(" + " AND ".join(f'"{c}" IS NOT NULL' for c in group) + ")" for group in dataset.one_of
    ]
    ok.append(f"({' OR '.join(one_of)})" if one_of else "true")
    # Dates in order (published on or before the snapshot date); Python says why when not.
    for earlier, later, _ in dataset.not_after:
        ok.append(f'coalesce(CAST("{earlier}" AS DATE) <= CAST("{later}" AS DATE), true)')
    # A funnel's stages never increase (Python names the pair when they do).
    for i, stage in enumerate(dataset.funnel):
        for before in dataset.funnel[:i]:
            ok.append(f'coalesce("{stage}" <= "{before}", true)')
    raw_names = ", ".join(f'"{name}"' for name, _ in raw_columns(dataset))
    keys = "load_id, line_number, extra_columns"
    return f"""
        SELECT {keys}, {raw_names}, {" AND ".join(ok)} AS ok
        FROM (
            SELECT {keys}, {", ".join(typed)}
            FROM (SELECT {keys}, {", ".join(read)} FROM {staged})
        )
    """


def insert_validated(stager: Stager, dataset: Dataset, lineage: pa.Table, today: date) -> Counter:
    """Type and check the rows staged for a dataset (any number of files) in one go and insert
    the good ones into `raw.<dataset>` with each file's lineage (`lineage`: load_id, file_name,
    sha256, delivered_at); the problems of the others go to the stager. The rows loaded, by
    load id. Runs inside the caller's transaction."""
    conn = stager.conn
    staged = stager.table(dataset)
    columns = raw_columns(dataset)
    names = ", ".join(f'"{n}"' for n, _ in columns)
    conn.register("delivered_files", lineage)
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE delivered_typed AS"
            f" {_typed_query(dataset, today, staged)}"
        )
        typed_ddl = ", ".join(f'"{n}" {"VARCHAR" if t == "JSON" else t}' for n, t in columns)
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE python_typed (load_id BIGINT, line_number INTEGER,"
            f" extra_columns VARCHAR, {typed_ddl})"
        )
        _validate_in_python(stager, dataset, today, staged)
        conn.execute(
            f"""
            INSERT INTO raw.{dataset.name} BY NAME
            SELECT
                t.load_id, f.file_name, f.sha256, f.delivered_at, t.line_number, {names},
                t.extra_columns
            FROM (
                SELECT load_id, line_number, extra_columns, {names} FROM delivered_typed WHERE ok
                UNION ALL
                SELECT load_id, line_number, extra_columns, {names} FROM python_typed
            ) AS t
            JOIN delivered_files AS f USING (load_id)
            ORDER BY t.load_id, t.line_number
            """
        )
        loaded = Counter(
            dict(
                conn.execute(
                    "SELECT load_id, count(*) FROM (SELECT load_id FROM delivered_typed WHERE ok"
                    " UNION ALL SELECT load_id FROM python_typed) GROUP BY load_id"
                ).fetchall()
            )
        )
    finally:
        for table in ("delivered_typed", "python_typed", "delivered_unusual"):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.unregister("delivered_files")
    return loaded


def _validate_in_python(stager: Stager, dataset: Dataset, today: date, staged: str) -> None:
    """Rows the SQL did not vouch for, through the Python validator, a block at a time: the
    problems of the ones it rejects to the stager, the typed values of the ones it accepts to
    `python_typed`."""
    conn = stager.conn
    names = [column.name for column in dataset.columns]
    # Every contract column under its own name: what the stager made of the header.
    header = HeaderMap(columns={c.name: c for c in dataset.columns}, extras=())
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE delivered_unusual AS SELECT row_number() OVER"
        " (ORDER BY load_id, line_number) AS n, load_id, line_number, d.extra_columns,"
        f" {', '.join(f'd.{n}' for n in names)}"
        f" FROM {staged} AS d JOIN delivered_typed AS t USING (load_id, line_number)"
        " WHERE NOT t.ok"
    )
    total = conn.execute("SELECT count(*) FROM delivered_unusual").fetchone()[0]
    schema = pa.schema(
        [("load_id", pa.int64()), ("line_number", pa.int32()), ("extra_columns", pa.string())]
        + [(n, ARROW_TYPES[t]) for n, t in raw_columns(dataset)]
    )
    for first in range(0, total, CHUNK_ROWS):
        unusual = conn.execute(
            "SELECT * EXCLUDE (n) FROM delivered_unusual WHERE n > ? AND n <= ? ORDER BY n",
            [first, first + CHUNK_ROWS],
        ).fetchall()
        good: list[dict] = []
        problems: dict[int, list[Problem]] = defaultdict(list)
        for load_id, line_number, extra, *values in unusual:
            record = dict(zip(names, values, strict=True))
            typed, found = validate_record(dataset, header, line_number, record, today)
            if found:
                problems[load_id] += found
            else:
                good.append(
                    {"load_id": load_id, "line_number": line_number, "extra_columns": extra} | typed
                )
        for load_id, found in problems.items():
            stager.add_problems(load_id, found)
        if good:
            conn.register("python_rows", pa.Table.from_pylist(good, schema=schema))
            try:
                conn.execute("INSERT INTO python_typed BY NAME SELECT * FROM python_rows")
            finally:
                conn.unregister("python_rows")
