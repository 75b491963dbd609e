"""`ciudad bench` as a user runs it: every section, a JSON report and a markdown summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_quick_bench_writes_both_reports_with_baselines(tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "ciudad", "bench", "--quick", "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[1/6 ingest]" in done.stderr
    assert "[4/6 fleet" in done.stderr
    assert "[5/6 nats-fleet" in done.stderr
    assert "[6/6 db-failover" in done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["machine"]["cores"] >= 1
    sections = report["sections"]
    assert sections["ingest"]["raw_subscriber_messages_per_s"] > 0  # the baseline
    assert sections["ingest"]["gateway_single_vs_raw"] > 0
    assert sections["ingest"]["gateway_batched_vs_copy"] > 0  # against bare binary COPY
    fleet = sections["fleet"]["runs"][0]
    assert fleet["sent"] == 3000
    assert fleet["stored_vs_sent"] == 1.0  # nothing lost, nothing twice
    assert fleet["processes"]["gateway-0"]["max_rss_mb"] > 0
    nats = sections["nats-fleet"]["runs"][0]
    assert nats["stored_vs_published"] == 1.0  # through the cluster: nothing lost or twice
    assert nats["stored_per_s"] > 0
    failover = sections["db-failover"]
    assert failover["stored_vs_published"] == [1.0]  # nothing lost through the failover
    assert failover["doubles"] == [0]
    assert failover["failover_s_max"] > 0
    assert all("core_vs_naive" in r for r in sections["knowledge"]["aggregation"])
    assert sections["api"]["store_in_process"]["single GET"]["p95_ms"] > 0
    summary = (out / "report.md").read_text()
    for heading in ("## ingest", "## knowledge", "## api", "## fleet", "| raw paho subscriber"):
        assert heading in summary


def test_an_unknown_section_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ciudad", "bench", "--only", "warp"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "unknown section(s) warp: choose from ingest, knowledge, api, fleet" in done.stderr
