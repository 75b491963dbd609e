"""Runs the ETSI NGSI-LD conformance suite against a platform started for it, and keeps
docs/conformance.md true.

    scripts/conformance.sh SUITE_DIR [SUBSET] [--write] [--check]

SUITE_DIR holds the suite's runner (``run.sh``) beside an unmodified copy of the suite. The API is
started on a free loopback port with a data directory of its own (embedded PostgreSQL),
open (the suite sends no key), allowed to reach the suite's local servers, accepting the
suite's fixed past dates. The suite runs from a working copy this script makes (see
``working_copy``) on free ports, so that runs do not collide. ``--write`` replaces this
subset's section of docs/conformance.md (figures per folder and every failure with its
reason, from scripts/conformance_reasons.py); ``--check`` fails when fewer tests pass than
that section records (a ratchet).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conformance_reasons import reason_for

REPO = Path(__file__).resolve().parents[1]
# The suite's notification tests wait for the broker within fixed times: runs of one
# commit differ by a few tests (docs/conformance.md), which --check tolerates.
SLACK = 3
DOC = REPO / "docs" / "conformance.md"
KIT = Path(__file__).resolve().parent / "conformance_kit"
# Robot's venv outlives the runs: run.sh makes it on first use.
VENV = REPO / ".ciudad" / "conformance" / "venv"
FORGE = "https://forge.etsi.org/rep/cim/ngsi-ld-test-suite/-/raw/develop/resources/jsonld-contexts"
# The suite's own context published a second time (same terms, core v1.8), named by the data
# of some tests; it is unreachable here like the forge, so it goes to the same local copy.
SECOND_COPY = (
    "https://easy-global-market.github.io/ngsild-api-data-models/ngsildTestSuite/"
    "ngsildTestSuiteV1.8-compound.jsonld"
)
# The suite expects pages of temporal instances smaller than its tests' data (020_13, 021_15);
# the cap is the server's choice (clause 6.3.10) and ciudad's default is far larger.
TEMPORAL_CAP = "10"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_platform(data_dir: Path, port: int, log: Path, demo: bool) -> subprocess.Popen[bytes]:
    """``ciudad demo`` (the whole platform on the embedded default: broker, gateway, API
    and simulated devices, whose API is open on loopback), or ``ciudad api`` alone."""
    env = os.environ | {
        "CIUDAD_DATA_DIR": str(data_dir),
        "CIUDAD_API_PORT": str(port),
        "CIUDAD_API_AUTH": "off",
        "CIUDAD_OUTBOUND_ALLOW": "127.0.0.0/8,::1,localhost",
        "CIUDAD_MAX_PAST_AGE_S": "3153600000",
        "CIUDAD_RETENTION_RAW_DAYS": "0",
        "CIUDAD_TEMPORAL_MAX_INSTANCES": TEMPORAL_CAP,
    }
    # the simulated devices' history is not what the suite looks at: a minute of it
    command = ["demo", "--backfill", "60"] if demo else ["api"]
    with log.open("wb") as out:
        api = subprocess.Popen(
            [str(REPO / ".venv/bin/ciudad"), *command], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if api.poll() is not None:
            sys.exit(f"conformance: the platform stopped at start; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2):
                return api
        except OSError:
            time.sleep(0.5)
    api.terminate()
    sys.exit(f"conformance: the API did not answer within 120 s; see {log}")


def working_copy(suite: Path, work: Path, ctx_port: int) -> None:
    """The suite as run.sh would copy it, with both names of its context pointing at run.sh's
    local server, and its MQTT broker (a docker container upstream) a local mosquitto."""
    for part in ("TP", "data", "resources", "libraries"):
        shutil.copytree(suite / "ngsi-ld-test-suite" / part, work / part)
    local = f"http://127.0.0.1:{ctx_port}"
    for path in (p for p in work.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = text.replace(SECOND_COPY, f"{local}/ngsi-ld-test-suite-compound.jsonld")
        new = new.replace(FORGE, local)
        if new != text:
            path.write_text(new, encoding="utf-8")
    for name in ("MqttUtils.resource", "local_mosquitto.py"):
        shutil.copy(KIT / name, work / "resources" / "mqttUtils" / name)


def robot_variables() -> list[str]:
    """Free ports for the suite's mock servers, and its MQTT broker on loopback."""
    pairs = {
        "context_source_port": free_port(),
        "context_server_port": free_port(),
        "mqtt_broker_host": "127.0.0.1",
        "mqtt_broker_non_default_port": free_port(),
    }
    return [arg for k, v in pairs.items() for arg in ("--variable", f"{k}:{v}")]


def results(output_xml: Path) -> list[tuple[str, str, bool, str]]:
    """(folder, test file and name, passed, first line of the failure) per test."""
    found: list[tuple[str, str, bool, str]] = []

    def walk(suite: ET.Element) -> None:
        source = suite.get("source") or ""
        match = re.search(r"TP/NGSI-LD/(.*)/([^/]+)\.robot", source)
        for test in suite.findall("test"):
            status = test.find("status")
            assert status is not None
            assert match is not None
            message = (status.text or "").strip().splitlines()
            name = f"{match.group(2)} {test.get('name')}"
            found.append((match.group(1), name, status.get("status") == "PASS",
                          message[0][:160] if message else ""))  # fmt: skip
        for child in suite.findall("suite"):
            walk(child)

    top = ET.parse(output_xml).getroot().find("suite")  # noqa: S314 - robot's own file
    assert top is not None
    walk(top)
    return found


def section(subset: str, rows: list[tuple[str, str, bool, str]], commit: str) -> str:
    passed = sum(1 for r in rows if r[2])
    per: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for folder, _, ok, _ in rows:
        per[folder][0 if ok else 1] += 1
    lines = [
        f"<!-- BEGIN run.sh {subset} -->",
        f"`run.sh {subset}`, measured {datetime.now(UTC):%Y-%m-%d} on commit {commit} by",
        f"`scripts/conformance.sh SUITE_DIR {subset} --write`: **{passed} of {len(rows)} passed**.",
        "",
        "| folder | passed |",
        "|---|---|",
    ]
    lines += [f"| {k} | {p} / {p + f} |" for k, (p, f) in sorted(per.items())]
    by_reason: dict[str, list[str]] = collections.defaultdict(list)
    for folder, name, ok, message in rows:
        if not ok:
            by_reason[reason_for(folder, name, message)].append(name.split(" ")[1])
    lines += ["", "Every failure, by reason:", ""]
    for why, names in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"- {why} ({len(names)}): {', '.join(sorted(set(names)))}")
    lines.append(f"<!-- END run.sh {subset} -->")
    return "\n".join(lines)


def committed_passes(subset: str) -> int | None:
    match = re.search(
        rf"<!-- BEGIN run.sh {re.escape(subset)} -->.*?\*\*(\d+) of \d+ passed\*\*",
        DOC.read_text(),
        re.S,
    )
    return int(match.group(1)) if match else None


def write_section(subset: str, text: str) -> None:
    doc = DOC.read_text()
    pattern = (
        rf"<!-- BEGIN run.sh {re.escape(subset)} -->.*?<!-- END run.sh {re.escape(subset)} -->"
    )
    if re.search(pattern, doc, re.S):
        doc = re.sub(pattern, lambda _: text, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(doc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite_dir", type=Path)
    parser.add_argument("subset", nargs="?", default="core")
    parser.add_argument("--write", action="store_true", help="update docs/conformance.md")
    parser.add_argument("--check", action="store_true", help="fail below the committed count")
    parser.add_argument("--api-only", action="store_true",
                        help="run `ciudad api` alone instead of `ciudad demo`")  # fmt: skip
    args = parser.parse_args()
    runner = args.suite_dir / "run.sh"
    if not runner.is_file():
        sys.exit(f"conformance: no run.sh in {args.suite_dir}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                            capture_output=True, check=False).stdout.strip()  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":(exclude)docs/conformance.md"], cwd=REPO, text=True,
                           capture_output=True, check=False).stdout.strip()  # fmt: skip
    commit += " (with uncommitted changes)" if dirty else ""
    # Robot's report stays for reading (log.html names each step that failed).
    out = REPO / ".ciudad" / "conformance" / args.subset.replace("/", "_")
    with tempfile.TemporaryDirectory(prefix="ciudad-conformance-") as work:
        port = free_port()
        what = "ciudad api" if args.api_only else "ciudad demo"
        print(f"conformance: starting {what}, its API on 127.0.0.1:{port}", flush=True)
        out.mkdir(parents=True, exist_ok=True)
        api = start_platform(Path(work) / "data", port, out / "platform.log",
                             demo=not args.api_only)  # fmt: skip
        try:
            ctx_port = free_port()
            working_copy(args.suite_dir, Path(work) / "suite", ctx_port)
            env = os.environ | {"BROKER_URL": f"http://127.0.0.1:{port}/ngsi-ld/v1",
                                "OUT": str(out), "WORK": str(Path(work) / "suite"),
                                "VENV": str(VENV), "CTX_PORT": str(ctx_port),
                                "NOTIF_PORT": str(free_port())}  # fmt: skip
            print(f"conformance: run.sh {args.subset} (several minutes)", flush=True)
            subprocess.run([str(runner), args.subset, *robot_variables()], env=env,
                           check=False, stdout=subprocess.DEVNULL)  # fmt: skip
        finally:
            api.terminate()
            api.wait(timeout=60)
        rows = results(out / "output.xml")
    passed = sum(1 for r in rows if r[2])
    print(f"conformance: run.sh {args.subset}: {passed} of {len(rows)} passed; robot's report: "
          f"{out.relative_to(REPO)}/log.html")  # fmt: skip
    before = committed_passes(args.subset)
    if args.write:
        write_section(args.subset, section(args.subset, rows, commit or "(uncommitted)"))
        print(f"conformance: wrote {DOC.relative_to(REPO)}")
    if args.check and before is None:
        print(f"conformance: docs/conformance.md records no run.sh {args.subset}", file=sys.stderr)
        return 1
    if args.check and before is not None and passed < before - SLACK:
        print(f"conformance: {passed} passed, fewer than the {before} docs/conformance.md "
              f"records (less {SLACK} for the suite's timing-dependent tests)",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
