"""Offline validation of NGSI-LD entities against the Smart Data Models JSON Schemas.

The schemas describe the keyValues shape, so a normalized entity is flattened
first.  Remote ``$ref``s resolve only from the copies in ``schemas/``; any
other reference is an error, never a network fetch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from support import ConfigurationError, PayloadError

_REMOTE_COPIES = {
    "https://smart-data-models.github.io/data-models/common-schema.json": "common-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/"
    "Environment-schema.json": "Environment-schema.json",
}


def _load_schema(file_name: str) -> dict[str, Any]:
    text = resources.files("acquisition").joinpath("schemas").joinpath(file_name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _refuse_network(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class


def flatten_normalized(entity: Mapping[str, Any]) -> dict[str, Any]:
    """NGSI-LD normalized -> keyValues (Property/GeoProperty -> value, Relationship -> object)."""
    flat: dict[str, Any] = {}
    for key, attr in entity.items():
        if key == "@context":
            continue
        if not isinstance(attr, Mapping) or "type" not in attr:
            flat[key] = attr
            continue
        value = attr.get("object") if attr["type"] == "Relationship" else attr.get("value")
        if isinstance(value, Mapping) and "@value" in value:
            value = value["@value"]
        flat[key] = value
    return flat


def _direct_properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The type's own property subschemas (those written inline in its ``allOf``)."""
    merged: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        merged.update(part.get("properties", {}))
    return merged


PropertyCheck = Callable[[Any], str | None]
_SIMPLE_KEYWORDS = {"type", "minimum", "maximum", "enum", "format", "description"}


def _compile_property(subschema: Mapping[str, Any], checker: FormatChecker) -> PropertyCheck | None:
    """A fast check equivalent to a simple property subschema, or None if it is not simple.

    Covers ``type`` number/integer/string, ``minimum``, ``maximum``, ``enum`` and
    ``format: date-time``: everything our dynamic attributes use. Anything else is
    left to jsonschema.
    """
    if not set(subschema) <= _SIMPLE_KEYWORDS:
        return None
    kind = subschema.get("type")
    low, high = subschema.get("minimum"), subschema.get("maximum")
    allowed = subschema.get("enum")
    date_time = subschema.get("format") == "date-time"
    if kind not in ("number", "integer", "string") or (date_time and kind != "string"):
        return None

    def check(value: Any) -> str | None:
        if kind == "string":
            if not isinstance(value, str):
                return f"{value!r:.40} is not of type 'string'"
            if date_time and not checker.conforms(value, "date-time"):
                return f"{value!r:.40} is not a 'date-time'"
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind == "integer" and not float(value).is_integer())
        ):
            return f"{value!r:.40} is not of type {kind!r}"
        elif (low is not None and value < low) or (high is not None and value > high):
            return f"{value} is outside [{low}, {high}]"
        if allowed is not None and value not in allowed:
            return f"{value!r:.40} is not one of {allowed}"
        return None

    return check


def _accept_anything(value: Any) -> str | None:
    return None


class EntityValidator:
    """Validates entities of the known types against their Smart Data Models schemas.

    A full validation costs about 1 ms (the GeoJSON ``oneOf`` dominates), too
    much per reading.  The first measure of each (entity, attribute set) is
    validated in full, static attributes included; later ones validate only
    their dynamic values against the same property subschemas.  This is
    equivalent because the static part of an entity does not change within a
    process and the schemas have no cross-property constraints besides
    ``required``, which the first full validation covers for that attribute set.
    """

    def __init__(self, schema_files: Mapping[str, str]) -> None:
        registry: Registry[Any] = Registry(retrieve=_refuse_network)  # type: ignore[call-arg]
        for uri, file_name in _REMOTE_COPIES.items():
            registry = registry.with_resource(
                uri, DRAFT202012.create_resource(_load_schema(file_name))
            )
        schemas = {name: _load_schema(file_name) for name, file_name in schema_files.items()}
        checker = FormatChecker()
        self._full = {
            name: Draft202012Validator(schema, registry=registry, format_checker=checker)
            for name, schema in schemas.items()
        }
        self._values_only = {
            name: Draft202012Validator(
                {"type": "object", "properties": _direct_properties(schema)},
                registry=registry,
                format_checker=checker,
            )
            for name, schema in schemas.items()
        }
        self._compiled: dict[str, dict[str, PropertyCheck | None]] = {
            name: {
                prop: _compile_property(sub, checker)
                for prop, sub in _direct_properties(schema).items()
            }
            for name, schema in schemas.items()
        }
        self._validated_shapes: set[tuple[str, frozenset[str]]] = set()

    def validate_key_values(self, entity: Mapping[str, Any]) -> None:
        """Full validation; raises PayloadError('schema_violation') naming the failing path."""
        self._raise_first(self._validator(self._full, entity.get("type")), entity)

    def validate_normalized(self, entity: Mapping[str, Any]) -> None:
        self.validate_key_values(flatten_normalized(entity))

    def validate_update(
        self,
        entity_id: str,
        entity_type: str,
        static_key_values: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> None:
        """Validates one measure's values as an update of the entity (see the class doc)."""
        shape = (entity_id, frozenset(values))
        if shape in self._validated_shapes:
            self._check_values(entity_type, values)
            return
        entity = {"id": entity_id, "type": entity_type, **static_key_values, **values}
        self.validate_key_values(entity)
        self._validated_shapes.add(shape)

    def shape_validated(self, entity_id: str, names: frozenset[str]) -> bool:
        """Whether an update of these attributes of this entity had its full validation."""
        return (entity_id, names) in self._validated_shapes

    def value_check(self, entity_type: str, name: str) -> PropertyCheck | None:
        """The compiled check of one attribute; None when only jsonschema can check it.

        Attributes the schema does not mention get a check that accepts anything.
        """
        compiled = self._compiled.get(entity_type, {})
        return compiled.get(name, _accept_anything)

    def _check_values(self, entity_type: str, values: Mapping[str, Any]) -> None:
        compiled = self._compiled.get(entity_type, {})
        slow: dict[str, Any] = {}
        for name, value in values.items():
            if name not in compiled:
                continue  # the schemas allow extra attributes
            check = compiled[name]
            if check is None:
                slow[name] = value
                continue
            problem = check(value)
            if problem is not None:
                raise PayloadError("schema_violation", f"{name}: {problem}")
        if slow:
            self._raise_first(self._validator(self._values_only, entity_type), slow)

    @staticmethod
    def _validator(
        validators: Mapping[str, Draft202012Validator], entity_type: object
    ) -> Draft202012Validator:
        validator = validators.get(str(entity_type))
        if validator is None:
            raise ConfigurationError(f"no schema for entity type {entity_type!r}")
        return validator

    @staticmethod
    def _raise_first(validator: Draft202012Validator, instance: Mapping[str, Any]) -> None:
        error = next(iter(validator.iter_errors(instance)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(entity)"
            raise PayloadError("schema_violation", f"{where}: {error.message:.200}")
