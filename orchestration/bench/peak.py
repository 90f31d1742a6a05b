"""Runs a command and records its exit status and the kernel's peak RSS of its largest process.

    python -m orchestration.bench.peak RESULT_JSON -- COMMAND ...

A child's ru_maxrss starts at its parent's resident size when it is forked (the parent's pages
are mapped into it until exec), so a bench process that has imported Dagster, NumPy and PyArrow
would inflate the peak of every small child it starts. This launcher is a small fresh
interpreter: the command it starts inherits almost nothing, and `os.wait4` reports the peak of
that command's own process tree (the largest single process among those it waited for).
"""

import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    result_path, command = argv[0], argv[2:]
    process = subprocess.Popen(command)
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except KeyboardInterrupt:
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump({"returncode": process.returncode, "maxrss_kb": usage.ru_maxrss}, handle)
    return process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
