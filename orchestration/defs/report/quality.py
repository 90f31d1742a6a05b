"""The quality gate's page: every suite's latest result, passed or failed, as one offline page.

Each suite's check saves its result (`save_result`: one JSON file per suite in
settings.quality_results_dir) and renders the page again (`render_page`) from all of them, so the
page is current as soon as a check ends, whether or not the run publishes a report. It sits beside
the report (settings.quality_page_path), which links to it, and the report server serves both
(orchestration/serve.py), so the UI's links open them over http.

One section per suite: what it guards, the asset a failure holds back, which rows it read, and
each expectation with its severity, its limit, what it observed (the range of a bound, the count
and rows of a failure) and the sentence of a failure (quality/sentences.py). The page needs no
network: the report's stylesheet is inlined, as in the report. The failing rows of a suite that
reads the bank's own figures (a dbt model tagged confidential) are left out unless they are
published (settings.publish_confidential()), as the report leaves out the funnel.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration import settings
from orchestration.defs.report.charts import FONT_STACK
from orchestration.defs.report.render import environment
from orchestration.warehouse import write_atomically

OUTCOMES = {  # outcome: (heading text, css class), worst first
    "error": ("无法运行", "bad"),
    "failed": ("失败", "bad"),
    "warning": ("警告", "warn"),
    "passed": ("通过", "ok"),
    "not_run": ("尚未运行", ""),
}
SEVERITIES = {"error": "阻断", "warning": "警告"}
# Every field the page reads; a suite not run yet, or one that could not be evaluated, has some
# of them only.
BLANK_RECORD = dict.fromkeys(
    ("asset", "description", "checked_at", "run_id", "rows", "scope", "error"), None
) | {"expectations": []}


def save_result(record: dict, warehouse: Path | None = None) -> Path:
    """Keep a suite's latest result (the dict `checks.py` builds) for the page."""
    folder = settings.quality_results_dir(warehouse)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{record['suite']}.json"
    return write_atomically(json.dumps(record, ensure_ascii=False, indent=1), target)


@dataclass(frozen=True)
class SuiteSection:
    anchor: str
    name: str
    outcome: str  # a key of OUTCOMES
    record: dict  # the saved result; for a suite not run yet, its file's name and description

    @property
    def heading(self) -> str:
        return OUTCOMES[self.outcome][0]

    @property
    def status(self) -> str:
        return OUTCOMES[self.outcome][1]


def sections(warehouse: Path | None = None) -> list[SuiteSection]:
    """A section per suite: each saved result whose suite file still exists, and each suite of
    expectations/ that has none yet; worst outcome first, then by name."""
    found: dict[str, SuiteSection] = {}
    folder = settings.quality_results_dir(warehouse)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = json.loads(path.read_text(encoding="utf-8"))
        if Path(record["suite_path"]).is_file():  # a deleted suite leaves no section
            found[record["suite"]] = SuiteSection(
                record["suite"], record["suite"], record["outcome"], BLANK_RECORD | record
            )
    for path in sorted(settings.EXPECTATIONS_DIR.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        if suite["name"] not in found:
            meta = suite.get("meta", {})
            record = BLANK_RECORD | {
                "suite": suite["name"],
                "file": shown_path(path),
                "asset": meta.get("asset"),
                "description": meta.get("description"),
            }
            found[suite["name"]] = SuiteSection(suite["name"], suite["name"], "not_run", record)
    order = list(OUTCOMES)
    return sorted(found.values(), key=lambda s: (order.index(s.outcome), s.name))


def render_page(warehouse: Path | None = None) -> Path:
    """Write the page from the saved results, atomically. Checks run in parallel processes: the
    lock makes each render read every result saved before it, so the last one written wins."""
    target = settings.quality_page_path(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = settings.quality_results_dir(warehouse) / ".render.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        found = sections(warehouse)
        counts = {key: sum(s.outcome == key for s in found) for key in OUTCOMES}
        html = (
            environment()
            .get_template("quality.html")
            .render(
                sections=found,
                counts=counts,
                outcomes=OUTCOMES,
                severities=SEVERITIES,
                generated=settings.local_time(datetime.now(UTC)),
                report=os.path.relpath(settings.report_path(warehouse), target.parent),
                font_stack=FONT_STACK,
            )
        )
        write_atomically(html, target)
    return target


def shown_path(path: Path) -> str:
    """A suite file as the repository names it (expectations/x.json), else its full path."""
    path = Path(path).resolve()
    return (
        path.relative_to(settings.REPO_ROOT).as_posix()
        if path.is_relative_to(settings.REPO_ROOT)
        else str(path)
    )
