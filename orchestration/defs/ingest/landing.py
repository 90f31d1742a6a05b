"""The landing folder: which entries are deliveries, and which dataset a file belongs to.

`scan_landing` sorts every entry of the landing folder into deliveries and entries skipped with
a reason (symbolic links, special files, temporary names, hidden files and folders), the same
way for ingestion and the sensor. Names are kept losslessly whatever their bytes.
A file that cannot be read at all raises `UnreadableFile` (here, so every stage can tell it)
with a reason a person can act on; the caller quarantines it whole. Reading files is
`encoding.py` and `reading.py`.
"""

import hashlib
import os
import stat
import time
from dataclasses import dataclass, field, replace
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
