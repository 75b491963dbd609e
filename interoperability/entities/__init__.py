"""NGSI-LD entities: queries, writes, request bodies, the q language."""
