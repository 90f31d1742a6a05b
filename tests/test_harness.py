"""The suite's own harness (conftest.py): what it sets up holds however the suite was started."""

import subprocess
import sys
from pathlib import Path

# Python started with SIGINT and SIGTERM ignored, as a background command of a shell without job
# control is started with SIGINT ignored. It imports the conftest; then a process it starts, as
# a test's `dagster dev` or the `tail` of Dagster's log capture, must stop on Ctrl-C and SIGTERM,
# before a run in the main thread and after it (when a run ends Dagster maps SIGTERM to SIGINT's
# handler).
STARTED_IN_THE_BACKGROUND = """
import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
import conftest
import dagster as dg

def stops_on_both(when):
    for signum in (signal.SIGINT, signal.SIGTERM):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        child.send_signal(signum)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            sys.exit(f"a process started {when} ignored {signum.name}")

@dg.asset
def one() -> int:
    return 1

stops_on_both("before a run")
assert dg.materialize([one]).success
stops_on_both("after a run")
print("stopped by both")
"""


def test_processes_a_test_starts_stop_on_ctrl_c_and_sigterm_however_the_suite_was_started():
    done = subprocess.run(
        [sys.executable, "-c", STARTED_IN_THE_BACKGROUND],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "stopped by both" in done.stdout, done.stdout + done.stderr
