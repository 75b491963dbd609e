"""A private PostgreSQL server a test may stop and start."""

from __future__ import annotations

from pathlib import Path

from knowledge import start_embedded_postgres


class PrivatePostgres:
    """A PostgreSQL of one test's own, which the test may stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.uri = start_embedded_postgres(directory)
        self._socket_dir = self.uri.split("host=")[1].split("&")[0]

    def _pg_ctl(self, *args: str) -> None:
        import os

        from pgserver._commands import (  # type: ignore[attr-defined]  # pgserver's own wrapper
            pg_ctl,
        )

        user = "pgserver" if os.geteuid() == 0 else None
        pg_ctl(list(args), pgdata=self.directory, user=user, timeout=30)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self._pg_ctl(
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self._socket_dir}",
            "-l",
            str(self.directory / "log"),
            "start",
        )
