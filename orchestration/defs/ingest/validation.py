"""Checking a delivered record against its dataset: typed values, or reasons a person can act on.

A row with any problem is rejected whole (every problem of it is reported, one per column), so
a raw table never holds half a row; a file whose header lacks a required column is rejected whole.
"""

from dataclasses import dataclass
from datetime import date, datetime

from orchestration.contract.datasets import Column, Dataset, Kind
from orchestration.contract.parsing import (
    ParseError,
    check_count_range,
    parse_amount,
    parse_count,
    parse_date,
    parse_datetime,
    parse_month,
    parse_percent,
)
from orchestration.defs.ingest.landing import UnreadableFile

# Money: exact to the fen, up to parsing.MAX_AMOUNT (10^12) with room for sums.
AMOUNT_TYPE = "DECIMAL(18,2)"


@dataclass(frozen=True)
class Problem:
    line_number: int | None
    column_name: str | None
    raw_value: str | None
    reason: str


def _normalise_header(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower()


@dataclass(frozen=True)
class HeaderMap:
    """Which delivered header names mean which contract column, and which are extra."""

    columns: dict[str, Column]  # delivered name -> contract column
    extras: tuple[str, ...]  # delivered names the contract does not know: kept in raw only

    @staticmethod
    def labels(dataset: Dataset) -> dict[str, Column]:
        """Each contract column under its name and its alias, as `column_of` looks them up."""
        by_label: dict[str, Column] = {}
        for column in dataset.columns:
            by_label[column.name.lower()] = column
            by_label[column.alias.lower()] = column
        return by_label

    @staticmethod
    def column_of(labels: dict[str, Column], delivered: str) -> Column | None:
        """The contract column a delivered name means (of `labels`), or None for an extra."""
        return labels.get(_normalise_header(delivered))

    @classmethod
    def of(cls, dataset: Dataset, header: list[str]) -> "HeaderMap":
        labels = cls.labels(dataset)
        columns: dict[str, Column] = {}
        seen: dict[str, str] = {}
        extras: list[str] = []
        for delivered in header:
            column = cls.column_of(labels, delivered)
            if column is None:
                if delivered.strip():
                    extras.append(delivered)
                continue
            if column.name in seen:
                raise UnreadableFile(
                    f"columns '{seen[column.name]}' and '{delivered}' both mean '{column.name}':"
                    " keep one of them"
                )
            seen[column.name] = delivered
            columns[delivered] = column
        present = set(seen)
        missing = [c for c in dataset.required_columns if c.name not in present]
        if missing:
            names = ", ".join(f"{c.name} [{c.alias}]" for c in missing)
            # A file without its header row has data in its first line: for the bank's own
            # figures that may be a customer's, so it is never repeated in a message.
            found = (
                f"its first line has {len(header)} fields (not shown: a file of this dataset may"
                " hold personal data; is the header row missing?)"
                if dataset.refuse_personal_data
                else f"the header has: {', '.join(header) or '(nothing)'}"
            )
            raise UnreadableFile(
                f"missing required column(s) {names} for dataset '{dataset.name}'; {found}"
            )
        if dataset.one_of and not any(present.issuperset(group) for group in dataset.one_of):
            options = " or ".join("+".join(group) for group in dataset.one_of)
            raise UnreadableFile(f"dataset '{dataset.name}' needs the column(s) {options}")
        return cls(columns=columns, extras=tuple(extras))


def raw_columns(dataset: Dataset) -> list[tuple[str, str]]:
    """The typed columns a raw table holds for a dataset: (name, DuckDB type)."""
    return [typed for column in dataset.columns for typed in typed_columns(column)]


def typed_columns(column: Column) -> list[tuple[str, str]]:
    """The raw table's columns for one contract column, the value first: (name, DuckDB type)."""
    match column.kind:
        case Kind.COUNT:
            return [
                (column.name, "BIGINT"),
                (f"{column.name}_raw", "VARCHAR"),
                (f"{column.name}_step", "BIGINT"),
                (f"{column.name}_censored", "BOOLEAN"),
            ]
        case Kind.PERCENT:
            return [(column.name, "DOUBLE"), (f"{column.name}_raw", "VARCHAR")]
        case Kind.AMOUNT:
            return [(column.name, AMOUNT_TYPE), (f"{column.name}_raw", "VARCHAR")]
        case Kind.MONTH | Kind.DATE:
            return [(column.name, "DATE")]
        case Kind.DATETIME:
            # whether the text gave a time: a date alone says nothing of the hour
            return [(column.name, "TIMESTAMP"), (f"{column.name}_has_time", "BOOLEAN")]
        case _:
            return [(column.name, "VARCHAR")]


def _typed(column: Column, raw: str, today: date) -> dict[str, object]:
    """One value's typed columns, or ParseError with the reason."""
    match column.kind:
        case Kind.TEXT:
            return {column.name: raw}
        case Kind.CATEGORY:
            code = dict(column.labels).get(raw.strip())
            if code is None:
                code = raw.strip().lower().replace("-", "_").replace(" ", "_")
            if code not in column.allowed:
                accepted = [*column.allowed, *(label for label, _ in column.labels)]
                raise ParseError(
                    f"'{raw}' is not a known {column.name}: use one of {', '.join(accepted)}"
                )
            return {column.name: code}
        case Kind.COUNT:
            count = check_count_range(parse_count(raw))
            return {
                column.name: count.value,
                f"{column.name}_raw": count.raw,
                f"{column.name}_step": count.step,
                f"{column.name}_censored": count.censored,
            }
        case Kind.PERCENT:
            share = parse_percent(raw)
            if not 0 <= share <= 100:
                raise ParseError(
                    f"{column.name} {raw} is outside 0–100: give the percent of the app's users"
                )
            return {column.name: share, f"{column.name}_raw": raw}
        case Kind.MONTH:
            month = parse_month(raw)
            if month > today.replace(day=1):
                raise ParseError(f"month {month:%Y-%m} is in the future (today is {today})")
            return {column.name: month}
        case Kind.AMOUNT:
            return {column.name: parse_amount(raw), f"{column.name}_raw": raw}
        case Kind.DATE:
            day = parse_date(raw)
            if day > today and not column.future_allowed:
                raise ParseError(
                    f"{column.name} {day} is in the future (today is {today}): check the date"
                    " and its format"
                )
            return {column.name: day}
        case Kind.DATETIME:
            moment, has_time = parse_datetime(raw)
            if moment.date() > today:
                raise ParseError(
                    f"{column.name} {raw} is in the future (today is {today}): check the date"
                    " and its format"
                )
            return {column.name: moment, f"{column.name}_has_time": has_time}
    raise AssertionError(column.kind)


def _day(value: object) -> date:
    """The calendar day of a DATE or DATETIME column's value."""
    return value.date() if isinstance(value, datetime) else value


def validate_record(
    dataset: Dataset,
    header: HeaderMap,
    line_number: int,
    record: dict[str, str | None],
    today: date,
) -> tuple[dict[str, object] | None, list[Problem]]:
    """The row's typed values and its problems; the values are None when there is any problem."""
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for delivered, column in header.columns.items():
        raw = record.get(delivered)
        if raw is None:
            if column.required:
                problems.append(
                    Problem(
                        line_number,
                        column.name,
                        None,
                        f"missing required value for {column.name} [{column.alias}]",
                    )
                )
            continue
        try:
            values.update(_typed(column, raw, today))
        except ParseError as error:
            problems.append(Problem(line_number, column.name, raw, str(error)))
    if dataset.one_of and not problems:
        groups_present = [g for g in dataset.one_of if all(values.get(c) is not None for c in g)]
        if not groups_present:
            options = " or ".join("+".join(group) for group in dataset.one_of)
            problems.append(Problem(line_number, None, None, f"the row needs values for {options}"))
    delivered_as = {column.name: delivered for delivered, column in header.columns.items()}
    for earlier, later, why in dataset.not_after:
        if problems or values.get(earlier) is None or values.get(later) is None:
            continue
        if _day(values[earlier]) > _day(values[later]):
            problems.append(
                Problem(
                    line_number,
                    earlier,
                    record.get(delivered_as[earlier]),
                    f"{earlier} {_day(values[earlier])} is after {later} {values[later]}: {why}",
                )
            )
    problems += _funnel_problems(dataset, line_number, values, record, delivered_as, problems)
    return (None if problems else values), problems


def _funnel_problems(dataset, line_number, values, record, delivered_as, problems) -> list:
    """A stage above the nearest delivered stage before it, one problem per such pair."""
    if problems or not dataset.funnel:
        return []
    found = []
    delivered = [(name, values[name]) for name in dataset.funnel if values.get(name) is not None]
    for (before, before_value), (stage, value) in zip(delivered, delivered[1:], strict=False):
        if value > before_value:
            found.append(
                Problem(
                    line_number,
                    stage,
                    record.get(delivered_as[stage]),
                    f"{stage} {value:,} is more than {before} {before_value:,}: a stage of the"
                    f" funnel ({' ≥ '.join(dataset.funnel)}) never exceeds the one before it;"
                    " check that the columns are not swapped and count the same day and channel",
                )
            )
    return found
