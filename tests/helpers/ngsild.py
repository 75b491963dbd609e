"""NGSI-LD documents the API tests share."""

from __future__ import annotations

from typing import Any

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
BUILDING = "urn:ngsi-ld:Building:model-1"
RICH: dict[str, Any] = {
    "name": {"type": "LanguageProperty", "languageMap": {"es": "Catedral", "en": "Cathedral"}},
    "plan": {"type": "JsonProperty", "json": {"floors": [1, 2], "open": True}},
    "category": {"type": "VocabProperty", "vocab": "religious"},
    "tags": {"type": "ListProperty", "valueList": ["gothic", "unesco"]},
    "neighbours": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:B:2"}]},
    "temperature": [
        {"type": "Property", "value": 21.5, "unitCode": "CEL", "datasetId": "urn:ngsi-ld:d:in"},
        {"type": "Property", "value": 9.0, "unitCode": "CEL", "datasetId": "urn:ngsi-ld:d:out"},
    ],
    "occupancy": {
        "type": "Property",
        "value": 120,
        "observedAt": "2026-12-01T10:00:00Z",
        "accuracy": {"type": "Property", "value": 0.95},
        "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:9"},
    },
}
