"""`ciudad bench`: every benchmark of bench/ in one run, one JSON report and one summary.

Each section is one script of the checkout's bench/ directory, run as its own
process (so one section's memory and threads do not skew the next); their
progress lines are shown as they come, prefixed with the section and the
time spent so far. Every section measures its own baseline in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from support import ConfigurationError


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    script: str
    what: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


SECTIONS = (
    Section(
        "ingest",
        "gateway_throughput.py",
        "end to end: mosquitto -> gateway -> PostgreSQL (QoS 1) vs a bare subscriber",
        ("--messages", "20000", "--batched-messages", "2000"),
        ("--messages", "2000", "--batched-messages", "40"),
    ),
    Section(
        "knowledge",
        "knowledge_bench.py",
        "aggregation core vs naive Python and polars; COPY vs executemany; roll-up queries",
        (),
        (
            "--sensors",
            "200",
            "--naive-readings",
            "100000",
            "--ingest-rows",
            "50000",
            "--fleet",
            "50",
            "--runs",
            "10",
        ),
    ),
    Section(
        "api",
        "api_bench.py",
        "HTTP API latency under concurrent clients vs in-process store reads",
        (),
        ("--fleet", "20", "--requests", "10", "--clients", "4"),
    ),
    Section(
        "fleet",
        "gateway_fleet.py",
        "sustained rate: 1,000 devices at a fixed rate through `ciudad gateway` workers",
        ("--rates", "2500,5000,10000", "--workers", "1,2", "--seconds", "15"),
        ("--rates", "1000", "--workers", "1", "--seconds", "3"),
    ),
    Section(
        "nats-fleet",
        "nats_fleet.py",
        "broker tier: a backlog drained from a 3-node NATS JetStream cluster by 1-3 workers",
        ("--workers", "1,2,3", "--backlog", "60000"),
        ("--workers", "1", "--backlog", "2000"),
    ),
    Section(
        "db-failover",
        "db_failover.py",
        "database tier: the Patroni primary killed under load; failover time, spool peak",
        ("--runs", "3"),
        ("--runs", "1", "--seconds", "12", "--kill-after", "3"),
    ),
)


def bench_dir() -> Path:
    directory = Path(__file__).resolve().parents[1] / "bench"
    if not directory.is_dir():
        raise ConfigurationError("ciudad bench runs from a source checkout (bench/ not found)")
    return directory


def _run_section(section: Section, quick: bool, index: int, total: int) -> tuple[Any, str]:
    """(the section's JSON report, its markdown table), streaming its progress."""
    argv = [sys.executable, str(bench_dir() / section.script), "--markdown"]
    argv += section.quick if quick else section.full
    started = time.monotonic()
    print(f"[{index}/{total} {section.name}] {section.what}", file=sys.stderr, flush=True)
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    assert process.stdout is not None
    for line in process.stderr:
        elapsed = time.monotonic() - started
        print(
            f"[{index}/{total} {section.name} {elapsed:5.0f} s] {line.rstrip()}",
            file=sys.stderr,
            flush=True,
        )
    output = process.stdout.read()
    if process.wait() != 0:
        raise ConfigurationError(f"benchmark {section.name} failed (exit {process.returncode})")
    report, end = json.JSONDecoder().raw_decode(output)
    return report, output[end:].strip()


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def run_bench(only: list[str] | None, quick: bool, output: Path) -> Path:
    """Runs the chosen sections; writes report.json and report.md under ``output``."""
    chosen = [s for s in SECTIONS if only is None or s.name in only]
    unknown = set(only or ()) - {s.name for s in SECTIONS}
    if unknown:
        raise ConfigurationError(
            f"unknown section(s) {', '.join(sorted(unknown))}: "
            f"choose from {', '.join(s.name for s in SECTIONS)}"
        )
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
        "sections": {},
    }
    summary = [
        f"# ciudad bench, {report['started']}",
        "",
        f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
        f"Python {report['machine']['python']}." + (" Quick sizes." if quick else ""),
    ]
    for index, section in enumerate(chosen, 1):
        section_report, table = _run_section(section, quick, index, len(chosen))
        report["sections"][section.name] = section_report
        summary += [
            "",
            f"## {section.name}: {section.what}",
            "",
            f"`.venv/bin/python bench/{section.script} --markdown "
            f"{' '.join(section.quick if quick else section.full)}`".replace(" `", "`"),
            "",
            table,
        ]
    output.mkdir(parents=True, exist_ok=True)
    (output / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (output / "report.md").write_text("\n".join(summary) + "\n")
    return output
