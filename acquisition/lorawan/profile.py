"""A LoRaWAN device's registry entry: its devEUI, how its payload is decoded, its downlinks.

Kept in the device registry beside the attribute mapping (``lorawan`` in a
device entry, docs/lorawan.md); validated once, when provisioning is loaded.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FieldType = Literal["u8", "i8", "u16", "i16", "u24", "i24", "u32", "i32"]
Codec = Literal["network", "cayenne", "layout"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayoutField(_Strict):
    """One integer field of a byte layout: ``value = raw * scale`` (or ``values[raw]``)."""

    name: str = Field(min_length=1)
    offset: int = Field(ge=0, le=241)  # 242 bytes: the largest LoRaWAN application payload
    type: FieldType = "u8"
    endian: Literal["big", "little"] = "big"
    scale: float = 1.0
    values: list[str] = Field(default_factory=list)  # an enumeration: raw 0 -> values[0]...

    @property
    def size(self) -> int:
        return int(self.type[1:]) // 8

    @property
    def signed(self) -> bool:
        return self.type.startswith("i")


class DownlinkLayout(_Strict):
    """How one command travels down: its port and the fields its value fills."""

    f_port: int = Field(10, ge=1, le=223)
    fields: list[LayoutField] = Field(default_factory=list)


class LorawanEntry(_Strict):
    """``dev_eui`` identifies a ChirpStack device; ``ttn_device_id`` a The Things Stack one
    (its uplinks carry the devEUI too when the device has one)."""

    dev_eui: str = Field(pattern=r"^[0-9A-Fa-f]{16}$")
    network: Literal["chirpstack", "things_stack"] = "chirpstack"
    # ChirpStack's application id (UUID) or The Things Stack's "<app>@<tenant>": the
    # downlink topic needs it (uplinks name it too, but a command may come first).
    application: str | None = Field(None, pattern=r"^[A-Za-z0-9@_\-]+$")
    ttn_device_id: str | None = Field(None, pattern=r"^[a-z0-9](?:[-]?[a-z0-9]){2,}$")
    codec: Codec = "network"
    layout: list[LayoutField] = Field(default_factory=list)
    confirmed: bool = True
    commands: dict[str, DownlinkLayout] = Field(default_factory=dict)

    @field_validator("dev_eui")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()  # ChirpStack writes devEUIs in lower case

    @model_validator(mode="after")
    def _layout_when_needed(self) -> LorawanEntry:
        if self.codec == "layout" and not self.layout:
            raise ValueError("codec 'layout' needs a non-empty 'layout'")
        return self
