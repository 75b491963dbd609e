"""Entity queries through the API on a real PostgreSQL: type lists, id, idPattern, attrs,
and the q language over device readings and static attributes."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration


def _spot(n: int, status: str, zone: str) -> dict[str, object]:
    return {
        "id": f"urn:ngsi-ld:ParkingSpot:leon:q{n}",
        "type": "ParkingSpot",
        "status": {"type": "Property", "value": status},
        "occupancy": {"type": "Property", "value": 1.0 if status == "occupied" else 0.0},
        "category": {"type": "Property", "value": ["onStreet"]},
        "refParkingSite": {"type": "Relationship", "object": f"urn:ngsi-ld:ParkingSite:{zone}"},
    }


@pytest.fixture
async def spots(client: httpx.AsyncClient) -> httpx.AsyncClient:
    batch = [_spot(1, "occupied", "centro"), _spot(2, "free", "centro"), _spot(3, "free", "norte")]
    response = await client.post("/ngsi-ld/v1/entityOperations/create", json=batch)
    assert response.status_code == 201
    return client


async def _ids(http: httpx.AsyncClient, **params: str) -> list[str]:
    response = await http.get("/ngsi-ld/v1/entities", params=params)
    assert response.status_code == 200, response.text
    return [e["id"].rsplit(":", 1)[1] for e in response.json()]


async def test_q_on_readings_static_values_and_relationships(spots: httpx.AsyncClient) -> None:
    assert await _ids(spots, type="ParkingSpot", q='status=="free"') == ["q2", "q3"]
    assert await _ids(spots, type="ParkingSpot", q="occupancy>0.5") == ["q1"]
    assert await _ids(spots, type="ParkingSpot", q="occupancy==0..0.5") == ["q2", "q3"]
    assert await _ids(
        spots, type="ParkingSpot", q='refParkingSite=="urn:ngsi-ld:ParkingSite:centro"'
    ) == ["q1", "q2"]
    assert await _ids(spots, type="ParkingSpot", q='status=="free";refParkingSite~=".*norte"') == [
        "q3"
    ]
    assert await _ids(spots, type="ParkingSpot", q='status=="occupied"|occupancy<0') == ["q1"]
    assert await _ids(spots, type="ParkingSpot", q='status!="free","closed"') == ["q1"]
    assert await _ids(spots, type="ParkingSpot", q="nonexistent") == []


async def test_type_lists_ids_patterns_attrs_and_count(spots: httpx.AsyncClient) -> None:
    both = await _ids(spots, type="ParkingSpot,NoiseLevelObserved")
    assert both == ["n1", "n2", "q1", "q2", "q3"]
    assert await _ids(spots, id="urn:ngsi-ld:ParkingSpot:leon:q3,urn:ngsi-ld:x:none") == ["q3"]
    assert await _ids(spots, idPattern=r"^urn:ngsi-ld:ParkingSpot:leon:q[12]$") == ["q1", "q2"]
    response = await spots.get(
        "/ngsi-ld/v1/entities",
        params={"type": "ParkingSpot", "attrs": "status", "count": "true", "limit": "1"},
    )
    assert response.headers["NGSILD-Results-Count"] == "3"
    (entity,) = response.json()
    assert set(entity) == {"id", "type", "status"}


@pytest.mark.parametrize(
    "params",
    [{"q": "status=="}, {"idPattern": "("}, {"q": 'status~="("'}, {"type": "Parking\x01Spot"}],
)
async def test_bad_queries_are_400(spots: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await spots.get("/ngsi-ld/v1/entities", params=params)
    assert response.status_code == 400, response.text


def _place(name: str, geometry: dict[str, object]) -> dict[str, object]:
    return {
        "id": f"urn:ngsi-ld:PointOfInterest:leon:{name}",
        "type": "PointOfInterest",
        "location": {"type": "GeoProperty", "value": geometry},
    }


@pytest.fixture
async def places(client: httpx.AsyncClient) -> httpx.AsyncClient:
    batch = [
        _place("cathedral", {"type": "Point", "coordinates": [-5.5667, 42.5994]}),
        _place("isidoro", {"type": "Point", "coordinates": [-5.5708, 42.6007]}),
        _place("station", {"type": "Point", "coordinates": [-5.5819, 42.5946]}),
        _place(
            "old-town",
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-5.575, 42.596],
                        [-5.563, 42.596],
                        [-5.563, 42.603],
                        [-5.575, 42.603],
                        [-5.575, 42.596],
                    ]
                ],
            },
        ),
    ]
    assert (await client.post("/ngsi-ld/v1/entityOperations/create", json=batch)).status_code == 201
    return client


async def test_geo_queries(places: httpx.AsyncClient) -> None:
    async def names(**params: str) -> list[str]:
        return await _ids(places, type="PointOfInterest", **params)

    cathedral = {"geometry": "Point", "coordinates": "[-5.5667, 42.5994]"}
    assert await names(georel="near;maxDistance==500", **cathedral) == [
        "cathedral",
        "isidoro",
        "old-town",
    ]
    assert await names(georel="near;minDistance==1000", **cathedral) == ["station"]
    old_town = {
        "geometry": "Polygon",
        "coordinates": "[[[-5.575,42.596],[-5.563,42.596],[-5.563,42.603],[-5.575,42.603],"
        "[-5.575,42.596]]]",
    }
    assert await names(georel="within", **old_town) == ["cathedral", "isidoro", "old-town"]
    assert await names(georel="disjoint", **old_town) == ["station"]
    assert await names(georel="contains", **cathedral) == ["cathedral", "old-town"]
    assert await names(georel="intersects", geometry="Point", coordinates="[-5.5819, 42.5946]") == [
        "station"
    ]
    counted = await places.get(
        "/ngsi-ld/v1/entities",
        params={
            "type": "PointOfInterest",
            "georel": "within",
            "count": "true",
            "limit": "1",
            **old_town,
        },
    )
    assert counted.headers["NGSILD-Results-Count"] == "3"
    assert len(counted.json()) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"georel": "near", "geometry": "Point", "coordinates": "[-5.5, 42.6]"},
        {"georel": "near;maxDistance==x", "geometry": "Point", "coordinates": "[-5.5, 42.6]"},
        {"georel": "around", "geometry": "Point", "coordinates": "[-5.5, 42.6]"},
        {"georel": "within", "geometry": "Point"},
        {"georel": "within", "geometry": "Polygon", "coordinates": "[[[0,0],[1,0],[0,0]]]"},
        {"georel": "within", "geometry": "Point", "coordinates": "not json"},
    ],
)
async def test_bad_geo_queries_are_400(places: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await places.get("/ngsi-ld/v1/entities", params=params)
    assert response.status_code == 400, response.text


async def test_entities_of_several_types_are_found_by_any_of_them(
    client: httpx.AsyncClient,
) -> None:
    """NGSI-LD 4.16/4.17: a multi-typed entity answers to each of its types, AND (;) and OR
    (, or |) combine, a write adds types and discovery counts the entity under each."""
    batch = [
        {"id": "urn:ngsi-ld:Place:b", "type": "Building"},
        {"id": "urn:ngsi-ld:Place:p", "type": "Parking"},
        {"id": "urn:ngsi-ld:Place:bt", "type": ["Building", "TouristDestination"]},
    ]
    assert (await client.post("/ngsi-ld/v1/entityOperations/create", json=batch)).status_code == 201
    assert await _ids(client, type="Building") == ["b", "bt"]
    assert await _ids(client, type="(Building;TouristDestination)") == ["bt"]
    assert await _ids(client, type="Parking|TouristDestination") == ["bt", "p"]
    assert await _ids(client, type="(Building;Parking),TouristDestination") == ["bt"]
    wrong = await client.get("/ngsi-ld/v1/entities", params={"type": "(Building;Parking"})
    assert wrong.status_code == 400
    added = await client.patch("/ngsi-ld/v1/entities/urn:ngsi-ld:Place:p/attrs",
                               json={"type": ["Parking", "Building"]})  # fmt: skip
    assert added.status_code == 204, added.text
    entity = (await client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Place:p")).json()
    assert entity["type"] == ["Parking", "Building"]
    assert await _ids(client, type="(Building;Parking)") == ["p"]
    building = (await client.get("/ngsi-ld/v1/types/Building")).json()
    assert building["entityCount"] == 3


async def test_scope_queries_select_by_levels(client: httpx.AsyncClient) -> None:
    """NGSI-LD 4.19: scopeQ with exact levels, + (one level), # (any below), ; and ,."""
    batch = [
        {"id": "urn:ngsi-ld:Place:one", "type": "Building", "scope": "/Madrid/Gardens/Norte"},
        {"id": "urn:ngsi-ld:Place:many", "type": "Building",
         "scope": ["/Madrid/Parks/Norte", "/CompanyA/OrgB/UnitC"]},
        {"id": "urn:ngsi-ld:Place:none", "type": "Building"},
    ]  # fmt: skip
    assert (await client.post("/ngsi-ld/v1/entityOperations/create", json=batch)).status_code == 201
    assert await _ids(client, scopeQ="/Madrid/Gardens/Norte") == ["one"]
    assert await _ids(client, scopeQ="/Madrid/+/Norte") == ["many", "one"]
    assert await _ids(client, scopeQ="/CompanyA/#") == ["many"]
    assert await _ids(client, scopeQ="/#", type="Building") == ["many", "one"]
    assert await _ids(client, scopeQ="/Madrid/+/Norte;/CompanyA/OrgB/UnitC") == ["many"]
    assert await _ids(client, scopeQ="/Madrid/Gardens/Norte,/CompanyA/OrgB/UnitC") == [
        "many",
        "one",
    ]
    wrong = await client.get("/ngsi-ld/v1/entities", params={"scopeQ": "Madrid"})
    assert wrong.status_code == 400


async def test_pages_are_linked_in_the_link_header(spots: httpx.AsyncClient) -> None:
    """NGSI-LD 5.5.9: prev and next pages as Link relations (beside the context in JSON)."""
    ld = {"Accept": "application/ld+json"}

    async def links(offset: int) -> str | None:
        params = {"type": "ParkingSpot", "limit": "1", "offset": str(offset)}
        answer = await spots.get("/ngsi-ld/v1/entities", params=params, headers=ld)
        assert len(answer.json()) == 1
        return answer.headers.get("link")

    page = (
        '</ngsi-ld/v1/entities?type=ParkingSpot&limit=1&offset={}>;rel="{}";'
        'type="application/ld+json"'
    )
    assert await links(0) == page.format(1, "next")
    assert await links(1) == f"{page.format(0, 'prev')},{page.format(2, 'next')}"
    assert await links(2) == page.format(1, "prev"), "the last page has no next"
    plain = await spots.get("/ngsi-ld/v1/entities", params={"type": "ParkingSpot", "limit": "1"})
    assert plain.headers["link"].count("rel=") == 2, "the context and the next page"


async def test_linked_entities_come_inline_or_flat(client: httpx.AsyncClient) -> None:
    """NGSI-LD 4.5.23: join=inline puts the entity a Relationship points to in it (in
    keyValues, in its place), join=flat appends it; joinLevel follows links further."""
    country = {"id": "urn:ngsi-ld:Country:es", "type": "Country"}
    city = {"id": "urn:ngsi-ld:City:leon", "type": "City",
            "inCountry": {"type": "Relationship", "object": country["id"]}}  # fmt: skip
    building = {"id": "urn:ngsi-ld:Building:cathedral", "type": "Building",
                "locatedAt": {"type": "Relationship", "object": city["id"]}}  # fmt: skip
    batch = [country, city, building]
    assert (await client.post("/ngsi-ld/v1/entityOperations/create", json=batch)).status_code == 201
    url = f"/ngsi-ld/v1/entities/{building['id']}"
    inlined = (await client.get(url, params={"join": "inline"})).json()
    assert inlined["locatedAt"]["entity"] == city, "one level by default"
    two = (await client.get(url, params={"join": "inline", "joinLevel": "2"})).json()
    assert two["locatedAt"]["entity"]["inCountry"]["entity"] == country
    simple = await client.get(url, params={"join": "inline", "options": "keyValues"})
    assert simple.json()["locatedAt"] == {"id": city["id"], "type": "City",
                                          "inCountry": country["id"]}  # fmt: skip
    flat = (await client.get(url, params={"join": "flat", "joinLevel": "2"})).json()
    assert [e["id"] for e in flat] == [building["id"], city["id"], country["id"]]
    queried = await client.get("/ngsi-ld/v1/entities", params={"type": "Building", "join": "flat"})
    assert [e["id"] for e in queried.json()] == [building["id"], city["id"]]
    too_deep = await client.get(url, params={"join": "inline", "joinLevel": "99"})
    assert too_deep.status_code == 400


async def test_concise_answers_drop_the_types_their_values_say(spots: httpx.AsyncClient) -> None:
    url = "/ngsi-ld/v1/entities/urn:ngsi-ld:ParkingSpot:leon:q1"
    answer = await spots.get(url, params={"options": "concise"})
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"id": "", "type": ""} == {
        "id": "", "type": "", "status": "occupied", "occupancy": 1,
        "category": {"value": ["onStreet"]},
        "refParkingSite": {"object": "urn:ngsi-ld:ParkingSite:centro"},
    }  # fmt: skip


async def test_attrs_selects_the_entities_having_one_of_them(spots: httpx.AsyncClient) -> None:
    """NGSI-LD 5.7.2: an entity with none of the attributes named is no result, on any
    page and in the count."""
    other = {"id": "urn:ngsi-ld:Building:a0", "type": "Building",
             "name": {"type": "Property", "value": "first by id"}}  # fmt: skip
    assert (await spots.post("/ngsi-ld/v1/entities", json=other)).status_code == 201
    params = {"attrs": "status", "limit": "1", "count": "true"}
    first = await spots.get("/ngsi-ld/v1/entities", params=params)
    assert first.headers["NGSILD-Results-Count"] == "3"
    assert [e["id"] for e in first.json()] == ["urn:ngsi-ld:ParkingSpot:leon:q1"]
    body = {"type": "Query", "attrs": ["status", "occupancy"]}
    posted = await spots.post("/ngsi-ld/v1/entityOperations/query", json=body)
    assert len(posted.json()) == 3
