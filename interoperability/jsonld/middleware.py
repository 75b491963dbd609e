"""Applies a request's own JSON-LD @context to the NGSI-LD endpoints.

The routes speak ciudad's stored names only. When a request brings another
context (a ``Link`` header, or ``@context`` in an ``application/ld+json``
body) this middleware renames types and attribute names on the way in (body,
``type``/``attrs``/``q``/``orderBy``/``geoproperty`` parameters, attribute paths) and on
the way out (JSON answers), and answers with that context in the ``Link``
header or the body. Requests without one pass untouched, but for the full IRIs among
their names: those become ciudad's names for them (a default-context IRI its term).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interoperability.asgi_problem import replay, send_problem
from interoperability.entities.order_by import rename_order_by
from interoperability.entities.q_language import rename_attributes
from interoperability.jsonld.batch import renamed_batch
from interoperability.jsonld.request_context import BATCH, context_spec, names_an_iri
from interoperability.jsonld.resolver import ContextResolver, ContextUnavailableError
from interoperability.jsonld.terms import CORE_CONTEXT_URLS, Context, ContextError, TermMapper
from interoperability.ngsild import LINK_HEADER

# an attribute's path, or (temporal) one of its instances' (the instanceId kept as it is)
_ATTR_PATH = re.compile(r"^(/ngsi-ld/v1/(?:temporal/)?entities/[^/]+/attrs/)([^/]+)(/[^/]+)?$")
_ENTITY_READ = re.compile(r"^/ngsi-ld/v1/(temporal/)?entities(/[^/]+)?/?$")
_NAME_PATH = re.compile(r"^(/ngsi-ld/v1/(?:types|attributes)/)(.+)$")
_DISCOVERY = re.compile(r"^/ngsi-ld/v1/(?:types|attributes)(?:/|$)")
_GEOJSON = ("Feature", "FeatureCollection")
_JSON_TYPES = (b"application/json", b"application/ld+json", b"application/geo+json")
_NAME_LISTS = ("typeList", "attributeNames", "attributeList", "typeNames")
_NOT_TERMS = frozenset({"id", "type", "@context", "scope", "createdAt", "modifiedAt"})
_LIST_PARAMS = {"type": r"([,|;()])", "attrs": r"(,)", "geoproperty": r"(,)", "pick": r"([,{}])",
                "omit": r"([,{}])", "geometryProperty": r"(,)", "drop": r"(,)",
                "keep": r"(,)"}  # fmt: skip
Rename = Callable[[str], str]


def _entity(doc: Any, rename: Rename) -> Any:
    if not isinstance(doc, dict):
        return doc
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key in _NOT_TERMS:
            out[key] = _renamed_type(value, rename) if key == "type" else value
        else:
            out[rename(key)] = _attribute(value, rename)
    return out


# Members of an attribute instance; any other member holding an attribute is a
# sub-attribute, named by a term like the attribute itself (NGSI-LD 4.5.1).
_INSTANCE_MEMBERS = frozenset({
    "type", "value", "object", "languageMap", "json", "vocab", "valueList", "objectList",
    "datasetId", "observedAt", "unitCode", "createdAt", "modifiedAt", "deletedAt",
    "instanceId", "lang", "objectType", "values", "objects", "@context", "entity",
})  # fmt: skip


def _attribute(value: Any, rename: Rename) -> Any:
    """An attribute (an instance or a list of them) with its sub-attributes renamed."""
    if isinstance(value, list):
        return [_attribute(v, rename) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        k if k in _INSTANCE_MEMBERS or not _holds_attribute(v) else rename(k): (
            _entity(v, rename)
            if k == "entity"  # a linked entity (join=inline)
            else v
            if k in _INSTANCE_MEMBERS
            else _attribute(v, rename)
        )
        for k, v in value.items()
    }


def _holds_attribute(value: Any) -> bool:
    first = value[0] if isinstance(value, list) and value else value
    return isinstance(first, dict) and isinstance(first.get("type"), str)


def _renamed_type(value: Any, rename: Rename) -> Any:
    if isinstance(value, str):
        return rename(value)
    if isinstance(value, list):
        return [rename(v) if isinstance(v, str) else v for v in value]
    return value


def _renamed_expression(expression: str, rename: Rename) -> str:
    """Each type name of a type expression (Building|Tower) renamed, the operators kept."""
    parts = re.split(_LIST_PARAMS["type"], expression)
    return "".join(p if i % 2 or not p else rename(p) for i, p in enumerate(parts))


def _subscription(doc: Any, rename: Rename, q_rename: Rename) -> Any:
    if not isinstance(doc, dict):
        return doc
    out = dict(doc)
    if isinstance(out.get("entities"), list):
        out["entities"] = [
            {**e, "type": _renamed_expression(e["type"], rename)}
            if isinstance(e, dict) and isinstance(e.get("type"), str)
            else e
            for e in out["entities"]
        ]
    notification = out.get("notification")
    for holder, key in ((out, "watchedAttributes"), (notification, "attributes"),
                        (notification, "pick"), (notification, "omit")):  # fmt: skip
        if isinstance(holder, dict) and isinstance(holder.get(key), list):  # id, type: kept
            holder[key] = [rename(a) if isinstance(a, str) and a not in ("id", "type") else a
                           for a in holder[key]]  # fmt: skip
    if isinstance(out.get("q"), str):
        out["q"] = q_rename(out["q"])
    return out


def _discovery(doc: Any, rename: Rename) -> Any:
    """Discovery documents hold names as values: type and attribute names, lists of them."""
    if isinstance(doc, list):
        return [_discovery(d, rename) for d in doc]
    if not isinstance(doc, dict):
        return doc
    out = dict(doc)
    for key in _NAME_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [rename(n) if isinstance(n, str) else n for n in out[key]]
    for key in ("typeName", "attributeName"):
        if isinstance(out.get(key), str):
            out[key] = rename(out[key])
    if isinstance(out.get("attributeDetails"), list):
        out["attributeDetails"] = _discovery(out["attributeDetails"], rename)
    return out


def _geojson(doc: dict[str, Any], rename: Rename) -> dict[str, Any]:
    """A Feature's properties are the entity (its type among them); a collection's features."""
    if doc["type"] == "FeatureCollection":
        return {**doc, "features": [_geojson(f, rename) for f in doc.get("features", [])]}
    return {**doc, "properties": _entity(doc.get("properties"), rename)}


def _query_body(doc: dict[str, Any], rename: Rename) -> dict[str, Any]:
    """A Query's entity types, attribute names and q, in stored names."""
    out = dict(doc)
    if isinstance(out.get("entities"), list):
        out["entities"] = [
            {**e, "type": _renamed_type(e["type"], rename)} if isinstance(e, dict) and "type" in e
            else e
            for e in out["entities"]
        ]  # fmt: skip
    if isinstance(out.get("attrs"), list):
        out["attrs"] = [rename(a) if isinstance(a, str) else a for a in out["attrs"]]
    if isinstance(out.get("q"), str):
        out["q"] = rename_attributes(out["q"], rename)
    return out


def rewrite_body(path: str, data: Any, mapper_fn: Rename, answer: bool = False) -> Any:
    """Types and attribute names of an NGSI-LD request body (or, with ``answer``, of a
    successful answer: entities only, never batch results), renamed."""

    if _DISCOVERY.match(path):
        return _discovery(data, mapper_fn)
    if answer and isinstance(data, dict) and data.get("type") in _GEOJSON:
        return _geojson(data, mapper_fn)
    if not answer and path.endswith("/entityOperations/query") and isinstance(data, dict):
        return _query_body(data, mapper_fn)
    return _plain_body(path, data, mapper_fn, answer)


def _plain_body(path: str, data: Any, mapper_fn: Rename, answer: bool) -> Any:
    def q_rename(text: str) -> str:
        return rename_attributes(text, mapper_fn)

    if "/subscriptions" in path:
        many = data if isinstance(data, list) else [data]
        renamed = [_subscription(d, mapper_fn, q_rename) for d in many]
        return renamed if isinstance(data, list) else renamed[0]
    if answer and isinstance(data, dict) and "notUpdated" in data:
        return _update_result(data, mapper_fn)
    if "/attrs/" in path:
        return _attribute(data, mapper_fn)  # one attribute (or instance): its "type" stays
    if isinstance(data, list):
        return [rewrite_body(path, d, mapper_fn, answer) for d in data]
    if not isinstance(data, dict):
        return data
    # an entity, or what pick/omit left of one (no id or type, maybe) where entities are read
    is_entity = ("id" in data and "type" in data) or _ENTITY_READ.match(path) is not None
    return _entity(data, mapper_fn) if is_entity or not answer else data


def _update_result(data: dict[str, Any], rename: Rename) -> dict[str, Any]:
    """A 207 UpdateResult: the attribute names it lists, in the requester's terms."""
    out = dict(data)
    if isinstance(out.get("updated"), list):
        out["updated"] = [rename(n) if isinstance(n, str) else n for n in out["updated"]]
    if isinstance(out.get("notUpdated"), list):
        out["notUpdated"] = [
            {**n, "attributeName": rename(n["attributeName"])}
            if isinstance(n, dict) and isinstance(n.get("attributeName"), str)
            else n
            for n in out["notUpdated"]
        ]
    return out


def _query(query: bytes, mapper: TermMapper) -> bytes:
    pairs = []
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if key in _LIST_PARAMS:
            parts = re.split(_LIST_PARAMS[key], value)
            renamed = "".join(
                p if i % 2 or p in ("id", "type") else mapper.to_stored(p)
                for i, p in enumerate(parts)
                if p
            )
        elif key == "q":
            renamed = rename_attributes(value, mapper.to_stored)
        elif key == "orderBy":
            renamed = rename_order_by(value, mapper.to_stored)
        else:
            renamed = value
        pairs.append((key, renamed))
    return urlencode(pairs).encode()


class JsonLdMiddleware:
    def __init__(self, app: ASGIApp, resolver: ContextResolver, platform: Context) -> None:
        self.app = app
        self.resolver = resolver
        self.platform = platform
        self.own_names = TermMapper.own(platform)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/ngsi-ld/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body = await _read_body(receive)
        try:
            _refuse_nul(scope, body)
            spec, data = context_spec(headers, body, scope)
        except ContextError as exc:
            await send_problem(send, 400, "BadRequestData", str(exc))
            return
        if _ld_batch(scope, headers, data):  # each entity with its own context
            stored = await renamed_batch(scope, data, self._mapper_of, rewrite_body)
            await self.app(scope, replay(json.dumps(stored).encode(), receive), send)
            return
        own = spec is None or (isinstance(spec, str) and spec in CORE_CONTEXT_URLS)
        if own and not names_an_iri(scope, body):
            await self.app(scope, replay(body, receive), send)
            return
        try:
            mapper = self.own_names if own else await self._mapper(spec)
        except ContextUnavailableError as exc:
            await send_problem(send, 503, "LdContextNotAvailable", str(exc))
            return
        except ContextError as exc:
            await send_problem(send, 400, "BadRequestData", str(exc))
            return
        inner = _stored_scope(scope, mapper)
        if data is not None:
            stored = rewrite_body(inner["path"], data, mapper.to_stored)
            if "/subscriptions" in inner["path"] and isinstance(stored, dict) and not own:
                stored["@context"] = spec  # notifications speak the subscriber's terms
            body = json.dumps(stored).encode()
        # in ciudad's own names, the answer is already in the request's terms
        answer = send if own else _compacting(send, inner["path"], mapper, spec)
        try:
            await self.app(inner, replay(body, receive), answer)
        finally:
            if "route" in inner:  # for the request metrics outside this middleware
                scope["route"] = inner["route"]

    async def _mapper_of(self, spec: Any) -> TermMapper:
        """The mapper of a context, ciudad's own for none or the core one."""
        if spec is None or (isinstance(spec, str) and spec in CORE_CONTEXT_URLS):
            return self.own_names
        return await self._mapper(spec)

    async def _mapper(self, spec: Any) -> TermMapper:
        user = (await self.resolver.resolve(spec)).under_core()
        return TermMapper.build(user, self.platform)


# a JSON escape \u0000 (not an escaped backslash followed by "u0000")
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _refuse_nul(scope: Scope, body: bytes) -> None:
    """A NUL (U+0000) in a parameter or a JSON string is refused (400): the store's text
    cannot hold one."""
    if b"%00" in scope.get("query_string", b"") or _JSON_NUL.search(body):
        raise ContextError("no value may hold a NUL character")


def _ld_batch(scope: Scope, headers: Headers, data: Any) -> bool:
    media = headers.get("content-type", "")
    return (
        bool(BATCH.match(scope["path"]))
        and isinstance(data, list)
        and (media.startswith("application/ld+json"))
    )


def _stored_scope(scope: Scope, mapper: TermMapper) -> Scope:
    path, raw_path = scope["path"], scope.get("raw_path", b"")
    if match := _ATTR_PATH.match(path) or _NAME_PATH.match(path):
        stored = mapper.to_stored(match.group(2))
        rest = (match.groups()[2:] or (None,))[0] or ""
        # one path segment whatever the name holds (an IRI's '/'); AttrPath decodes it
        in_path = quote(stored, safe=":#@!$&'()*+,;=") if match.re is _ATTR_PATH else stored
        path = match.group(1) + in_path + rest
        raw_path = (quote(match.group(1)) + quote(stored, safe="") + quote(rest)).encode()
    return {
        **scope,
        "path": path,
        "raw_path": raw_path,
        "query_string": _query(scope.get("query_string", b""), mapper),
    }


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _compacting(send: Send, path: str, mapper: TermMapper, spec: Any) -> Send:
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length",)]
        body = b"".join(chunks)
        content_type = dict(headers).get(b"content-type", b"")
        is_json = content_type.startswith(_JSON_TYPES)
        if is_json and body and start["status"] < 300:
            data = rewrite_body(path, json.loads(body), mapper.to_client, answer=True)
            in_body = content_type.startswith((b"application/ld+json", b"application/geo+json"))
            data = _with_context(data, spec) if in_body else data
            body = json.dumps(data).encode()
            pages = _pages(headers)
            headers = [(k, v) for k, v in headers if k.lower() != b"link"]
            links = [pages] if pages else []
            if isinstance(spec, str) and not in_body:
                links.insert(0, LINK_HEADER.replace(LINK_HEADER[1 : LINK_HEADER.index(">")], spec))
            if links:
                headers.append((b"link", ", ".join(links).encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return wrapped


def _pages(headers: list[tuple[bytes, bytes]]) -> str:
    """The pagination part of a Link header (the context link is made anew)."""
    values = [v.decode("latin-1") for k, v in headers if k.lower() == b"link"]
    return ", ".join(v.replace(LINK_HEADER, "").strip(" ,") for v in values).strip(" ,")


def _with_context(data: Any, spec: Any) -> Any:
    if isinstance(data, list):
        return [_with_context(d, spec) for d in data]
    if isinstance(data, dict) and "@context" in data:
        return {**data, "@context": spec}
    return data
