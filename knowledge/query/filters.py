"""Entity filters (NGSI-LD ``id``, ``idPattern``, ``type`` lists and the ``q`` language) as
data; their SQL form is ``knowledge.postgres.filter_sql``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge.query.geo import GeoFilter

Scalar = float | str
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "~=", "!~=", "exists"]


@dataclass(frozen=True, slots=True)
class ValueRange:
    low: Scalar
    high: Scalar


@dataclass(frozen=True, slots=True)
class Comparison:
    attr: str
    op: Operator
    value: Scalar | tuple[Scalar, ...] | ValueRange | None = None


@dataclass(frozen=True, slots=True)
class Logical:
    op: Literal["and", "or"]
    terms: tuple[Filter, ...]


Filter = Comparison | Logical


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One key of an ordering (NGSI-LD ``orderBy``): ``("id",)``, ``("type",)``,
    ``("createdAt",)``, ``("modifiedAt",)``, an attribute ``("name",)`` or a path into one:
    a sub-attribute ``("name", "subProperty")`` or a member ``("name", "createdAt")``."""

    path: tuple[str, ...]
    descending: bool = False


@dataclass(frozen=True, slots=True)
class EntityQuery:
    types: tuple[str, ...] | None = None  # any of these
    # a type expression (NGSI-LD 4.17): any group, an entity having every type of the group
    type_groups: tuple[tuple[str, ...], ...] | None = None
    # scopes (NGSI-LD 4.19): any group, each regex of the group matching one of the scopes
    scope_groups: tuple[tuple[str, ...], ...] | None = None
    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    # attrs (NGSI-LD 5.7.2): only entities having at least one of these attributes
    having_any: tuple[str, ...] | None = None
    q: Filter | None = None
    geo: GeoFilter | None = None  # applied after SQL (see knowledge.query.geo)
    # the order of the results, by these keys and then by id (without keys: by id)
    order: tuple[OrderKey, ...] = ()
