# Pure wire codec of the nodes: exactly the gateway's format (FIWARE IoT Agent JSON).
# No sockets, clocks or globals: callers pass the time in. Shared golden vectors:
# firmware/golden_vectors.json (checked here on MicroPython and in the gateway's tests).
from micropython import const

_EPOCH_2000 = const(946684800)  # seconds from 1970 to 2000: ports with a 2000 epoch add it


def measure_topic(apikey, device_id):
    return "/json/" + apikey + "/" + device_id + "/attrs"


def command_topic(apikey, device_id):
    return "/" + apikey + "/" + device_id + "/cmd"


def result_topic(apikey, device_id):
    return "/json/" + apikey + "/" + device_id + "/cmdexe"


def status_topic(apikey, device_id):
    return "/json/" + apikey + "/" + device_id + "/status"


def ota_topic(apikey, device_id):
    """Firmware update requests and progress (docs/firmware.md, "OTA on the node")."""
    return "/json/" + apikey + "/" + device_id + "/ota"


def _days_to_civil(days):
    # Howard Hinnant's algorithm: days since 1970-01-01 -> (year, month, day), integers only.
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def format_time(epoch_ms):
    """RFC 3339 UTC with milliseconds, from integer milliseconds since 1970."""
    seconds = epoch_ms // 1000
    days = seconds // 86400
    rest = seconds - days * 86400
    year, month, day = _days_to_civil(days)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        year,
        month,
        day,
        rest // 3600,
        (rest // 60) % 60,
        rest % 60,
        epoch_ms % 1000,
    )


def _value(value, decimals):
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if decimals == 0:
        return str(int(round(value)))
    return ("%." + str(decimals) + "f") % value


def encode_measure(epoch_ms, fields):
    """One measure as JSON bytes. ``fields``: sequence of (key, value, decimals).

    Keys keep their order and numbers a fixed number of decimals, so the bytes
    are the same on every port (ESP32 floats are single precision).
    """
    parts = ['{"t":"', format_time(epoch_ms), '"']
    for key, value, decimals in fields:
        parts.append(',"' + key + '":' + _value(value, decimals))
    parts.append("}")
    return "".join(parts).encode()


def encode_backlog(measures):
    """Several encoded measures as one JSON array (the buffered-backlog form)."""
    return b"[" + b",".join(measures) + b"]"


def decode_command(payload):
    """``{"dim": 40}`` -> ("dim", 40). Raises ValueError for anything else."""
    import json

    try:
        body = json.loads(payload)
    except ValueError:
        raise ValueError("command is not JSON")
    if not isinstance(body, dict) or len(body) != 1:
        raise ValueError("command must be one JSON object with one key")
    for name in body:
        return name, body[name]
    raise ValueError("empty command")


def encode_command_result(name, result):
    return ('{"' + name + '":"' + result.replace('"', "'") + '"}').encode()
