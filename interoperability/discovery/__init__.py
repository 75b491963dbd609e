"""Discovery (NGSI-LD 5.7.5-5.7.10): the entity types and attributes a tenant holds."""
