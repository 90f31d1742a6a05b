"""Tests for orchestration.contract.parsing: table-driven rules plus hypothesis properties."""

from __future__ import annotations

import dataclasses
import datetime
import string
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from orchestration.contract.parsing import (
    MAX_AMOUNT,
    MAX_COUNT,
    ParsedCount,
    ParseError,
    check_count_range,
    parse_amount,
    parse_count,
    parse_date,
    parse_month,
    parse_percent,
)

FULLWIDTH = str.maketrans("0123456789.,+%-/", "０１２３４５６７８９．，＋％－／")

# ---------------------------------------------------------------------------
# parse_count
# ---------------------------------------------------------------------------

COUNT_CASES = [
    # text, value, step, censored
    # plain integers (the fast path) and exporter floats
    ("5207", 5207, 1, False),
    ("0", 0, 1, False),
    ("007", 7, 1, False),
    ("12.0", 12, 1, False),
    ("12.00", 12, 1, False),
    ("0.0", 0, 1, False),
    # units
    ("12.7万", 127000, 1000, False),
    ("12万", 120000, 10000, False),
    ("12.70万", 127000, 100, False),
    ("0.1万", 1000, 1000, False),
    ("1.2345万", 12345, 1, False),
    ("1.20000万", 12000, 1, False),  # trailing zeros beyond the unit: accepted, step 1
    ("2.32亿", 232000000, 1000000, False),
    ("1亿", 100000000, 100000000, False),
    ("3億", 300000000, 100000000, False),
    ("5萬", 50000, 10000, False),
    ("2千", 2000, 1000, False),
    ("1.5k", 1500, 100, False),
    ("1.5K", 1500, 100, False),
    ("3.4w", 34000, 1000, False),
    ("3.4W", 34000, 1000, False),
    ("3.4 万", 34000, 1000, False),
    ("3.4\u3000万", 34000, 1000, False),
    ("3.4ｗ", 34000, 1000, False),  # full-width letter
    # thousands separators, full-width digits
    ("12,700", 12700, 1, False),
    ("1,234,567", 1234567, 1, False),
    ("１２，７００", 12700, 1, False),
    ("１２．７万", 127000, 1000, False),
    ("1,234.5万", 12345000, 1000, False),
    # censored
    ("10万+", 100000, 10000, True),
    ("10万＋", 100000, 10000, True),
    ("10万以上", 100000, 10000, True),
    ("10万 +", 100000, 10000, True),
    ("999+", 999, 1, True),
    ("1000以上", 1000, 1, True),
    # zero placeholders shown by 小红书
    ("赞", 0, 1, False),
    ("点赞", 0, 1, False),
    ("收藏", 0, 1, False),
    ("评论", 0, 1, False),
    ("分享", 0, 1, False),
    (" 赞 ", 0, 1, False),
    # surrounding whitespace: ASCII, ideographic space, NBSP
    ("  5207 ", 5207, 1, False),
    ("\u30005207\u3000", 5207, 1, False),
    ("\xa012.7万\xa0", 127000, 1000, False),
    ("\t10万+\n", 100000, 10000, True),
]


@pytest.mark.parametrize(("text", "value", "step", "censored"), COUNT_CASES)
def test_parse_count(text: str, value: int, step: int, censored: bool) -> None:
    parsed = parse_count(text)
    assert parsed == ParsedCount(value=value, step=step, censored=censored, raw=text)
    assert type(parsed.value) is int
    assert type(parsed.step) is int


COUNT_ERRORS = [
    # text, a word the message must contain besides the raw text
    ("abc", "not a count"),
    ("N/A", "not a count"),
    ("--", "not a count"),
    ("赞赞", "not a count"),
    ("赞+", "not a count"),
    ("1万亿", "not a count"),  # two units
    ("1万万", "not a count"),
    ("万", "not a count"),
    ("w", "not a count"),
    ("+", "not a count"),
    ("以上", "not a count"),
    ("1e5", "not a count"),
    ("1E5", "not a count"),
    ("1_000", "not a count"),
    ("12.", "not a count"),
    (".5万", "not a count"),
    ("12..5", "not a count"),
    ("1 2", "not a count"),
    ("12 700", "not a count"),
    ("万12", "not a count"),  # unit before the number
    ("10+万", "not a count"),
    ("10万+以上", "not a count"),
    ("10万++", "not a count"),
    ("+5", "not a count"),
    ("1,27", "thousands separator"),
    ("1,2700", "thousands separator"),
    (",127", "thousands separator"),
    ("1,,270", "thousands separator"),
    ("12,7000", "thousands separator"),
    ("1,234,56", "thousands separator"),
    ("٥٢٠٧", "not a count"),  # Arabic-Indic digits: int() accepts them, we do not
    ("²", "not a count"),
    ("nan", "not a count"),
    ("inf", "not a count"),
    ("12.5", "whole count"),
    ("12.50", "whole count"),
    ("1.23456万", "whole count"),
    ("0.0001k", "whole count"),
    ("-5", "negative"),
    ("-12.7万", "negative"),
    ("－5", "negative"),  # full-width minus
    ("\u22125", "negative"),  # mathematical minus sign
]


@pytest.mark.parametrize(("text", "words"), COUNT_ERRORS)
def test_parse_count_errors(text: str, words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_count(text)
    message = str(info.value)
    assert f"'{text}'" in message
    assert words in message


def test_parse_count_error_message_from_brief() -> None:
    with pytest.raises(ParseError) as info:
        parse_count("abc")
    assert str(info.value) == (
        "'abc' is not a count: expected a number with an optional unit (万, 亿, 千, w, k), "
        "e.g. 12.7万 or 5207"
    )


def test_parse_count_negative_message() -> None:
    with pytest.raises(ParseError, match="'-5' is negative: a count cannot be below 0"):
        parse_count("-5")


@pytest.mark.parametrize("text", ["", " ", "\u3000", "\xa0", " \t\n\u3000 "])
def test_empty_values_raise(text: str) -> None:
    for parse in (parse_count, parse_percent, parse_month, parse_date):
        with pytest.raises(ParseError, match="empty value"):
            parse(text)


def test_parse_error_is_value_error() -> None:
    assert issubclass(ParseError, ValueError)
    with pytest.raises(ValueError):
        parse_count("abc")


def test_parsed_count_is_frozen_and_slotted() -> None:
    parsed = parse_count("12.7万")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.value = 1  # type: ignore[misc]
    assert not hasattr(parsed, "__dict__")


def test_raw_is_unchanged() -> None:
    assert parse_count("\u3000１２，７００ ").raw == "\u3000１２，７００ "
    assert parse_count("5207").raw == "5207"


# ---------------------------------------------------------------------------
# parse_percent
# ---------------------------------------------------------------------------

PERCENT_CASES = [
    ("44.74", 44.74),
    ("44.74%", 44.74),
    ("44.74 %", 44.74),
    ("44.74％", 44.74),
    ("４４．７４％", 44.74),
    ("9.47", 9.47),
    ("0", 0.0),
    ("100%", 100.0),
    ("0.5%", 0.5),
    (".5%", 0.5),
    ("12.%", 12.0),
    ("-3.2%", -3.2),  # range is the caller's business
    ("120%", 120.0),
    ("+5%", 5.0),
    (" 44.74% ", 44.74),
    ("\u300044.74\u3000", 44.74),
]


@pytest.mark.parametrize(("text", "expected"), PERCENT_CASES)
def test_parse_percent(text: str, expected: float) -> None:
    result = parse_percent(text)
    assert type(result) is float
    assert result == expected


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "%",
        "44.74%%",
        "44,74%",
        "1e2",
        "nan",
        "inf",
        "1_0",
        "4 4%",
        "%44",
        "-",
        ".",
        "44.74.1",
        "四十%",
    ],
)
def test_parse_percent_errors(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_percent(text)
    assert f"'{text}'" in str(info.value)
    assert "not a percentage" in str(info.value)


# ---------------------------------------------------------------------------
# parse_amount
# ---------------------------------------------------------------------------

AMOUNT_CASES = [
    ("5000", Decimal("5000")),
    ("0", Decimal("0")),
    ("99.5", Decimal("99.50")),
    ("5,000.50", Decimal("5000.50")),
    ("1.2万", Decimal("12000")),
    ("1.23456万", Decimal("12345.60")),  # exact to the fen once the unit is applied
    ("3k", Decimal("3000")),
    ("¥3,000", Decimal("3000")),
    ("￥3000", Decimal("3000")),
    ("3000元", Decimal("3000")),
    ("RMB 3000", Decimal("3000")),
    ("１２００", Decimal("1200")),
    (" 8000 ", Decimal("8000")),
    ("1000000000000", Decimal(MAX_AMOUNT)),
]


@pytest.mark.parametrize(("text", "expected"), AMOUNT_CASES)
def test_parse_amount(text: str, expected: Decimal) -> None:
    result = parse_amount(text)
    assert result == expected
    assert result.as_tuple().exponent == -2  # always to the fen, never a float


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("-500", "negative"),
        ("0.001", "fraction of a fen"),
        ("1.2345678万", "fraction of a fen"),
        ("1000000000000.01", "larger than any amount"),
        ("abc", "not an amount of money"),
        ("5e3", "not an amount of money"),
        ("2万亿", "not an amount of money"),
        ("5,00", "not an amount of money"),
        ("", "empty value"),
    ],
)
def test_parse_amount_errors(text: str, words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_amount(text)
    assert words in str(info.value)


# ---------------------------------------------------------------------------
# parse_month
# ---------------------------------------------------------------------------

JAN_2025 = datetime.date(2025, 1, 1)

MONTH_CASES = [
    ("2025-01", JAN_2025),
    ("2025-1", JAN_2025),
    ("2025/1", JAN_2025),
    ("2025/01", JAN_2025),
    ("2025.01", JAN_2025),
    ("2025年1月", JAN_2025),
    ("2025年01月", JAN_2025),
    ("2025 年 1 月", JAN_2025),
    ("2025-01-01", JAN_2025),
    ("2025/1/1", JAN_2025),
    ("2025.1.1", JAN_2025),
    ("2025年1月1日", JAN_2025),
    ("20250101", JAN_2025),
    ("2025-01-01T00:00:00", JAN_2025),
    ("202501", JAN_2025),
    ("２０２５－０１", JAN_2025),
    (" 2025-01\u3000", JAN_2025),
    ("2025-12", datetime.date(2025, 12, 1)),
    ("1900-01", datetime.date(1900, 1, 1)),
    ("2999-12", datetime.date(2999, 12, 1)),
]


@pytest.mark.parametrize(("text", "expected"), MONTH_CASES)
def test_parse_month(text: str, expected: datetime.date) -> None:
    assert parse_month(text) == expected


MONTH_ERRORS = [
    ("2025-01-15", "is a date, not a month: give the month as 2025-01"),
    ("2025/3/31", "is a date, not a month: give the month as 2025-03"),
    ("20250115", "is a date, not a month"),
    ("2025-13", "month 13"),
    ("2025-00", "month 0"),
    ("202513", "month 13"),
    ("2025年13月", "month 13"),
    ("1899-12", "year 1899"),
    ("3000-01", "year 3000"),
    ("25-01", "not a month"),
    ("2025", "not a month"),
    ("2025-", "not a month"),
    ("2025-001", "not a month"),
    ("2025/01-01", "not a month"),  # mixed separators
    ("Jan 2025", "not a month"),
    ("2025年1", "not a month"),
    ("2025-1-", "not a month"),
    ("2025013", "not a month"),  # 7 digits
    ("abc", "not a month"),
]


@pytest.mark.parametrize(("text", "words"), MONTH_ERRORS)
def test_parse_month_errors(text: str, words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_month(text)
    assert f"'{text}'" in str(info.value)
    assert words in str(info.value)


# ---------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------

APR_17 = datetime.date(2025, 4, 17)

DATE_CASES = [
    ("2025-04-17", APR_17),
    ("2025/4/17", APR_17),
    ("2025/04/17", APR_17),
    ("2025.4.17", APR_17),
    ("2025年4月17日", APR_17),
    ("2025 年 4 月 17 日", APR_17),
    ("20250417", APR_17),
    ("2025-04-17T00:00:00", APR_17),
    ("2025-04-17 00:00:00", APR_17),
    ("2025-04-17T13:45:10", APR_17),
    ("2025-04-17T13:45", APR_17),
    ("2025-04-17T00:00:00.000", APR_17),
    ("2025-04-17T00:00:00Z", APR_17),
    ("2025-04-17T00:00:00+08:00", APR_17),
    ("2025/4/17 0:00:00", APR_17),
    ("２０２５－０４－１７", APR_17),
    ("\u30002025-04-17 ", APR_17),
    ("2024-02-29", datetime.date(2024, 2, 29)),
]


@pytest.mark.parametrize(("text", "expected"), DATE_CASES)
def test_parse_date(text: str, expected: datetime.date) -> None:
    assert parse_date(text) == expected


DATE_ERRORS = [
    ("2025-02-30", "not a valid date"),
    ("2025-02-29", "not a valid date"),
    ("2025-04-31", "not a valid date"),
    ("2025-04-00", "not a valid date"),
    ("20250230", "not a valid date"),
    ("2025年2月30日", "not a valid date"),
    ("2025-13-01", "month 13"),
    ("0025-04-17", "year 25"),
    ("2025-04", "is a month, not a date"),
    ("2025年4月", "is a month, not a date"),
    ("202504", "is a month, not a date"),
    ("2025-04-17T", "not a date"),
    ("2025-04-17 garbage", "not a date"),
    ("2025-04/17", "not a date"),
    ("17/04/2025", "not a date"),
    ("2025-4-170", "not a date"),
    ("2025年4月17", "not a date"),
    ("April 17, 2025", "not a date"),
    ("abc", "not a date"),
]


@pytest.mark.parametrize(("text", "words"), DATE_ERRORS)
def test_parse_date_errors(text: str, words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_date(text)
    assert f"'{text}'" in str(info.value)
    assert words in str(info.value)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

UNITS = {"": 0, "万": 4, "亿": 8, "千": 3, "w": 4, "k": 3}


@given(
    n=st.integers(min_value=0, max_value=10**15),
    unit=st.sampled_from(sorted(UNITS)),
    decimals=st.integers(min_value=0, max_value=2),
)
def test_scaled_count_is_within_half_a_step(n: int, unit: str, decimals: int) -> None:
    exponent = UNITS[unit]
    text = f"{Decimal(n).scaleb(-exponent):.{decimals}f}{unit}"
    parsed = parse_count(text)
    step = max(10 ** (exponent - decimals), 1)
    assert parsed.step == step
    assert abs(parsed.value - n) * 2 <= step
    assert parsed.value % step == 0
    assert parsed.censored is False
    assert parse_count(text + "+").censored is True


@given(
    n=st.integers(min_value=0, max_value=10**15),
    unit=st.sampled_from(sorted(UNITS)),
    decimals=st.integers(min_value=0, max_value=2),
    grouped=st.booleans(),
)
def test_fullwidth_parses_like_ascii(n: int, unit: str, decimals: int, grouped: bool) -> None:
    number = Decimal(n).scaleb(-UNITS[unit])
    ascii_text = f"{number:{',' if grouped else ''}.{decimals}f}{unit}"
    wide_text = ascii_text.translate(FULLWIDTH)
    assert wide_text != ascii_text
    ascii_parsed = parse_count(ascii_text)
    wide_parsed = parse_count(wide_text)
    assert (wide_parsed.value, wide_parsed.step, wide_parsed.censored) == (
        ascii_parsed.value,
        ascii_parsed.step,
        ascii_parsed.censored,
    )


@given(st.integers(min_value=0, max_value=10**30))
def test_thousands_separated_ints_round_trip(n: int) -> None:
    assert parse_count(f"{n:,}") == ParsedCount(n, 1, False, f"{n:,}")
    assert parse_count(str(n)) == ParsedCount(n, 1, False, str(n))


@given(st.integers(min_value=1, max_value=10**12))
def test_negative_ints_always_raise(n: int) -> None:
    with pytest.raises(ParseError, match="negative"):
        parse_count(f"-{n}")


ZERO_LABELS = {"赞", "点赞", "收藏", "评论", "分享"}


@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(string.ascii_letters),
            st.characters(categories=("Lu", "Ll", "Lo")),
        ),
        min_size=1,
    )
)
def test_letters_never_parse_as_count(text: str) -> None:
    assume(text.strip() not in ZERO_LABELS)
    with pytest.raises(ParseError) as info:
        parse_count(text)
    assert text in str(info.value)


MONTH_FORMATS = [
    lambda d: f"{d.year}-{d.month:02d}",
    lambda d: f"{d.year}-{d.month}",
    lambda d: f"{d.year}/{d.month}",
    lambda d: f"{d.year}/{d.month:02d}",
    lambda d: f"{d.year}.{d.month:02d}",
    lambda d: f"{d.year}年{d.month}月",
    lambda d: f"{d.year}年{d.month:02d}月",
    lambda d: f"{d.year}-{d.month:02d}-01",
    lambda d: f"{d.year}/{d.month}/1",
    lambda d: f"{d.year}{d.month:02d}",
]

DATE_FORMATS = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: d.strftime("%Y%m%d"),
    lambda d: f"{d.isoformat()}T00:00:00",
    lambda d: f"{d.isoformat()} 00:00:00",
]

DATES = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2999, 12, 31))


@given(date=DATES, fmt=st.sampled_from(MONTH_FORMATS), wide=st.booleans())
def test_month_round_trip(date: datetime.date, fmt, wide: bool) -> None:
    text = fmt(date)
    if wide:
        text = text.translate(FULLWIDTH)
    assert parse_month(text) == date.replace(day=1)


@given(date=DATES, fmt=st.sampled_from(DATE_FORMATS), wide=st.booleans())
def test_date_round_trip(date: datetime.date, fmt, wide: bool) -> None:
    text = fmt(date)
    if wide:
        text = text.translate(FULLWIDTH)
    assert parse_date(text) == date


@given(date=DATES.filter(lambda d: d.day != 1), fmt=st.sampled_from(DATE_FORMATS))
def test_mid_month_dates_are_not_months(date: datetime.date, fmt) -> None:
    text = fmt(date)
    with pytest.raises(ParseError, match="is a date, not a month"):
        parse_month(text)


@given(st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False))
def test_percent_round_trip(number: Decimal) -> None:
    for text in (f"{number}", f"{number}%", f"{number} %", f"{number}％".translate(FULLWIDTH)):
        assert parse_percent(text) == float(number)


def test_counts_up_to_the_maximum_are_in_range() -> None:
    assert check_count_range(parse_count("1000000000000000")).value == MAX_COUNT == 10**15
    assert check_count_range(parse_count("10000000亿")).value == MAX_COUNT
    for text in ("1000000000000001", "9223372036854775807", "100000000亿"):
        with pytest.raises(ParseError) as info:
            check_count_range(parse_count(text))
        assert str(info.value) == (
            f"'{text}' is larger than any count cardreach can sum (max 1,000,000,000,000,000):"
            " check that the column holds counts, not IDs"
        )


def test_a_fraction_of_a_plain_count_says_so() -> None:
    with pytest.raises(ParseError) as info:
        parse_count("12.5")
    assert str(info.value) == (
        "'12.5' is not a whole count: a count of persons or items has no fraction;"
        " check that the column holds counts"
    )
