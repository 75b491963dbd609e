"""NGSI-LD temporal evolution: history, aggregated values, temporal writes."""
