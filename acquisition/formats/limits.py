"""Size limits every payload format enforces before decoding."""

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_MEASURES_PER_MESSAGE = 10_000
