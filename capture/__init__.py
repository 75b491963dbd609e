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
from capture.serial_bridge import BadLineError, SerialBridge, parse_line
from capture.simulator import SimulationPlan, Simulator, connect_publisher, drain_and_close

__all__ = [
    "DEFAULT_COUNTS",
    "MEASURE_TOPIC_FILTERS",
    "TIME_KEY",
    "BadLineError",
    "DeviceSpec",
    "NodeKind",
    "ReadingGenerator",
    "SerialBridge",
    "SimulationPlan",
    "Simulator",
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
    "ultralight_topic",
]
