"""Personal data in a delivery of the bank's own figures: found, and the file refused whole.

The bank's funnel is delivered aggregated (a day, a channel, a campaign per row). A file that
holds one customer per row (a column of phone numbers, ID card numbers, card numbers, e-mail
addresses, customers' names or ids) must not enter the database at all, not even as a quarantined
value: the file is refused whole, its staged rows are dropped, and the reason names the columns
and what they look like, never the values. The archive keeps the file like every delivery;
`cardreach purge <sha256>` removes it from there.

Two kinds of evidence, either one enough:
- a column whose name says what it holds (手机号, 身份证号, 姓名, customer_id, ...): a column of
  names cannot be recognised by its values, only by its header;
- values of a recognisable form in any column, the contract's or an extra one: a mainland
  mobile number (13812345678, +86 138-1234-5678, masked 138****5678) or an e-mail, any one of
  them; an 18-digit ID card number with a valid check digit or a bank card number (16 to 19
  digits, valid Luhn sum) when they are at least half of a column's values, since long campaign
  or ad-plan ids pass those checksums by chance (1 in 11, 1 in 10).
Aggregated figures never take these forms: counts are at most 10^15 and a mobile number is an
11-digit value beginning with 1 and 3 to 9, which no daily count of one channel reaches.
Header names are matched whole (手机号, customer_phone), so a figure named after a channel
(手机银行申请, mobile banking applications) is not mistaken for one.
"""

import json
import re

import duckdb

from orchestration.contract.datasets import Dataset

# Column names that say what a column holds, matched on the whole name lower-cased with spaces,
# '_' and '-' removed: a name that only mentions a word ("手机银行申请", mobile banking
# applications; "电话销售", telesales) is a figure's name, not personal data.
_HEADER_NAMES = (
    (
        r"(客户|用户|持卡人|联系人)?(手机|手机号|手机号码|电话|电话号码|联系电话|联系方式)",
        "phone numbers",
    ),
    (
        r"(customer|user|contact)?(phone|phonenumber|phoneno|mobile|mobileno|mobilenumber|tel)",
        "phone numbers",
    ),
    (r"(客户|用户|持卡人)?(身份证|身份证号|身份证号码|证件号|证件号码)", "ID card numbers"),
    (r"(customer|user)?(idcard|idcardno|idno|idnumber|nationalid)", "ID card numbers"),
    (r"(客户|持卡人)?(卡号|银行卡号|信用卡号)|(card|credit)?(cardno|cardnumber)", "card numbers"),
    (r"(客户|用户|持卡人)?(姓名|名字|客户名|客户名称)|持卡人|cardholder(name)?", "names"),
    (r"(customer|user|full|first|last)name", "names"),
    (r"(客户|用户)?(邮箱|电子邮箱|email)|(customer|user)?email", "e-mail addresses"),
    (r"(客户|用户)?(地址|住址|家庭住址|通讯地址)|(customer|user|home)?address", "addresses"),
    (
        r"客户号|客户编号|客户id|用户id|用户编号|(customer|user)(id|no)|openid|unionid",
        "customer ids",
    ),
)
_HEADERS = tuple((re.compile(pattern), holds) for pattern, holds in _HEADER_NAMES)

_MOBILE = re.compile(r"(?:\+?86)?1[3-9][0-9]{9}")
_MASKED_MOBILE = re.compile(r"(?:\+?86)?1[3-9][0-9][*＊xX]{4}[0-9]{4}")
_ID_CARD = re.compile(r"[1-9][0-9]{16}[0-9Xx]")
_CARD = re.compile(r"[0-9]{16,19}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
# Shapes that random long ids also take (1 in 10 passes a Luhn sum, 1 in 11 an ID check digit):
# they count only when they are at least half of a column's values. A mobile number or an e-mail
# counts alone.
_BY_MAJORITY = frozenset({"ID card numbers", "bank card numbers"})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _id_card(text: str) -> bool:
    if not _ID_CARD.fullmatch(text):
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == text[17].upper()


def _luhn(text: str) -> bool:
    digits = [int(d) for d in reversed(text)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def looks_like(value: str) -> str | None:
    """What a value looks like, when it looks like personal data."""
    text = re.sub(r"[\s\-]", "", value)
    if _MOBILE.fullmatch(text) or _MASKED_MOBILE.fullmatch(text):
        return "mobile phone numbers"
    if _id_card(text):
        return "ID card numbers"
    if _CARD.fullmatch(text) and _luhn(text):
        return "bank card numbers"
    if _EMAIL.fullmatch(value.strip()):
        return "e-mail addresses"
    return None


def header_says(name: str) -> str | None:
    """What a column holds, by its name, when its name says it is personal data."""
    key = re.sub(r"[\s_\-]", "", name.lower())
    return next((holds for pattern, holds in _HEADERS if pattern.fullmatch(key)), None)


def find_personal_data(
    conn: duckdb.DuckDBPyConnection, staged: str, dataset: Dataset, load_id: int
) -> str | None:
    """A sentence naming the columns of a staged file that look like personal data, with the
    lines where their values do (never the values); None when nothing does."""
    names = [c.name for c in dataset.columns]
    columns = ", ".join(f'"{n}"' for n in names)
    rows = conn.execute(
        f"SELECT line_number, {columns}, extra_columns FROM {staged}"
        " WHERE load_id = ? ORDER BY line_number",
        [load_id],
    ).fetchall()
    by_header: dict[str, str] = {}
    by_value: dict[tuple[str, str], list[int]] = {}
    filled: dict[str, int] = {}  # non-empty values per column
    for line_number, *values, extra in rows:
        cells = list(zip(names, values, strict=True))
        if extra:
            for name, value in json.loads(extra).items():
                holds = header_says(name)
                if holds:
                    by_header[name] = holds
                cells.append((name, None if value is None else str(value)))
        for name, value in cells:
            if not value:
                continue
            filled[name] = filled.get(name, 0) + 1
            what = looks_like(value)
            if what:
                by_value.setdefault((name, what), []).append(line_number)
    found = [f"column '{name}' is named for {holds}" for name, holds in by_header.items()]
    for (name, what), lines in by_value.items():
        if what in _BY_MAJORITY and len(lines) * 2 < filled[name]:
            continue  # a few long ids that happen to pass a checksum: not a column of them
        shown = ", ".join(str(n) for n in lines[:5]) + (", …" if len(lines) > 5 else "")
        found.append(
            f"column '{name}' holds {len(lines)} values that look like {what} (lines {shown})"
        )
    if not found:
        return None
    return (
        f"looks like personal data, which the {dataset.name} dataset never takes (it is the bank's"
        f" own figures, aggregated: never one customer per row): {'; '.join(found)}. Nothing of"
        " the file was loaded nor quarantined row by row. Deliver the aggregated figures only;"
        " the file stays in the archive like every delivery until an operator runs"
        " `cardreach purge <its sha256>` (see README, 'Personal data')"
    )
