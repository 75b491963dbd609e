"""The gateway's MQTT link over TLS (CIUDAD_MQTT_TLS, CIUDAD_LORAWAN_MQTT_TLS) against a
real mosquitto with a TLS listener: the broker's certificate is checked against the CA
given, and one that does not chain to it is refused with the reason."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from acquisition import InboundMessage, MqttOptions, MqttSource
from ciudad.runners import lorawan_options, mqtt_options
from support import CiudadError, ConfigurationError, Settings
from support.mosquitto import MosquittoBroker
from support.net import free_port
from support.tls import TlsFiles, make_dev_ca
from tests.helpers.gateway import publish

pytestmark = pytest.mark.integration
TOPIC = "/json/tls-key/dev-1/attrs"


@dataclass(frozen=True)
class TlsBroker:
    broker: MosquittoBroker  # its port is the plain listener, for the publisher
    tls_port: int
    files: TlsFiles


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[TlsBroker]:
    files = make_dev_ca(tmp_path / "tls")
    plain, secure = free_port(), free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        "\n".join([
            *(["user root"] if os.geteuid() == 0 else []),
            "per_listener_settings false",
            "allow_anonymous true",
            f"listener {plain} 127.0.0.1",
            f"listener {secure} 127.0.0.1",
            f"cafile {files.ca_cert}",
            f"certfile {files.server_cert}",
            f"keyfile {files.server_key}",
            "tls_version tlsv1.2",
            f"log_dest file {tmp_path}/mosquitto.log",
            "",
        ])
    )  # fmt: skip
    broker = MosquittoBroker(plain, tmp_path / "broker", config_file=config)
    broker.start()
    yield TlsBroker(broker, secure, files)
    broker.stop()


def _options(tls_port: int, ca_file: Path | None) -> MqttOptions:
    return MqttOptions(
        "127.0.0.1",
        tls_port,
        f"gw-{uuid.uuid4().hex[:6]}",
        filters=(TOPIC,),
        tls=True,
        ca_file=ca_file,
    )


async def _first_batch(source: MqttSource) -> list[InboundMessage]:
    while not (batch := await source.next_batch(1, 0.05)):
        pass
    return batch


async def test_the_link_reads_over_tls_from_a_broker_its_ca_vouches_for(
    tls_broker: TlsBroker,
) -> None:
    source = MqttSource(_options(tls_broker.tls_port, tls_broker.files.ca_cert))
    await source.start()
    try:
        await asyncio.to_thread(publish, tls_broker.broker, [(TOPIC, b'{"LAeq": 61}')])
        batch = await asyncio.wait_for(_first_batch(source), 20)
        assert [m.payload for m in batch] == [b'{"LAeq": 61}']
        source.ack(batch)
    finally:
        source.stop()


async def test_a_broker_certificate_from_another_ca_is_refused_with_the_reason(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    stranger = await asyncio.to_thread(make_dev_ca, tmp_path / "other-ca")
    source = MqttSource(_options(tls_broker.tls_port, stranger.ca_cert))
    with pytest.raises(CiudadError, match=r"(?i)certificate verify failed"):
        await source.start()


def test_an_unreadable_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the MQTT CA file"):
        MqttSource(_options(8883, tmp_path / "missing.crt"))


def test_the_settings_turn_tls_on_for_each_link(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    settings = Settings(
        mqtt_tls=True,
        mqtt_ca_file=ca,
        lorawan_mqtt_host="eu1.cloud.thethings.network",
        lorawan_mqtt_port=8883,
        lorawan_mqtt_tls=True,
    )
    assert (mqtt_options(settings).tls, mqtt_options(settings).ca_file) == (True, ca)
    lorawan = lorawan_options(settings)
    assert lorawan is not None
    assert (lorawan.tls, lorawan.ca_file, lorawan.port) == (True, None, 8883)
    assert not mqtt_options(Settings()).tls, "plain MQTT by default (loopback broker)"
