"""The datasets of the data contract: columns, Chinese header aliases, value kinds, keys.

This is the single description of an input file. The reader matches headers against it, the
validator parses and checks values by its kinds, and the raw tables' columns are derived from it,
so adding an optional column to the contract is one line here.

The closed lists of codes (app categories, audience dimensions, bank types, account roles, note
types, campaign mechanics) are not written here but read from the dbt seed `category_codes.csv`,
their one definition: analysts see and edit them next to the other reference tables, the marts
can join their labels, and ingestion accepts exactly what the seed lists (and, for note types and
campaign mechanics, the label the platform or the brief shows: 图文, 视频; 晒单, 抽奖). Since a
row with any other code is quarantined, nothing downstream checks these values again.
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
    # money in yuan, at most two decimals (fen); Chinese units allowed (1.2万); 0 to
    # parsing.MAX_AMOUNT
    AMOUNT = "amount"


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
    # for Kind.DATE: a date that may lie ahead (a campaign planned or still running); every
    # other date is refused when in the future, as a sign of a wrong format
    future_allowed: bool = False


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
    # Date columns in order, (earlier, later, why): the first's date may not be after the
    # second's (a note cannot be published after the date of its figures). A row breaking it is
    # quarantined, its reason ending with `why`.
    not_after: tuple[tuple[str, str, str], ...] = field(default=())
    # Count columns of a funnel, in its order: a delivered stage may not exceed the nearest
    # delivered stage before it (approvals never exceed applications). A row breaking it is
    # quarantined, naming both stages.
    funnel: tuple[str, ...] = field(default=())
    # The bank's own figures, aggregated: a file that looks like it holds personal data (a column
    # of phone or ID card numbers, a column of customers' names) is refused whole and none of its
    # content is kept in the database (ingest/personal_data.py says what is looked for).
    refuse_personal_data: bool = False

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
CAMPAIGN_MECHANICS = _codes("campaign_mechanic")
FUNNEL_CHANNELS = _codes("funnel_channel")
# 小红书 shows a note's type as 图文 or 视频, and campaign briefs name mechanics 晒单, 抽奖, ...:
# those labels are accepted for the codes
NOTE_TYPE_LABELS = read_category_labels()["note_type"]
CAMPAIGN_MECHANIC_LABELS = read_category_labels()["campaign_mechanic"]
FUNNEL_CHANNEL_LABELS = read_category_labels()["funnel_channel"]
COST_TYPES = _codes("cost_type")
COST_TYPE_LABELS = read_category_labels()["cost_type"]

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
    not_after=(
        (
            "published_at",
            "snapshot_date",
            "figures as of snapshot_date cannot include what came later; check both dates",
        ),
    ),
)

_BANK = Column("bank", "银行", Kind.TEXT, description="The bank, as the registry names it.")
_TOPIC = Column(
    "topic",
    "话题",
    Kind.TEXT,
    description="The hashtag users post under, with or without its # signs (#分享你的618攻略#).",
)
_CREATOR = Column(
    "creator_id", "博主ID", Kind.TEXT, description="The platform's id of the creator (KOL)."
)


def _price(name: str, alias: str, note_type: str) -> Column:
    return Column(
        name,
        alias,
        Kind.AMOUNT,
        required=False,
        description=f"The creator's quoted price for one {note_type} note, yuan.",
    )


CAMPAIGNS = Dataset(
    name="campaigns",
    description="A bank's campaign on a platform: its topic, mechanic, offer, channels and window.",
    columns=(
        Column(
            "campaign_id",
            "活动ID",
            Kind.TEXT,
            description="The campaign's id, unique in the deployment (collaborations and the"
            " funnel name it).",
        ),
        _PLATFORM,
        _BANK,
        Column(
            "account_name",
            "账号",
            Kind.TEXT,
            required=False,
            description="The official account that runs it, if one does.",
        ),
        Column("name", "活动名称", Kind.TEXT, description="The campaign's name as announced."),
        _TOPIC,
        Column(
            "mechanic",
            "活动形式",
            Kind.CATEGORY,
            allowed=CAMPAIGN_MECHANICS,
            labels=CAMPAIGN_MECHANIC_LABELS,
        ),
        Column(
            "offer",
            "权益",
            Kind.TEXT,
            required=False,
            description="The card offer it promotes (笔笔返现, a new card).",
        ),
        Column(
            "private_channel",
            "私域渠道",
            Kind.TEXT,
            required=False,
            description="The private channel it is run from (a fan group).",
        ),
        Column(
            "app_channel",
            "APP渠道",
            Kind.TEXT,
            required=False,
            description="Where users take part in the bank's app (掌上生活).",
        ),
        Column(
            "start_date",
            "开始日期",
            Kind.DATE,
            description="First day of the campaign.",
            future_allowed=True,
        ),
        Column(
            "end_date",
            "结束日期",
            Kind.DATE,
            description="Last day of the campaign (it may lie ahead).",
            future_allowed=True,
        ),
        _SOURCE,
    ),
    key=("campaign_id",),
    not_after=(
        (
            "start_date",
            "end_date",
            "a campaign ends on or after the day it starts; check both dates and their format",
        ),
    ),
)

TOPIC_SNAPSHOTS = Dataset(
    name="topic_snapshots",
    description="A topic's (hashtag's) notes and views on a platform as of a date.",
    columns=(
        _PLATFORM,
        _TOPIC,
        Column("snapshot_date", "日期", Kind.DATE, description="As-of date of the figures."),
        Column("notes_count", "笔记数", Kind.COUNT, description="Notes posted under the topic."),
        Column(
            "views",
            "浏览量",
            Kind.COUNT,
            required=False,
            description="Views of the topic's notes, as the platform shows them.",
        ),
        _SOURCE,
    ),
    key=("platform", "topic", "snapshot_date"),
)

CREATORS = Dataset(
    name="creators",
    description="A creator's (KOL's) figures and quoted prices as of a date.",
    columns=(
        _PLATFORM,
        _CREATOR,
        Column("creator_name", "博主", Kind.TEXT, description="The creator's name as shown."),
        Column("snapshot_date", "日期", Kind.DATE, description="As-of date of the figures."),
        Column("followers", "粉丝数", Kind.COUNT),
        Column("notes", "笔记数", Kind.COUNT),
        Column("likes_and_collects", "获赞与收藏", Kind.COUNT),
        Column(
            "median_interactions",
            "互动中位数",
            Kind.COUNT,
            required=False,
            description="Median interactions of the creator's recent notes, as the source"
            " counts them (蒲公英: likes + collects + comments).",
        ),
        Column(
            "vertical",
            "领域",
            Kind.TEXT,
            description="The creator's field as the source files it (理财, 旅行, 美食, ...).",
        ),
        _price("price_image", "图文报价", "image-and-text"),
        _price("price_video", "视频报价", "video"),
        _SOURCE,
    ),
    key=("platform", "creator_id", "snapshot_date"),
)

CREATOR_AUDIENCE = Dataset(
    name="creator_audience",
    description="A creator's audience profile: share of its followers per bucket of one dimension.",
    columns=(
        _PLATFORM,
        _CREATOR,
        Column("month", "月份", Kind.MONTH, description="Month of the profile (first day)."),
        Column("dimension", "维度", Kind.CATEGORY, allowed=AUDIENCE_DIMENSIONS),
        Column(
            "bucket",
            "分组",
            Kind.TEXT,
            description="The bucket label, as the platform's audience profiles name it.",
        ),
        Column(
            "share_pct", "占比", Kind.PERCENT, description="Percent of the creator's followers."
        ),
        _SOURCE,
    ),
    key=("platform", "creator_id", "month", "dimension", "bucket"),
)

COLLABORATIONS = Dataset(
    name="collaborations",
    description="A bank's paid or unpaid work with a creator: the note, the campaign, the cost.",
    columns=(
        _BANK,
        _PLATFORM,
        _CREATOR,
        Column(
            "note_id",
            "笔记ID",
            Kind.TEXT,
            required=False,
            description="The creator's note of the collaboration, if published.",
        ),
        Column("date", "日期", Kind.DATE, description="Day of the collaboration (publication)."),
        Column(
            "campaign_id",
            "活动ID",
            Kind.TEXT,
            required=False,
            description="The campaign it belongs to, if any (campaigns.campaign_id).",
        ),
        Column(
            "cost",
            "费用",
            Kind.AMOUNT,
            required=False,
            description="What the bank paid, yuan; empty when unknown (not 0).",
        ),
        _SOURCE,
    ),
    # a collaboration without a note is one per bank, creator and day
    key=("bank", "platform", "creator_id", "date", "note_id"),
)


def _stage(name: str, alias: str, what: str, required: bool = True) -> Column:
    return Column(name, alias, Kind.COUNT, required=required, description=what)


FUNNEL_DAILY = Dataset(
    name="funnel_daily",
    description="The bank's own funnel per day, channel and campaign, aggregated (never one"
    " customer per row): impressions to first spend, spending and shares.",
    columns=(
        Column("date", "日期", Kind.DATE, description="The day the figures count."),
        _BANK,
        _PLATFORM,
        Column(
            "channel",
            "渠道",
            Kind.CATEGORY,
            allowed=FUNNEL_CHANNELS,
            labels=FUNNEL_CHANNEL_LABELS,
        ),
        Column(
            "campaign_id",
            "活动ID",
            Kind.TEXT,
            required=False,
            description="The campaign the figures are attributed to (campaigns.campaign_id);"
            " empty for figures outside any campaign.",
        ),
        _stage("impressions", "曝光", "Times the bank's content or offer was shown.", False),
        _stage("clicks", "点击", "Clicks through to the application page.", False),
        _stage("applications", "申请", "Card applications submitted (申请)."),
        _stage("approvals", "核卡", "Applications approved, cards issued (核卡)."),
        _stage("activations", "激活", "Cards activated (激活)."),
        _stage("first_spend", "首刷", "Cards with a first purchase (首刷)."),
        Column(
            "spend_amount",
            "消费金额",
            Kind.AMOUNT,
            required=False,
            description="Spending on the cards counted in the row, yuan.",
        ),
        _stage("shares", "分享", "Customers' shares of the campaign or offer (分享).", False),
        _SOURCE,
    ),
    key=("date", "bank", "platform", "channel", "campaign_id"),
    funnel=("impressions", "clicks", "applications", "approvals", "activations", "first_spend"),
    refuse_personal_data=True,
)

# What a channel cost, for the cost per card. Creators' fees are not delivered here but in
# `collaborations` (per creator and note), so no fee is counted twice.
MARKETING_COSTS = Dataset(
    name="marketing_costs",
    description="The bank's own spending on a channel and campaign per day (media, rewards,"
    " operations); creators' fees are in collaborations.",
    columns=(
        Column("date", "日期", Kind.DATE, description="The day the cost is booked."),
        _BANK,
        _PLATFORM,
        FUNNEL_DAILY.column("channel"),
        FUNNEL_DAILY.column("campaign_id"),
        Column(
            "cost_type",
            "费用类型",
            Kind.CATEGORY,
            allowed=COST_TYPES,
            labels=COST_TYPE_LABELS,
        ),
        Column("cost", "费用", Kind.AMOUNT, description="What the bank spent, yuan."),
        _SOURCE,
    ),
    key=("date", "bank", "platform", "channel", "campaign_id", "cost_type"),
    refuse_personal_data=True,
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        APP_ACTIVITY,
        APP_AUDIENCE,
        ACCOUNT_SNAPSHOTS,
        ACCOUNTS,
        NOTES,
        CAMPAIGNS,
        TOPIC_SNAPSHOTS,
        CREATORS,
        CREATOR_AUDIENCE,
        COLLABORATIONS,
        FUNNEL_DAILY,
        MARKETING_COSTS,
    )
}
