"""Ingest: read inbox files as they are, land them in the lake, split clean rows from quarantine."""
