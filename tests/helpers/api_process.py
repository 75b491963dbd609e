"""`ciudad api` as a real process on a free loopback port, with API keys made by its CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from support.net import free_port
from tests.helpers.waiting import eventually


@dataclass(frozen=True)
class ApiProcess:
    url: str
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def key(self, tenant: str, scope: str) -> str:
        made = subprocess.run(
            [sys.executable, "-m", "ciudad", "apikey", "create", "--tenant", tenant,
             "--scope", scope, "--name", f"test-{scope}"],
            env=self.env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        key: str = json.loads(made.stdout)["key"]
        return key

    def alive(self) -> bool:
        return self.process.poll() is None


@contextmanager
def running_api(database_url: str, directory: Path, **settings: str) -> Iterator[ApiProcess]:
    """`python -m ciudad api` with ``settings`` (CIUDAD_ names without the prefix)."""
    port = free_port()
    env = dict(
        os.environ,
        CIUDAD_DATABASE_URL=database_url,
        CIUDAD_DATA_DIR=str(directory),
        CIUDAD_API_PORT=str(port),
        **{f"CIUDAD_{k.upper()}": v for k, v in settings.items()},
    )
    log = directory / f"api-{port}.log"
    directory.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ciudad", "api"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    api = ApiProcess(f"http://127.0.0.1:{port}", port, env, process, log)

    def ready() -> bool:
        assert api.alive(), log.read_text()
        try:
            return httpx.get(f"{api.url}/health/ready", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        eventually(ready, what=f"the API's /health/ready on port {port}")
        yield api
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:  # a frozen API (what a regression would cause)
            process.kill()
            process.wait()
