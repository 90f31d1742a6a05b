"""What a run's tags say: who started it, for which files, and on which version of the project.

`cardreach/started_by` is `ui` by default (the job's own tag, which the launchpad shows) and
`cli`, `sensor` or `schedule` when they launch it: a run request's tags win over the job's.
`cardreach/files` counts the new or changed deliveries it was started for and
`cardreach/file_names` names the first few. `cardreach/fingerprint` is the project as it ran
(the dbt project, the suites, the code and the settings that change what a run produces): a
successful run with the same fingerprint and nothing new delivered since means that `make run`
has nothing to do. `cardreach/day` is the day the run takes as today, set when it starts
(orchestration/warehouse.py) and the same for each of its steps even past midnight.
"""

import hashlib
import os
from pathlib import Path

from orchestration import settings

STARTED_BY_TAG = "cardreach/started_by"
FILES_TAG = "cardreach/files"
FILE_NAMES_TAG = "cardreach/file_names"
FINGERPRINT_TAG = "cardreach/fingerprint"
DAY_TAG = "cardreach/day"

# Run tag values have no length limit in Dagster's run storage (only definition tags are held
# to 63 characters), but the UI shows them in one line: the first few names, then a count.
FILE_NAMES_TAG_LIMIT = 120

# What is not the project's source: dbt's output, caches.
_NOT_SOURCE = {"target", "logs", "dbt_packages", "__pycache__", ".pytest_cache"}


def _source_files() -> list[tuple[str, Path]]:
    """(name within the project, path) of every source file that decides a run's outcome."""
    root = settings.REPO_ROOT
    files = [(name, root / name) for name in ("pyproject.toml", "requirements.lock")]
    folders = {
        "dbt_project": settings.DBT_PROJECT_DIR,
        "expectations": settings.EXPECTATIONS_DIR,
        "orchestration": root / "orchestration",
    }
    for label, folder in folders.items():
        # dbt's target/ is never entered: it holds thousands of files, and a dbt step of another
        # process may be removing its old invocation folders meanwhile
        for directory, subfolders, names in os.walk(folder):
            subfolders[:] = [
                name for name in subfolders if name not in _NOT_SOURCE and not name.startswith(".")
            ]
            parts = Path(directory).relative_to(folder).parts
            files += [
                ("/".join((label, *parts, name)), Path(directory, name))
                for name in names
                if not name.startswith(".")
            ]
    return sorted(files)


def project_fingerprint(with_folders: bool = True) -> str:
    """A digest of what decides a run's outcome besides the deliveries: every file of the dbt
    project (models, seeds, macros, tests), of the suites and of the code, and the settings that
    change what is built or published (with the folders it reads and writes, unless
    `with_folders` is false). Hashing them all takes about a tenth of a second."""
    digest = hashlib.sha256()
    for name, path in _source_files():
        try:
            content = path.read_bytes()
        except OSError:
            continue
        digest.update(name.encode("utf-8", "surrogateescape"))
        digest.update(hashlib.sha256(content).digest())
    folders = (
        [("landing", str(settings.landing_dir())), ("warehouse", str(settings.warehouse_dir()))]
        if with_folders
        else []
    )
    for name, value in (
        *folders,
        (settings.PUBLISH_CONFIDENTIAL_ENV, str(settings.publish_confidential())),
        # another engine rebuilds everything, from scratch (orchestration/engine.py)
        (settings.ENGINE_ENV, settings.engine()),
        # the report's times and the links the metadata gives
        (settings.TIMEZONE_ENV, settings.timezone_name()),
        (settings.REPORT_PORT_ENV, str(settings.report_port())),
    ):
        digest.update(f"{name}={value}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def shown_names(names: list[str], limit: int = FILE_NAMES_TAG_LIMIT) -> str:
    """The first names that fit in `limit` characters, then how many more."""
    shown: list[str] = []
    for index, name in enumerate(names):
        rest = len(names) - index - 1
        candidate = ", ".join([*shown, name]) + (f" and {rest} more" if rest else "")
        if len(candidate) > limit and shown:
            return ", ".join(shown) + f" and {len(names) - index} more"
        shown.append(name)
    return ", ".join(shown)


def run_tags(started_by: str, new_files: list[str] | None = None) -> dict[str, str]:
    """The tags of a run launched by `make run`, the sensor or the schedule."""
    tags = {STARTED_BY_TAG: started_by, FINGERPRINT_TAG: project_fingerprint()}
    if new_files is not None:
        names = sorted(new_files)
        tags[FILES_TAG] = str(len(names))
        if names:
            tags[FILE_NAMES_TAG] = shown_names(names)
    return tags
