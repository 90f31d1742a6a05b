"""Automation: the daily job and its schedule (the landing sensor sits with ingest)."""
