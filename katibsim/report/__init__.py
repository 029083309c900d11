"""Comparison reports: per-run metrics and statistics, the pure-data report model, and its renderers."""
