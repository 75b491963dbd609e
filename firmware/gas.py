# Electrochemical NO2/O3 cells (Alphasense-type) read as working/auxiliary electrode voltages
# on two ADC pins. Concentration from the difference, per the cell's calibration sheet.

# ug/m3 per ppb at 20 degC, 1013 hPa (EU reporting conditions).
UG_PER_PPB = {"no2": 1.91, "o3": 2.00}


def concentration_ugm3(gas, we_mv, ae_mv, we_zero_mv, ae_zero_mv, sensitivity_mv_per_ppb):
    """Net working-electrode signal -> ug/m3; negative noise around zero is clamped to 0."""
    ppb = ((we_mv - we_zero_mv) - (ae_mv - ae_zero_mv)) / sensitivity_mv_per_ppb
    return max(0.0, ppb * UG_PER_PPB[gas])


class GasCell:
    def __init__(self, gas, we_adc, ae_adc, calibration):
        self.gas = gas
        self._we = we_adc
        self._ae = ae_adc
        self._cal = calibration  # (we_zero_mv, ae_zero_mv, sensitivity_mv_per_ppb)

    def read(self):
        we_mv = self._we.read_uv() / 1000
        ae_mv = self._ae.read_uv() / 1000
        return concentration_ugm3(self.gas, we_mv, ae_mv, *self._cal)
