"""The report folder over http, read-only, on this machine: `python -m orchestration.serve`.

Dagster's UI is an http page, from which browsers refuse to open file:// links; the report's and
the quality page's links in its metadata are http addresses of this server instead
(settings.report_url). `make ui` starts it beside `dagster dev` and stops it with it.

It serves the files of the warehouse's report folder (settings.report_dir) and nothing else: it
listens on settings.REPORT_HOST (127.0.0.1) only, answers GET and HEAD (any other method is
refused by the standard handler), lists no folder, and refuses any path that resolves outside the
folder (`..`, an encoded `..`, or a symbolic link leading out).
"""

from __future__ import annotations

import argparse
import functools
import http.server
from http import HTTPStatus
from pathlib import Path

from orchestration import settings


class ReportHandler(http.server.SimpleHTTPRequestHandler):
    """The standard static handler, kept inside its folder and without folder listings."""

    # the pages are UTF-8 (Chinese): said in the header too, not only in the page's <meta>
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
    }

    def send_head(self):
        root = Path(self.directory).resolve()
        target = Path(self.translate_path(self.path)).resolve()
        if not target.is_relative_to(root):
            self.send_error(HTTPStatus.FORBIDDEN, "outside the report folder")
            return None
        if target == root:  # the folder itself: the report
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", "/" + settings.REPORT_FILE.name)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if target.is_dir():
            self.send_error(HTTPStatus.NOT_FOUND, "no folder listings")
            return None
        return super().send_head()

    def log_message(self, format, *args):  # one short line per request, not the default's
        print(f"report server: {self.command} {self.path} {args[1] if len(args) > 1 else ''}")


def make_server(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    """A server of `folder` on REPORT_HOST:port (0: any free port), not yet serving."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(ReportHandler, directory=str(folder.resolve()))
    return http.server.ThreadingHTTPServer((settings.REPORT_HOST, port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    folder = settings.report_dir()
    server = make_server(folder, settings.report_port())
    print(
        f"report server: {folder} on http://{settings.REPORT_HOST}:{settings.report_port()}/"
        f" ({settings.REPORT_PORT_ENV} for another port)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
