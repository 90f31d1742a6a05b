"""Reading delivered files: which landing entries are deliveries, which dataset a file belongs
to, its encoding, and its records as text.

`scan_landing` sorts every entry of the landing folder into deliveries and entries skipped with
a reason (symbolic links, special files, temporary names, hidden files and folders), the same
way for ingestion and the sensor. Names are kept losslessly whatever their bytes.
Everything is read as text here; parsing values is the validator's job, so one set of rules
applies whatever the format. A file that cannot be read at all raises `UnreadableFile` with a
reason a person can act on; the caller quarantines it whole.
"""

import csv
import hashlib
import io
import json
import math
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from orchestration.contract.datasets import DATASETS, Dataset
from orchestration.settings import SETTLE_SECONDS

FORMATS = (".csv", ".jsonl", ".parquet")

# What is in the landing folder but is no delivery, and why: each such entry is logged once as
# `skipped` in audit.file_log with its reason, so nothing there is passed over without a word.
# The rules are the same for ingestion and the sensor (`scan_landing`).
# Names a copy tool, a browser or an editor gives a file it has not finished, or its backup.
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", "~")
_TEMPORARY_PREFIXES = ("~$",)  # Office's owner file beside an open workbook
SKIP_SYMLINK = (
    "a symbolic link: cardreach reads only regular files it can archive as delivered; copy the"
    " file itself into the landing folder"
)
SKIP_HIDDEN_FILE = (
    "a hidden file (its name starts with '.'): hidden entries are never deliveries; rename it"
    " without the leading '.' to deliver it"
)
SKIP_HIDDEN_FOLDER = (
    "a hidden folder (its name starts with '.'): nothing inside it is read; move its files out"
    " to deliver them"
)
SKIP_TEMPORARY = (
    "a temporary or partial name ({pattern}): a file still being copied, or an editor's lock or"
    " backup; it is read once renamed to its final name"
)
SKIP_SPECIAL = (
    "not a regular file but a {kind}: cardreach never opens it (reading it could block or"
    " never end); deliver a regular file"
)
SKIP_UNREADABLE_FOLDER = "a folder cardreach cannot list ({error}): nothing inside it is read"
SKIP_UNREADABLE_FILE = "a file cardreach cannot read ({error}): check its permissions"


class UnreadableFile(Exception):
    """The whole file cannot be used; the message says why and what to do."""


def readable_name(relative: str) -> tuple[str, str | None]:
    """A landing entry's relative name as text for people and tables, and, when the file system
    holds bytes that are not UTF-8, those bytes in hex: the exact name, kept losslessly.

    Such names come from Windows shares in a Chinese locale, so each part of the path that is
    not UTF-8 is read as GB18030 (GBK's superset), and as UTF-8 with `\\xNN` escapes when even
    that fails. The readable form is what every table and the delivery ledger show; it is
    always valid UTF-8, so nothing downstream can fail to encode it.
    """
    raw = os.fsencode(relative)  # the file system's own bytes (undecodable ones were escaped)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    parts = []
    for part in raw.split(b"/"):
        try:
            parts.append(part.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                parts.append(part.decode("gb18030"))
            except UnicodeDecodeError:
                parts.append(part.decode("utf-8", "backslashreplace"))
    return "/".join(parts), raw.hex()


@dataclass(frozen=True)
class LandingEntry:
    """One entry of the landing folder: a file, or a folder not descended into."""

    path: Path  # as the file system names it (undecodable bytes kept by surrogateescape)
    name: str  # readable name relative to the landing folder (`readable_name`)
    name_bytes: str | None  # the relative name's bytes in hex, when they are not UTF-8
    size: int
    mtime_ns: int
    skip_reason: str | None = None  # None: a delivery


def _skip_reason(name: str, mode: int) -> str | None:
    """Why an entry is no delivery; None for a delivery or a folder to look into."""
    if stat.S_ISLNK(mode):
        return SKIP_SYMLINK
    if name.startswith("."):
        return SKIP_HIDDEN_FOLDER if stat.S_ISDIR(mode) else SKIP_HIDDEN_FILE
    if stat.S_ISDIR(mode):
        return None  # a folder of deliveries: looked into
    if not stat.S_ISREG(mode):
        kinds = {
            stat.S_ISFIFO: "FIFO (named pipe)",
            stat.S_ISSOCK: "socket",
            stat.S_ISCHR: "character device",
            stat.S_ISBLK: "block device",
        }
        kind = next((k for test, k in kinds.items() if test(mode)), "special file")
        return SKIP_SPECIAL.format(kind=kind)
    lower = name.lower()
    for pattern in _TEMPORARY_PREFIXES:
        if lower.startswith(pattern):
            return SKIP_TEMPORARY.format(pattern=f"{pattern}…")
    for pattern in _TEMPORARY_SUFFIXES:
        if lower.endswith(pattern):
            return SKIP_TEMPORARY.format(pattern=f"…{pattern}")
    return None


def scan_landing(landing: Path) -> list[LandingEntry]:
    """Every entry of the landing folder, recursively, without following symbolic links: the
    deliveries (regular files) and, with the reason, what is skipped. A hidden or symlinked
    folder is one skipped entry; nothing inside it is looked at."""
    entries: list[LandingEntry] = []

    def entry(path: str, relative: str, info: os.stat_result, reason: str | None):
        name, name_bytes = readable_name(relative)
        entries.append(
            LandingEntry(Path(path), name, name_bytes, info.st_size, info.st_mtime_ns, reason)
        )

    def walk(folder: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as listing:
                children = sorted(listing, key=lambda child: child.name)
        except FileNotFoundError:  # removed while being looked at
            return
        except OSError as error:
            if prefix:  # the landing folder itself: the caller says it is missing or unreadable
                info = os.lstat(folder)
                reason = SKIP_UNREADABLE_FOLDER.format(error=error.strerror or error)
                entry(folder, prefix.rstrip("/"), info, reason)
                return
            raise
        for child in children:
            relative = prefix + child.name
            try:
                info = child.stat(follow_symlinks=False)
            except FileNotFoundError:  # removed between listing and stat
                continue
            reason = _skip_reason(child.name, info.st_mode)
            if reason is None and stat.S_ISDIR(info.st_mode):
                walk(child.path, relative + "/")
            else:
                entry(child.path, relative, info, reason)

    walk(str(landing), "")
    return entries


@dataclass(frozen=True)
class DeliveredFile:
    path: Path
    name: str  # the file name as delivered, relative to the landing folder, readable
    dataset_name: str  # the part of the name before the first "__" or the extension
    extension: str
    sha256: str
    size_bytes: int
    mtime_ns: int = 0
    name_bytes: str | None = None  # the name's bytes in hex when not UTF-8 (`readable_name`)
    # Its modification time was ahead of this machine's clock when it was taken in.
    mtime_in_future: bool = False

    @property
    def dataset(self) -> Dataset | None:
        return DATASETS.get(self.dataset_name)


@dataclass
class LandingScan:
    files: list[DeliveredFile]  # settled deliveries, oldest first
    unsettled: list[str]  # still being written: left for a later run
    skipped: list[LandingEntry] = field(default_factory=list)  # no deliveries, with the reason


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


# A file whose modification time is ahead of this machine's clock (a share whose clock runs
# fast, an archive unpacked with its future dates) can never age into the settle period. It
# counts as settled once its size and mtime hold still across two looks this far apart within
# the run; it is then ingested, and the run and its file_log message say its mtime is ahead.
FUTURE_MTIME_RECHECK_SECONDS = 2.0


def discover(
    landing: Path,
    known: dict[tuple[str, int, int], str] | None = None,
    settle_seconds: float = SETTLE_SECONDS,
    recheck_seconds: float = FUTURE_MTIME_RECHECK_SECONDS,
) -> LandingScan:
    """Every settled delivery in the landing folder (recursively), oldest first so later ones
    supersede, and every entry skipped with its reason. `known` maps (name, size, mtime_ns) of
    files ingested before to their sha256, so an unchanged file is not read again: a run costs
    in proportion to what is new."""
    known = known or {}
    scan = LandingScan(files=[], unsettled=[])
    if not landing.is_dir():
        return scan
    deliveries = []
    for entry in scan_landing(landing):
        (scan.skipped if entry.skip_reason else deliveries).append(entry)
    now_ns = time.time_ns()
    settled_before = now_ns - int(settle_seconds * 1e9)
    settled: list[tuple[LandingEntry, bool]] = []  # (entry, its mtime is in the future)
    ahead: list[LandingEntry] = []
    for entry in deliveries:
        if (entry.name, entry.size, entry.mtime_ns) in known or entry.mtime_ns <= settled_before:
            settled.append((entry, False))
        elif entry.mtime_ns > now_ns:
            ahead.append(entry)
        else:
            scan.unsettled.append(entry.name)
    if ahead:
        time.sleep(recheck_seconds)
        for entry in ahead:
            try:
                again = entry.path.stat()
            except FileNotFoundError:
                continue
            if (again.st_size, again.st_mtime_ns) == (entry.size, entry.mtime_ns):
                settled.append((entry, True))
            else:
                scan.unsettled.append(entry.name)
    # Modification time orders deliveries; the name breaks ties so the order is reproducible.
    settled.sort(key=lambda item: (item[0].mtime_ns, item[0].name))
    for entry, in_future in settled:
        try:
            sha256 = known.get((entry.name, entry.size, entry.mtime_ns)) or file_sha256(entry.path)
        except FileNotFoundError:  # removed since it was listed: a later run sees its successor
            continue
        except OSError as error:
            reason = SKIP_UNREADABLE_FILE.format(error=error.strerror or error)
            scan.skipped.append(replace(entry, skip_reason=reason))
            continue
        scan.files.append(
            DeliveredFile(
                path=entry.path,
                name=entry.name,
                dataset_name=dataset_name_of(entry.name),
                extension=Path(entry.name).suffix.lower(),
                sha256=sha256,
                size_bytes=entry.size,
                mtime_ns=entry.mtime_ns,
                name_bytes=entry.name_bytes,
                mtime_in_future=in_future,
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


# In text decoded from UTF-8 with errors="surrogateescape", each byte that is not UTF-8 becomes
# one of these surrogates; a character of U+0800 or above (every Chinese character) is one that
# UTF-8 writes in three or four bytes.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_UTF8_WIDE = re.compile("[\u0800-\ud7ff\ue000-\U0010ffff]")
# A line with no byte that is not UTF-8 and at least three such characters.
_UTF8_CHINESE_LINE = re.compile(
    "^(?=[^\n\udc80-\udcff]*$)(?:[^\n]*?[\u0800-\ud7ff\ue000-\U0010ffff]){3}", re.MULTILINE
)
_CUT_SHORT = "the file ends in the middle of a character: it was cut short; deliver it again"


def decode_text(raw: bytes) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (with or without BOM), else GB18030, the superset
    of GBK that Excel saves Chinese text in, but only where that cannot be a wrong guess.

    Bytes that are not valid UTF-8 are read as GB18030 only when UTF-8 cannot explain them:
    - A file whose only flaw is an incomplete character at its very end is UTF-8 cut short (an
      interrupted upload): read as GB18030 it would load mojibake (抖音 as 鎶栭煶), so it is
      refused whole. So is a file that starts with the UTF-8 byte order mark but is not UTF-8.
    - A file that holds UTF-8 text as well as bytes that are not UTF-8 mixes encodings (a row
      pasted from another file, damage in transit): either reading garbles part of it, so it is
      refused. It holds UTF-8 text when a line is valid UTF-8 with three or more characters
      UTF-8 writes in three or four bytes (a row such as "抖音,招行"), or when there are three
      or more such characters and they take at least twice as many bytes as the invalid ones
      (UTF-8 with some damage). GBK text almost never reads so: its bytes pair up differently,
      most of them are invalid UTF-8, and a few form UTF-8 characters by chance, nearly all of
      two bytes.
    A GB18030 file that happens to be entirely valid UTF-8 (an ASCII file with one character
    such as 小, whose two GBK bytes are also a UTF-8 character) is read as UTF-8: no rule on
    bytes can tell those apart.
    """
    if b"\x00" in raw:
        raise UnreadableFile("the file holds binary data (NUL bytes), not text")
    if raw.startswith(b"\xef\xbb\xbf"):
        body = raw[3:]
        try:
            return body.decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                _CUT_SHORT
                if _cut_short(body, error)
                else "the file starts with the UTF-8 byte order mark but is not UTF-8 (a byte"
                f" that is not, on line {_line_of(raw, error.start + 3)} of the file): save it"
                " as UTF-8 and deliver it again"
            ) from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        if _cut_short(raw, error):
            raise UnreadableFile(_CUT_SHORT) from None
        first_invalid = error.start
    utf8_text = _utf8_text_line(raw)
    if utf8_text is not None:
        raise UnreadableFile(
            f"the file mixes encodings: it has UTF-8 text (line {utf8_text} of the file) and"
            f" bytes that are not UTF-8 (line {_line_of(raw, first_invalid)}); save it all as"
            " UTF-8 and deliver it again"
        )
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        if error.end == len(raw) and error.reason.startswith("incomplete"):
            raise UnreadableFile(_CUT_SHORT) from None
        raise UnreadableFile(
            "the text is neither UTF-8 nor GB18030/GBK (a byte neither can read, on line"
            f" {_line_of(raw, error.start)} of the file); save it as UTF-8 and deliver it again"
        ) from None


def _cut_short(raw: bytes, error: UnicodeDecodeError) -> bool:
    """Whether the first UTF-8 error is an incomplete character at the very end: then
    everything before it is valid UTF-8, and the file was cut in the middle of a character."""
    return error.reason == "unexpected end of data" and error.end == len(raw)


def _utf8_text_line(raw: bytes) -> int | None:
    """The line (1 = the first of the file) of UTF-8 text in bytes that are not valid UTF-8 as
    a whole, or None when they hold none (`decode_text` says what counts)."""
    text = raw.decode("utf-8", errors="surrogateescape")
    chinese_line = _UTF8_CHINESE_LINE.search(text)
    if chinese_line is not None:
        return text.count("\n", 0, chinese_line.start()) + 1
    wide = _UTF8_WIDE.findall(text)
    if len(wide) >= 3 and len("".join(wide).encode()) >= 2 * len(_NOT_UTF8.findall(text)):
        return text.count("\n", 0, text.index(wide[0])) + 1
    return None


def _line_of(raw: bytes, offset: int) -> int:
    """The line of the file (1 = the first, a CSV's header included) a byte is on."""
    return raw.count(b"\n", 0, offset) + 1


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
    if isinstance(value, Decimal):
        # Database exports type counts as DECIMAL(18,0) or DECIMAL(38,2): a whole value reads as
        # the integer it is, any other as its digits (12.5), never in exponent form.
        if value == value.to_integral_value():
            return str(int(value))
        return format(value, "f").rstrip("0")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def _read_jsonl(path: Path) -> Records:
    text, encoding = decode_text(path.read_bytes())
    # Records end at "\n" (or "\r\n") only: str.splitlines() would also split at U+2028,
    # U+2029, U+0085, \x0b, \x0c and others, which are text inside a JSON string, and shift the
    # line numbers of every later record.
    lines = text.split("\n")
    parsed: list[tuple[int, dict]] = []
    problems: list[tuple[int, str, str]] = []
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            # strict=False: control characters such as a tab or a form feed, unescaped inside a
            # string as some exporters write them, are the value's text, not an error.
            obj = json.loads(line.removesuffix("\r"), strict=False)
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
        arrow_type = table.schema.field(i).type
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            columns.append([_blank(v) for v in values])
        elif pa.types.is_float16(arrow_type) or pa.types.is_float32(arrow_type):
            columns.append([_float32_text(v) for v in values])
        else:  # integers of any width, DECIMAL, DOUBLE, dates: `_as_text` writes them
            columns.append([_as_text(v) for v in values])
    return Records(
        header=header,
        line_numbers=list(range(1, table.num_rows + 1)),
        columns=columns,
        encoding=None,
        unreadable_rows=[],
    )


def _float32_text(value: float | None) -> str | None:
    """A FLOAT (32-bit) value as the shortest text that reads back as it: to_pylist() widens
    it to a double, and 44.74 would read 44.7400016784668."""
    if value is None or math.isnan(value):
        return None
    import numpy as np  # installed with pyarrow's pandas support, imported only for Parquet

    return np.format_float_positional(np.float32(value), unique=True, trim="0")
