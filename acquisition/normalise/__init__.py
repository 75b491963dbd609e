"""Topic and payload -> readings: decode, map, validate (pure), row and columnar paths."""
