"""The Dagster code location: every definition lives in a folder of `defs/`, one per concern."""

import warnings
from pathlib import Path

import dagster as dg

# What dg.load_from_defs_folder hides while it loads (dagster's suppress_dagster_warnings).
DAGSTER_WARNINGS = (dg.PreviewWarning, dg.BetaWarning, dg.SupersessionWarning, DeprecationWarning)


@dg.definitions
def defs() -> dg.Definitions:
    # The defs folder's definitions, as dg.load_from_defs_folder finds them, without what it adds
    # at the project's root: a description of every Dagster component type installed (JSON
    # schemas and sample YAML, for the UI's pages on components). cardreach defines no
    # components, and describing them cost every load 0.25-0.6 s: each `make run`, the UI's,
    # each run a test starts (docs/performance.md, "The definitions round"). The component tree
    # stays attached, as it was, for what the UI and the code server read of it. As that
    # function does, Dagster's warnings about its preview and beta APIs are not shown here.
    with warnings.catch_warnings():
        for category in DAGSTER_WARNINGS:
            warnings.simplefilter("ignore", category)
        tree = dg.ComponentTree.for_project(Path(__file__).parent)
        return dg.Definitions.merge(tree.build_defs(Path(".")), dg.Definitions(component_tree=tree))
