"""The stages of the data's route, one folder each: ingest -> transform -> quality -> scoring ->
publish -> report, and the automation that runs them."""
