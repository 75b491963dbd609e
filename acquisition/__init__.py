"""Acquisition layer (adquisición): the gateway from device messages to NGSI-LD readings."""

from acquisition.commands.dispatch import CommandDispatcher
from acquisition.entities import ENTITY_TYPES, AttributeSpec, EntityType
from acquisition.formats import DECODERS, decode_json_measures, decode_ultralight
from acquisition.gateway.loop import Backoff, Gateway, GatewayStats, assemble_batch
from acquisition.gateway.rate_limit import RATE_LIMITED, DeviceRateLimiter
from acquisition.gateway.sink import BatchSink, BatchWriter, UnstagedSink
from acquisition.gateway.spool import Spool, SpoolFullError, batch_from_json, batch_to_json
from acquisition.inputs.mqtt import InboundMessage, MqttOptions, MqttSource, subscription_filters
from acquisition.inputs.nats import NatsOptions, NatsSource
from acquisition.lorawan import LORAWAN_FILTERS
from acquisition.lorawan.codecs import CodecError, decode_cayenne, decode_layout, encode_layout
from acquisition.lorawan.frames import FrameTracker
from acquisition.lorawan.pipeline import LorawanPipeline
from acquisition.lorawan.profile import DownlinkLayout, LayoutField, LorawanEntry
from acquisition.normalise.decoding import parse_measure_topic, parse_observation_time
from acquisition.normalise.pipeline import MeasurePipeline, MessageOutcome, TimePolicy
from acquisition.normalise.validation import EntityValidator, flatten_normalized
from acquisition.ota.bundle import (
    MAX_BUNDLE_FILE_BYTES,
    NODE_KINDS,
    Bundle,
    BundleError,
    decode_bundle,
    encode_bundle,
    public_key,
    sign_bundle,
)
from acquisition.ota.protocol import OTA_FILTERS, DeviceState
from acquisition.ota.rollouts import RolloutTarget, start_rollout
from acquisition.ota.service import OtaOptions, OtaService
from acquisition.provisioning.broker_layout import (
    ACL,
    CONFIG,
    DEVICE_PASSWORDS,
    GATEWAY_PASSWORDS,
    BrokerLayout,
    mosquitto_conf,
)
from acquisition.provisioning.credentials import (
    acl_file,
    generate_password,
    mosquitto_password_hash,
    password_file,
)
from acquisition.provisioning.csv_files import devices_to_csv, parse_devices_csv
from acquisition.provisioning.model import (
    Device,
    DeviceEntry,
    Provisioning,
    ProvisioningFile,
    ServiceGroupEntry,
    parse_provisioning,
    provisioning_document,
    read_provisioning_document,
)
from acquisition.provisioning.registry_sync import follow_registry, reload_provisioning
from acquisition.records import Batch, DeadLetter, EntityRecord, Reading, ValueType
from acquisition.store import MIGRATIONS
from acquisition.store.commands import Command, CommandQueue, CommandResult, CommandStatus
from acquisition.store.listen import on_notify
from acquisition.store.ota import (
    ROLLOUT_ACTIONS,
    BundleInfo,
    OtaStore,
    Rollout,
    RolloutState,
    TargetStatus,
)
from acquisition.store.registry import (
    CHANNEL,
    Credential,
    DeviceRecord,
    DeviceRegistry,
    broker_username,
)

__all__ = [
    "ACL",
    "CHANNEL",
    "CONFIG",
    "DECODERS",
    "DEVICE_PASSWORDS",
    "ENTITY_TYPES",
    "GATEWAY_PASSWORDS",
    "LORAWAN_FILTERS",
    "MAX_BUNDLE_FILE_BYTES",
    "MIGRATIONS",
    "NODE_KINDS",
    "OTA_FILTERS",
    "RATE_LIMITED",
    "ROLLOUT_ACTIONS",
    "AttributeSpec",
    "Backoff",
    "Batch",
    "BatchSink",
    "BatchWriter",
    "BrokerLayout",
    "Bundle",
    "BundleError",
    "BundleInfo",
    "CodecError",
    "Command",
    "CommandDispatcher",
    "CommandQueue",
    "CommandResult",
    "CommandStatus",
    "Credential",
    "DeadLetter",
    "Device",
    "DeviceEntry",
    "DeviceRateLimiter",
    "DeviceRecord",
    "DeviceRegistry",
    "DeviceState",
    "DownlinkLayout",
    "EntityRecord",
    "EntityType",
    "EntityValidator",
    "FrameTracker",
    "Gateway",
    "GatewayStats",
    "InboundMessage",
    "LayoutField",
    "LorawanEntry",
    "LorawanPipeline",
    "MeasurePipeline",
    "MessageOutcome",
    "MqttOptions",
    "MqttSource",
    "NatsOptions",
    "NatsSource",
    "OtaOptions",
    "OtaService",
    "OtaStore",
    "Provisioning",
    "ProvisioningFile",
    "Reading",
    "Rollout",
    "RolloutState",
    "RolloutTarget",
    "ServiceGroupEntry",
    "Spool",
    "SpoolFullError",
    "TargetStatus",
    "TimePolicy",
    "UnstagedSink",
    "ValueType",
    "acl_file",
    "assemble_batch",
    "batch_from_json",
    "batch_to_json",
    "broker_username",
    "decode_bundle",
    "decode_cayenne",
    "decode_json_measures",
    "decode_layout",
    "decode_ultralight",
    "devices_to_csv",
    "encode_bundle",
    "encode_layout",
    "flatten_normalized",
    "follow_registry",
    "generate_password",
    "mosquitto_conf",
    "mosquitto_password_hash",
    "on_notify",
    "parse_devices_csv",
    "parse_measure_topic",
    "parse_observation_time",
    "parse_provisioning",
    "password_file",
    "provisioning_document",
    "public_key",
    "read_provisioning_document",
    "reload_provisioning",
    "sign_bundle",
    "start_rollout",
    "subscription_filters",
]
