"""HTML of the report: Jinja2 templates in `templates/`, the stylesheet inlined.

The sections (document.py) are data: headings, notes, tables of already formatted text, charts.
This module turns them into one page. Autoescaping is on for every HTML template, because table
cells and labels come from delivered files and can hold any text; the charts' SVG is the only
markup passed through, and charts.py escapes what it draws. `report.css` is included into the
page's `<style>`, so the page needs no other file and no network.
"""

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import jinja2

from orchestration.defs.report.charts import FONT_STACK
from orchestration.defs.report.provenance import KIND_ZH, legend

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # .html templates escape every value; report.css is inlined as it is (inside <style>,
        # HTML escaping would break the font stack's quotes).
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the report, not blanks a cell
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    templates.globals["kinds"] = KIND_ZH  # a mark's tooltip names its kind in Chinese
    return templates


def render_page(sections: Sequence, *, published: str, generated: str) -> str:
    """The page of `sections` (each with `anchor`, `heading` and `blocks`)."""
    return (
        environment()
        .get_template("report.html")
        .render(
            sections=sections,
            published=published,
            generated=generated,
            font_stack=FONT_STACK,
            legend=legend(),
        )
    )
