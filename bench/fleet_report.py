"""Summaries and the markdown table of the fleet bench."""

from __future__ import annotations

from typing import Any


def latency_summary(samples: list[float]) -> dict[str, Any]:
    if not samples:
        return {"latency_samples": 0, "latency_p50_s": None, "latency_p99_s": None}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"latency_samples": len(ordered), "latency_p50_s": at(0.5), "latency_p99_s": at(0.99)}


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"\n{report['devices']} devices, one reading per message, QoS 1\n",
        "| workers | offered/s | sent | stored/sent | stored/s | max backlog | drain s "
        "| p50 / p99 s | batch msgs / commit s "
        "| CPU % gateway(s) / PostgreSQL / mosquitto / api | gateway RSS MB start -> max |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in report["runs"]:
        procs = run["processes"]
        gateways = [v for k, v in procs.items() if k.startswith("gateway")]
        cpu = "+".join(str(g["cpu_pct"]) for g in gateways)
        others = " / ".join(
            str(procs.get(k, {}).get("cpu_pct", "-")) for k in ("postgresql", "mosquitto", "api")
        )
        rss = " + ".join(f"{g['start_rss_mb']} -> {g['max_rss_mb']}" for g in gateways)
        lines.append(
            f"| {run['workers']} | {run['offered_per_s']:.0f} | {run['sent']} | "
            f"{run['stored_vs_sent']} | {run['stored_per_s']} | {run['max_backlog']} | "
            f"{run['drain_s']} | {run['latency_p50_s']} / {run['latency_p99_s']} | "
            f"{run['mean_batch_messages']} / {run['mean_commit_s']} | "
            f"{cpu} / {others} | {rss} |"
        )
    return "\n".join(lines)
