"""dbt's check of a saved parse, made blind to where the DuckDB file is; and `dbt` with it.

dbt reuses a saved parse (`partial_parse.msgpack`) only when the profile's hash is the one it was
made with (dbt-core's ManifestLoader.build_manifest_state_check), and dbt-duckdb's hash holds the
database file's path and DuckDB's settings (its memory cap), which no parse of this project reads:
it reads the target's type, database and schema (dbt_project.yml, macros/). So the first dbt step
on every new warehouse parsed the whole project: 2.6-5.1 s against 0.8 s (docs/performance.md,
"The parse round"). Every dbt cardreach starts uses this check, in the pipeline's process
(orchestration/dbt_in_process.py) and as a command (`python -m orchestration.dbt_command`, what
`make dbt` runs), so that their parses serve each other.
"""

import pprint
import sys
import threading

# By adapter, the profile's connection settings no parse of this project reads.
PARSE_BLIND_CONNECTION_KEYS = {"duckdb": frozenset({"path", "settings"})}

_PATCH_LOCK = threading.Lock()


def profile_hash_for_parsing(credentials):
    """dbt's hash of the profile a parse was made for (`profile_hash`, computed as dbt does it),
    of the connection settings a parse can read: a parse made for one DuckDB file serves every
    other. Any other difference (adapter, database name, schema) still makes dbt parse again."""
    from dbt.contracts.files import FileHash

    blind = PARSE_BLIND_CONNECTION_KEYS.get(credentials.type, frozenset())
    read = sorted(
        (kv for kv in credentials.connection_info() if kv[0] not in blind), key=lambda kv: kv[0]
    )
    return FileHash.from_contents(pprint.pformat(read))


def reuse_parses_across_database_files() -> None:
    """In this process, dbt's state check of a parse uses `profile_hash_for_parsing` (once; the
    parses dbt writes carry it). dbt's other checks stand: its version, vars, the project's files
    and the environment variables they read."""
    from dbt.parser.manifest import ManifestLoader

    with _PATCH_LOCK:
        made_by_dbt = ManifestLoader.build_manifest_state_check
        if getattr(made_by_dbt, "blind_to_the_database_file", False):
            return

        def build_manifest_state_check(self):
            state = made_by_dbt(self)
            state.profile_hash = profile_hash_for_parsing(self.root_project.credentials)
            return state

        build_manifest_state_check.blind_to_the_database_file = True
        ManifestLoader.build_manifest_state_check = build_manifest_state_check


def main() -> int:
    """`dbt <args>`, as the `dbt` command runs it, with cardreach's check of a saved parse."""
    from dbt.cli.main import cli

    reuse_parses_across_database_files()
    sys.argv[0] = "dbt"
    return cli()


if __name__ == "__main__":
    sys.exit(main())
