# TI INA219 current/power monitor over I2C: bus and shunt voltage registers (big-endian).
# It sits on the LED driver's DC side (<= 26 V); 50 mOhm shunt: up to 6.4 A at the 320 mV range.
import struct

from micropython import const

ADDRESS = const(0x40)
_REG_SHUNT = const(0x01)
_REG_BUS = const(0x02)


class INA219:
    def __init__(self, i2c, shunt_ohms=0.05, address=ADDRESS):
        self._i2c = i2c
        self._address = address
        self._shunt_ohms = shunt_ohms

    def read(self):
        """(bus volts, amps, watts)."""
        shunt = struct.unpack(">h", self._i2c.readfrom_mem(self._address, _REG_SHUNT, 2))[0]
        bus = struct.unpack(">H", self._i2c.readfrom_mem(self._address, _REG_BUS, 2))[0]
        volts = (bus >> 3) * 0.004  # 4 mV per bit, bits 15..3
        amps = shunt * 10e-6 / self._shunt_ohms  # 10 uV per bit
        return volts, amps, volts * amps
