"""How an entity is answered (NGSI-LD 4.5, 6.3.7): normalized or keyValues (simplified),
projected by ``attrs``/``pick``/``omit``, as JSON, JSON-LD or a GeoJSON Feature."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from interoperability.deps import (
    BadRequestError,
    InvalidRequestError,
    check_name,
    name_set,
    ngsi_response,
)
from interoperability.entities.concise import concise
from interoperability.entities.instances import instances
from interoperability.entities.linked import Join, JoinLevelQuery, JoinQuery
from interoperability.ngsild import CORE_CONTEXT, VALUE_MEMBER, render_entity
from interoperability.pick_omit import Projection, parse_projection, pick_and_omit
from knowledge import EntityState
from support.times import iso_utc

GEO_JSON = "application/geo+json"
_MEMBERS = ("id", "type", "@context", "scope", "createdAt", "modifiedAt")
_OPTIONS = frozenset({"keyValues", "simplified", "normalized", "concise", "sysAttrs"})


@dataclass(frozen=True, slots=True)
class Representation:
    ld_json: bool = False
    geo_json: bool = False
    key_values: bool = False
    concise: bool = False  # 4.5.3: attributes without their type, bare values where lossless
    keep: frozenset[str] | None = None  # attributes (and id/type with pick) to keep
    picked: bool = False  # keep came from pick: id and type too only if named (4.21)
    omit: frozenset[str] = frozenset()
    geometry_property: str = "location"
    sys_attrs: bool = False  # the entity's createdAt and modifiedAt
    lang: str | None = None  # LanguageProperties as Properties in this language
    dataset_ids: frozenset[str] | None = None  # only these instances ("@none": the default)
    join: Join | None = None  # linked entities: inline or flat (entities/linked.py)
    join_level: int = 1
    pick_tree: Projection | None = None  # pick with what it asks of linked entities
    omit_tree: Projection | None = None

    @property
    def asks_attributes(self) -> bool:
        return self.keep is not None and bool(self.keep - {"id", "type"})

    def attributes_in(self, doc: dict[str, Any]) -> bool:
        return self.geo_json or any(k not in _MEMBERS for k in doc)

    def document(self, state: EntityState) -> dict[str, Any]:
        doc = render_entity(state, with_context=False, sys_attrs=self.sys_attrs)
        doc = {k: v if k in _MEMBERS else self._instances(v) for k, v in doc.items()
               if self._kept(k)}  # fmt: skip
        doc = {k: v for k, v in doc.items() if v is not None}
        if self.concise:
            doc = {k: v if k in _MEMBERS else concise(v) for k, v in doc.items()}
        if self.key_values:
            doc = {k: v if k in _MEMBERS else plain(v) for k, v in doc.items()}
        if self.sys_attrs:
            doc["createdAt"] = iso_utc(state.created_at or state.modified_at)
            doc["modifiedAt"] = iso_utc(state.modified_at)
        if self.geo_json:
            return self._feature(doc, state)
        return doc | ({"@context": CORE_CONTEXT} if self.ld_json else {})

    def _instances(self, attribute: Any) -> Any:
        """The instances asked for (by datasetId), LanguageProperties in ``lang``."""
        if not isinstance(attribute, dict | list):
            return attribute
        found = instances(attribute)
        if self.dataset_ids is not None:
            found = [i for i in found if i.get("datasetId", "@none") in self.dataset_ids]
        found = [in_language(i, self.lang) for i in found] if self.lang else found
        if not found:
            return None
        return found if isinstance(attribute, list) and len(found) > 1 else found[0]

    def through(self, name: str) -> Representation:
        """How the entities attribute ``name`` links to are rendered: as this entity, with
        the pick and omit written in braces after ``name`` (4.21), else whole."""
        pick = self.pick_tree.inner(name) if self.pick_tree else None
        omit = self.omit_tree.inner(name) if self.omit_tree else None
        return replace(self, keep=pick.names if pick else None, picked=pick is not None,
                       omit=omit.bare if omit else frozenset(), pick_tree=pick,
                       omit_tree=omit)  # fmt: skip

    def _kept(self, name: str) -> bool:
        if name in self.omit:
            return False
        if name in ("id", "type") and not self.picked:
            return True  # attrs selects attributes; the entity stays identified
        return self.keep is None or name in self.keep

    def _feature(self, doc: dict[str, Any], state: EntityState) -> dict[str, Any]:
        geometry = render_entity(state, with_context=False).get(self.geometry_property)
        value = geometry.get("value") if isinstance(geometry, dict) else None
        properties = {k: v for k, v in doc.items() if k != "id"}
        return {"id": state.entity_id, "type": "Feature", "geometry": value,
                "properties": properties, "@context": CORE_CONTEXT}  # fmt: skip

    def answer(
        self, body: Any, headers: dict[str, str] | None = None, pages: str | None = None
    ) -> Response:
        if not self.geo_json:
            return ngsi_response(body, self.ld_json, headers, pages)
        if isinstance(body, list):  # one @context for the collection, none per feature
            features = [{k: v for k, v in f.items() if k != "@context"} for f in body]
            body = {"type": "FeatureCollection", "features": features, "@context": CORE_CONTEXT}
        return JSONResponse(body, media_type=GEO_JSON, headers=dict(headers or {}))


def in_language(instance: Any, lang: str) -> Any:
    """A LanguageProperty as the Property of one language (``lang``, else the first one)."""
    if not isinstance(instance, dict) or instance.get("type") != "LanguageProperty":
        return instance
    texts = instance.get("languageMap") or {}
    chosen = lang if lang in texts else next(iter(texts), None)
    rest = {k: v for k, v in instance.items() if k not in ("type", "languageMap")}
    return {"type": "Property", "value": texts.get(chosen), "lang": chosen, **rest}


def plain(attribute: Any) -> Any:
    """keyValues: an attribute as its bare value (a list of them for several instances)."""
    if isinstance(attribute, list):
        return [plain(a) for a in attribute]
    if isinstance(attribute, dict) and attribute.get("type") in VALUE_MEMBER:
        return attribute.get(VALUE_MEMBER[attribute["type"]])
    return attribute


def representation(
    request: Request,
    options: Annotated[str | None, Query(description="keyValues, normalized, sysAttrs")] = None,
    format_: Annotated[str | None, Query(alias="format", description="keyValues")] = None,
    attrs: Annotated[str | None, Query(description="Attributes to return")] = None,
    pick: Annotated[str | None, Query(description="Members to return")] = None,
    omit: Annotated[str | None, Query(description="Members to leave out")] = None,
    geometry_property: Annotated[str, Query(alias="geometryProperty")] = "location",
    lang: Annotated[str | None, Query(max_length=35, description="e.g. es, en")] = None,
    dataset_id: Annotated[str | None, Query(alias="datasetId")] = None,
    local: Annotated[bool, Query(description="everything this broker holds is local")] = False,
    join: JoinQuery = None,
    join_level: JoinLevelQuery = 1,
) -> Representation:
    accept = request.headers.get("accept", "")
    chosen = {o.strip() for o in (options or "").split(",") if o.strip()} | (
        {format_} if format_ else set()
    )
    if chosen - _OPTIONS:
        unknown = ", ".join(sorted(chosen - _OPTIONS))[:100]
        raise InvalidRequestError(  # NGSI-LD 6.3.7: an unknown option is a bad request
            f"options/format {unknown}: supported are {', '.join(sorted(_OPTIONS))}"
        )
    keep, left_out = pick_and_omit(pick, omit)
    if attrs is not None and (pick is not None or omit is not None):
        raise BadRequestError("attrs cannot be combined with pick or omit (use pick)")
    keep = keep if pick is not None else name_set(attrs, "attribute")
    if pick is None and keep and keep & {"id", "type"}:
        raise BadRequestError("attrs names attributes; id and type are members (use pick)")
    return Representation(
        ld_json="application/ld+json" in accept,
        geo_json=GEO_JSON in accept,
        key_values=bool(chosen & {"keyValues", "simplified"}),
        concise="concise" in chosen and not chosen & {"keyValues", "simplified"},
        sys_attrs="sysAttrs" in chosen,
        keep=keep,
        picked=pick is not None,
        omit=left_out,
        geometry_property=check_name("geometryProperty", geometry_property),
        lang=lang,
        dataset_ids=name_set(dataset_id, "datasetId"),
        join=None if join == "@none" else join,
        join_level=join_level,
        pick_tree=parse_projection(pick, "pick"),
        omit_tree=parse_projection(omit, "omit"),
    )


RepresentationDep = Annotated[Representation, Depends(representation)]
