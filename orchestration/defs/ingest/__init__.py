"""Ingest: landing files -> raw.* and audit.*, and the sensor that watches the landing folder."""
