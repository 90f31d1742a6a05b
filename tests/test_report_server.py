"""The report server (`make ui` starts it): a real server on a free port serves the quality page
of the warehouse's report folder, and nothing outside that folder."""

import http.client
import threading

import pytest

from orchestration import settings
from orchestration.defs.report.quality import render_page
from orchestration.serve import make_server


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A warehouse with its quality page, its report folder served on a free port."""
    warehouse = tmp_path / "warehouse"
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(warehouse))
    page = render_page(warehouse)
    # what must never be served: the pipeline's database, beside the report folder
    settings.pipeline_database(warehouse).write_text("the pipeline's own database")
    server = make_server(settings.report_dir(warehouse), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield warehouse, page, server.server_address
    server.shutdown()
    server.server_close()


def request(address, path: str, method: str = "GET") -> tuple[int, bytes, dict]:
    """The raw request line, as a browser or curl could send it (no path normalising)."""
    connection = http.client.HTTPConnection(*address, timeout=10)
    connection.request(method, path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body, {k.lower(): v for k, v in response.getheaders()}


def test_it_serves_the_quality_page_on_this_machine_only(served):
    warehouse, page, address = served
    assert address[0] == "127.0.0.1"
    status, body, headers = request(address, "/" + page.name)
    assert status == 200
    assert body == page.read_bytes()
    assert headers["content-type"] == "text/html; charset=utf-8"
    html = body.decode("utf-8")
    # every suite of the repository has its section, and the page needs no network
    for suite in settings.EXPECTATIONS_DIR.glob("*.json"):
        assert f'<section id="{suite.stem}">' in html
    assert "http://" not in html and "https://" not in html
    # the address the UI's metadata links to is this file
    url = settings.report_url(page, warehouse)
    assert url.endswith("/" + page.name) and url.startswith("http://127.0.0.1:")
    # the folder itself leads to the report
    status, _, headers = request(address, "/")
    assert status == 302 and headers["location"] == "/" + settings.REPORT_FILE.name


@pytest.mark.parametrize(
    "path",
    [
        "/../cardreach.duckdb",
        "/%2e%2e/cardreach.duckdb",
        "/..%2fcardreach.duckdb",
        "/../../../../../../etc/passwd",
    ],
)
def test_it_refuses_paths_outside_the_folder(served, path):
    _, _, address = served
    status, body, _ = request(address, path)
    assert status in (403, 404)
    assert b"pipeline's own database" not in body and b"root:" not in body


def test_a_link_leading_out_of_the_folder_is_refused(served):
    warehouse, _, address = served
    (settings.report_dir(warehouse) / "database.html").symlink_to(
        settings.pipeline_database(warehouse)
    )
    status, body, _ = request(address, "/database.html")
    assert status == 403
    assert b"pipeline's own database" not in body


def test_it_is_read_only_and_lists_no_folder(served):
    warehouse, page, address = served
    for method in ("PUT", "POST", "DELETE"):
        status, _, _ = request(address, "/" + page.name, method)
        assert status == 501, method
    assert page.is_file()
    (settings.report_dir(warehouse) / "charts").mkdir()
    status, _, _ = request(address, "/charts/")
    assert status == 404
