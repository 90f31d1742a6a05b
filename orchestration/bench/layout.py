"""The column order of the files the bench generator writes, which the baseline relies on.

Text files are read positionally by the baseline (as an engineer who knows the feed would), so the
generator and the baseline share this one description; the baseline checks each file's header
against it before trusting the order.
"""

SNAPSHOT_COLUMNS = (
    "platform",
    "account_name",
    "snapshot_date",
    "followers",
    "notes",
    "likes",
    "collects",
    "comments",
    "shares",
    "source",
)
SNAPSHOT_COLUMNS_ZH = (
    "平台",
    "账号",
    "日期",
    "粉丝数",
    "笔记数",
    "点赞数",
    "收藏数",
    "评论数",
    "分享数",
    "来源",
)
JSONL_COLUMNS = (
    "platform",
    "account_name",
    "snapshot_date",
    "followers",
    "notes",
    "likes_and_collects",
    "comments",
    "shares",
    "source",
)
ACCOUNTS_COLUMNS = ("platform", "account_name", "bank", "bank_type", "account_role")
ACTIVITY_COLUMNS = ("app", "app_category", "month", "mau", "source")
ACTIVITY_COLUMNS_ZH = ("应用", "类别", "月份", "月活", "来源")
AUDIENCE_COLUMNS = ("app", "month", "dimension", "bucket", "share_pct", "source")
AUDIENCE_COLUMNS_ZH = ("应用", "月份", "维度", "分组", "占比", "来源")

# dataset -> the headers a CSV file of it may have (English, or Chinese in GB18030 files)
CSV_HEADERS = {
    "account_snapshots": (SNAPSHOT_COLUMNS, SNAPSHOT_COLUMNS_ZH),
    "accounts": (ACCOUNTS_COLUMNS,),
    "app_activity": (ACTIVITY_COLUMNS, ACTIVITY_COLUMNS_ZH),
    "app_audience": (AUDIENCE_COLUMNS, AUDIENCE_COLUMNS_ZH),
}
