"""The suite's own harness (conftest.py): what it sets up holds however the suite was started."""

import subprocess
import sys
from pathlib import Path

# Started as a shell without job control starts a background command: SIGINT ignored. Then what
# conftest does on import, then a run in the main thread (Dagster maps SIGTERM to SIGINT's
# handler when it ends), then a process started afterwards, as a test's `dagster dev` or the
# `tail` of Dagster's log capture would be, stopped by Ctrl-C and by SIGTERM.
STARTED_IN_THE_BACKGROUND = """
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
import conftest
import dagster as dg

@dg.asset
def one() -> int:
    return 1

assert dg.materialize([one]).success
for signum in (signal.SIGINT, signal.SIGTERM):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    time.sleep(0.5)
    child.send_signal(signum)
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        sys.exit(f"a process started by a test ignored {signum.name}")
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
