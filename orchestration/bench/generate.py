"""A synthetic landing folder in the contract's formats, deterministic from a seed.

    python -m orchestration.bench.generate --out DIR --accounts 10000 --days 365 \\
        --apps 50 --months 36 --seed 1 [--bad-rate 0.001] [--gap-rate 0.005]
    python -m orchestration.bench.generate --out DIR --append-day

writes:

- `account_snapshots__YYYY-MM-DD.<ext>`, one file per day for N accounts, the last day yesterday.
  The format follows the day index (day % 10): 3 -> JSON Lines (likes_and_collects combined,
  plain counts as JSON numbers, dates 2025/4/17), 6 -> Parquet (counts as the text shown,
  snapshot_date a DATE), 8 -> GB18030 CSV with Chinese headers, CRLF line ends, dates
  2025年4月17日 and a few full-width digits (as Excel on a Chinese Windows saves it); otherwise
  UTF-8 CSV. Columns are always in the same order within a format.
- `accounts.csv`, the registry (platform, account_name, bank, bank_type, account_role).
- `app_activity__YYYY-MM.csv` and `app_audience__YYYY-MM.csv`, one per month for M months
  ending with the last day's month: A apps plus the `信用卡APP整体` aggregate (card_app_industry,
  the audience baseline); audiences by age, consumption and gender with the labels of
  dbt_project/seeds/audience_buckets.csv, shares summing to exactly 100.00 per app, month and
  dimension. Every fourth month's files are GB18030 with Chinese headers.
- `.bench.json` (hidden, so never taken for a delivery): the parameters and what was written,
  which `--append-day` continues from.

The figures are realistic enough to pass the quality gate: followers are heavy-tailed (Pareto)
and grow slowly (an account never loses more than 1% a day, and one under 1,000 followers never
loses any); notes, likes, collects, comments and shares only grow. A share of the counts is
written as people write them (`12.7万`, `3.4w`, `2.32亿`, `1.5k`, `12,700`), rounded half up to
the unit's last digit as the platforms display them. A small rate of rows is bad (unparseable
counts, missing values, impossible dates) and must be quarantined; a small rate of accounts is
missing on a day (uneven snapshot gaps), never enough to trip the feed check (each date covers
at least half the accounts of the one before).

Every day draws from its own random stream (seed, day), so generating D + 1 days and generating
D days then appending one write the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration import settings
from orchestration.bench.layout import (
    ACCOUNTS_COLUMNS,
    ACTIVITY_COLUMNS,
    ACTIVITY_COLUMNS_ZH,
    AUDIENCE_COLUMNS,
    AUDIENCE_COLUMNS_ZH,
    JSONL_COLUMNS,
    SNAPSHOT_COLUMNS,
    SNAPSHOT_COLUMNS_ZH,
)

MANIFEST_NAME = ".bench.json"  # a hidden file: ingestion skips it, never a delivery
INDUSTRY_APP = "信用卡APP整体"
SOURCE = "bench: synthetic feed"
SOURCE_ZH = "基准测试合成数据"

PLATFORMS = ("小红书", "抖音", "微博")
PLATFORM_WEIGHTS = (0.6, 0.25, 0.15)
BANKS = (
    ("中国工商银行", "state_owned"),
    ("中国建设银行", "state_owned"),
    ("中国农业银行", "state_owned"),
    ("中国银行", "state_owned"),
    ("交通银行", "state_owned"),
    ("中国邮政储蓄银行", "state_owned"),
    ("招商银行", "joint_stock"),
    ("中信银行", "joint_stock"),
    ("上海浦东发展银行", "joint_stock"),
    ("中国民生银行", "joint_stock"),
    ("兴业银行", "joint_stock"),
    ("中国光大银行", "joint_stock"),
    ("平安银行", "joint_stock"),
    ("华夏银行", "joint_stock"),
    ("广发银行", "joint_stock"),
    ("浙商银行", "joint_stock"),
    ("北京银行", "city_commercial"),
    ("上海银行", "city_commercial"),
    ("宁波银行", "city_commercial"),
    ("江苏银行", "city_commercial"),
    ("南京银行", "city_commercial"),
    ("杭州银行", "city_commercial"),
    ("徽商银行", "city_commercial"),
    ("成都银行", "city_commercial"),
    ("上海农商银行", "rural_commercial"),
    ("北京农商银行", "rural_commercial"),
    ("重庆农商银行", "rural_commercial"),
    ("广州农商银行", "rural_commercial"),
    ("微众银行", "other"),
    ("网商银行", "other"),
)
ROLES = ("card_center", "card_application", "main", "branch")
ROLE_WEIGHTS = (0.35, 0.15, 0.2, 0.3)
ROLE_NAMES = ("信用卡中心", "信用卡申请", "", "信用卡分中心")

CONTENT_APPS = ("小红书", "抖音", "微博", "微信", "快手", "哔哩哔哩", "知乎")
CARD_APPS = (
    "掌上生活",
    "买单吧",
    "动卡空间",
    "发现精彩",
    "浦大喜奔",
    "阳光惠生活",
    "全民生活",
    "中银缤纷生活",
    "工银e生活",
    "建行生活",
)
AUDIENCE = (
    ("age", ("24岁以下", "25-30岁", "31-35岁", "36岁及以上")),
    ("consumption", ("高消费者", "中高消费者", "中等消费者", "中低及以下消费者")),
    ("gender", ("男", "女")),
)

# Text a broken export or a hand-edited sheet puts where a count belongs; all are rejected.
BAD_COUNTS = ("N/A", "--", "约3万", "十万", "12.7万万", "-35", "1,27", "待更新")
BAD_DATES = ("2025-02-30", "2025-13-01", "昨天")
SEPARATOR_RATE = 0.02  # counts written with thousands separators (12,700)
FULLWIDTH_RATE = 0.03  # counts written with full-width digits, in GB18030 files only
_TO_FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789.,wk"}


def snapshot_format(day_index: int) -> str:
    """The format of a day's file: mostly UTF-8 CSV, some JSONL, Parquet and GB18030 CSV."""
    return {3: "jsonl", 6: "parquet", 8: "csv-gb18030"}.get(day_index % 10, "csv")


@dataclass(frozen=True)
class Params:
    accounts: int
    days: int
    apps: int
    months: int
    seed: int
    end_date: str  # ISO date of the last day written by the first generation
    bad_rate: float = 0.001
    gap_rate: float = 0.005
    unit_rate: float = 0.3

    @property
    def start(self) -> date:
        return date.fromisoformat(self.end_date) - timedelta(days=self.days - 1)


@dataclass
class Summary:
    out: str
    params: dict
    days_written: int = 0
    snapshot_rows: int = 0  # rows written to account_snapshots files, bad ones included
    bad_rows: int = 0
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# Accounts and their daily figures


@dataclass
class Accounts:
    platform: np.ndarray  # index into PLATFORMS
    name: pa.Array
    bank: np.ndarray  # index into BANKS
    role: np.ndarray  # index into ROLES
    drift: np.ndarray  # mean daily log growth of followers
    vol: np.ndarray
    note_rate: np.ndarray  # notes per day
    per_note: np.ndarray  # likes and collects a note brings
    like_frac: np.ndarray  # likes / (likes + collects)
    comment_rate: np.ndarray
    share_rate: np.ndarray


@dataclass
class State:
    followers: np.ndarray  # float: the true figure, rounded when written
    notes: np.ndarray
    likes: np.ndarray
    collects: np.ndarray
    comments: np.ndarray
    shares: np.ndarray


def make_accounts(params: Params) -> tuple[Accounts, State]:
    """The accounts and their figures on day 0."""
    rng = np.random.default_rng([params.seed, 0])
    n = params.accounts
    platform = rng.choice(len(PLATFORMS), size=n, p=PLATFORM_WEIGHTS)
    bank = rng.integers(0, len(BANKS), size=n)
    role = rng.choice(len(ROLES), size=n, p=ROLE_WEIGHTS)
    names = [
        f"{BANKS[b][0]}{ROLE_NAMES[r]}·{i + 1:05d}"
        for i, (b, r) in enumerate(zip(bank, role, strict=True))
    ]
    # Heavy tail: Pareto(1.15) above 800 followers, capped at 30 million; 5% new small accounts.
    tiny = rng.random(n) < 0.05
    followers = np.where(tiny, rng.integers(0, 500, n), (rng.pareto(1.15, n) + 1) * 800)
    followers = np.minimum(followers, 3e7).astype(np.float64)
    notes = np.rint(rng.lognormal(np.log(150), 1.0, n)).astype(np.int64)
    per_note = rng.lognormal(np.log(30), 1.0, n) * (np.maximum(followers, 100) / 5000) ** 0.4
    like_frac = rng.uniform(0.5, 0.85, n)
    engagement = np.rint(notes * per_note)
    likes = np.rint(engagement * like_frac).astype(np.int64)
    collects = (engagement - likes).astype(np.int64)
    comment_rate = rng.uniform(0.02, 0.1, n)
    share_rate = rng.uniform(0.01, 0.05, n)
    accounts = Accounts(
        platform=platform,
        name=pa.array(names, pa.string()),
        bank=bank,
        role=role,
        drift=rng.normal(0.0006, 0.0008, n),
        vol=rng.uniform(0.001, 0.004, n),
        note_rate=rng.lognormal(np.log(0.3), 0.8, n),
        per_note=per_note,
        like_frac=like_frac,
        comment_rate=comment_rate,
        share_rate=share_rate,
    )
    state = State(
        followers=followers,
        notes=notes,
        likes=likes,
        collects=collects,
        comments=np.rint(likes * comment_rate).astype(np.int64),
        shares=np.rint(likes * share_rate).astype(np.int64),
    )
    return accounts, state


def step(accounts: Accounts, state: State, seed: int, day_index: int) -> State:
    """The figures of day `day_index` from those of the day before."""
    rng = np.random.default_rng([seed, 1, day_index])
    n = len(state.followers)
    growth = accounts.drift + accounts.vol * rng.standard_normal(n)
    # at most -1% a day, and never a loss under 1,000 followers (integer rounding of a tiny
    # account would otherwise read as a big relative drop)
    growth = np.maximum(growth, np.where(state.followers < 1000, 0.0, -0.01))
    followers = state.followers * np.exp(growth)
    new_notes = rng.poisson(accounts.note_rate)
    # new notes bring engagement; the audience keeps liking the back catalogue a little
    engagement = accounts.per_note * accounts.note_rate + followers * 0.0004
    new_likes = rng.poisson(engagement * accounts.like_frac)
    return State(
        followers=followers,
        notes=state.notes + new_notes,
        likes=state.likes + new_likes,
        collects=state.collects + rng.poisson(engagement * (1 - accounts.like_frac)),
        comments=state.comments + rng.poisson(new_likes * accounts.comment_rate),
        shares=state.shares + rng.poisson(new_likes * accounts.share_rate),
    )


# ---------------------------------------------------------------------------------------------
# Writing counts as sources write them


def _concat(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _decimal(values: np.ndarray, step: int, places: int, unit: str) -> pa.Array:
    """`values` rounded half up to `step` and written in units of step * 10**places: 12.7万."""
    q = (values + step // 2) // step
    whole = pc.cast(pa.array(q // 10**places), pa.string())
    frac_values = q % 10**places
    frac = pc.utf8_lpad(pc.cast(pa.array(frac_values), pa.string()), width=places, padding="0")
    text = pc.if_else(pa.array(frac_values == 0), whole, _concat(whole, ".", frac))
    return _concat(text, unit)


def _separated(values: np.ndarray) -> pa.Array:
    """12700 -> 12,700; 1234567 -> 1,234,567 (values >= 1000, below a billion)."""
    millions = values // 1_000_000
    thousands = (values // 1000) % 1000
    units = values % 1000

    def padded(v):
        return pc.utf8_lpad(pc.cast(pa.array(v), pa.string()), width=3, padding="0")

    short = _concat(pc.cast(pa.array(values // 1000), pa.string()), ",", padded(units))
    long = _concat(pc.cast(pa.array(millions), pa.string()), ",", padded(thousands), ",")
    long = _concat(long, padded(units))
    return pc.if_else(pa.array(millions > 0), long, short)


def render_counts(values: np.ndarray, rng: np.random.Generator, unit_rate: float) -> pa.Array:
    """Counts as text: mostly plain digits, `unit_rate` of those >= 10,000 with a Chinese unit
    (万 one decimal, sometimes w; 亿 two decimals from 100 million), a few 1.5k and 12,700."""
    values = np.asarray(values, dtype=np.int64)
    u = rng.random(len(values))
    out = pc.cast(pa.array(values), pa.string())
    yi = (values >= 100_000_000) & (u < unit_rate)
    in_wan = (values >= 10_000) & (values < 100_000_000)
    wan = in_wan & (u < unit_rate * 0.85)
    w = in_wan & (u >= unit_rate * 0.85) & (u < unit_rate)
    k = (values >= 1000) & (values < 10_000) & (u < unit_rate * 0.1)
    separated = (values >= 1000) & (values < 1_000_000_000) & (u >= 1 - SEPARATOR_RATE)
    separated &= ~(yi | wan | w | k)
    # each style is written only for the values that use it, then put in place
    for mask, render in (
        (separated, _separated),
        (wan, lambda v: _decimal(v, 1000, 1, "万")),
        (w, lambda v: _decimal(v, 1000, 1, "w")),
        (yi, lambda v: _decimal(v, 1_000_000, 2, "亿")),
        (k, lambda v: _decimal(v, 100, 1, "k")),
    ):
        if mask.any():
            out = pc.replace_with_mask(out, pa.array(mask), render(values[mask]))
    return out


def _fullwidth(column: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return column
    positions = np.flatnonzero(mask)
    replacements = [
        None if v is None else v.translate(_TO_FULLWIDTH)
        for v in column.take(pa.array(positions)).to_pylist()
    ]
    return pc.replace_with_mask(column, pa.array(mask), pa.array(replacements, pa.string()))


def _spoil(column: pa.Array, mask: np.ndarray, values: list[str | None]) -> pa.Array:
    if not mask.any():
        return column
    return pc.replace_with_mask(column, pa.array(mask), pa.array(values, pa.string()))


def _repeat(text: str, n: int) -> pa.Array:
    return pa.array([text] * n, pa.string())


# ---------------------------------------------------------------------------------------------
# File formats


def _csv_cell(column: pa.Array) -> pa.Array:
    column = pc.fill_null(column, "")
    needs_quotes = pc.match_substring_regex(column, '[",\r\n]')
    quoted = _concat('"', pc.replace_substring(column, '"', '""'), '"')
    return pc.if_else(needs_quotes, quoted, column)


def csv_bytes(header, columns: list[pa.Array], encoding="utf-8", newline="\n") -> bytes:
    """A CSV as spreadsheets write it: quotes only where needed, empty for missing."""
    lines = pc.binary_join_element_wise(*[_csv_cell(c) for c in columns], ",").to_pylist()
    text = newline.join([",".join(header), *lines]) + newline
    return text.encode(encoding)


def _json_cell(column: pa.Array) -> pa.Array:
    """Plain digits as JSON numbers, anything else as a JSON string, missing as null."""
    escaped = pc.replace_substring(pc.replace_substring(column, "\\", "\\\\"), '"', '\\"')
    quoted = _concat('"', escaped, '"')
    number = pc.fill_null(pc.match_substring_regex(column, "^[1-9][0-9]*$|^0$"), False)
    return pc.fill_null(pc.if_else(number, column, quoted), "null")


def jsonl_bytes(names, columns: list[pa.Array]) -> bytes:
    cells = [_concat(f'"{name}": ', _json_cell(c)) for name, c in zip(names, columns, strict=True)]
    lines = _concat("{", pc.binary_join_element_wise(*cells, ", "), "}").to_pylist()
    return ("\n".join(lines) + "\n").encode("utf-8")


def _write(path: Path, content: bytes, mtime: float) -> None:
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))


def _delivery_time(day: date) -> float:
    """A delivery lands the evening of its snapshot date, and today's a minute ago at the latest:
    the pipeline leaves a file modified in the last seconds for a later run (it may still be
    being copied), and a bench appends a day and runs at once."""
    evening = datetime(day.year, day.month, day.day, 20, 0).timestamp()
    return min(evening, time.time() - 60)


# ---------------------------------------------------------------------------------------------
# One day's snapshot file


def write_day(
    out: Path, params: Params, accounts: Accounts, state: State, day_index: int
) -> tuple[str, int, int]:
    """Write day `day_index`'s file; returns its name, rows written and bad rows."""
    rng = np.random.default_rng([params.seed, 2, day_index])
    day = params.start + timedelta(days=day_index)
    fmt = snapshot_format(day_index)
    n_all = params.accounts
    present = rng.random(n_all) >= (params.gap_rate if day_index else 0.0)
    idx = np.flatnonzero(present)
    n = len(idx)

    counts = {
        "followers": np.rint(state.followers[idx]).astype(np.int64),
        "notes": state.notes[idx],
        "likes": state.likes[idx],
        "collects": state.collects[idx],
        "likes_and_collects": state.likes[idx] + state.collects[idx],
        "comments": state.comments[idx],
        "shares": state.shares[idx],
    }
    text = {name: render_counts(v, rng, params.unit_rate) for name, v in counts.items()}
    if fmt == "csv-gb18030":
        for name in text:
            text[name] = _fullwidth(text[name], rng.random(n) < FULLWIDTH_RATE)
    date_text = {
        "csv": day.isoformat(),
        "csv-gb18030": f"{day.year}年{day.month}月{day.day}日",
        "jsonl": f"{day.year}/{day.month}/{day.day}",
        "parquet": day.isoformat(),
    }[fmt]
    platform = pa.array(np.array(PLATFORMS, dtype=object)[accounts.platform[idx]], pa.string())
    name = accounts.name.take(pa.array(idx))
    snapshot_date = _repeat(date_text, n)

    # Bad rows: a count that does not parse, a missing value or an impossible date.
    bad = rng.random(n) < params.bad_rate
    kind = rng.integers(0, 5, n)
    garbage = rng.integers(0, len(BAD_COUNTS), n)
    engagement_column = "likes_and_collects" if fmt == "jsonl" else "likes"
    if fmt == "parquet":
        kind = np.where(kind == 4, 0, kind)  # a Parquet DATE column cannot hold a bad date
    spoil = {k: bad & (kind == k) for k in range(5)}
    text["followers"] = _spoil(
        text["followers"], spoil[0], [BAD_COUNTS[g] for g in garbage[spoil[0]]]
    )
    text["notes"] = _spoil(text["notes"], spoil[1], [None] * int(spoil[1].sum()))
    text[engagement_column] = _spoil(
        text[engagement_column], spoil[2], [BAD_COUNTS[g] for g in garbage[spoil[2]]]
    )
    name = _spoil(name, spoil[3], [None] * int(spoil[3].sum()))
    snapshot_date = _spoil(
        snapshot_date, spoil[4], [BAD_DATES[g % len(BAD_DATES)] for g in garbage[spoil[4]]]
    )

    stem = f"account_snapshots__{day.isoformat()}"
    mtime = _delivery_time(day)
    if fmt in ("csv", "csv-gb18030"):
        source = SOURCE if fmt == "csv" else SOURCE_ZH
        columns = [
            platform,
            name,
            snapshot_date,
            text["followers"],
            text["notes"],
            text["likes"],
            text["collects"],
            text["comments"],
            text["shares"],
            _repeat(source, n),
        ]
        if fmt == "csv":
            content = csv_bytes(SNAPSHOT_COLUMNS, columns)
        else:
            content = csv_bytes(SNAPSHOT_COLUMNS_ZH, columns, "gb18030", "\r\n")
        file_name = f"{stem}.csv"
        _write(out / file_name, content, mtime)
    elif fmt == "jsonl":
        columns = [
            platform,
            name,
            snapshot_date,
            text["followers"],
            text["notes"],
            text["likes_and_collects"],
            text["comments"],
            text["shares"],
            _repeat(SOURCE, n),
        ]
        file_name = f"{stem}.jsonl"
        _write(out / file_name, jsonl_bytes(JSONL_COLUMNS, columns), mtime)
    else:
        table = pa.table(
            {
                "platform": platform,
                "account_name": name,
                "snapshot_date": pa.array([day] * n, pa.date32()),
                **{c: text[c] for c in ("followers", "notes", "likes", "collects")},
                "comments": text["comments"],
                "shares": text["shares"],
                "source": _repeat(SOURCE, n),
            }
        )
        file_name = f"{stem}.parquet"
        pq.write_table(table, out / file_name)
        os.utime(out / file_name, (mtime, mtime))
    return file_name, n, int(bad.sum())


# ---------------------------------------------------------------------------------------------
# Registry and apps


def write_registry(out: Path, params: Params, accounts: Accounts, mtime: float) -> str:
    columns = [
        pa.array(np.array(PLATFORMS, dtype=object)[accounts.platform], pa.string()),
        accounts.name,
        pa.array([BANKS[b][0] for b in accounts.bank], pa.string()),
        pa.array([BANKS[b][1] for b in accounts.bank], pa.string()),
        pa.array([ROLES[r] for r in accounts.role], pa.string()),
    ]
    _write(out / "accounts.csv", csv_bytes(ACCOUNTS_COLUMNS, columns), mtime)
    return "accounts.csv"


def _apps(count: int) -> list[tuple[str, str]]:
    """`count` apps (about 40% content platforms, the rest card apps) and the card-app aggregate."""
    content = max(1, round(count * 0.4)) if count > 1 else count
    apps = [
        (CONTENT_APPS[i] if i < len(CONTENT_APPS) else f"内容平台{i + 1:03d}", "content_platform")
        for i in range(content)
    ]
    apps += [
        (CARD_APPS[i] if i < len(CARD_APPS) else f"信用卡应用{i + 1:03d}", "card_app")
        for i in range(count - content)
    ]
    return [*apps, (INDUSTRY_APP, "card_app_industry")]


def _shares_in_hundredths(shares: np.ndarray) -> np.ndarray:
    """Shares (summing to 1) in hundredths of a percent summing to exactly 10000, none negative
    (largest remainders get the rounding)."""
    exact = shares * 10_000
    floor = np.floor(exact).astype(np.int64)
    missing = 10_000 - int(floor.sum())
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[:missing]] += 1
    return floor


def _month_text(month: date, gb: bool, index: int) -> str:
    if gb:
        return f"{month.year}年{month.month}月"
    return f"{month.year}/{month.month}" if index % 3 == 1 else f"{month:%Y-%m}"


def _mau_text(mau: int, u: float) -> str:
    if mau >= 100_000_000 and u < 0.5:
        q = (mau + 500_000) // 1_000_000
        return f"{q // 100}.{q % 100:02d}亿"
    if mau >= 10_000 and u < 0.5:
        return f"{(mau + 5000) // 10_000}万"
    return str(mau)


def write_apps(out: Path, params: Params, mtime: float) -> list[str]:
    rng = np.random.default_rng([params.seed, 3])
    apps = _apps(params.apps)
    end = date.fromisoformat(params.end_date).replace(day=1)
    months = []
    for back in range(params.months - 1, -1, -1):
        y, m = divmod(end.year * 12 + end.month - 1 - back, 12)
        months.append(date(y, m + 1, 1))
    mau = np.array(
        [
            1.15e8
            if category == "card_app_industry"
            else np.clip(rng.lognormal(np.log(8e7), 1.0), 2e6, 9e8)
            if category == "content_platform"
            else np.clip(rng.lognormal(np.log(8e6), 1.0), 2e5, 8e7)
            for _, category in apps
        ]
    )
    # each app's audience leans its own way; months move around it
    profiles = {dim: rng.dirichlet(np.full(len(b), 4.0), size=len(apps)) for dim, b in AUDIENCE}
    files = []
    for index, month in enumerate(months):
        if index:
            mau = np.clip(mau * np.exp(rng.normal(0.004, 0.03, len(apps))), 1e5, 1.4e9)
        gb = index % 4 == 2
        month_text = _month_text(month, gb, index)
        source = SOURCE_ZH if gb else SOURCE
        activity = []
        audience = []
        for a, (app, category) in enumerate(apps):
            figure = _mau_text(int(round(mau[a])), rng.random())
            activity.append((app, category, month_text, figure, source))
            for dim, buckets in AUDIENCE:
                shares = rng.dirichlet(profiles[dim][a] * 200)
                for bucket, hundredths in zip(buckets, _shares_in_hundredths(shares), strict=True):
                    share = f"{hundredths // 100}.{hundredths % 100:02d}" + ("%" if gb else "")
                    audience.append((app, month_text, dim, bucket, share, source))
        for name, header, header_zh, rows in (
            ("app_activity", ACTIVITY_COLUMNS, ACTIVITY_COLUMNS_ZH, activity),
            ("app_audience", AUDIENCE_COLUMNS, AUDIENCE_COLUMNS_ZH, audience),
        ):
            columns = [pa.array(list(col), pa.string()) for col in zip(*rows, strict=True)]
            content = (
                csv_bytes(header_zh, columns, "gb18030", "\r\n")
                if gb
                else csv_bytes(header, columns)
            )
            file_name = f"{name}__{month:%Y-%m}.csv"
            _write(out / file_name, content, mtime + index)
            files.append(file_name)
    return files


# ---------------------------------------------------------------------------------------------
# Entry points


def _read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _write_manifest(out: Path, summary: Summary) -> None:
    (out / MANIFEST_NAME).write_text(
        json.dumps(asdict(summary), ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _clear(out: Path) -> None:
    """Remove an earlier generation's files (only those it listed); refuse any other folder."""
    if not out.exists():
        return
    manifest = _read_manifest(out)
    others = [p.name for p in out.iterdir() if p.name != MANIFEST_NAME]
    if manifest is None:
        if others:
            raise SystemExit(f"{out} is not empty and was not written by this generator")
        return
    for name in manifest["files"]:
        (out / name).unlink(missing_ok=True)
    (out / MANIFEST_NAME).unlink()
    left = [p.name for p in out.iterdir()]
    if left:
        raise SystemExit(f"{out} holds files this generator did not write: {left[:5]}")


def generate(out: Path, params: Params) -> Summary:
    """Write the whole landing folder for `params` into `out` (empty, or an earlier generation)."""
    started = time.perf_counter()
    if params.accounts < 1 or params.days < 1 or params.apps < 1 or params.months < 1:
        raise ValueError("accounts, days, apps and months must be at least 1")
    if not 0 <= params.bad_rate <= 0.2 or not 0 <= params.gap_rate <= 0.2:
        raise ValueError("--bad-rate and --gap-rate must be between 0 and 0.2")
    _clear(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary(out=str(out), params=asdict(params))
    accounts, state = make_accounts(params)
    before = _delivery_time(params.start) - 86_400
    summary.files.append(write_registry(out, params, accounts, before))
    summary.files += write_apps(out, params, before - 3600)
    for day_index in range(params.days):
        if day_index:
            state = step(accounts, state, params.seed, day_index)
        name, rows, bad = write_day(out, params, accounts, state, day_index)
        summary.files.append(name)
        summary.snapshot_rows += rows
        summary.bad_rows += bad
    summary.days_written = params.days
    summary.seconds = round(time.perf_counter() - started, 3)
    _write_manifest(out, summary)
    return summary


def append_day(out: Path, today: date | None = None) -> Summary:
    """Write the next day's drop on top of a generated folder (the day after its latest)."""
    started = time.perf_counter()
    manifest = _read_manifest(out)
    if manifest is None:
        raise SystemExit(f"{out} has no {MANIFEST_NAME}: generate the folder first")
    params = Params(**manifest["params"])
    day_index = manifest["days_written"]
    day = params.start + timedelta(days=day_index)
    today = today or settings.today()
    if day > today:
        raise SystemExit(
            f"the next day, {day}, is in the future (today is {today}): the pipeline would"
            " reject it; generate with an earlier --end-date"
        )
    accounts, state = make_accounts(params)
    for index in range(1, day_index + 1):
        state = step(accounts, state, params.seed, index)
    name, rows, bad = write_day(out, params, accounts, state, day_index)
    summary = Summary(**{**manifest, "seconds": 0.0})
    summary.files.append(name)
    summary.days_written += 1
    summary.snapshot_rows += rows
    summary.bad_rows += bad
    _write_manifest(out, summary)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.bench.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", required=True, type=Path, help="the landing folder to write")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--apps", type=int, default=50, help="apps, plus the 信用卡APP整体 aggregate"
    )
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bad-rate", type=float, default=0.001, help="share of bad rows")
    parser.add_argument("--gap-rate", type=float, default=0.005, help="accounts missing a day")
    parser.add_argument("--unit-rate", type=float, default=0.3, help="counts >= 1万 with units")
    parser.add_argument("--end-date", help="last day (ISO), default yesterday")
    parser.add_argument(
        "--append-day",
        action="store_true",
        help="write one more day's drop on top of an existing generated folder",
    )
    args = parser.parse_args(argv)
    if args.append_day:
        summary = append_day(args.out)
        print(f"appended {summary.files[-1]} to {args.out} ({summary.seconds:.1f} s)")
        return 0
    end = args.end_date or (settings.today() - timedelta(days=1)).isoformat()
    params = Params(
        accounts=args.accounts,
        days=args.days,
        apps=args.apps,
        months=args.months,
        seed=args.seed,
        end_date=end,
        bad_rate=args.bad_rate,
        gap_rate=args.gap_rate,
        unit_rate=args.unit_rate,
    )
    try:
        summary = generate(args.out, params)
    except ValueError as error:
        parser.error(str(error))
    print(
        f"wrote {len(summary.files)} files to {args.out}: {summary.snapshot_rows} snapshot rows"
        f" ({summary.bad_rows} bad) for {params.accounts} accounts x {params.days} days,"
        f" {params.start} to {params.end_date}, in {summary.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
