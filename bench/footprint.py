"""Footprints (part of ``make bench``): idle memory of the API and worker processes, and the
scheduler Lambda's cold import, each beside a baseline measured in the same run.

- Idle RSS: each service started against the local queue (moto) and left 5 s after it is
  up (the API has answered /healthz, the worker has polled), read from /proc. Baseline: the
  raw-ASGI + PyNaCl server of ``bench.baseline``, idle on the same uvicorn.
- Cold import: ``import services.scheduler.handler`` (what Lambda runs at a cold start) in a
  fresh interpreter, median of IMPORT_RUNS; baselines: an empty interpreter's start, and the
  import of its two network libraries alone (aiohttp and aiobotocore), which it needs for
  every event (Discord and AWS calls).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from devtools import aws

ROOT = Path(__file__).resolve().parent.parent
APPLICATION_ID = "100000000000000001"
IMPORT_RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "15"))
SETTLE = 5.0
TARGETS = {"api_mib": 60, "worker_mib": 100, "scheduler_import_ms": 300}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def idle_rss(endpoint: str) -> dict[str, float]:
    key = SigningKey.generate()
    queues = aws.create_job_queues(endpoint, f"footprint-{int(time.time())}")
    api_port, base_port = aws.free_port(), aws.free_port()
    env = aws.process_env(
        endpoint,
        JOBS_QUEUE_URL=queues.url,
        DISCORD_APPLICATION_ID=APPLICATION_ID,
        DISCORD_PUBLIC_KEY=key.verify_key.encode().hex(),
        DISCORD_BOT_TOKEN="bench-bot-token",
        DISCORD_API_URL="http://127.0.0.1:9",
        JOB_SIGNING_KEY=secrets.token_urlsafe(32),
        CUSTOM_ID_SECRET=secrets.token_urlsafe(32),
        HOST="127.0.0.1",
        PORT=str(api_port),
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    public = key.verify_key.encode().hex()
    commands = {
        "api": [sys.executable, "-m", "services.api"],
        "worker": [sys.executable, "-m", "services.worker"],
        "baseline": [sys.executable, "-m", "bench.baseline", str(base_port), public],
    }
    processes = {
        name: subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for name, argv in commands.items()
    }
    try:
        aws.wait_http(f"http://127.0.0.1:{api_port}/healthz")
        aws.wait_http(f"http://127.0.0.1:{base_port}/healthz")
        time.sleep(SETTLE)
        return {name: round(rss_mib(p.pid), 1) for name, p in processes.items()}
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=30)


def import_ms(statement: str) -> float:
    """Median wall time of ``statement`` in a fresh interpreter (its start excluded)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    runs = []
    for _ in range(IMPORT_RUNS):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        runs.append(float(out.stdout) * 1000)
    return round(statistics.median(runs), 1)


def interpreter_start_ms() -> float:
    runs = []
    for _ in range(IMPORT_RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        runs.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(runs), 1)


def measure() -> dict[str, Any]:
    with aws.moto_server() as endpoint:
        rss = idle_rss(endpoint)
    return {
        "idle_rss_mib": rss,
        "scheduler_import_ms": import_ms("import services.scheduler.handler"),
        "network_libraries_import_ms": import_ms("import aiohttp, aiobotocore.session"),
        "interpreter_start_ms": interpreter_start_ms(),
    }


def main() -> int:
    results = measure()
    rss = results["idle_rss_mib"]
    print(f"\n{'idle RSS, MiB':<44}{'measured':>10}{'target':>10}")
    print(f"{'baseline: raw ASGI + PyNaCl on uvicorn':<44}{rss['baseline']:>10}{'':>10}")
    for name in ("api", "worker"):
        target = TARGETS[f"{name}_mib"]
        verdict = "met" if rss[name] < target else "NOT met"
        print(f"{name:<44}{rss[name]:>10}{'< ' + str(target):>10}  {verdict}")
    title = f"cold import, ms (median of {IMPORT_RUNS})"
    print(f"\n{title:<44}{'measured':>10}{'target':>10}")
    print(f"{'baseline: interpreter start':<44}{results['interpreter_start_ms']:>10}{'':>10}")
    libs = results["network_libraries_import_ms"]
    print(f"{'baseline: import aiohttp, aiobotocore':<44}{libs:>10}{'':>10}")
    scheduler = results["scheduler_import_ms"]
    target = TARGETS["scheduler_import_ms"]
    verdict = "met" if scheduler < target else "NOT met"
    print(f"{'scheduler handler':<44}{scheduler:>10}{'< ' + str(target):>10}  {verdict}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "footprint.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
