"""Scoring: the explainable 0-100 scores, a dbt step after the checks."""
