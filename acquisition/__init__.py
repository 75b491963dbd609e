"""Acquisition layer (adquisición): the gateway from device messages to NGSI-LD readings."""

from acquisition.decoding import parse_measure_topic, parse_observation_time
from acquisition.entities import ENTITY_TYPES, AttributeSpec, EntityType
from acquisition.formats import DECODERS, decode_json_measures, decode_ultralight
from acquisition.gateway import Backoff, BatchSink, Gateway, GatewayStats, assemble_batch
from acquisition.mqtt_source import InboundMessage, MqttOptions, MqttSource, subscription_filters
from acquisition.pipeline import MeasurePipeline, MessageOutcome, TimePolicy
from acquisition.provisioning import (
    Device,
    Provisioning,
    load_provisioning,
    parse_provisioning,
    provisioning_document,
)
from acquisition.records import Batch, DeadLetter, EntityRecord, Reading, ValueType
from acquisition.validation import EntityValidator, flatten_normalized

__all__ = [
    "DECODERS",
    "ENTITY_TYPES",
    "AttributeSpec",
    "Backoff",
    "Batch",
    "BatchSink",
    "DeadLetter",
    "Device",
    "EntityRecord",
    "EntityType",
    "EntityValidator",
    "Gateway",
    "GatewayStats",
    "InboundMessage",
    "MeasurePipeline",
    "MessageOutcome",
    "MqttOptions",
    "MqttSource",
    "Provisioning",
    "Reading",
    "TimePolicy",
    "ValueType",
    "assemble_batch",
    "decode_json_measures",
    "decode_ultralight",
    "flatten_normalized",
    "load_provisioning",
    "parse_measure_topic",
    "parse_observation_time",
    "parse_provisioning",
    "provisioning_document",
    "subscription_filters",
]
