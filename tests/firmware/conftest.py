"""Helpers to run the firmware on the MicroPython unix port."""

from __future__ import annotations
