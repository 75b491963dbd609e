"""FastAPI dependencies as typed Annotated aliases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import unquote, urlencode

from fastapi import Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from interoperability.ngsild import LINK_HEADER
from knowledge import KnowledgeStore
from support import Settings
from support.errors import CiudadError
from support.store import Database

# Ids and names: printable, no control characters (PostgreSQL text cannot hold NUL).
NAME_PATTERN = r"^[^\x00-\x1f\x7f]{1,256}$"
_NAME = re.compile(NAME_PATTERN)


def parse_time(what: str, text: object) -> datetime:
    """An ISO 8601 date-time as NGSI-LD writes them (``Z`` included), or BadRequestError."""
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"{what} {text!r:.40} is not an ISO 8601 date-time") from None


def check_time(what: str, moment: datetime) -> datetime:
    """An aware date-time between the years 1900 and 2999, in UTC, or BadRequestError."""
    if moment.tzinfo is None:
        raise BadRequestError(f"{what} must carry a timezone (e.g. Z)")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not 1900 <= utc.year <= 2999:
        raise BadRequestError(f"{what} must lie between the years 1900 and 2999")
    return utc


def check_name(what: str, value: object) -> str:
    """A string of 1-256 characters without control characters, or BadRequestError."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise BadRequestError(f"{what} must be 1-256 characters without control characters")
    return value


class BadRequestError(CiudadError):
    """A request parameter is malformed (NGSI-LD BadRequestData)."""


class InvalidRequestError(BadRequestError):
    """The request is not NGSI-LD at all: no JSON, or an empty document (InvalidRequest)."""


TimeAtQuery = Annotated[datetime, Query(alias="timeAt", description="Range start (inclusive)")]
EndTimeAtQuery = Annotated[datetime, Query(alias="endTimeAt", description="Range end (exclusive)")]


def checked_range(
    time_at: datetime, end_time_at: datetime, max_days: float | None = None
) -> tuple[datetime, datetime]:
    """[timeAt, endTimeAt) in UTC, non-empty and at most ``max_days`` long, or
    BadRequestError saying which."""
    start, end = check_time("timeAt", time_at), check_time("endTimeAt", end_time_at)
    if end <= start:
        raise BadRequestError("endTimeAt must be after timeAt")
    if max_days is not None and end - start > timedelta(days=max_days):
        raise BadRequestError(f"ask for at most {max_days:g} days at a time")
    return start, end


def name_set(text: str | None, what: str) -> frozenset[str] | None:
    """A comma-separated parameter (``attrs``, ``pick``, ``omit``...) as names, checked."""
    if text is None:
        return None
    return frozenset(check_name(what, n.strip()) for n in text.split(",") if n.strip())


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.api.settings
    return settings


def get_store(request: Request) -> KnowledgeStore:
    store: KnowledgeStore = request.app.state.api.open().store
    return store


def get_reader(request: Request) -> KnowledgeStore:
    """The store queries read: a standby's when CIUDAD_DATABASE_READ_URL names one."""
    reader: KnowledgeStore = request.app.state.api.open().reader
    return reader


def get_database(request: Request) -> Database:
    """The platform's database, for the owners' functions that take it (api_counts)."""
    db: Database = request.app.state.api.open().database
    return db


def wants_ld_json(request: Request) -> bool:
    return "application/ld+json" in request.headers.get("accept", "")


StoreDep = Annotated[KnowledgeStore, Depends(get_store)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ReaderDep = Annotated[KnowledgeStore, Depends(get_reader)]
# A URI: a scheme, a colon, then printable characters (NGSI-LD ids; 400 for anything else).
URI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20\x7f]{1,250}$"
EntityIdPath = Annotated[str, Path(pattern=URI_PATTERN, description="Entity id (a URI)")]
# An attribute name in a path cannot be a JSON-LD keyword (@id, @type...) nor hold the
# characters NGSI-LD reserves for its query languages and IRIs never need unescaped; nor
# start with '/': that is an empty name (``attrs//...``), which no attribute has.
ATTR_PATTERN = r"^[^\x00-\x1f\x7f@()<>\"'\s/][^\x00-\x1f\x7f()<>\"'\s]{0,255}$"
# The JSON-LD layer puts a stored name into the path percent-encoded ('/' of an IRI as %2F,
# so that /attrs/{attr}/{instance} still tells them apart): read back decoded.
AttrPath = Annotated[
    str, Path(pattern=ATTR_PATTERN, description="Attribute name"), AfterValidator(unquote)
]
LdJsonDep = Annotated[bool, Depends(wants_ld_json)]


def page_links(request: Request, limit: int, offset: int, more: bool) -> str | None:
    """The Link header's pages (NGSI-LD 5.5.9): the previous one if this one does not start
    at the first result, the next one if ``more`` results follow."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
    links = []
    for rel, start, wanted in (("prev", max(0, offset - limit), offset > 0),
                               ("next", offset + limit, more)):  # fmt: skip
        if wanted:
            query = urlencode([*kept, ("limit", limit), ("offset", start)])
            links.append(f'<{request.url.path}?{query}>;rel="{rel}";type="application/ld+json"')
    return ",".join(links) or None


def ngsi_response(
    body: Any, ld_json: bool, headers: dict[str, str] | None = None, pages: str | None = None
) -> Response:
    """JSON with a Link header, or JSON-LD with @context in the body (NGSI-LD 6.3.6); the
    Link header also carries ``pages`` (``page_links``)."""
    out = dict(headers or {})
    links = [link for link in (None if ld_json else LINK_HEADER, pages) if link]
    if links:
        out["Link"] = ", ".join(links)
    if ld_json:
        return JSONResponse(body, media_type="application/ld+json", headers=out)
    return JSONResponse(body, headers=out)
