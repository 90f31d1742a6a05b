"""The five datasets of the data contract: columns, Chinese header aliases, value kinds, keys.

This is the single description of an input file. The reader matches headers against it, the
validator parses and checks values by its kinds, and the raw tables' columns are derived from it,
so adding an optional column to the contract is one line here.

The closed lists of codes (app categories, audience dimensions, bank types, account roles, note
types) are not written here but read from the dbt seed `category_codes.csv`, their one
definition: analysts see and edit them next to the other reference tables, the marts can join
their labels, and ingestion accepts exactly what the seed lists (and, for note types, the label
the platform shows: 图文, 视频). Since a row with any other code is quarantined, nothing
downstream checks these values again.
"""

import csv
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from orchestration.settings import CATEGORY_CODES_SEED


class Kind(StrEnum):
    """How a delivered text value is read."""

    TEXT = "text"  # kept as delivered, trimmed
    CATEGORY = "category"  # one of a closed set of codes, compared lower-cased
    # persons or items; Chinese units allowed (12.7万); 0 to parsing.MAX_COUNT (10^15)
    COUNT = "count"
    PERCENT = "percent"  # 0–100, with or without a % sign
    MONTH = "month"  # stored as the first day of the month
    DATE = "date"  # a calendar date, never in the future
    # a date, or a date and a time of day on the platform's clock; its date never in the future
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    name: str
    alias: str  # the Chinese header accepted for it
    kind: Kind
    required: bool = True
    allowed: tuple[str, ...] = ()  # for Kind.CATEGORY
    # for Kind.CATEGORY: labels accepted for a code as delivered (图文 -> image), (label, code)
    labels: tuple[tuple[str, str], ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    columns: tuple[Column, ...]
    # Natural key: a later delivery with the same key supersedes an earlier one in the marts.
    key: tuple[str, ...]
    # Groups of optional columns of which at least one must be complete, in the header and in
    # each row (account snapshots carry likes and collects, or only their combined figure).
    one_of: tuple[tuple[str, ...], ...] = field(default=())
    # Pairs (earlier, later) of date columns: the first's date may not be after the second's (a
    # note cannot be published after the date of its figures). A row breaking it is quarantined.
    not_after: tuple[tuple[str, str], ...] = field(default=())

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


def read_category_codes(path: Path = CATEGORY_CODES_SEED) -> dict[str, tuple[str, ...]]:
    """The codes of each category of the seed, in the seed's order."""
    codes: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            codes.setdefault(row["category"].strip(), []).append(row["code"].strip())
    return {category: tuple(values) for category, values in codes.items()}


def read_category_labels(
    path: Path = CATEGORY_CODES_SEED,
) -> dict[str, tuple[tuple[str, str], ...]]:
    """The Chinese label of each code of the seed, per category: (label_zh, code) pairs."""
    labels: dict[str, list[tuple[str, str]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            pair = (row["label_zh"].strip(), row["code"].strip())
            labels.setdefault(row["category"].strip(), []).append(pair)
    return {category: tuple(pairs) for category, pairs in labels.items()}


def _codes(category: str) -> tuple[str, ...]:
    # A category missing from the seed would accept no value at all: fail at import instead.
    try:
        return CATEGORY_CODES[category]
    except KeyError:
        raise LookupError(
            f"{CATEGORY_CODES_SEED.name} lists no code of category {category!r}"
        ) from None


CATEGORY_CODES = read_category_codes()
APP_CATEGORIES = _codes("app_category")
AUDIENCE_DIMENSIONS = _codes("audience_dimension")
BANK_TYPES = _codes("bank_type")
ACCOUNT_ROLES = _codes("account_role")
NOTE_TYPES = _codes("note_type")
# 小红书 shows a note's type as 图文 or 视频: those labels are accepted for the codes
NOTE_TYPE_LABELS = read_category_labels()["note_type"]

_APP = Column("app", "应用", Kind.TEXT, description="App or aggregate as the source names it.")
_MONTH = Column("month", "月份", Kind.MONTH, description="Month of the figure (first day).")
_SOURCE = Column("source", "来源", Kind.TEXT, description="Who published the figure.")
_PLATFORM = Column("platform", "平台", Kind.TEXT, description="Content platform: 小红书, 抖音, …")
_ACCOUNT = Column("account_name", "账号", Kind.TEXT, description="Account name as shown.")

APP_ACTIVITY = Dataset(
    name="app_activity",
    description="Monthly active users (MAU) per app or card-app aggregate per month.",
    columns=(
        _APP,
        Column("app_category", "类别", Kind.CATEGORY, allowed=APP_CATEGORIES),
        _MONTH,
        Column("mau", "月活", Kind.COUNT, description="Monthly active users, persons."),
        _SOURCE,
    ),
    key=("app", "month"),
)

APP_AUDIENCE = Dataset(
    name="app_audience",
    description="Audience profile: share of an app's users per bucket of one dimension.",
    columns=(
        _APP,
        _MONTH,
        Column("dimension", "维度", Kind.CATEGORY, allowed=AUDIENCE_DIMENSIONS),
        Column("bucket", "分组", Kind.TEXT, description="The source's bucket label."),
        Column("share_pct", "占比", Kind.PERCENT, description="Percent of the app's users."),
        _SOURCE,
    ),
    key=("app", "month", "dimension", "bucket"),
)

ACCOUNT_SNAPSHOTS = Dataset(
    name="account_snapshots",
    description="Official-account figures (followers, notes, likes, collects) as of a date.",
    columns=(
        _PLATFORM,
        _ACCOUNT,
        Column("snapshot_date", "日期", Kind.DATE, description="As-of date of the figures."),
        Column("followers", "粉丝数", Kind.COUNT),
        Column("notes", "笔记数", Kind.COUNT),
        Column("likes", "点赞数", Kind.COUNT, required=False),
        Column("collects", "收藏数", Kind.COUNT, required=False),
        Column("likes_and_collects", "获赞与收藏", Kind.COUNT, required=False),
        Column("comments", "评论数", Kind.COUNT, required=False),
        Column("shares", "分享数", Kind.COUNT, required=False),
        _SOURCE,
    ),
    key=("platform", "account_name", "snapshot_date"),
    one_of=(("likes", "collects"), ("likes_and_collects",)),
)

ACCOUNTS = Dataset(
    name="accounts",
    description="Registry of official accounts and the banks that run them.",
    columns=(
        _PLATFORM,
        _ACCOUNT,
        Column("bank", "银行", Kind.TEXT, description="The bank that runs the account."),
        Column("bank_type", "银行类型", Kind.CATEGORY, allowed=BANK_TYPES),
        Column("account_role", "账号类型", Kind.CATEGORY, required=False, allowed=ACCOUNT_ROLES),
        # optional, so registries delivered without it stay valid
        Column(
            "source",
            "来源",
            Kind.TEXT,
            required=False,
            description="Who names the account (and whether its name is illustrative).",
        ),
    ),
    key=("platform", "account_name"),
)

NOTES = Dataset(
    name="notes",
    description="An official account's notes and their counts (likes, collects, comments) as of"
    " a date.",
    columns=(
        _PLATFORM,
        _ACCOUNT,
        Column("note_id", "笔记ID", Kind.TEXT, description="The platform's id of the note."),
        Column(
            "published_at",
            "发布时间",
            Kind.DATETIME,
            description="When the note was published: a date, or a date and time.",
        ),
        Column("snapshot_date", "日期", Kind.DATE, description="As-of date of the counts."),
        Column("title", "标题", Kind.TEXT, required=False, description="The note's title."),
        Column(
            "note_type",
            "笔记类型",
            Kind.CATEGORY,
            allowed=NOTE_TYPES,
            labels=NOTE_TYPE_LABELS,
        ),
        Column(
            "series",
            "合集",
            Kind.TEXT,
            required=False,
            description="The collection (合集) the account files the note in, if any.",
        ),
        Column(
            "topics",
            "话题",
            Kind.TEXT,
            required=False,
            description="Hashtags as the platform shows them (#信用卡#羊毛).",
        ),
        Column("likes", "点赞数", Kind.COUNT),
        Column("collects", "收藏数", Kind.COUNT),
        Column("comments", "评论数", Kind.COUNT),
        Column("shares", "分享数", Kind.COUNT, required=False),
        _SOURCE,
    ),
    key=("platform", "note_id", "snapshot_date"),
    not_after=(("published_at", "snapshot_date"),),
)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (APP_ACTIVITY, APP_AUDIENCE, ACCOUNT_SNAPSHOTS, ACCOUNTS, NOTES)
}
