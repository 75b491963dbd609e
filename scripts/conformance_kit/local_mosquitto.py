"""Starts and stops the conformance suite's MQTT broker as a local mosquitto (no docker).

    python3 local_mosquitto.py start CONF_NAME PORT
    python3 local_mosquitto.py stop

CONF_NAME is one of the suite's files in mosquitto/ (anonymous or with its password file);
the listener is moved to 127.0.0.1:PORT. ``start`` returns once the port accepts connections.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PID = HERE / "mosquitto.pid"


def stop() -> None:
    if not PID.exists():
        return
    pid = int(PID.read_text())
    PID.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def start(conf_name: str, port: int) -> None:
    stop()
    conf = (HERE / "mosquitto" / conf_name).read_text()
    conf = re.sub(r"(?m)^listener .*$", f"listener {port} 127.0.0.1", conf)
    passwords = HERE / "mosquitto" / "mosquitto_pwd"
    conf = re.sub(r"(?m)^password_file .*$", f"password_file {passwords}", conf)
    local = HERE / f"local-{conf_name}"
    local.write_text(conf + "\n")
    broker = subprocess.Popen(
        ["mosquitto", "-c", str(local)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    PID.write_text(str(broker.pid))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if broker.poll() is not None:
            sys.exit(f"mosquitto exited with {broker.returncode} (port {port} taken?)")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"mosquitto did not listen on 127.0.0.1:{port} within 10 s")


if __name__ == "__main__":
    if sys.argv[1] == "start":
        start(sys.argv[2], int(sys.argv[3]))
    else:
        stop()
