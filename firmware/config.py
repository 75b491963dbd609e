# Committed defaults of a node. A site overrides any of them in site.json (same keys);
# secrets (Wi-Fi and MQTT passwords) live in node_secrets.py, which is never committed.
import json

FIRMWARE_VERSION = "0.1.0"

DEFAULTS = {
    "kind": "noise",  # noise | air | parking | streetlight
    "device_id": "noise-001",
    "apikey": "leon-sensors",
    "broker_host": "192.168.1.10",
    "broker_port": 1883,
    "keepalive_s": 30,
    "interval_s": 60,  # reporting interval (parking: heartbeat)
    "device_info_s": 600,  # firmware version, battery, RSSI
    "buffer_capacity": 500,  # readings kept while offline (drop-oldest beyond)
    "buffer_file": "buffer.dat",  # flash copy of the buffer across deep sleep / resets
    "state_file": "node_state.json",  # app state kept across deep sleep (parking baseline)
    "backlog_chunk": 50,  # readings per array message when draining a backlog
    "watchdog_ms": 30000,
    "deep_sleep_s": 0,  # >0: battery node, sleeps between reports
    "loop_ms": 50,
    # Noise node
    "sample_rate": 48000,
    "mic_offset_db": 120.0,  # INMP441: -26 dBFS at 94 dB SPL -> 0 dBFS = 120 dB SPL
    "calibration_db": 0.0,  # per-unit correction from a field calibrator
    # Air node
    "warmup_s": 30,
    "no2_cal": [295.0, 282.0, 0.31],  # WE zero mV, AE zero mV, sensitivity mV/ppb
    "o3_cal": [392.0, 390.0, 0.29],
    # Parking node
    "park_on_threshold": 120,  # field deviation (counts) that means a car is over the node
    "park_off_threshold": 60,  # ...and below which the spot is free again (hysteresis)
    "park_debounce": 3,  # consecutive samples needed to change state
    "park_calibration_samples": 20,
    # Lighting node
    "lamp_rating_w": 70.0,
    "pwm_freq": 1000,
    # Pins (ESP32 DevKitC wiring of docs/firmware.md)
    "pins": {
        "i2c_scl": 22,
        "i2c_sda": 21,
        "i2s_sck": 14,
        "i2s_ws": 15,
        "i2s_sd": 32,
        "uart_tx": 17,
        "uart_rx": 16,
        "no2_we": 34,
        "no2_ae": 35,
        "o3_we": 36,
        "o3_ae": 39,
        "pwm": 25,
        "battery": 33,
    },
    # Updates over the air (docs/firmware.md, "OTA on the node"). Without ota_pubkey (64 hex
    # characters, from `ciudad firmware pubkey`) the node accepts no update. main.py reads
    # ota_dir, ota_max_boots and ota_confirm_s from site.json itself, before this module.
    "ota_pubkey": "",
    "ota_dir": "ota",  # app folders and boot state (on the unix port: under the working dir)
    "ota_retry_s": 10,  # ask for a chunk again when none came in this time
    "ota_max_boots": 3,  # boots a new version has to connect and publish, or it is rolled back
    "ota_confirm_s": 300,  # ...and at most this long in each of those boots
    # Simulated HAL (always on the unix port; on a board with "hal": "sim", a HIL test build).
    "hal": "auto",
    "scenario_file": "scenario.json",
    # HIL stimulus channel (docs/hil.md): a pty path on the unix port, or the USB console of a
    # board when "stimulus" is true. Off in production.
    "stimulus_port": "",
    "stimulus": False,
}


class Config:
    def __init__(self, values):
        self._values = values

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name)


def load(path="site.json"):
    values = dict(DEFAULTS)
    try:
        with open(path) as f:
            values.update(json.load(f))
    except OSError:
        pass  # no site file: defaults only
    try:
        import node_secrets as secrets  # optional, never committed

        for key in ("wifi_ssid", "wifi_password", "mqtt_user", "mqtt_password"):
            if hasattr(secrets, key):
                values[key] = getattr(secrets, key)
    except ImportError:
        pass
    return Config(values)
