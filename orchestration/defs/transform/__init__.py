"""Transform: the dbt models (staging -> intermediate -> marts) as assets, dbt tests as checks."""
