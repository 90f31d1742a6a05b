"""An expectation's outcome as the sentence a person needs: the figure it saw and its limit.

GE names a failure by its expectation, `expect_column_values_to_be_between(days_since_latest_
snapshot)`; an operator needs "最新快照距今 593 天，上限 45 天". One function per expectation type
the suites use (between, null, not null, in set, not in set, unique, the column set), and a
plain one for any other type. The sentence is written once here and carried by the Dagster check's
description, so the run's summary, the UI and the gate's page (report/quality.py) all say the same.

Chinese first, as the report: what the column holds comes from the expectation's `meta.label`
(its column name when it has none), its unit from `meta.unit`. A failure's rows are named by the
suite's `meta.identify_by` columns where it has them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestration.defs.quality.suites import CheckedExpectation, FailedExpectation

# Values quoted in a sentence; the page lists up to the sample's 10.
SENTENCE_VALUES = 3
# Expectations on one figure of a column (or the table), bounded like `between`.
_STATISTICS = {
    "expect_column_max_to_be_between": "最大值",
    "expect_column_min_to_be_between": "最小值",
    "expect_column_mean_to_be_between": "平均值",
    "expect_column_median_to_be_between": "中位数",
    "expect_column_sum_to_be_between": "合计",
    "expect_column_stdev_to_be_between": "标准差",
    "expect_column_unique_value_count_to_be_between": "不同值个数",
    "expect_table_row_count_to_be_between": "行数",
}


def failure_sentence(failure: FailedExpectation) -> str:
    """What failed, with the figure seen and the limit, in one sentence."""
    kind = failure.expectation_type
    kwargs = failure.kwargs
    what = _what(failure.label, failure.columns)
    unit = failure.unit or ""
    count = failure.unexpected_count
    values = _values(failure.sample_unexpected, failure.column, unit)
    if kind == "expect_column_values_to_be_between":
        limit = limit_text(kind, kwargs, unit)
        if count == 1 and len(values) == 1:
            return f"{what} {values[0]}，{limit}"
        return f"{_rows(count, failure.rows)}{what}超出限度（{limit}）{_listed(values)}"
    if kind == "expect_column_values_to_be_in_set" and kwargs.get("value_set") == [False]:
        # a flag that must stay false: the rows that raise it say what happened
        named = _values(failure.sample_unexpected, failure.column, unit, value=False)
        return f"{_rows(count, failure.rows)}{what}（应为 0 行）{_listed(named)}"
    if kind == "expect_column_values_to_be_null":
        return f"{_rows(count, failure.rows)}{what}（应为 0 行）{_listed(values)}"
    if kind == "expect_column_values_to_not_be_null":
        return f"{_rows(count, failure.rows)}{what}为空（应无空值）{_named_by(failure)}"
    if kind == "expect_column_values_to_be_in_set":
        allowed = _set(kwargs.get("value_set"))
        return f"{_rows(count, failure.rows)}{what}不在允许值 {allowed} 内{_listed(values)}"
    if kind == "expect_column_values_to_not_be_in_set":
        forbidden = _set(kwargs.get("value_set"))
        # rows named by identify_by say which records; their value is one of the forbidden
        named = _values(failure.sample_unexpected, failure.column, unit, value=False)
        return f"{_rows(count, failure.rows)}{what}（不得为 {forbidden}）{_listed(named)}"
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        return f"{_rows(count, failure.rows)}{what}重复（应唯一）{_listed(values)}"
    if kind in (
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
    ):
        mismatch = failure.sample_unexpected[0] if failure.sample_unexpected else {}
        parts = [
            f"缺少列 {', '.join(mismatch['missing'])}" if mismatch.get("missing") else "",
            f"多出列 {', '.join(mismatch['unexpected'])}" if mismatch.get("unexpected") else "",
        ]
        found = "；".join(p for p in parts if p) or f"实际列 {_plain(failure.observed_value)}"
        return f"表的列与约定不符：{found}（约定 {_plain(kwargs.get('column_set') or kwargs)}）"
    statistic = _STATISTICS.get(kind)
    if statistic is not None:  # an aggregate: the one figure it saw
        between = limit_text("expect_column_values_to_be_between", kwargs, unit)
        seen = _number(failure.observed_value) + _spaced(unit)
        return f"{what}的{statistic} {seen}，{between}"
    # any other built-in: its figures as GE reports them, with its arguments as the limit
    seen = _listed(values).removeprefix("：") if values else _plain(failure.observed_value)
    return f"{kind}（{what}）不满足 {_arguments(kwargs)}：{_rows(count, failure.rows)}{seen}"


def passed_sentence(checked: CheckedExpectation) -> str:
    """What a passed expectation saw, so its margin shows: a range next to its bounds."""
    rows = f"{checked.rows:,} 行" if checked.rows is not None else "全部行"
    unit = checked.unit or ""
    if checked.observed_range is not None:
        low, high = checked.observed_range
        if low == high:
            return f"{rows}，实际值均为 {_number(low)}{_spaced(unit)}"
        return f"{rows}，实际范围 {_number(low)}–{_number(high)}{_spaced(unit)}"
    if checked.rows == 0:
        return "没有要检查的行"
    kind = checked.expectation_type
    if kind == "expect_column_values_to_be_null":
        return f"{rows}全部为空"
    if kind == "expect_column_values_to_not_be_null":
        return f"{rows}无空值"
    if kind == "expect_column_values_to_be_in_set":
        return f"{rows}全部在允许值内"
    if kind == "expect_column_values_to_not_be_in_set":
        return f"{rows}中没有 {_set(checked.kwargs.get('value_set'))}"
    if kind in ("expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list"):
        return "列与约定相符"
    return f"{rows}全部符合"


def limit_text(kind: str, kwargs: dict, unit: str = "") -> str:
    """The expectation's limit in words: 上限 45 天, 下限 1, 在 99.5 到 100.5 之间, 应为空 ..."""
    if kind == "expect_column_values_to_be_between" or kind in _STATISTICS:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        u = _spaced(unit)
        low_text = _number(low) + u + ("（不含）" if kwargs.get("strict_min") else "")
        high_text = _number(high) + u + ("（不含）" if kwargs.get("strict_max") else "")
        if low is not None and high is not None:
            return f"应在 {low_text} 到 {high_text} 之间"
        if high is not None:
            return f"上限 {high_text}"
        if low is not None:
            return f"下限 {low_text}"
        return "无界限"
    if kind == "expect_column_values_to_be_null":
        return "应为空"
    if kind == "expect_column_values_to_not_be_null":
        return "不得为空"
    if kind == "expect_column_values_to_be_in_set":
        return f"只允许 {_set(kwargs.get('value_set'))}"
    if kind == "expect_column_values_to_not_be_in_set":
        return f"不得为 {_set(kwargs.get('value_set'))}"
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        return "应唯一"
    if kind in ("expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list"):
        return f"列 {_plain(kwargs.get('column_set') or kwargs.get('column_list'))}"
    return _arguments(kwargs)


# ---- pieces ----


def _arguments(kwargs: dict) -> str:
    """An expectation's arguments other than the columns it reads: its limit, for other types."""
    named = ("column", "column_list", "column_A", "column_B", "result_format")
    return _plain({k: v for k, v in kwargs.items() if k not in named})


def _what(label: str | None, columns: list[str]) -> str:
    return label or ", ".join(columns) or "表"


def _rows(count: int | None, rows: int | None) -> str:
    if count is None:
        return ""
    return f"{count:,}/{rows:,} 行" if rows else f"{count:,} 行"


def _values(sample: list, column: str | None, unit: str = "", value: bool = True) -> list[str]:
    """The sample's values as text, with their unit; a row (from identify_by) as its value and
    what names it (without the value when `value` is false: a flag adds nothing)."""
    texts = []
    for item in sample:
        if isinstance(item, dict) and column in item:
            named = "，".join(f"{k} {_number(v)}" for k, v in item.items() if k != column)
            shown = _number(item[column]) + _spaced(unit)
            if not value:
                texts.append(named or shown)
            else:
                texts.append(f"{shown}（{named}）" if named else shown)
        elif isinstance(item, dict):
            texts.append(_plain(item))
        else:
            texts.append(_number(item) + _spaced(unit))
    return texts


def _listed(values: list[str]) -> str:
    """The values a sentence ends on, after a colon; nothing when no row may be named."""
    shown = values[:SENTENCE_VALUES]
    more = "……" if len(values) > SENTENCE_VALUES else ""
    return "：" + "；".join(shown) + more if shown else ""


def _named_by(failure: FailedExpectation) -> str:
    rows = [r for r in failure.sample_unexpected if isinstance(r, dict)][:SENTENCE_VALUES]
    if not rows:
        return ""
    names = ["，".join(f"{k} {_number(v)}" for k, v in r.items() if v is not None) for r in rows]
    return "：" + "；".join(names) if any(names) else ""


def _set(values: Any) -> str:
    if not isinstance(values, list):
        return _plain(values)
    return "{" + ", ".join(_plain(v) for v in values) + "}"


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return _plain(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return _plain(value)


def _plain(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _spaced(unit: str) -> str:
    """A unit after its number: `593 天`, but `120%`."""
    return unit if unit in ("", "%") else f" {unit}"
