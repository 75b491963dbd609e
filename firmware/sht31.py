# Sensirion SHT31 temperature/humidity over I2C (single shot, high repeatability, CRC-8).
import time

from micropython import const

ADDRESS = const(0x44)
_MEASURE = b"\x24\x00"


def crc8(data):
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


class SHT31:
    def __init__(self, i2c, address=ADDRESS):
        self._i2c = i2c
        self._address = address
        self.crc_errors = 0

    def read(self):
        """(temperature degC, relative humidity %), or None when a CRC check fails."""
        self._i2c.writeto(self._address, _MEASURE)
        time.sleep_ms(16)
        data = self._i2c.readfrom(self._address, 6)
        if crc8(data[0:2]) != data[2] or crc8(data[3:5]) != data[5]:
            self.crc_errors += 1
            return None
        raw_t = (data[0] << 8) | data[1]
        raw_rh = (data[3] << 8) | data[4]
        return -45 + 175 * raw_t / 65535, 100 * raw_rh / 65535
