"""LoRaWAN devices through their network server (ChirpStack v4, The Things Stack v3).

``events`` reads the network servers' MQTT JSON, ``codecs`` decodes payloads the
server left undecoded (Cayenne LPP, declarative byte layouts), ``frames`` keeps
duplicates and replays out, ``pipeline`` turns events into readings like any
device message, and ``downlink`` encodes commands as the server's downlinks.
"""

from acquisition.lorawan import chirpstack, things_stack

# What a gateway subscribes to on a network server's broker (both servers' event topics).
LORAWAN_FILTERS = (*chirpstack.FILTERS, *things_stack.FILTERS)
