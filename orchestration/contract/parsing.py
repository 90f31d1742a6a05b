"""Strict parsers for the text values found in snapshot files.

Counts on 小红书 and in vendor reports are written for people ("12.7万",
"10万+", "１２，７００"), not for machines. These parsers turn such text into
exact values and refuse anything they cannot read: a parser that silently
returns 0 for garbage turns a data problem into a wrong ranking, so every
failure raises ``ParseError`` with a message that quotes the text and says
what was expected.

Callers deal with None and with range checks (negative percentages, future
dates, `check_count_range`); the parse functions only read text.

Counts range from 0 to ``MAX_COUNT``, 10^15. The largest honest figures are in
the billions (a platform's monthly users, 10^9; an account's likes, 10^10; a
topic's views, 10^12), so a larger value is a mis-mapped column (an ID, a
phone number) rather than a count, and the bound leaves room for arithmetic
on counts everywhere they go:
- DuckDB keeps counts as BIGINT (up to 9.2 * 10^18): the sum of two counts
  (likes + collects) or a count times 1,000 stays far inside it, and a sum
  of 9,000 maximal counts would still fit; ``sum()`` over a column returns
  HUGEINT (up to 1.7 * 10^38), which no number of rows can overflow.
- pandas, Great Expectations and the report read a BIGINT column with NULLs
  as float64, which holds every integer up to 2^53 (9.0 * 10^15) exactly:
  no count changes on the way.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "MAX_AMOUNT",
    "MAX_COUNT",
    "ParseError",
    "ParsedCount",
    "check_count_range",
    "parse_amount",
    "parse_count",
    "parse_date",
    "parse_datetime",
    "parse_month",
    "parse_percent",
]


# The largest count cardreach accepts; the module docstring says why this one.
MAX_COUNT = 10**15
# The largest amount of money, in yuan: 10^12 (1万亿) is more than any card team's budget or a
# bank's yearly card spending in one row, so a larger value is a mis-mapped column; a raw
# DECIMAL(18,2) holds it with room for sums.
MAX_AMOUNT = 10**12


class ParseError(ValueError):
    """Raised with a message a person can act on: it quotes the raw text and says what was
    expected, e.g. "'abc' is not a count: expected a number with an optional unit (万, 亿, 千,
    w, k), e.g. 12.7万 or 5207"."""


@dataclass(frozen=True, slots=True)
class ParsedCount:
    value: int  # the number of persons/items, e.g. 12.7万 -> 127000
    step: int  # the rounding step the text implies: 12.7万 -> 1000, 5207 -> 1
    censored: bool  # True when the text says "at least": "10万+", "10万以上"
    raw: str  # the original text, unchanged


# Full-width ASCII variants (U+FF01..U+FF5E: "１", "．", "，", "＋", "％", "－",
# "／", "ｗ", ...) map onto ASCII by a fixed offset, so one table normalises
# digits, punctuation and unit letters alike. Ideographic space is left alone:
# str.strip() already treats it (and NBSP) as whitespace.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}

# Powers of ten per unit. Traditional forms appear in Hong Kong/Taiwan exports.
_UNIT_EXPONENT = {
    "万": 4,
    "萬": 4,
    "w": 4,
    "W": 4,
    "亿": 8,
    "億": 8,
    "千": 3,
    "k": 3,
    "K": 3,
}

# 小红书 shows the action's label instead of "0" on notes nobody interacted
# with, so a bare label is a real zero, not missing data.
_ZERO_LABELS = frozenset({"赞", "点赞", "收藏", "评论", "分享"})

# [0-9] rather than \d: \d also matches Arabic-Indic, Devanagari, ... digits,
# which int() would happily accept but which never occur in honest data.
_COUNT_RE = re.compile(
    r"""
    (?P<minus>[-−])?                             # kept only to say "negative"
    (?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)     # thousands groups, or plain
    (?:\.(?P<frac>[0-9]+))?
    \s*(?P<unit>[万萬亿億千wWkK])?
    \s*(?P<plus>\+|以上)?                        # "at least"
    """,
    re.VERBOSE,
)

# Money in yuan: "5000", "5,000.50", "1.2万", "¥3000", "3000元"; at most two decimals once the
# unit is applied (fen), so "1.23456万" (12345.6) is accepted and "0.001" is not.
_AMOUNT_RE = re.compile(
    r"""
    (?:[¥￥]|RMB|CNY)?\s*
    (?P<minus>[-−])?
    (?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)
    (?:\.(?P<frac>[0-9]+))?
    \s*(?P<unit>[万萬亿億千wWkK])?
    \s*(?:元|块|yuan|CNY|RMB)?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_AMOUNT_HINT = (
    "expected yuan with an optional unit (万, 千) and at most 2 decimals, e.g. 5000, 1.2万 or 99.50"
)

_PERCENT_RE = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*%?")

# Exporters append a time to dates ("2025-04-17T00:00:00", "... 00:00:00Z");
# it is matched so that it can be dropped, never interpreted.
_TIME = r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"

# Year-month[-day] with one separator used consistently ("2025/1/17", not
# "2025/1-17"); the backreference enforces that.
_SEPARATED_RE = re.compile(
    r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?:(?P=sep)(?P<d>[0-9]{1,2})" + _TIME + r")?"
)
_CHINESE_RE = re.compile(
    r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月(?:\s*(?P<d>[0-9]{1,2})\s*日)?"
)
# Compact forms: exactly 6 (YYYYMM) or 8 (YYYYMMDD) digits, nothing else.
_COMPACT_RE = re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})?")

# A time of day after a date, on the platform's clock: "18:30" or "18:30:05", after a space or
# "T". parse_datetime keeps it (a note's publication time); a zone or fraction is refused there.
_CLOCK_RE = re.compile(
    r"(?P<date>.+?)\s*(?:T|\s)\s*(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2}))?"
)

_FEN = Decimal("0.01")

_YEARS = range(1900, 3000)  # anything else is a typo ("0225", "20225")

_COUNT_HINT = "expected a number with an optional unit (万, 亿, 千, w, k), e.g. 12.7万 or 5207"
_MONTH_EXPECTED = "a month: expected year and month such as 2025-01, 2025/1, 2025年1月 or 202501"
_DATE_EXPECTED = (
    "a date: expected year-month-day such as 2025-04-17, 2025/4/17, 2025年4月17日 or 20250417"
)


def _clean(text: str) -> str:
    """Strip surrounding whitespace and fold full-width characters to ASCII."""
    cleaned = text.strip()
    if not cleaned:
        raise ParseError("empty value")
    return cleaned.translate(_FULLWIDTH)


def parse_count(text: str) -> ParsedCount:
    """Read a Chinese-style count: "5207", "12.7万", "2.32亿", "1.5k", "10万+", "１２，７００".

    The value is exact (integer arithmetic, never float): "2.32亿" is
    232000000. A text that implies a fraction of a person ("12.5",
    "1.23456万") is refused rather than rounded, because it means the column
    is not a count.
    """
    # Fast path: millions of rows are plain ASCII integers such as "5207".
    if text.isascii() and text.isdigit():
        return ParsedCount(int(text), 1, False, text)

    cleaned = _clean(text)
    if cleaned in _ZERO_LABELS:
        return ParsedCount(0, 1, False, text)

    match = _COUNT_RE.fullmatch(cleaned)
    if match is None:
        if "," in cleaned:
            # The most common near-miss in hand-edited sheets: "1,27".
            raise ParseError(
                f"'{text}' is not a count: a thousands separator must be followed by "
                f"exactly 3 digits (e.g. 12,700); {_COUNT_HINT}"
            )
        raise ParseError(f"'{text}' is not a count: {_COUNT_HINT}")
    if match["minus"]:
        raise ParseError(f"'{text}' is negative: a count cannot be below 0")

    digits = match["int"].replace(",", "")
    frac = match["frac"] or ""
    exponent = _UNIT_EXPONENT[match["unit"]] if match["unit"] else 0

    # Digits beyond the unit's precision are only acceptable as zeros:
    # "12.0" and "1.20000万" are whole numbers written by float-happy
    # exporters; "12.5" and "1.23456万" are not counts.
    excess = frac[exponent:]
    if excess.strip("0"):
        if not exponent:
            raise ParseError(
                f"'{text}' is not a whole count: a count of persons or items has no fraction;"
                " check that the column holds counts"
            )
        raise ParseError(
            f"'{text}' is not a whole count: it has more decimals than the unit allows "
            f"(at most {exponent} after the point); {_COUNT_HINT}"
        )
    frac = frac[:exponent]

    # value = 0.<frac> scaled by the unit, done on integers to stay exact.
    shift = exponent - len(frac)
    value = int(digits + frac) * 10**shift
    return ParsedCount(value, 10**shift, match["plus"] is not None, text)


def check_count_range(count: ParsedCount) -> ParsedCount:
    """The count, or ParseError when it is larger than ``MAX_COUNT``."""
    if count.value > MAX_COUNT:
        raise ParseError(
            f"'{count.raw}' is larger than any count cardreach can sum (max {MAX_COUNT:,}):"
            " check that the column holds counts, not IDs"
        )
    return count


def parse_amount(text: str) -> Decimal:
    """Read an amount of money in yuan: "5000", "5,000.50", "1.2万", "¥3,000", "3000元" -> exact
    Decimal (12000 for 1.2万). Refused: a negative amount, a fraction of a fen, anything above
    ``MAX_AMOUNT``."""
    cleaned = _clean(text)
    match = _AMOUNT_RE.fullmatch(cleaned)
    if match is None:
        raise ParseError(f"'{text}' is not an amount of money: {_AMOUNT_HINT}")
    if match["minus"]:
        raise ParseError(f"'{text}' is negative: an amount paid or spent cannot be below 0")
    exponent = _UNIT_EXPONENT[match["unit"]] if match["unit"] else 0
    value = Decimal(f"{match['int'].replace(',', '')}.{match['frac'] or '0'}").scaleb(exponent)
    if value != value.quantize(_FEN):
        raise ParseError(f"'{text}' has a fraction of a fen: {_AMOUNT_HINT}")
    if value > MAX_AMOUNT:
        raise ParseError(
            f"'{text}' is larger than any amount cardreach accepts (max {MAX_AMOUNT:,} yuan):"
            " check that the column holds yuan, not an ID or fen"
        )
    return value.quantize(_FEN)


def parse_percent(text: str) -> float:
    """Read a percentage in percent units: "44.74%", "44.74", "４４．７４％" -> 44.74.

    The range is the caller's business: "-3%" and "120%" are returned as-is.
    """
    cleaned = _clean(text)
    # float() alone would accept "nan", "inf", "1e5" and "1_000"; the regex
    # admits only plain decimals.
    if _PERCENT_RE.fullmatch(cleaned) is None:
        raise ParseError(
            f"'{text}' is not a percentage: "
            "expected a number with an optional %, e.g. 44.74% or 9.47"
        )
    return float(cleaned.rstrip("%").rstrip())


def _year_month_day(text: str, expected: str) -> tuple[int, int, int | None]:
    """Split any accepted date or month form into (year, month, day or None).

    ``expected`` completes the message when nothing matches, so that a month
    column and a date column each describe what they want.
    """
    cleaned = _clean(text)
    for pattern in (_SEPARATED_RE, _CHINESE_RE, _COMPACT_RE):
        match = pattern.fullmatch(cleaned)
        if match is not None:
            break
    else:
        raise ParseError(f"'{text}' is not {expected}")
    year, month, day = int(match["y"]), int(match["m"]), match["d"]
    if year not in _YEARS:
        raise ParseError(f"'{text}' has year {year}: expected a year from 1900 to 2999")
    if not 1 <= month <= 12:
        raise ParseError(f"'{text}' has month {month}: expected a month from 1 to 12")
    return year, month, None if day is None else int(day)


def parse_month(text: str) -> datetime.date:
    """Read a month ("2025-01", "2025年1月", "202501", a first-of-month date) as its first day."""
    year, month, day = _year_month_day(text, _MONTH_EXPECTED)
    if day is not None and day != 1:
        # A mid-month date in a month column usually means the wrong column
        # was mapped; silently truncating it would hide that.
        raise ParseError(
            f"'{text}' is a date, not a month: give the month as {year:04d}-{month:02d}"
        )
    return datetime.date(year, month, 1)


def parse_date(text: str) -> datetime.date:
    """Read a date ("2025-04-17", "2025/4/17", "2025年4月17日", "20250417", "2025-04-17T00:00:00").

    A time of day after the date is ignored. Future dates are the caller's business.
    """
    year, month, day = _year_month_day(text, _DATE_EXPECTED)
    if day is None:
        raise ParseError(
            f"'{text}' is a month, not a date: give the day too, e.g. {year:04d}-{month:02d}-01"
        )
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:  # e.g. 2025-02-30: "day is out of range for month"
        raise ParseError(f"'{text}' is not a valid date: {exc}") from None


def parse_datetime(text: str) -> tuple[datetime.datetime, bool]:
    """Read a date, or a date and a time of day: "2025-04-10", "2025-04-10 18:30",
    "2025/4/10 18:30:05", "2025年4月10日 18:30", "2025-04-10T18:30".

    Returns the moment and whether the text gave a time (a date alone is midnight, with False:
    its hour is unknown, not 0). The time is read on the platform's clock as shown, so a time
    zone is refused rather than converted. Future moments are the caller's business.
    """
    cleaned = _clean(text)
    match = _CLOCK_RE.fullmatch(cleaned)
    if match is None:
        if ":" in cleaned:
            raise ParseError(
                f"'{text}' is not a date and time: expected a date and hours:minutes such as"
                " 2025-04-10 18:30, on the platform's clock (no time zone)"
            )
        return datetime.datetime.combine(parse_date(cleaned), datetime.time()), False
    day = parse_date(match["date"])
    hour, minute, second = int(match["h"]), int(match["mi"]), int(match["s"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ParseError(f"'{text}' has no such time of day: expected 00:00 to 23:59:59")
    return datetime.datetime.combine(day, datetime.time(hour, minute, second)), True
