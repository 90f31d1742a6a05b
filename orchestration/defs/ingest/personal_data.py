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
  mobile number (13812345678, +86 138-1234-5678, masked 138****5678), an 18-digit ID card number
  with a valid check digit, a bank card number (16 to 19 digits, valid Luhn sum), an e-mail.
Aggregated figures never take these forms: counts are at most 10^15 and a mobile number is an
11-digit value beginning with 1 and 3 to 9, which no daily count of one channel reaches.
"""

import json
import re

import duckdb

from orchestration.contract.datasets import Dataset

# Header words, lower-cased with spaces, '_' and '-' removed, and what a column so named holds.
_HEADER_WORDS = (
    (("手机", "电话", "联系方式", "phone", "mobile", "telephone"), "phone numbers"),
    (("身份证", "证件号", "idcard", "idno", "idnumber"), "ID card numbers"),
    (("卡号", "cardno", "cardnumber"), "card numbers"),
    (("姓名", "名字", "客户名", "持卡人", "customername", "cardholder", "fullname"), "names"),
    (("邮箱", "email", "e-mail"), "e-mail addresses"),
    (("地址", "住址", "address"), "addresses"),
    (
        ("客户号", "客户编号", "客户id", "用户id", "customerid", "userid", "openid", "unionid"),
        "customer ids",
    ),
)

_MOBILE = re.compile(r"(?:\+?86)?1[3-9][0-9]{9}")
_MASKED_MOBILE = re.compile(r"(?:\+?86)?1[3-9][0-9][*＊xX]{4}[0-9]{4}")
_ID_CARD = re.compile(r"[1-9][0-9]{16}[0-9Xx]")
_CARD = re.compile(r"[0-9]{16,19}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
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
    for words, holds in _HEADER_WORDS:
        if any(word in key for word in words):
            return holds
    return None


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
    for line_number, *values, extra in rows:
        cells = list(zip(names, values, strict=True))
        if extra:
            for name, value in json.loads(extra).items():
                holds = header_says(name)
                if holds:
                    by_header[name] = holds
                cells.append((name, None if value is None else str(value)))
        for name, value in cells:
            what = looks_like(value) if value else None
            if what:
                by_value.setdefault((name, what), []).append(line_number)
    found = [f"column '{name}' is named for {holds}" for name, holds in by_header.items()]
    for (name, what), lines in by_value.items():
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
