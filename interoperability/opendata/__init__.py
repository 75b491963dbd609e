"""The open-data catalogue and its exports (CSV, GeoJSON)."""
