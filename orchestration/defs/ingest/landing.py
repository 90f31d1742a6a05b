"""Reading delivered files: which dataset a file belongs to, its encoding, and its records as text.

Everything is read as text here; parsing values is the validator's job, so one set of rules
applies whatever the format. A file that cannot be read at all raises `UnreadableFile` with a
reason a person can act on; the caller quarantines it whole.
"""

import csv
import hashlib
import io
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestration.contract.datasets import DATASETS, Dataset
from orchestration.settings import SETTLE_SECONDS

FORMATS = (".csv", ".jsonl", ".parquet")
# Files still being written by a copy tool, editor backups and hidden files are not deliveries.
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", "~")


class UnreadableFile(Exception):
    """The whole file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class DeliveredFile:
    path: Path
    name: str  # the file name as delivered, relative to the landing folder
    dataset_name: str  # the part of the name before the first "__" or the extension
    extension: str
    sha256: str
    size_bytes: int
    mtime_ns: int = 0

    @property
    def dataset(self) -> Dataset | None:
        return DATASETS.get(self.dataset_name)


@dataclass
class LandingScan:
    files: list[DeliveredFile]  # settled deliveries, oldest first
    unsettled: list[str]  # still being written: left for a later run


@dataclass
class Records:
    """A readable file's header and its records, column by column: `columns[i]` holds the values
    under `header[i]` (trimmed text, None when blank or absent), row `j` being line
    `line_numbers[j]` (1 = first data row). Columns rather than rows because millions of values
    go from here into DuckDB, where they are typed in bulk."""

    header: list[str]
    line_numbers: list[int]
    columns: list[list[str | None]]
    encoding: str | None  # for text formats
    # Row-level problems found while reading (a bad JSON line, a ragged CSV row).
    unreadable_rows: list[tuple[int, str, str]]

    def __len__(self) -> int:
        return len(self.line_numbers)

    def positions(self) -> dict[str, int]:
        """Each header name's column; when a name repeats, the last one counts."""
        return {name: i for i, name in enumerate(self.header)}

    def rows(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        """The records one by one, as {header name: value}."""
        positions = self.positions()
        for j, line_number in enumerate(self.line_numbers):
            yield line_number, {name: self.columns[i][j] for name, i in positions.items()}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_name_of(file_name: str) -> str:
    """`account_snapshots__2025-04-17.csv` -> `account_snapshots`; `accounts.csv` -> `accounts`."""
    stem = Path(file_name).name
    for extension in FORMATS:
        if stem.lower().endswith(extension):
            stem = stem[: -len(extension)]
            break
    else:
        stem = stem.split(".", 1)[0]
    return stem.split("__", 1)[0].strip().lower()


def is_delivery(path: Path) -> bool:
    name = path.name
    return (
        path.is_file()
        and not path.is_symlink()
        and not name.startswith((".", "~$"))
        and not name.lower().endswith(_IGNORED_SUFFIXES)
    )


def discover(
    landing: Path,
    known: dict[tuple[str, int, int], str] | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> LandingScan:
    """Every settled delivery in the landing folder (recursively), oldest first so later ones
    supersede. `known` maps (name, size, mtime_ns) of files ingested before to their sha256, so
    an unchanged file is not read again: a run costs in proportion to what is new."""
    known = known or {}
    scan = LandingScan(files=[], unsettled=[])
    if not landing.is_dir():
        return scan
    stats = []
    for path in landing.rglob("*"):
        if is_delivery(path):
            try:
                stats.append((path, path.stat()))
            except FileNotFoundError:  # removed between listing and stat
                continue
    # Modification time orders deliveries; the name breaks ties so the order is reproducible.
    stats.sort(key=lambda item: (item[1].st_mtime_ns, item[0].relative_to(landing).as_posix()))
    settled_before = time.time_ns() - int(settle_seconds * 1e9)
    for path, stat in stats:
        name = path.relative_to(landing).as_posix()
        if stat.st_mtime_ns > settled_before:
            scan.unsettled.append(name)
            continue
        sha256 = known.get((name, stat.st_size, stat.st_mtime_ns)) or file_sha256(path)
        scan.files.append(
            DeliveredFile(
                path=path,
                name=name,
                dataset_name=dataset_name_of(name),
                extension=path.suffix.lower(),
                sha256=sha256,
                size_bytes=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
            )
        )
    return scan


def read_records(delivered: DeliveredFile) -> Records:
    readers = {".csv": _read_csv, ".jsonl": _read_jsonl, ".parquet": _read_parquet}
    reader = readers.get(delivered.extension)
    if reader is None:
        raise UnreadableFile(
            f"unsupported file type '{delivered.extension or '(none)'}': deliver .csv, .jsonl "
            "or .parquet"
        )
    return reader(delivered.path)


def decode_text(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first, then GB18030 (the superset of GBK that Excel saves)."""
    if b"\x00" in raw:
        raise UnreadableFile("the file holds binary data (NUL bytes), not text")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            f"the text is neither UTF-8 nor GB18030/GBK (undecodable byte at offset {error.start});"
            " save it as UTF-8 and deliver it again"
        ) from error


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _read_csv(path: Path) -> Records:
    text, encoding = decode_text(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile("the file is empty: a CSV needs a header row") from None
    except csv.Error as error:
        raise UnreadableFile(f"not a readable CSV: {error}") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise UnreadableFile("the first line is empty: a CSV needs a header row")
    width = len(header)
    problems: list[tuple[int, str, str]] = []
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    header_lines = reader.line_num
    # The hot loop of ingestion: it only sorts rows out; values are trimmed column by column.
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(
                (reader.line_num - header_lines, "", f"not a readable CSV row: {error}")
            )
            continue
        if not "".join(fields).strip():
            continue  # blank line
        line_number = reader.line_num - header_lines
        if len(fields) != width:
            if len(fields) > width:
                problems.append(
                    (
                        line_number,
                        "",
                        f"the row has {len(fields)} fields but the header has {width}: "
                        "quote values that contain commas",
                    )
                )
                continue
            fields = fields + [""] * (width - len(fields))  # short rows: the rest is blank
        rows.append(fields)
        line_numbers.append(line_number)
    columns = [[v.strip() or None for v in column] for column in zip(*rows, strict=True)]
    return Records(
        header=header,
        line_numbers=line_numbers,
        columns=columns or [[] for _ in header],
        encoding=encoding,
        unreadable_rows=problems,
    )


def _as_text(value: object) -> str | None:
    """A typed value (JSON or Parquet) as the text the validator reads."""
    if value is None:
        return None
    if isinstance(value, str):
        return _blank(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        # Exporters write counts as floats (127000.0); the validator accepts trailing zeros.
        text = repr(value)
        return format(value, "f") if "e" in text else text
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def _read_jsonl(path: Path) -> Records:
    text, encoding = decode_text(path.read_bytes())
    lines = text.splitlines()
    parsed: list[tuple[int, dict]] = []
    problems: list[tuple[int, str, str]] = []
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(
                (line_number, "", f"not a JSON object: {error.msg} at column {error.colno}")
            )
            continue
        if not isinstance(obj, dict):
            problems.append((line_number, "", "each line must be one JSON object {...}"))
            continue
        parsed.append((line_number, obj))
    if not parsed:
        if problems:
            raise UnreadableFile(
                "not JSON Lines: no line is a JSON object (one object per line, e.g. "
                '{"platform": "小红书", ...})'
            )
        raise UnreadableFile("the file is empty: JSON Lines needs one object per line")
    header: dict[str, None] = {}
    records = []
    for _, obj in parsed:
        record = {k.strip(): v for k, v in obj.items()}
        header.update(dict.fromkeys(record))
        records.append(record)
    columns = [[_as_text(record.get(name)) for record in records] for name in header]
    return Records(
        header=list(header),
        line_numbers=[line_number for line_number, _ in parsed],
        columns=columns,
        encoding=encoding,
        unreadable_rows=problems,
    )


def _read_parquet(path: Path) -> Records:
    import pyarrow as pa  # only Parquet deliveries pay for the import
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several types for a file that is not Parquet
        raise UnreadableFile(f"not a readable Parquet file: {error}") from None
    header = [name.strip() for name in table.column_names]
    columns = []
    for i in range(table.num_columns):
        values = table.column(i).to_pylist()
        if pa.types.is_string(table.schema.field(i).type):
            columns.append([_blank(v) for v in values])
        else:
            columns.append([_as_text(v) for v in values])
    return Records(
        header=header,
        line_numbers=list(range(1, table.num_rows + 1)),
        columns=columns,
        encoding=None,
        unreadable_rows=[],
    )
