"""Great Expectations suites, kept as JSON in `expectations/`, run against pandas DataFrames.

A suite file is GE 1.x's own ExpectationSuite JSON (see `expectations/README.md`). The caller
reads a table from DuckDB into a DataFrame and calls `validate_dataframe`; the result says which
expectations failed, how badly, with a sample of the offending values, and whether any failure
is an *error* (an expectation whose `meta.severity` is not "warning").

Great Expectations is imported inside the functions only: it takes seconds to import, and the
Dagster definitions must load without it. Every validation gets its own ephemeral Data Context;
when a `docs_dir` is given its suite and validation stores live on disk under that folder so the
static Data Docs site there accumulates over runs.

Any exception GE raises (or records against an expectation) reaches the caller as an exception:
a check that could not be evaluated never passes silently.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestration import settings

if TYPE_CHECKING:
    import pandas as pd

SEVERITIES = ("error", "warning")
SAMPLE_SIZE = 10
SITE_NAME = "cardreach"

# The keys GE's ExpectationSuite / ExpectationConfiguration accept in a suite file.
_SUITE_KEYS = {"name", "expectations", "meta", "notes", "id", "suite_parameters"}
_EXPECTATION_KEYS = {
    "type",
    "kwargs",
    "meta",
    "notes",
    "id",
    "severity",
    "description",
    "rendered_content",
    "success_on_last_run",
}

# Type names a suite may use for a text column. Text reaches pandas 3 as the `str` dtype and
# pandas 2 as `object`; the engine hands GE object columns, whose values it checks one by one
# against Python type names, so every one of these names is made to accept `str` values.
_TEXT_TYPE_NAMES = {"str", "string", "object", "StringDtype", "unicode"}
# pandas' nullable dtypes (DuckDB gives them for nullable integer and boolean columns) are known
# to GE's type list only by their class names.
_NULLABLE_TYPE_NAMES = {
    **{name: f"{name}Dtype" for name in ("Int8", "Int16", "Int32", "Int64")},
    **{name: f"{name}Dtype" for name in ("UInt8", "UInt16", "UInt32", "UInt64")},
    **{name: f"{name}Dtype" for name in ("Float32", "Float64")},
    "boolean": "BooleanDtype",
}
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$"
)
_GE_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/logo-long\.png[^\"']*"
)


class SuiteError(ValueError):
    """A suite file that cannot be read as an expectation suite; the message names the file."""


class ExpectationRunError(RuntimeError):
    """Great Expectations could not evaluate an expectation (missing column, type clash, ...)."""


@dataclass(frozen=True)
class FailedExpectation:
    expectation_type: str  # e.g. "expect_column_values_to_be_between"
    column: str | None
    kwargs: dict  # the expectation's kwargs as written in the suite (no batch_id)
    unexpected_count: int | None
    unexpected_percent: float | None
    sample_unexpected: list  # up to 10 unexpected values (or rows), JSON-serialisable
    severity: str  # "error" or "warning"
    notes: str | None  # meta.notes: what the expectation guards, in a sentence
    observed_value: Any = None  # what an aggregate expectation saw (row count, max, columns)

    @property
    def columns(self) -> list[str]:
        """Every column the expectation is about (one, several, or none for table checks)."""
        if self.column is not None:
            return [self.column]
        if isinstance(self.kwargs.get("column_list"), list):
            return [str(c) for c in self.kwargs["column_list"]]
        return [str(self.kwargs[k]) for k in ("column_A", "column_B") if k in self.kwargs]


@dataclass(frozen=True)
class SuiteResult:
    suite_name: str
    success: bool  # True when no error-severity expectation failed
    evaluated: int
    failed: list[FailedExpectation]
    docs_path: Path | None  # the HTML Data Docs page of this validation, if written

    @property
    def errors(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == "error"]

    @property
    def warnings(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == "warning"]

    def as_markdown(self) -> str:
        """A Markdown table of the failed expectations, for Dagster metadata."""
        if not self.failed:
            return f"All {self.evaluated} expectations of suite `{self.suite_name}` passed."
        lines = [
            f"Suite `{self.suite_name}`: {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s) among {self.evaluated} expectations.",
            "",
            "| expectation | column | unexpected | sample | severity | guards |",
            "|---|---|---|---|---|---|",
        ]
        for f in sorted(self.failed, key=lambda f: f.severity != "error"):
            if f.unexpected_count is None:
                unexpected = ""
            elif f.unexpected_percent is None:
                unexpected = str(f.unexpected_count)
            else:
                unexpected = f"{f.unexpected_count} ({f.unexpected_percent:.1f}%)"
            if f.sample_unexpected:
                sample = json.dumps(f.sample_unexpected, ensure_ascii=False)
            elif f.observed_value is not None:
                sample = "observed: " + json.dumps(f.observed_value, ensure_ascii=False)
            else:
                sample = ""
            cells = [
                f"`{f.expectation_type}`",
                ", ".join(f.columns),
                unexpected,
                _clip(sample, 160),
                f.severity,
                f.notes or "",
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        return "\n".join(lines)


def suite_path(name: str) -> Path:
    """Where the suite of a dataset or mart lives: `expectations/<name>.json`."""
    return settings.EXPECTATIONS_DIR / f"{name}.json"


def load_suite(path: Path) -> dict:
    """The suite file as a dict, after checking its shape; SuiteError says what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read expectation suite {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(
            f"expectation suite {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from exc
    if not isinstance(data, dict):
        raise SuiteError(
            f"expectation suite {path} must be a JSON object with name and expectations"
        )
    unknown = sorted(set(data) - _SUITE_KEYS)
    if unknown:
        raise SuiteError(
            f"expectation suite {path} has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_SUITE_KEYS))}"
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SuiteError(f"expectation suite {path} needs a non-empty string 'name'")
    expectations = data.get("expectations")
    if not isinstance(expectations, list):
        raise SuiteError(f"expectation suite {path} needs an 'expectations' list")
    if "meta" in data and not isinstance(data["meta"], dict):
        raise SuiteError(f"expectation suite {path}: 'meta' must be an object")
    for number, item in enumerate(expectations, start=1):
        where = f"expectation suite {path}, expectation #{number}"
        if not isinstance(item, dict):
            raise SuiteError(f"{where} must be an object with 'type' and 'kwargs'")
        kind = item.get("type")
        if not isinstance(kind, str) or not kind.startswith("expect_"):
            raise SuiteError(f"{where} needs a 'type' naming a GE expectation (expect_...)")
        where = f"{where} ({kind})"
        unknown = sorted(set(item) - _EXPECTATION_KEYS)
        if unknown:
            raise SuiteError(f"{where} has unknown key(s) {', '.join(unknown)}")
        if not isinstance(item.get("kwargs", {}), dict):
            raise SuiteError(f"{where}: 'kwargs' must be an object")
        meta = item.get("meta", {})
        if not isinstance(meta, dict):
            raise SuiteError(f"{where}: 'meta' must be an object")
        if "severity" in meta and meta["severity"] not in SEVERITIES:
            raise SuiteError(
                f"{where}: meta.severity must be one of {', '.join(SEVERITIES)}, "
                f"not {meta['severity']!r}"
            )
        if meta.get("notes") is not None and not isinstance(meta["notes"], str):
            raise SuiteError(f"{where}: meta.notes must be a sentence (a string)")
    return data


def check_suite(path: Path) -> int:
    """Build the suite with GE as validation would (types and kwargs checked); its size."""
    data = load_suite(path)
    return len(_build_suite(Path(path), data, data["expectations"]).expectations)


def validate_dataframe(
    suite_path: Path,
    df: pd.DataFrame,
    docs_dir: Path | None = None,
    data_asset_name: str | None = None,
) -> SuiteResult:
    """Run the suite at `suite_path` against `df` (which is not modified).

    With `docs_dir`, also write the validation into the static Data Docs site under
    `docs_dir / "site"` (its JSON stores live in `docs_dir / "store"`) and return the page.
    """
    import great_expectations as gx

    suite_path = Path(suite_path)
    data = load_suite(suite_path)
    frame = _normalise_frame(df)
    items = [_normalise_expectation(item, frame) for item in data["expectations"]]
    suite = _build_suite(suite_path, data, items)
    asset_name = data_asset_name or suite.name

    context = _context(Path(docs_dir) if docs_dir is not None else None)
    batch_definition = (
        context.data_sources.add_pandas("pandas")
        .add_dataframe_asset(asset_name)
        .add_batch_definition_whole_dataframe("whole_dataframe")
    )
    suite = context.suites.add_or_update(suite)
    # GE reports in its own order; failures are listed in the suite's.
    position = {e.id: i for i, e in enumerate(suite.expectations)}
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=f"{suite.name}__{asset_name}", data=batch_definition, suite=suite
        )
    )
    result = definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
    )

    _raise_for_exceptions(suite_path, result)
    failures = sorted(
        (position[r.expectation_config.id], r) for r in result.results if not r.success
    )
    failed = [_failed(r, data["expectations"][i], frame) for i, r in failures]
    docs_path = _build_docs(context, suite.name, result) if docs_dir is not None else None
    return SuiteResult(
        suite_name=suite.name,
        success=not any(f.severity == "error" for f in failed),
        evaluated=len(result.results),
        failed=failed,
        docs_path=docs_path,
    )


# -- building the suite ---------------------------------------------------------------------


def _build_suite(path: Path, data: dict, items: list[dict]):
    """A GE ExpectationSuite from the checked dict; every expectation built on its own so an
    error names it (GE's own suite constructor hides the cause behind an IndexError)."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    expectations = []
    for number, item in enumerate(items, start=1):
        item = json.loads(json.dumps(item))  # a private copy GE may change
        meta = item.setdefault("meta", {})
        item.setdefault("kwargs", {})
        # meta.severity is the project's convention; GE's own top-level severity
        # (critical/warning/info) counts only where meta.severity is absent.
        if "severity" in meta:
            item["severity"] = "warning" if meta["severity"] == "warning" else "critical"
        try:
            expectations.append(ExpectationConfiguration(**item).to_domain_obj())
        except Exception as exc:
            raise SuiteError(
                f"expectation suite {path}, expectation #{number} ({item['type']}): "
                f"{_one_line(exc)}"
            ) from exc
    try:
        return gx.ExpectationSuite(
            name=data["name"],
            expectations=expectations,
            meta=data.get("meta"),
            notes=data.get("notes"),
            suite_parameters=data.get("suite_parameters"),
        )
    except Exception as exc:
        raise SuiteError(f"expectation suite {path}: {_one_line(exc)}") from exc


def _severity(expectation_config, original: dict | None) -> str:
    meta = (original or {}).get("meta") or {}
    if "severity" in meta:
        return meta["severity"]
    native = getattr(expectation_config, "severity", None)
    native = getattr(native, "value", native)
    return "warning" if native in ("warning", "info") else "error"


# -- making DuckDB DataFrames and suites meet -----------------------------------------------


def _normalise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy GE's pandas engine handles the same on pandas 2 and 3.

    Text columns (pandas 3 `str`, or `string`) become `object` columns, the representation GE's
    expectations were written for; object columns holding only dates become datetime64, like
    DuckDB DATE columns, so date bounds compare the same way whatever built the frame.
    """
    import pandas as pd

    frame = df.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.StringDtype):
            frame[name] = column.astype(object)
        elif column.dtype == object:
            values = column.dropna()
            if len(values) and all(
                isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in values
            ):
                frame[name] = pd.to_datetime(column)
    return frame


def _normalise_expectation(item: dict, frame: pd.DataFrame) -> dict:
    """This run's copy of an expectation, its kwargs adjusted to the frame (see the README):
    text and nullable type names widened, date bounds of datetime columns made datetimes."""
    import pandas as pd

    item = json.loads(json.dumps(item))
    kwargs = item.setdefault("kwargs", {})
    kind = item["type"]
    if kind == "expect_column_values_to_be_in_type_list" and isinstance(
        kwargs.get("type_list"), list
    ):
        kwargs["type_list"] = _type_names(kwargs["type_list"])
    elif kind == "expect_column_values_to_be_of_type" and isinstance(kwargs.get("type_"), str):
        if kwargs["type_"] in _TEXT_TYPE_NAMES:
            kwargs["type_"] = "str"
        else:
            kwargs["type_"] = _NULLABLE_TYPE_NAMES.get(kwargs["type_"], kwargs["type_"])
    column = kwargs.get("column")
    if isinstance(column, str) and column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            for bound in ("min_value", "max_value"):
                moment = _as_timestamp(kwargs.get(bound), getattr(dtype, "tz", None))
                if moment is not None:
                    kwargs[bound] = moment
    return item


def _type_names(type_list: list[str]) -> list[str]:
    names = list(type_list)
    if any(t in _TEXT_TYPE_NAMES for t in names):
        names.append("str")
    names += [_NULLABLE_TYPE_NAMES[t] for t in type_list if t in _NULLABLE_TYPE_NAMES]
    return list(dict.fromkeys(names))


def _as_timestamp(value: Any, tz) -> str | None:
    """A date bound as an ISO datetime comparable with a datetime64 column: GE reads
    "2024-01-01" as a date, which pandas refuses to compare with a Timestamp."""
    import pandas as pd

    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        return None
    try:
        moment = pd.Timestamp(value.strip())
    except (ValueError, OverflowError):
        return None  # not a real date: GE itself says what is wrong with it
    if tz is not None and moment.tzinfo is None:
        moment = moment.tz_localize(tz)
    elif tz is None and moment.tzinfo is not None:
        moment = moment.tz_convert("UTC").tz_localize(None)
    return moment.isoformat()


# -- reading GE's result --------------------------------------------------------------------


def _raise_for_exceptions(path: Path, result) -> None:
    problems = []
    for r in result.results:
        messages = _exception_messages(r.exception_info)
        if messages:
            config = r.expectation_config
            column = config.kwargs.get("column")
            where = config.type + (f" on column '{column}'" if column else "")
            if any("NA is ambiguous" in m for m in messages):
                messages.append(
                    "a nullable column holds nulls: for a row-wise check of several columns "
                    'add "ignore_row_if": "any_value_is_missing" to its kwargs'
                )
            problems.append(f"{where}: {'; '.join(messages)}")
    if problems:
        raise ExpectationRunError(
            f"Great Expectations could not evaluate suite {path.name}: " + " | ".join(problems)
        )


def _exception_messages(info) -> list[str]:
    """GE records an exception either flat or keyed by metric; gather every message."""
    if not isinstance(info, dict):
        return []
    if "raised_exception" in info:
        if info.get("raised_exception"):
            return [str(info.get("exception_message") or "unknown error")]
        return []
    messages: list[str] = []
    for value in info.values():
        for message in _exception_messages(value):
            if message not in messages:
                messages.append(message)
    return messages


def _failed(r, original: dict | None, frame: pd.DataFrame) -> FailedExpectation:
    config = r.expectation_config
    result = dict(r.result or {})
    kwargs = dict((original or {}).get("kwargs") or config.kwargs)
    kwargs.pop("batch_id", None)
    column = kwargs.get("column") if isinstance(kwargs.get("column"), str) else None
    meta = (original or {}).get("meta") or config.meta or {}
    notes = meta.get("notes") or (original or {}).get("notes")

    sample: list = []
    if config.type == "expect_column_values_to_not_be_null":
        # The values are all null; the rows say which records they are.
        index = result.get("partial_unexpected_index_list") or []
        rows = frame.loc[[i for i in index if i in frame.index][:SAMPLE_SIZE]].head(SAMPLE_SIZE)
        sample = rows.to_dict(orient="records")
    elif "partial_unexpected_list" in result:
        sample = list(result["partial_unexpected_list"])[:SAMPLE_SIZE]
    elif config.type in (
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
    ):
        mismatched = (result.get("details") or {}).get("mismatched")
        if isinstance(mismatched, dict):
            sample = [{k: v for k, v in mismatched.items() if v}]

    count = result.get("unexpected_count")
    percent = result.get("unexpected_percent")
    return FailedExpectation(
        expectation_type=config.type,
        column=column,
        kwargs=_json_safe(kwargs),
        unexpected_count=int(count) if count is not None else None,
        unexpected_percent=float(percent) if percent is not None else None,
        sample_unexpected=_json_safe(sample),
        severity=_severity(config, original),
        notes=notes if isinstance(notes, str) else None,
        observed_value=_json_safe(result.get("observed_value")),
    )


def _json_safe(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, missing values as None, moments as ISO."""
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# -- Data Docs ------------------------------------------------------------------------------


def _context(docs_dir: Path | None):
    """An ephemeral Data Context: in-memory stores, or suite and validation stores and a static
    site under docs_dir, so the site index lists earlier validations too."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = InMemoryStoreBackendDefaults()
    stores = dict(defaults.stores)
    sites: dict = {}
    if docs_dir is not None:
        docs_dir = docs_dir.resolve()

        def on_disk(store_class: str, folder: str) -> dict:
            backend = {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir / "store" / folder),
            }
            return {"class_name": store_class, "store_backend": backend}

        stores[defaults.expectations_store_name] = on_disk("ExpectationsStore", "expectations")
        stores[defaults.validation_results_store_name] = on_disk(
            "ValidationResultsStore", "validations"
        )
        sites[SITE_NAME] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir / "site"),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=defaults,
        stores=stores,
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _build_docs(context, suite_name: str, result) -> Path:
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    run_id = result.meta["run_id"]
    keys = [
        key
        for key in context.validation_results_store.list_keys()
        if key.run_id == run_id and key.expectation_suite_identifier.name == suite_name
    ]
    if len(keys) != 1:
        raise ExpectationRunError(f"cannot find the stored validation of suite {suite_name}")
    suite_key = ExpectationSuiteIdentifier(name=suite_name)
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[keys[0], suite_key])
    pages = []
    for key in (keys[0], suite_key, None):
        urls = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME)
        pages.append(Path(url2pathname(urlparse(urls[0]["site_url"]).path)))
    site_root = pages[2].parent
    for page in pages:
        _local_logo(page, site_root)
    return pages[0]


def _local_logo(page: Path, site_root: Path) -> None:
    """Point the page's logo at the site's own copy instead of GE's web server, which the
    page would otherwise ask for on every view, with the Data Context's id in the URL."""
    if not page.is_file():
        return
    logo = site_root / "static" / "images" / "logo-long.png"
    relative = Path(
        *[".."] * (len(page.relative_to(site_root).parts) - 1), logo.relative_to(site_root)
    )
    html = page.read_text(encoding="utf-8")
    replaced = _GE_LOGO.sub(relative.as_posix(), html)
    if replaced != html:
        page.write_text(replaced, encoding="utf-8")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
