"""The layers as separate processes, started with the commands of deploy/'s unit files and
the settings of deploy/ciudad.env.example; data pushed through; metrics and health watched."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from support.mosquitto import MosquittoBroker
from support.net import free_port, wait_for_port
from tests.helpers.waiting import CEILING_S, eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
INSTALLED_BIN = "/opt/ciudad/.venv/bin/"


def unit_command(unit: str) -> list[str]:
    """ExecStart of a unit file, with the install prefix pointing at this checkout's venv."""
    text = (DEPLOY / "systemd" / unit).read_text()
    match = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE)
    assert match, f"{unit} has no ExecStart"
    argv = shlex.split(match.group(1))
    assert argv[0].startswith(INSTALLED_BIN), argv
    return [str(Path(sys.executable).parent / argv[0][len(INSTALLED_BIN) :]), *argv[1:]]


def example_environment() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / "ciudad.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def fetch(url: str, key: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def deployment_env(database_url: str, mosquitto: MosquittoBroker, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(example_environment())
    env.update(  # what differs between this test machine and a city's server
        CIUDAD_DATABASE_URL=database_url,
        CIUDAD_MQTT_PORT=str(mosquitto.port),
        CIUDAD_MQTT_USERNAME="",
        CIUDAD_MQTT_PASSWORD="",
        CIUDAD_GATEWAY_OPS_PORT=str(free_port()),
        CIUDAD_API_PORT=str(free_port()),
        CIUDAD_SPOOL_DIR=str(tmp_path / "spool"),
        CIUDAD_DATA_DIR=str(tmp_path / "data"),
        CIUDAD_PROVISIONING_FILE=str(tmp_path / "provisioning.json"),
        CIUDAD_SIM_INTERVAL_S="1",
    )
    for key in ("CIUDAD_MQTT_USERNAME", "CIUDAD_MQTT_PASSWORD"):
        env.pop(key)  # the test broker takes anonymous clients
    return env


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_gateway_and_api_run_as_their_units_say_and_report_metrics_and_health(
    deployment_env: dict[str, str], mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    env = deployment_env
    ciudad = unit_command("ciudad-api.service")[0]
    subprocess.run(
        [ciudad, "provisioning", "--output", env["CIUDAD_PROVISIONING_FILE"]],
        env=env,
        check=True,
        capture_output=True,
    )
    processes = [
        _start(unit_command("ciudad-gateway.service"), env, tmp_path / "gateway.log"),
        _start(unit_command("ciudad-api.service"), env, tmp_path / "api.log"),
    ]
    ops = f"http://127.0.0.1:{env['CIUDAD_GATEWAY_OPS_PORT']}"
    api = f"http://127.0.0.1:{env['CIUDAD_API_PORT']}"
    try:
        assert wait_for_port(int(env["CIUDAD_API_PORT"]), timeout_s=CEILING_S)

        def gateway_ready() -> bool:
            try:
                return fetch(f"{ops}/health/ready")[0] == 200
            except OSError:  # the gateway may open its port after the API does
                return False

        eventually(gateway_ready, 60)
        ready = json.loads(fetch(f"{ops}/health/ready")[1])
        assert {name for name, check in ready["checks"].items() if check["ok"]} == {
            "broker",
            "store",
            "spool",
        }
        assert fetch(f"{api}/health/ready")[0] == 200
        made = subprocess.run(
            [
                ciudad,
                "apikey",
                "create",
                "--tenant",
                "leon",
                "--scope",
                "read",
                "--name",
                "deploy-test",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = json.loads(made.stdout)["key"]
        before = fetch(f"{ops}/metrics")[1]
        subprocess.run(
            [ciudad, "simulate", "--duration", "3"],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )

        def noise_entities() -> list[Any]:
            status, body = fetch(f"{api}/ngsi-ld/v1/entities?type=NoiseLevelObserved", key)
            return json.loads(body) if status == 200 else []

        assert eventually(noise_entities)
        after = fetch(f"{ops}/metrics")[1]
        assert metric(after, "ciudad_gateway_messages_total") > metric(
            before, "ciudad_gateway_messages_total"
        )
        assert metric(after, "ciudad_gateway_readings_accepted_total", tenant="leon") > 0
        assert metric(after, "ciudad_store_write_seconds_count") > 0
        assert metric(after, "ciudad_ingest_lag_seconds_count") > 0
        assert metric(after, "ciudad_mqtt_connected") == 1
        _publish_garbage(mosquitto.port)

        def dead_lettered() -> bool:
            text = fetch(f"{ops}/metrics")[1]
            return metric(text, "ciudad_gateway_dead_letters_total", reason="bad_json") >= 1

        eventually(dead_lettered)
        api_metrics = fetch(f"{api}/metrics")[1]
        assert (
            metric(
                api_metrics,
                "ciudad_api_requests_total",
                route="/ngsi-ld/v1/entities",
                status="200",
                tenant="leon",
            )
            >= 1
        )
        assert (
            metric(api_metrics, "ciudad_api_request_seconds_count", route="/ngsi-ld/v1/entities")
            >= 1
        )
    finally:
        for process in processes:
            process.terminate()
        codes = [process.wait(timeout=30) for process in processes]
    # uvicorn re-raises the SIGTERM it handled; systemd counts that as a clean stop too.
    assert codes[0] == 0, (tmp_path / "gateway.log").read_text()[-2000:]
    assert codes[1] in (0, -signal.SIGTERM), (tmp_path / "api.log").read_text()[-2000:]


def _publish_garbage(port: int) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="garbage")
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish("/json/leon-sensors/noise-001/attrs", b"{not json", qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()
