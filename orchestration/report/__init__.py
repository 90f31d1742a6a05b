"""The cardreach report: one self-contained HTML page of the published marts, charts inline."""

from orchestration.report.charts import Chart
from orchestration.report.document import (
    CheckOutcome,
    QualitySummary,
    Report,
    build_report,
    write_atomically,
)

REPORT_FOLDER = "report"
REPORT_FILE = "cardreach_report.html"

__all__ = [
    "REPORT_FILE",
    "REPORT_FOLDER",
    "Chart",
    "CheckOutcome",
    "QualitySummary",
    "Report",
    "build_report",
    "write_atomically",
]
