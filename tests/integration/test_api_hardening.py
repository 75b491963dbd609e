"""The security review's attacks on the API (issue 16), each against a real `ciudad api`.

One API process with keys on; it may contact 127.0.0.1 only (CIUDAD_OUTBOUND_ALLOW), so
127.0.0.2, also loopback, stands for every internal address nobody allowed.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.net import free_port
from tests.helpers.api_process import ApiProcess, running_api
from tests.helpers.databases import fresh_database
from tests.helpers.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
INTERNAL = "127.0.0.2"  # loopback, but not allowed for this API


@pytest.fixture(scope="module")
def api(postgres_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    with (
        fresh_database(postgres_uri) as database_url,
        running_api(
            database_url,
            tmp_path_factory.mktemp("api"),
            outbound_allow="127.0.0.1/32",
            api_max_body_bytes=str(1 << 20),
            notification_max_backoff_s="1",
        ) as process,
    ):
        yield process


@pytest.fixture(scope="module")
def keys(api: ApiProcess) -> dict[str, str]:
    return {scope: api.key("leon", scope) for scope in ("read", "write")}


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


class Site:
    """An HTTP server on a loopback address that counts the requests it gets."""

    def __init__(self, host: str, answer: tuple[int, dict[str, str], bytes]) -> None:
        self.host, self.port, self.answer, self.requests = host, free_port(host), answer, 0

    def url(self, path: str = "/context.jsonld") -> str:
        return f"http://{self.host}:{self.port}{path}"


@contextmanager
def site(host: str, status: int = 200, headers: Any = None, body: bytes = b"") -> Iterator[Site]:
    served = Site(host, (status, headers or {}, body))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests += 1
            status, headers, body = served.answer
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, served.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def link(url: str) -> dict[str, str]:
    return {"Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"'}


def noise(entity_id: str, **attrs: Any) -> dict[str, Any]:
    return {"id": entity_id, "type": "NoiseLevelObserved", **attrs}


CONTEXT = json.dumps({"@context": {"noise": "https://example.org/noise"}}).encode()


# 1. Server-side requests -------------------------------------------------------------


def test_no_context_is_fetched_for_a_request_without_a_key(api: ApiProcess) -> None:
    with site("127.0.0.1", body=CONTEXT) as ctx:
        answer = httpx.post(f"{api.url}/ngsi-ld/v1/entities", json=noise("urn:a:1"),
                            headers=link(ctx.url()))  # fmt: skip
    assert answer.status_code == 401
    assert ctx.requests == 0


def test_contexts_come_only_from_allowed_hosts_without_redirects(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    url = f"{api.url}/ngsi-ld/v1/entities"
    with (
        site(INTERNAL, body=CONTEXT) as internal,
        site("127.0.0.1", 302, {"Location": internal.url()}) as redirecting,
        site("127.0.0.1", body=CONTEXT) as allowed,
    ):
        refused = httpx.post(url, json=noise("urn:a:2"),
                             headers=auth(keys["write"], **link(internal.url())))  # fmt: skip
        redirected = httpx.post(url, json=noise("urn:a:3"),
                                headers=auth(keys["write"], **link(redirecting.url())))  # fmt: skip
        fine = httpx.post(url, json=noise("urn:a:4"),
                          headers=auth(keys["write"], **link(allowed.url())))  # fmt: skip
    assert (refused.status_code, redirected.status_code, fine.status_code) == (503, 503, 201)
    assert internal.requests == 0, "the redirect was followed to a host nobody allowed"
    assert (redirecting.requests, allowed.requests) == (1, 1)


def test_a_failed_context_fetch_says_nothing_about_what_listens_there(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/x"
    with site("127.0.0.1", body=b"<html>metrics</html>") as html, site("127.0.0.1", 404) as missing:
        details = {
            name: httpx.post(f"{api.url}/ngsi-ld/v1/entities", json=noise(f"urn:a:{name}"),
                             headers=auth(keys["write"], **link(target))).json()["detail"]
            for name, target in (("closed", closed), ("html", html.url()),
                                 ("missing", missing.url()), ("internal", f"http://{INTERNAL}/"))
        }  # fmt: skip
    shapes = {name: detail.split(" at ")[0] + detail.split(" could")[-1]
              for name, detail in details.items()}  # fmt: skip
    assert len(set(shapes.values())) == 1, details


# 2. Memory -------------------------------------------------------------------------


def raw_request(api: ApiProcess, head: str, body_part: bytes) -> bytes:
    """Sends a request's head and only part of its body; returns what the API answers."""
    with socket.create_connection(("127.0.0.1", api.port), timeout=60) as sock:
        sock.sendall(head.encode() + b"\r\n" + body_part)
        return sock.recv(65536)


def test_a_huge_body_without_a_key_is_refused_before_it_is_read(api: ApiProcess) -> None:
    head = ("POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 104857600\r\n")  # fmt: skip
    # 100 MB announced, 1 KB sent: an API that read the body first would wait for the rest.
    assert raw_request(api, head, b"[" * 1024).startswith(b"HTTP/1.1 401")


def test_bodies_over_the_limit_are_refused_while_streaming(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    head = (
        "POST /ngsi-ld/v1/entities HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {keys['write']}\r\nContent-Type: application/json\r\n"
    )
    announced = raw_request(api, head + "Content-Length: 5000000\r\n", b"{")
    assert announced.startswith(b"HTTP/1.1 413")
    chunk = b"%x\r\n%s\r\n" % (1 << 16, b" " * (1 << 16))
    chunked = raw_request(api, head + "Transfer-Encoding: chunked\r\n", chunk * 20)
    assert chunked.startswith(b"HTTP/1.1 413")
    assert httpx.get(f"{api.url}/health/live").status_code == 200


def test_deeply_nested_json_is_a_400_with_or_without_a_key(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    url = f"{api.url}/ngsi-ld/v1/entities"
    plain = {"Content-Type": "application/json"}
    assert httpx.post(url, content=deep, headers=plain).status_code == 401
    answer = httpx.post(url, content=deep, headers=auth(keys["write"], **plain))
    assert answer.status_code == 400
    assert "nested deeper" in answer.json()["detail"]


# 3. Regular expressions --------------------------------------------------------------


def test_a_catastrophic_pattern_does_not_freeze_the_api(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    write, read = auth(keys["write"]), auth(keys["read"])
    with site("127.0.0.1") as endpoint:
        subscription = {
            "type": "Subscription",
            "entities": [{"type": "NoiseLevelObserved", "idPattern": "^urn:x:(a+)+$"}],
            "notification": {"endpoint": {"uri": endpoint.url("/notify")}},
        }
        made = httpx.post(f"{api.url}/ngsi-ld/v1/subscriptions", json=subscription, headers=write)
        assert made.status_code == 201, made.text
        # With a backtracking engine each of these takes 2^40 steps on the event loop.
        evil = "urn:x:" + "a" * 40 + "!"
        level = {"type": "Property", "value": 50.0}
        created = httpx.post(f"{api.url}/ngsi-ld/v1/entities", headers=write, timeout=60,
                             json=noise(evil, LAeq=level))  # fmt: skip
        assert created.status_code == 201
        listed = httpx.get(f"{api.url}/ngsi-ld/v1/entities", headers=read, timeout=60,
                           params={"idPattern": "^urn:x:(a+)+$", "q": 'id~="(a+)+$"'})  # fmt: skip
        assert listed.status_code == 200
        assert httpx.get(f"{api.url}/health/live", timeout=60).status_code == 200
    refused = httpx.get(f"{api.url}/ngsi-ld/v1/entities", headers=read,
                        params={"type": "NoiseLevelObserved", "idPattern": r"(a)\1"})  # fmt: skip
    assert refused.status_code == 400
    assert "unsupported regular expression" in refused.json()["detail"]


# 6. Crafted input ------------------------------------------------------------------------


def test_a_nul_character_is_a_400_not_a_server_error(api: ApiProcess, keys: dict[str, str]) -> None:
    """The store's text cannot hold U+0000: in a parameter or a JSON body it is refused."""
    write, read = auth(keys["write"]), auth(keys["read"])
    for path in ("/ngsi-ld/v1/entities", "/ngsi-ld/v1/temporal/entities"):
        for params in ({"idPattern": "a\x00b"}, {"type": "T", "q": 'name=="a\x00"'}):
            nul = httpx.get(f"{api.url}{path}", headers=read, params=params)
            assert nul.status_code == 400, "a NUL the store cannot hold: refused, not a 500"
    body = noise("urn:ngsi-ld:NoiseLevelObserved:nul", LAeq=50.0) | {
        "name": {"type": "Property", "value": "a\x00b"}
    }
    nul_body = httpx.post(f"{api.url}/ngsi-ld/v1/entities", headers=write, json=body)
    assert nul_body.status_code == 400


def test_percent_s_in_values_is_data_not_a_placeholder(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    write, read = auth(keys["write"]), auth(keys["read"])
    entity = noise("urn:pct:%s", name={"type": "Property", "value": "100%s"})
    assert httpx.post(f"{api.url}/ngsi-ld/v1/entities", json=entity, headers=write).is_success
    for params in ({"q": 'name=="100%s"'}, {"type": "NoiseLevelObserved", "id": "urn:pct:%s"},
                   {"type": "NoiseLevelObserved", "idPattern": "^urn:pct:%s$"},
                   {"type": "%s"}):  # fmt: skip
        answer = httpx.get(f"{api.url}/ngsi-ld/v1/entities", params=params, headers=read)
        assert answer.status_code == 200, (params, answer.text)
        expected = [] if params.get("type") == "%s" else ["urn:pct:%s"]
        assert [e["id"] for e in answer.json()] == expected, params


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/ngsi-ld/v1/entities", {"q": "(" * 600 + "a" + ")" * 600}),
        ("/ciudad/v1/services/noise/days", {"day": "9999-12-31"}),
        ("/ngsi-ld/v1/temporal/entities/urn:agg:1", {
            "options": "aggregatedValues", "aggrMethods": "avg",
            "aggrPeriodDuration": "P99999999999D"}),
    ],
)  # fmt: skip
def test_crafted_queries_are_400_problems(
    api: ApiProcess, keys: dict[str, str], path: str, params: dict[str, str]
) -> None:
    level = {"type": "Property", "value": 50.0, "observedAt": datetime.now(UTC).isoformat()}
    # The entity exists, so a request that got past its checks would be computed.
    httpx.post(f"{api.url}/ngsi-ld/v1/entities", json=noise("urn:agg:1", LAeq=level),
               headers=auth(keys["write"]))  # fmt: skip
    window = {"timerel": "between", "timeAt": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
              "endTimeAt": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}  # fmt: skip
    if "/temporal/" in path:  # the other operations take no time window (400 InvalidRequest)
        params = params | window
    answer = httpx.get(f"{api.url}{path}", params=params, headers=auth(keys["read"]))
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"].endswith("BadRequestData")


def test_an_observed_at_beyond_the_calendar_is_a_400(api: ApiProcess, keys: dict[str, str]) -> None:
    entity = noise("urn:late:1", LAeq={"type": "Property", "value": 1.0,
                                       "observedAt": "9999-12-31T23:59:59-14:00"})  # fmt: skip
    answer = httpx.post(f"{api.url}/ngsi-ld/v1/entities", json=entity, headers=auth(keys["write"]))
    assert answer.status_code == 400, answer.text


# 7. Subscriptions aimed at internal services -----------------------------------------------


def subscription_to(uri: str, **endpoint: Any) -> dict[str, Any]:
    return {"type": "Subscription", "entities": [{"type": "NoiseLevelObserved"}],
            "notification": {"endpoint": {"uri": uri, **endpoint}}}  # fmt: skip


def test_notification_endpoints_obey_the_allow_list_and_keep_platform_headers(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    url, write = f"{api.url}/ngsi-ld/v1/subscriptions", auth(keys["write"])
    internal = httpx.post(url, json=subscription_to(f"http://{INTERNAL}:9/x"), headers=write)
    assert internal.status_code == 400
    assert "CIUDAD_OUTBOUND_ALLOW" in internal.json()["detail"]
    for header in ("Host", "NGSILD-Tenant"):
        info = [{"key": header, "value": "other"}]
        spoofing = subscription_to("http://127.0.0.1:9/x", receiverInfo=info)
        assert httpx.post(url, json=spoofing, headers=write).status_code == 400, header


def test_a_failing_endpoint_gets_a_short_reason_and_read_keys_see_no_secrets(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    url, write, read = (
        f"{api.url}/ngsi-ld/v1/subscriptions",
        auth(keys["write"]),
        auth(keys["read"]),
    )
    closed = f"http://127.0.0.1:{free_port()}/notify"
    info = [{"key": "Authorization", "value": "Bearer endpoint-secret"}]
    made = httpx.post(url, json=subscription_to(closed, receiverInfo=info), headers=write)
    assert made.status_code == 201, made.text
    location = f"{api.url}{made.headers['Location']}"
    entity = noise("urn:fail:1", LAeq={"type": "Property", "value": 60.0})
    assert httpx.post(f"{api.url}/ngsi-ld/v1/entities", json=entity, headers=write).is_success

    def failure() -> str | None:
        reason: str | None = (
            httpx.get(location, headers=write).json()["notification"].get("lastFailureReason")
        )
        return reason

    assert eventually(failure, what="a failed delivery") == "connection failed"
    seen_by_reader = httpx.get(location, headers=read).json()["notification"]["endpoint"]
    assert seen_by_reader["receiverInfo"] == [{"key": "Authorization", "value": "********"}]
    listed = httpx.get(url, headers=read).json()
    assert "endpoint-secret" not in json.dumps(listed)
    seen_by_writer = httpx.get(location, headers=write).json()["notification"]["endpoint"]
    assert seen_by_writer["receiverInfo"] == info


# 8. Writes bounded in time ----------------------------------------------------------------


def test_api_writes_follow_the_time_policy_and_touch_few_days(
    api: ApiProcess, keys: dict[str, str]
) -> None:
    url, write = f"{api.url}/ngsi-ld/v1/temporal/entities", auth(keys["write"])
    now = datetime.now(UTC)
    days = [
        {"type": "Property", "value": 1.0, "observedAt": (now - timedelta(days=d)).isoformat()}
        for d in range(500)
    ]
    many = httpx.post(url, json=noise("urn:days:1", LAeq=days), headers=write)
    assert many.status_code == 400, many.text
    for year in ("1000", "3000"):
        old = [{"type": "Property", "value": 1.0, "observedAt": f"{year}-01-01T00:00:00Z"}]
        answer = httpx.post(url, json=noise(f"urn:year:{year}", LAeq=old), headers=write)
        assert answer.status_code == 400, (year, answer.text)
    recent = httpx.post(url, json=noise("urn:days:2", LAeq=days[:3]), headers=write)
    assert recent.status_code == 201, recent.text


# 10. Low ------------------------------------------------------------------------------------


def test_a_text_plain_body_is_not_taken_for_json(api: ApiProcess, keys: dict[str, str]) -> None:
    answer = httpx.post(f"{api.url}/ngsi-ld/v1/entities", content=json.dumps(noise("urn:t:1")),
                        headers=auth(keys["write"], **{"Content-Type": "text/plain"}))  # fmt: skip
    assert answer.status_code == 415


def test_the_open_api_answers_only_to_its_own_names(postgres_uri: str, tmp_path: Path) -> None:
    with (
        fresh_database(postgres_uri) as database_url,
        running_api(database_url, tmp_path, api_auth="off") as open_api,
    ):
        rebound = httpx.get(f"{open_api.url}/ngsi-ld/v1/entities",
                            headers={"Host": "attacker.example:1026"})  # fmt: skip
        assert rebound.status_code == 400
        assert httpx.get(f"{open_api.url}/ngsi-ld/v1/entities").status_code == 200
        form = httpx.post(f"{open_api.url}/ngsi-ld/v1/entities", content=b'{"id":"urn:f:1"}',
                          headers={"Content-Type": "text/plain"})  # fmt: skip
        assert form.status_code == 415


def test_the_dashboard_cannot_be_framed_and_runs_only_its_own_scripts(api: ApiProcess) -> None:
    page = httpx.get(f"{api.url}/dashboard")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
