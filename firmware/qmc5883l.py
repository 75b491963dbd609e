# QST QMC5883L 3-axis magnetometer over I2C (continuous mode), raw signed counts.
import struct

from micropython import const

ADDRESS = const(0x0D)
_REG_DATA = const(0x00)
_REG_STATUS = const(0x06)
_REG_CONTROL1 = const(0x09)
_REG_SET_RESET = const(0x0B)
_CONTINUOUS_200HZ_8G_OSR512 = const(0x1D)


class QMC5883L:
    def __init__(self, i2c, address=ADDRESS):
        self._i2c = i2c
        self._address = address
        i2c.writeto_mem(address, _REG_SET_RESET, b"\x01")
        i2c.writeto_mem(address, _REG_CONTROL1, bytes([_CONTINUOUS_200HZ_8G_OSR512]))

    def ready(self):
        return bool(self._i2c.readfrom_mem(self._address, _REG_STATUS, 1)[0] & 0x01)

    def read(self):
        """(x, y, z) raw counts (little-endian signed 16-bit registers)."""
        return struct.unpack("<3h", self._i2c.readfrom_mem(self._address, _REG_DATA, 6))
