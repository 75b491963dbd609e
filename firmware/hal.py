# Hardware abstraction: the only module that imports machine/network. create() returns the
# ESP32 implementation on a board and the simulated one on the unix port, where sensor
# inputs come from a scenario (a JSON file, or stimulus lines on a serial channel).
import math
import struct
import sys
import time

ON_BOARD = sys.platform == "esp32"
_EPOCH_OFFSET_S = 946684800 if time.gmtime(0)[0] == 2000 else 0


def epoch_ms():
    """Milliseconds since 1970 UTC, whatever epoch the port uses."""
    return time.time_ns() // 1000000 + _EPOCH_OFFSET_S * 1000


class Esp32Hal:
    """The real board: buses and peripherals built from the site's pin map."""

    def __init__(self, cfg):
        import machine
        import network

        self._machine = machine
        self._network = network
        self._cfg = cfg
        self._pins = cfg.pins
        self._wlan = None
        self._console = None
        self.clock_offset_ms = 0

    def i2c(self):
        m = self._machine
        return m.I2C(
            0, scl=m.Pin(self._pins["i2c_scl"]), sda=m.Pin(self._pins["i2c_sda"]), freq=400000
        )

    def uart(self):
        return self._machine.UART(
            1, baudrate=9600, tx=self._pins["uart_tx"], rx=self._pins["uart_rx"]
        )

    def i2s(self, rate):
        m = self._machine
        return m.I2S(
            0,
            sck=m.Pin(self._pins["i2s_sck"]),
            ws=m.Pin(self._pins["i2s_ws"]),
            sd=m.Pin(self._pins["i2s_sd"]),
            mode=m.I2S.RX,
            bits=32,
            format=m.I2S.MONO,
            rate=rate,
            ibuf=rate // 2,
        )

    def adc(self, name):
        m = self._machine
        adc = m.ADC(m.Pin(self._pins[name]))
        adc.atten(m.ADC.ATTN_11DB)
        return adc

    def pwm(self, freq):
        m = self._machine
        return m.PWM(m.Pin(self._pins["pwm"]), freq=freq, duty_u16=0)

    def watchdog(self, timeout_ms):
        return self._machine.WDT(timeout=timeout_ms)

    def wifi_connect(self, ssid, password, timeout_ms=15000):
        wlan = self._network.WLAN(self._network.STA_IF)
        wlan.active(True)
        if not wlan.isconnected():
            wlan.connect(ssid, password)
            start = time.ticks_ms()
            while not wlan.isconnected():
                if time.ticks_diff(time.ticks_ms(), start) > timeout_ms:
                    return False
                time.sleep_ms(100)
        self._wlan = wlan
        return True

    def sync_time(self):
        import ntptime

        try:
            ntptime.settime()
            return True
        except OSError:
            return False

    def rssi(self):
        return self._wlan.status("rssi") if self._wlan is not None else -127

    def battery_pct(self):
        # 1:2 divider on a Li-ion cell: 3.3 V empty .. 4.2 V full.
        volts = self.adc("battery").read_uv() * 2 / 1e6
        return max(0.0, min(100.0, (volts - 3.3) / 0.9 * 100))

    def reset_cause(self):
        causes = {self._machine.WDT_RESET: "watchdog", self._machine.DEEPSLEEP_RESET: "deepsleep"}
        return causes.get(self._machine.reset_cause(), "power-on")

    def deepsleep(self, ms):
        self._machine.deepsleep(ms)

    def epoch_ms(self):
        return epoch_ms()

    def hang(self, ms):
        time.sleep_ms(ms)  # a test build's way to let the real watchdog fire

    def service(self, node):
        """A test build (site.json "stimulus": true) takes rig commands on the USB console."""
        if not getattr(self._cfg, "stimulus", False):
            return
        if self._console is None:
            from stimulus import Channel

            self._console = Channel(sys.stdin.buffer)
        from stimulus import handle

        for line in self._console.lines():
            self._console.reply(handle(line, node, self))


# ---- simulated hardware for the unix port ---------------------------------------------


class Scenario:
    """Values the simulated sensors report: read from a JSON file at start, then changed
    at run time by a HIL rig's stimulus (``set``)."""

    def __init__(self, path):
        import json

        self.values = {}
        try:
            with open(path) as f:
                self.values = json.load(f)
        except OSError:
            pass  # no scenario file: every sensor reports its default

    def get(self, key, default):
        return self.values.get(key, default)


class SimI2C:
    """An I2C bus with simulated chips answering at their addresses."""

    def __init__(self, scenario, lamp):
        self._scenario = scenario
        self._lamp = lamp
        self._regs = {0x0D: bytearray(16), 0x40: bytearray(8)}

    def writeto(self, addr, data):
        if addr != 0x44:
            raise OSError(19)  # ENODEV: nothing answers there

    def writeto_mem(self, addr, reg, data):
        if addr not in self._regs:
            raise OSError(19)

    def readfrom(self, addr, n):
        if addr != 0x44:
            raise OSError(19)
        from sht31 import crc8

        t = self._scenario.get("temperature", 15.0)
        rh = self._scenario.get("humidity", 60.0)
        raw_t = int((t + 45) * 65535 / 175)
        raw_rh = int(rh * 65535 / 100)
        out = bytearray()
        for raw in (raw_t, raw_rh):
            word = bytes([raw >> 8, raw & 0xFF])
            out += word + bytes([crc8(word)])
        return bytes(out[:n])

    def readfrom_mem(self, addr, reg, n):
        if addr == 0x0D:
            return self._magnetometer(reg, n)
        if addr == 0x40:
            return self._power_monitor(reg)
        raise OSError(19)

    def _magnetometer(self, reg, n):
        if reg == 0x06:
            return b"\x01"
        x, y, z = self._scenario.get("field", [300, -200, 400])
        return struct.pack("<3h", int(x), int(y), int(z))[reg : reg + n]

    def _power_monitor(self, reg):
        volts, watts = self._lamp.electrical(self._scenario)
        if reg == 0x02:
            return struct.pack(">H", int(volts / 0.004) << 3)
        amps = watts / volts if volts else 0.0
        return struct.pack(">h", int(amps * 0.05 / 10e-6))  # 50 mOhm shunt


class SimLamp:
    """The lamp behind the PWM output: draws power in proportion to its duty cycle."""

    def __init__(self, rating_w):
        self.duty = 0
        self._rating_w = rating_w

    def electrical(self, scenario):
        fault = scenario.get("lamp_fault", "")
        level = self.duty / 65535
        if fault == "open_circuit":
            level = 0.0
        elif fault == "stuck_on":
            level = 1.0
        return 24.0, self._rating_w * level  # DC side of the LED driver


class SimPWM:
    def __init__(self, lamp):
        self._lamp = lamp

    def duty_u16(self, value=None):
        if value is None:
            return self._lamp.duty
        self._lamp.duty = value
        return None


class SimUART:
    """A PMS5003 sending one frame a second; ``pms_corrupt`` frames get a bad checksum."""

    def __init__(self, scenario):
        self._scenario = scenario
        self._next = time.ticks_ms()
        self.sent = 0

    def any(self):
        return 32 if time.ticks_diff(time.ticks_ms(), self._next) >= 0 else 0

    def read(self, n):
        from pms5003 import build_frame

        if not self.any():
            return b""
        self._next = time.ticks_add(self._next, 1000)
        s = self._scenario
        frame = bytearray(
            build_frame(int(s.get("pm1", 5)), int(s.get("pm25", 10)), int(s.get("pm10", 18)))
        )
        self.sent += 1
        corrupt = int(s.get("pms_corrupt_every", 0))
        pending = int(s.get("pms_corrupt_next", 0))
        if pending:
            s.values["pms_corrupt_next"] = pending - 1
        if pending or (corrupt and self.sent % corrupt == 0):
            frame[31] ^= 0xFF
        return bytes(frame)


class SimADC:
    """An electrode voltage consistent with the scenario's gas concentration."""

    def __init__(self, scenario, gas, electrode, cal):
        self._scenario = scenario
        self._gas = gas
        self._electrode = electrode
        self._cal = cal

    def read_uv(self):
        from gas import UG_PER_PPB

        we_zero, ae_zero, sensitivity = self._cal
        if self._electrode == "ae":
            return int(ae_zero * 1000)
        ppb = self._scenario.get(self._gas, 30.0) / UG_PER_PPB[self._gas]
        return int((we_zero + ppb * sensitivity) * 1000)


class SimI2S:
    """INMP441-like 32-bit samples of a tone at the scenario's SPL, paced in real time."""

    def __init__(self, scenario, rate, offset_db):
        self._scenario = scenario
        self._rate = rate
        self._offset_db = offset_db
        self._last = time.ticks_ms()
        self._phase = 0
        self._key = None
        self._period = []

    def _samples_for(self, level_db, tone_hz):
        key = (level_db, tone_hz)
        if key != self._key:
            amplitude = math.sqrt(2) * 10 ** ((level_db - self._offset_db) / 20)
            n = self._rate // _gcd(self._rate, int(tone_hz)) if tone_hz else 1
            self._period = [
                int(amplitude * math.sin(2 * math.pi * tone_hz * k / self._rate) * 2147483647)
                for k in range(n)
            ]
            self._key = key
            self._phase = 0
        return self._period

    def readinto(self, buf):
        now = time.ticks_ms()
        due = time.ticks_diff(now, self._last) * self._rate // 1000
        count = min(len(buf) // 4, due)
        if count <= 0:
            return 0
        self._last = time.ticks_add(self._last, count * 1000 // self._rate)
        period = self._samples_for(
            self._scenario.get("noise_db", 60.0), self._scenario.get("tone_hz", 1000)
        )
        n = len(period)
        phase = self._phase
        for k in range(count):
            struct.pack_into("<i", buf, 4 * k, period[phase])
            phase = phase + 1 if phase + 1 < n else 0
        self._phase = phase
        return count * 4


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


class SimWatchdog:
    """Like the ESP32's: fed too late, it resets the node (here: WatchdogReset)."""

    def __init__(self, timeout_ms):
        self.timeout_ms = timeout_ms
        self.feeds = 0
        self._last = time.ticks_ms()

    def feed(self):
        from stimulus import WatchdogReset

        now = time.ticks_ms()
        if time.ticks_diff(now, self._last) > self.timeout_ms:
            raise WatchdogReset()
        self._last = now
        self.feeds += 1


class SimHal:
    """The unix-port board: same interface, simulated peripherals, real network stack."""

    def __init__(self, cfg):
        self._cfg = cfg
        self.scenario = Scenario(cfg.scenario_file)
        self.lamp = SimLamp(cfg.lamp_rating_w)
        self.clock_offset_ms = 0
        self.last_reset = "power-on"
        self._stimulus = None
        port = getattr(cfg, "stimulus_port", None)
        if port:
            from stimulus import open_pty

            self._stimulus = open_pty(port)
        elif ON_BOARD and getattr(cfg, "stimulus", False):
            from stimulus import Channel  # a board's test build: the rig is on the USB console

            self._stimulus = Channel(sys.stdin.buffer)

    def epoch_ms(self):
        return epoch_ms() + self.clock_offset_ms

    def hang(self, ms):
        time.sleep_ms(ms)  # stops the main loop, so the watchdog goes unfed

    def service(self, node):
        """Answers stimulus lines from the rig, if one is attached."""
        if self._stimulus is None:
            return
        from stimulus import handle

        for line in self._stimulus.lines():
            self._stimulus.reply(handle(line, node, self))

    def i2c(self):
        return SimI2C(self.scenario, self.lamp)

    def uart(self):
        return SimUART(self.scenario)

    def i2s(self, rate):
        return SimI2S(self.scenario, rate, self._cfg.mic_offset_db)

    def adc(self, name):
        gas, electrode = name.split("_")
        return SimADC(self.scenario, gas, electrode, getattr(self._cfg, gas + "_cal"))

    def pwm(self, freq):
        return SimPWM(self.lamp)

    def watchdog(self, timeout_ms):
        return SimWatchdog(timeout_ms)

    def wifi_connect(self, ssid, password, timeout_ms=15000):
        return True  # the host's network is already up

    def sync_time(self):
        return True  # the host's clock is already right

    def rssi(self):
        return int(self.scenario.get("rssi", -60))

    def battery_pct(self):
        return float(self.scenario.get("battery_pct", 100.0))

    def reset_cause(self):
        return self.last_reset

    def deepsleep(self, ms):
        print("deepsleep", ms)
        sys.exit(0)


def create(cfg):
    """The real board, or simulated sensors: always on the unix port, and on a board
    when its site.json says "hal": "sim" (a HIL test build)."""
    if ON_BOARD and getattr(cfg, "hal", "auto") != "sim":
        return Esp32Hal(cfg)
    return SimHal(cfg)
