"""The read model: records returned by queries, entity filters and geo-queries, as data."""
