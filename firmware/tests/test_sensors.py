# Drivers and node logic against the simulated chips of hal.SimHal.
import os

import hal
from app_light import (
    FAULT_CURRENT_WHEN_OFF,
    FAULT_NO_CURRENT,
    FAULT_OK,
    LightApp,
    fault_of,
    scheduled_level,
)
from app_parking import ParkingDetector
from config import DEFAULTS, Config
from gas import concentration_ugm3
from ina219 import INA219
from pms5003 import PMS5003, build_frame, parse_frame
from qmc5883l import QMC5883L
from sht31 import SHT31, crc8

SCENARIO = "/tmp/fw-sensor-scenario-%d.json" % id(DEFAULTS)


def _board(values):
    import json

    with open(SCENARIO, "w") as f:
        json.dump(values, f)
    cfg = dict(DEFAULTS)
    cfg["scenario_file"] = SCENARIO
    cfg["interval_s"] = 0
    return hal.SimHal(Config(cfg)), Config(cfg)


def test_pms5003_frames_parse_and_corrupt_ones_are_rejected_and_counted():
    frame = build_frame(4, 12, 21)
    assert parse_frame(frame) == (4, 12, 21)
    bad = bytearray(frame)
    bad[10] ^= 0x01
    pms = PMS5003(None)
    # garbage, a corrupt frame, then a good one split across two reads
    assert pms.feed(b"\x00\x42\x13" + bytes(bad) + frame[:7]) == []
    assert pms.feed(frame[7:]) == [(4, 12, 21)]
    assert (pms.frames_ok, pms.frames_bad) == (1, 1)


def test_sht31_crc_matches_the_datasheet_and_conversion_round_trips():
    assert crc8(b"\xbe\xef") == 0x92  # Sensirion datasheet example
    board, _ = _board({"temperature": 21.5, "humidity": 48.0})
    t, rh = SHT31(board.i2c()).read()
    assert abs(t - 21.5) < 0.01 and abs(rh - 48.0) < 0.01


def test_magnetometer_and_power_monitor_read_their_registers():
    board, _ = _board({"field": [120, -340, 560]})
    assert QMC5883L(board.i2c()).read() == (120, -340, 560)
    board.lamp.duty = 65535
    volts, amps, watts = INA219(board.i2c()).read()
    assert abs(volts - 24.0) < 0.01 and abs(watts - 70.0) < 0.5, (volts, watts)


def test_electrochemical_cells_convert_to_ugm3():
    # 10 mV net signal at 0.31 mV/ppb is 32.3 ppb NO2 = 61.6 ug/m3
    assert abs(concentration_ugm3("no2", 305.0, 282.0, 295.0, 282.0, 0.31) - 61.6) < 0.1
    assert concentration_ugm3("o3", 380.0, 390.0, 392.0, 390.0, 0.29) == 0.0  # clamped


def test_parking_detector_needs_calibration_hysteresis_and_debounce():
    detector = ParkingDetector(
        on_threshold=100, off_threshold=50, debounce=3, calibration_samples=4
    )
    for _ in range(4):
        assert not detector.feed(0, 0, 0)
    assert detector.baseline == (0.0, 0.0, 0.0)
    assert not detector.feed(200, 0, 0) and not detector.feed(200, 0, 0)
    assert detector.feed(200, 0, 0) and detector.occupied  # third in a row
    for _ in range(5):
        assert not detector.feed(70, 0, 0)  # between thresholds: stays occupied
    assert not detector.feed(10, 0, 0) and not detector.feed(10, 0, 0)
    assert detector.feed(10, 0, 0) and not detector.occupied


def test_lamp_faults():
    assert fault_of(100, 69.0, 70.0) == FAULT_OK
    assert fault_of(50, 0.5, 70.0) == FAULT_NO_CURRENT
    assert fault_of(0, 20.0, 70.0) == FAULT_CURRENT_WHEN_OFF
    assert fault_of(0, 0.0, 70.0) == FAULT_OK


def test_schedule_steps_wrap_at_midnight():
    steps = [(420, 0), (1080, 100), (1380, 50)]
    assert scheduled_level(steps, 0) == 50  # after midnight: yesterday's last step
    assert scheduled_level(steps, 600) == 0
    assert scheduled_level(steps, 1100) == 100
    assert scheduled_level([], 10) is None


def test_dim_command_lowers_the_measured_power():
    board, cfg = _board({})
    app = LightApp(board, cfg)
    assert app.command("on", None) == "OK 100"
    full = app.report()
    assert app.command("dim", 40) == "OK 40"
    dimmed = app.report()
    assert dict((k, v) for k, v, _ in dimmed)["w"] < dict((k, v) for k, v, _ in full)["w"]
    assert dict((k, v) for k, v, _ in dimmed)["dim"] == 40
    for bad in (("dim", 140), ("dim", "x"), ("schedule", [[1500, 10]]), ("explode", 1)):
        try:
            app.command(*bad)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % (bad,))
    os.remove(SCENARIO)


def test_parking_baseline_survives_deep_sleep():
    from app_parking import restore_state, save_state

    path = SCENARIO + ".state"
    detector = ParkingDetector(100, 50, 1, 1)
    detector.feed(10, 20, 30)
    detector.feed(400, 20, 30)
    assert detector.occupied
    save_state(path, detector)
    woken = ParkingDetector(100, 50, 1, 1)
    assert restore_state(path, woken)
    assert woken.baseline == (10.0, 20.0, 30.0) and woken.occupied
    os.remove(path)
    assert not restore_state(path, ParkingDetector(100, 50, 1, 1))
