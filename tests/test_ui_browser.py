"""The real Dagster UI in a real browser: the asset graph, runs launched from the Launchpad, a
failed check's details (and what `make run` says of it on the terminal), and the report opened
from disk with the network blocked.

`dagster dev` runs as a subprocess on tmp folders (its own DAGSTER_HOME, landing and warehouse);
Playwright drives Debian's chromium (`make browser-deps` installs it and the CJK fonts; no browser
is ever downloaded). Screenshots go to tests/artifacts/ for a person to look at.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import Landing, cardreach_run, make_dagster_home

from orchestration import settings
from orchestration.dbt import seed_target_folder

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
expect = sync_api.expect
# The longest wait, not a delay: with the other worker's pipeline runs on both cores a page can
# take longer than expect()'s default 5 s to show what it fetched.
expect.set_options(timeout=30_000)
# One worker for the module (pytest -n), which xdist sends it as one unit: the UI, the browser
# and the launched run are module fixtures, set up once and stopped when the module's last test
# ends. As session fixtures an idle `dagster dev` (5-6% of a core) and Chromium ran on beside the
# worker's other tests until its end (docs/performance.md, "The idle round").
pytestmark = pytest.mark.xdist_group("ui_browser")

# the asset the audience share totals suite checks (its failure holds back what depends on it)
SHARE_TOTALS_ASSET = "staging/stg_app_audience"
# `make ui` runs `dagster dev` in the project's folder with no target: it loads the code location
# pyproject.toml names ([tool.dg.project]), as the test does
LOCATION = tomllib.loads((settings.REPO_ROOT / "pyproject.toml").read_text())["tool"]["dg"][
    "project"
]["code_location_name"]
JOB = "cardreach_daily"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 180
RUN_SECONDS = 300
LOG_LOAD_MS = 60_000


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        # `make test` installs it; a browser test that skips would pass without testing anything
        pytest.fail("Debian's chromium is not installed: run `make browser-deps`")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DagsterUI:
    """A running `dagster dev` on tmp folders, and how to reach it."""

    process: subprocess.Popen
    port: int
    log: Path
    landing: Landing
    warehouse: Path
    env: dict

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{error}: {error.read().decode(errors='replace')}") from error
        assert "errors" not in answer, answer
        return answer["data"]

    def wait_until(self, ready, what: str, seconds: float):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"dagster dev exited:\n{self.log_tail()}"
            try:
                value = ready()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                value = None
            if value:
                return value
            time.sleep(1)
        pytest.fail(f"timed out after {seconds}s waiting for {what}:\n{self.log_tail()}")

    def location_loaded(self) -> bool:
        entries = self.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
        )["workspaceOrError"]["locationEntries"]
        return any(e["name"] == LOCATION and e["loadStatus"] == "LOADED" for e in entries)

    def stop_automation(self) -> None:
        """Switch the sensor and the schedule off (the Automation page's toggles), so that the
        only runs are the ones this test launches from the UI."""
        data = self.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError {"
            " ... on RepositoryLocation { repositories {"
            " sensors { sensorState { id status } }"
            " schedules { scheduleState { id status } } } } } } } } }"
        )
        for entry in data["workspaceOrError"]["locationEntries"]:
            for repository in entry["locationOrLoadError"]["repositories"]:
                for sensor in repository["sensors"]:
                    state = sensor["sensorState"]
                    if state["status"] == "RUNNING":
                        stopped = self.graphql(
                            "mutation($id: String) { stopSensor(id: $id) {"
                            " ... on StopSensorMutationResult { instigationState { status } } } }",
                            {"id": state["id"]},
                        )
                        assert stopped["stopSensor"]["instigationState"]["status"] == "STOPPED"
                for schedule in repository["schedules"]:
                    state = schedule["scheduleState"]
                    if state["status"] == "RUNNING":
                        stopped = self.graphql(
                            "mutation($id: String) { stopRunningSchedule(id: $id) {"
                            " ... on ScheduleStateResult { scheduleState { status } } } }",
                            {"id": state["id"]},
                        )
                        status = stopped["stopRunningSchedule"]["scheduleState"]["status"]
                        assert status == "STOPPED"

    def run_status(self, run_id: str) -> str:
        data = self.graphql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id}
        )
        return data["runOrError"]["status"]

    def make_run(self) -> tuple[subprocess.CompletedProcess, str]:
        """`make run` on the UI's folders and into its instance: the run its deliveries plan.
        Returns the command's outcome and the run's id, as the UI knows it."""
        done = cardreach_run(self.env, timeout=RUN_SECONDS)
        first_line = done.stdout.split(maxsplit=3)  # "cardreach run <id> (...)"
        assert first_line[:2] == ["cardreach", "run"], done.stdout[-3000:] + done.stderr[-3000:]
        short = first_line[2]
        runs = self.graphql("{ runsOrError(limit: 1) { ... on Runs { results { runId } } } }")
        [run_id] = [run["runId"] for run in runs["runsOrError"]["results"]]
        assert run_id.startswith(short), (run_id, done.stdout[-3000:] + done.stderr[-3000:])
        return done, run_id

    def wait_for_run(self, run_id: str) -> str:
        return self.wait_until(
            lambda: (s := self.run_status(run_id)) in ("SUCCESS", "FAILURE", "CANCELED") and s,
            f"run {run_id} to finish",
            RUN_SECONDS,
        )


def _stop(process: subprocess.Popen) -> None:
    """Ctrl-C to the whole process group (webserver, daemon, code servers, run workers), then
    SIGKILL to whatever is left of it."""
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        if not _group_alive(process):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(process):
            time.sleep(0.2)


def _group_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap the leader: a zombie would still count as a member
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    # The project's instance settings: telemetry off, one run at a time through the queue, no
    # "join the community" dialog covering the page.
    home = make_dagster_home(root / "dagster_home")
    landing, warehouse = Landing(root / "landing"), root / "warehouse"
    port, log = _free_port(), root / "dagster_dev.log"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        settings.LANDING_ENV: str(landing.path),
        settings.WAREHOUSE_ENV: str(warehouse),
        # its own: `dagster dev` parses the project into it, and its runs build there, while
        # this worker's other tests run
        "DBT_TARGET_PATH": str(seed_target_folder(root / "dbt-target")),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    dagster = Path(sys.executable).parent / "dagster"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port)],
            cwd=settings.REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown reaches every child
        )
    ui = DagsterUI(process, port, log, landing, warehouse, env)
    try:
        ui.wait_until(
            lambda: urllib.request.urlopen(f"{ui.url}/server_info", timeout=5).status == 200,
            "the webserver",
            STARTUP_SECONDS,
        )
        ui.wait_until(ui.location_loaded, f"code location {LOCATION}", STARTUP_SECONDS)
        ui.stop_automation()
        landing.copy_sample()  # delivered only now: nothing could have run on it yet
        yield ui
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _only(allowed: str):
    """A route handler that lets `allowed` (and files) through and aborts everything else."""

    def route(route):
        url = route.request.url
        if url.startswith(allowed) or url.startswith(("file:", "data:")):
            route.continue_()
        else:
            route.abort()

    return route


@pytest.fixture
def page(browser, dagster_ui):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="en-US")
    context.route("**/*", _only(dagster_ui.url))  # the UI may reach its own server only
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


def _rendering_fonts(page, selector: str) -> set[str]:
    """The fonts chromium actually drew the element's text with (DevTools' Computed > fonts)."""
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"] for font in fonts if font["glyphCount"]}


def _launch_from_launchpad(page, ui: DagsterUI) -> str:
    """Job page → Launchpad (default config) → Launch Run; the UI opens the new run's page."""
    page.goto(f"{ui.url}/locations/{LOCATION}/jobs/{JOB}/playground")
    page.get_by_role("button", name="Launch Run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    return page.url.rsplit("/runs/", 1)[1].split("?")[0]


@pytest.fixture(scope="module")
def successful_run(browser, dagster_ui):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.route("**/*", _only(dagster_ui.url))
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        run_id = _launch_from_launchpad(page, dagster_ui)
        status = dagster_ui.wait_for_run(run_id)
        assert status == "SUCCESS", dagster_ui.log_tail()
        # the page polls for the run's status: on a busy machine it shows it seconds later
        expect(page.get_by_text("Success", exact=True).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("RUN_SUCCESS").first).to_be_visible(timeout=60_000)
        page.screenshot(path=ARTIFACTS / "run_success.png")
    finally:
        context.close()
    return run_id


def _expected_groups() -> set[str]:
    from orchestration.definitions import defs

    return {spec.group_name for spec in defs().resolve_all_asset_specs()}


def test_the_ui_names_the_code_location_cardreach(dagster_ui):
    assert LOCATION == "cardreach" and dagster_ui.location_loaded()


def test_the_asset_graph_shows_every_group(page, dagster_ui):
    groups = _expected_groups()
    assert {"ingest", "staging", "marts", "scoring", "publish"} <= groups
    page.goto(f"{dagster_ui.url}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    nodes = page.locator("[class*='CollapsedGroupNode_collapsedGroupNodeBox']")
    expect(nodes).to_have_count(len(groups))
    drawn = {node.inner_text().strip().splitlines()[0] for node in nodes.all()}
    assert drawn == groups
    for node in nodes.all():
        expect(node).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "asset_graph.png")


def test_materializing_everything_from_the_launchpad_succeeds(successful_run, dagster_ui):
    report = settings.report_path(dagster_ui.warehouse)
    assert report.exists()  # the run went all the way to the report
    assert (dagster_ui.warehouse / "analytics.duckdb").exists()


def test_the_report_opens_offline_with_every_chart(successful_run, browser, dagster_ui):
    report = settings.report_path(dagster_ui.warehouse)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    context.route("**/*", _only("file:"))
    context.set_offline(True)
    page = context.new_page()
    try:
        page.goto(report.as_uri())
        charts = page.locator("figure.chart svg")
        keys = set(re.findall(r'data-chart="([^"]+)"', report.read_text(encoding="utf-8")))
        expect(charts).to_have_count(len(keys))
        assert len(keys) >= 6
        for chart in charts.all():
            expect(chart).to_be_visible()
            box = chart.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 80
        leader = page.locator("#accounts tbody tr").first
        expect(leader.locator("td").nth(1)).to_have_text("中信银行信用卡")
        expect(
            page.locator("#accounts svg").get_by_text("中信银行信用卡", exact=True)
        ).to_be_visible()
        # The glyphs come from a CJK font, not empty boxes of a Latin one.
        fonts = _rendering_fonts(page, "#accounts tbody tr td:nth-child(2)")
        assert any("CJK" in font for font in fonts), fonts
        # 内容表现 too: its headings, collections and note titles are Chinese
        expect(page.locator("#content h2")).to_have_text("内容表现")
        expect(page.locator("#content svg[data-chart='content_series_1']")).to_be_visible()
        fonts = _rendering_fonts(page, "#content tbody tr td:nth-child(2)")
        assert any("CJK" in font for font in fonts), fonts
        page.screenshot(path=ARTIFACTS / "report.png", full_page=True)
    finally:
        context.close()
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []


def test_the_report_charts_show_in_the_assets_metadata(successful_run, page, dagster_ui):
    page.goto(f"{dagster_ui.url}/assets/publish/report")
    row = page.locator("tr", has_text="chart_mau_vs_card_industry")
    row.get_by_text("[Show Markdown]").click()
    image = page.get_by_role("dialog").locator("img[src^='data:image/svg+xml;base64,']")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") > 300
    page.wait_for_timeout(500)  # the dialog's fade-in
    page.screenshot(path=ARTIFACTS / "report_in_dagster.png")


def test_a_mart_shows_its_column_types_and_row_count_and_every_check_a_description(
    successful_run, page, dagster_ui
):
    """What an operator reads of a dbt model in the UI: its columns typed and described, its
    row count; and of every check of the location, what it guards."""
    page.goto(f"{dagster_ui.url}/assets/marts/account_performance")
    expect(page.get_by_text("Row count").first).to_be_visible()
    expect(page.get_by_text("likes_and_collects_per_note").first).to_be_visible()
    published = settings.analytics_database(dagster_ui.warehouse)
    with duckdb.connect(str(published), read_only=True) as conn:
        [(followers_type,)] = conn.execute(
            "SELECT data_type FROM duckdb_columns() WHERE schema_name = 'marts'"
            " AND table_name = 'account_performance' AND column_name = 'followers'"
        ).fetchall()
        [(rows,)] = conn.execute("SELECT count(*) FROM marts.account_performance").fetchall()
    typed = re.compile(rf"^{re.escape(followers_type)}$", re.IGNORECASE)
    expect(page.get_by_text(typed).first).to_be_visible()
    expect(page.get_by_text(re.compile(rf"^({rows}|{rows:,})$")).first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "account_performance_in_dagster.png")
    nodes = dagster_ui.graphql(
        "{ assetNodes { assetKey { path } assetChecksOrError {"
        " ... on AssetChecks { checks { name description } } } } }"
    )["assetNodes"]
    checks = [
        (node["assetKey"]["path"], check["name"], check["description"])
        for node in nodes
        for check in node["assetChecksOrError"].get("checks", [])
    ]
    from orchestration.definitions import defs

    assert len(checks) == len(defs().resolve_asset_graph().asset_check_keys)  # every one shown
    assert [c for c in checks if not (c[2] or "").strip()] == []


def test_a_failed_check_is_named_by_make_run_and_shows_its_expectation_in_the_ui(
    successful_run, page, dagster_ui
):
    """What the operator sees of a failed check: `make run` exits 1 naming it, with what it held
    back from publication; the run's log and the check's page in the UI say the same."""
    # 小红书's age buckets for 2025-02 add up to 120%.
    dagster_ui.landing.csv(
        "app_audience__bad.csv",
        [
            {
                "app": "小红书",
                "month": "2025-02",
                "dimension": "age",
                "bucket": bucket,
                "share_pct": "60",
                "source": "test",
            }
            for bucket in ("24岁以下", "25-30岁")
        ],
    )
    # `make run` plans the run of what the delivery reaches, into the instance the UI shows
    # (launching from the launchpad has its test above, a run of every asset)
    done, run_id = dagster_ui.make_run()
    assert done.returncode == 1, done.stdout[-3000:]  # a failed check: the command says so...
    summary = done.stdout
    assert "FAILED" in summary and "ge_audience_share_totals" in summary
    assert "受众分布合计" in summary and "应在 99.5% 到 100.5% 之间" in summary
    # ...listing what the failed check held back from publication, with the check...
    assert "held back from publication" in summary
    held = summary[summary.index("held back from publication") :]
    assert "marts/platform_scores (" in held
    platform_scores_line = held[held.index("marts/platform_scores (") :].splitlines()[0]
    assert "ge_audience_share_totals" in platform_scores_line
    assert "marts/account_scores" not in held
    assert str(settings.pipeline_database(dagster_ui.warehouse)) in summary
    # ...while the run itself goes through
    assert dagster_ui.run_status(run_id) == "SUCCESS"
    # the run's log filtered to what was held back: the log is a virtual list, rendering only
    # the lines in view of hundreds of events, which take the UI seconds to load
    page.goto(f"{dagster_ui.url}/runs/{run_id}?logs=held%20back")
    expect(
        page.get_by_text(
            "marts/platform_scores held back: check ge_audience_share_totals failed on"
            f" {SHARE_TOTALS_ASSET}: not published in this run"
        ).first
    ).to_be_visible(timeout=LOG_LOAD_MS)
    page.goto(f"{dagster_ui.url}/assets/{SHARE_TOTALS_ASSET}?view=checks")
    page.get_by_text("ge_audience_share_totals", exact=True).first.click()
    # the check's description: what failed as a sentence, with the figure and the limit
    expect(
        page.get_by_text(re.compile(r"受众分布合计.*120.*99\.5% 到 100\.5%")).first
    ).to_be_visible()
    page.locator("tr", has_text="failed_expectations").get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("expect_column_values_to_be_between")
    expect(dialog).to_contain_text("share_total_pct")
    expect(dialog).to_contain_text("120")
    page.wait_for_timeout(500)  # the dialog's fade-in
    page.screenshot(path=ARTIFACTS / "failed_check.png")


# What a table whose content is wider than its box looks like in the page, measured by Chromium:
# the table's own scroll width against its container's width, and any ancestor that hides what
# overflows it (`overflow: hidden` or `clip`) while narrower than the table.
CLIPPED_TABLES = """() => [...document.querySelectorAll('table')].flatMap((table) => {
  const container = table.closest('.scroll') || table.parentElement;
  const where = (table.closest('section') || document.body).id + ': '
    + table.querySelector('th').textContent.trim().slice(0, 24);
  const found = [];
  if (table.scrollWidth > container.clientWidth)
    found.push(`${where}: ${table.scrollWidth}px wide in ${container.clientWidth}px`);
  for (let box = table.parentElement; box; box = box.parentElement) {
    const overflow = getComputedStyle(box).overflowX;
    if ((overflow === 'hidden' || overflow === 'clip') && box.clientWidth < table.scrollWidth)
      found.push(`${where}: cut by <${box.tagName.toLowerCase()}> (overflow ${overflow})`);
  }
  return found;
})"""
# A4's printable width at the stylesheet's margins is about 720 CSS pixels: laid out narrower,
# a table that fits here fits the page.
PRINT_WIDTH = 680


def test_the_report_prints_to_pdf_with_every_table_whole(sample_run, browser):
    """On screen (a laptop's window) and in print, every table of the sample's report fits its
    card: it wraps rather than scroll, and no box hides a part of it; the PDF has pages."""
    report = settings.report_path(sample_run.warehouse_dir)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.route("**/*", _only("file:"))
    page = context.new_page()
    try:
        page.goto(report.as_uri())
        tables = page.locator("table").count()
        assert tables >= 10
        assert page.evaluate(CLIPPED_TABLES) == []
        page.set_viewport_size({"width": PRINT_WIDTH, "height": 900})
        page.emulate_media(media="print")
        assert page.evaluate(CLIPPED_TABLES) == []
        # the whole page goes to print: no section, table or chart is hidden
        assert page.locator("section:visible").count() == page.locator("section").count()
        assert page.locator("table:visible").count() == tables
        pdf = page.pdf(format="A4", print_background=True)
        (ARTIFACTS / "report.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF")
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert pages > 1, pages
        page.screenshot(path=ARTIFACTS / "report_print.png", full_page=True)
    finally:
        context.close()
