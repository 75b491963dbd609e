"""Capture layer (captación): device-facing sources and the device wire protocol."""

from capture.fleet import DEFAULT_COUNTS, DeviceSpec, NodeKind, build_fleet, offset_point
from capture.protocol import (
    MEASURE_TOPIC_FILTERS,
    TIME_KEY,
    command_topic,
    encode_measures,
    format_time,
    measure_topic,
    ultralight_topic,
)
from capture.readings import ReadingGenerator, activity
from capture.samples import (
    SAMPLE_DIR,
    SampleObservation,
    aarhus_observations,
    read_aarhus_parking,
    read_beijing_air,
    read_madrid_noise,
    read_madrid_stations,
    read_valencia_noise,
)
from capture.serial_bridge import BadLineError, SerialBridge, parse_line
from capture.simulator import SimulationPlan, Simulator, connect_publisher, drain_and_close

__all__ = [
    "DEFAULT_COUNTS",
    "MEASURE_TOPIC_FILTERS",
    "SAMPLE_DIR",
    "TIME_KEY",
    "BadLineError",
    "DeviceSpec",
    "NodeKind",
    "ReadingGenerator",
    "SampleObservation",
    "SerialBridge",
    "SimulationPlan",
    "Simulator",
    "aarhus_observations",
    "activity",
    "build_fleet",
    "command_topic",
    "connect_publisher",
    "drain_and_close",
    "encode_measures",
    "format_time",
    "measure_topic",
    "offset_point",
    "parse_line",
    "read_aarhus_parking",
    "read_beijing_air",
    "read_madrid_noise",
    "read_madrid_stations",
    "read_valencia_noise",
    "ultralight_topic",
]
