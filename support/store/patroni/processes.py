"""Processes the clusters own: started detached, found again by pid, always stopped.

A trial cluster outlives the command that started it (``python -m support.store.patroni
start``), so a process is known by its pid and its command name, not only by a Popen.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# PostgreSQL refuses to run as root: as root, Patroni (and its postgres) run as this user.
POSTGRES_USER = "postgres"


@dataclass(frozen=True, slots=True)
class RunAs:
    """Who a child runs as: the caller, or ``postgres`` when the caller is root."""

    uid: int | None
    gid: int | None

    @classmethod
    def for_postgres(cls) -> RunAs:
        if os.geteuid() != 0:
            return cls(None, None)
        entry = pwd.getpwnam(POSTGRES_USER)
        return cls(entry.pw_uid, entry.pw_gid)

    def own(self, *paths: Path) -> None:
        """Hands ``paths`` to the user the child runs as (nothing to do unless root)."""
        if self.uid is None or self.gid is None:
            return
        for path in paths:
            os.chown(path, self.uid, self.gid)


class Processes:
    """The processes one cluster started: detached (a trial cluster outlives its command),
    reaped when they are our children (a zombie would look alive to ``kill(pid, 0)``)."""

    def __init__(self) -> None:
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(self, argv: list[str], log_path: Path, run_as: RunAs, env: dict[str, str]) -> int:
        """Starts ``argv`` in a session of its own, output to ``log_path``; its pid."""
        with log_path.open("ab") as log_file:
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                user=run_as.uid,
                group=run_as.gid,
                extra_groups=[] if run_as.gid is not None else None,
            )
        self._children[child.pid] = child
        return child.pid

    def is_running(self, pid: int, name: str) -> bool:
        """Whether ``pid`` is a live process whose command line mentions ``name`` (a pid
        reused by something else is not ours)."""
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z" and name.encode() in cmdline

    def wait_gone(self, pid: int, name: str, timeout_s: float) -> bool:
        """True once ``pid`` has exited (and was reaped, when it is our child)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.is_running(pid, name):
                child = self._children.pop(pid, None)
                if child is not None:
                    child.wait()
                return True
            time.sleep(0.05)
        return False

    def stop(self, pid: int, name: str, timeout_s: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; returns once the process is gone."""
        if self.is_running(pid, name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if self.wait_gone(pid, name, timeout_s):
                return
            kill(pid)
        self.wait_gone(pid, name, 5.0)


def children_of(pid: int) -> list[int]:
    """The direct children of ``pid`` (a postmaster's backends and workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def kill(pid: int) -> None:
    """SIGKILL, if it still exists."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
