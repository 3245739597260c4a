"""Load test of `lmad serve`: 1, 4 and 16 concurrent clients, real shapes and bad requests mixed.

    python benchmarks/serve_load.py                 # 3 x 30 s, writes the README table
    python benchmarks/serve_load.py --seconds 10 --no-readme

Starts the server on loopback (the shipped model; default settings but `--max-batch 16`, as many as
the most clients; `--max-batch` changes it) in its own process, then for
each concurrency level runs that many client threads for a bounded time. Each client sends, in a
seeded order, the example objects of `examples/` (file uploads: two meshes, two real depth
scans; and one as JSON points) and, one request in five, a bad request (broken JSON, too many
queries, an unsupported file type, no queries, too few points). Prints throughput (answered
requests per second), p50 / p95 / p99 latency of the good requests, responses by status, and
the server's resident memory (with its model process) after a warm-up (single requests, then 10 s at the highest
concurrency) and after the run, how many clouds each forward pass scored (the server's counters
in GET /info), and how many of the machine's cores the server (with its model process) and the clients kept busy (CPU
seconds per second: the clients share the cores with the server); checks the targets: no 5xx,
every bad request a 4xx with a message, 16 clients at least 2x the throughput of 1, memory growth
under 10 %. The machine's 2048^3 GEMM rate is printed beside the table: the figures scale with it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
RESULTS = ROOT / "benchmarks" / "results"
QUERIES = "grasp,contain,pourable,wrap_grasp,cut"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (the server and its model process)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue  # gone meanwhile
    tree = [pid]
    for candidate in tree:
        tree += [child for child, parent in parents.items() if parent == candidate]
    return tree


def rss_mib(pid: int) -> float:
    """Resident memory of the process and its descendants (shared pages counted in each)."""
    total = 0.0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process and its descendants have used so far (all threads)."""
    total = 0.0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def requests_catalogue() -> tuple[list, list]:
    """(good, bad): each a list of (name, kwargs for httpx.post)."""
    from lmad.data.files import read_points

    good = []
    for name in ("mug.obj", "bottle.obj", "knife_scan.xyz", "mug_scan.pcd"):
        good.append((f"upload {name}", {"files": {"file": (name, (EXAMPLES / name).read_bytes())},
                                        "data": {"queries": QUERIES}}))
    points = read_points(EXAMPLES / "mug.obj", mesh_points=4000)
    # JSON bodies are encoded once here, as a robot sends the bytes its own code made: the clients
    # share the server's cores, and re-encoding 12,000 numbers per request would load them, not it
    body = json.dumps({"points": np.round(points, 5).tolist(), "queries": QUERIES}).encode()
    good.append(("json mug 4000 points", {"content": body, "headers": {"content-type": "application/json"}}))
    bad = [
        ("broken json", {"content": b"{\"points\": [[1, 2", "headers": {"content-type": "application/json"}}),
        ("too many queries", {"json": {"points": points[:100].tolist(), "queries": [f"q{i}" for i in range(100)]}}),
        ("unsupported file", {"files": {"file": ("scan.las", b"LASF\x00\x01")}, "data": {"queries": "grasp"}}),
        ("no queries", {"json": {"points": points[:100].tolist()}}),
        ("too few points", {"json": {"points": points[:3].tolist(), "queries": "grasp"}}),
    ]
    return good, bad


def client(url: str, deadline: float, seed: int, good, bad, records: list, lock: threading.Lock) -> None:
    import httpx

    rng = np.random.default_rng(seed)
    with httpx.Client(timeout=120) as session:
        while time.perf_counter() < deadline:
            is_bad = rng.random() < 0.2
            name, kwargs = (bad if is_bad else good)[rng.integers(len(bad if is_bad else good))]
            start = time.perf_counter()
            try:
                response = session.post(url, **kwargs)
                status = response.status_code
                has_message = status < 400 or "error" in response.json()
            except Exception as error:  # noqa: BLE001 - a dropped connection is a result too
                status, has_message = f"exception {type(error).__name__}", False
            with lock:
                records.append({"bad": is_bad, "name": name, "status": status, "message": has_message,
                                "seconds": time.perf_counter() - start})


def served(url: str) -> dict:
    """The server's counters (GET /info): clouds scored, forward passes."""
    import httpx

    return httpx.get(url.removesuffix("/predict") + "/info", timeout=30).json()["served"]


def run_level(url: str, clients: int, seconds: float, good, bad, server_pid: int) -> dict:
    records, lock = [], threading.Lock()
    served_before = served(url)
    server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
    deadline = time.perf_counter() + seconds
    threads = [threading.Thread(target=client, args=(url, deadline, 1000 * clients + i, good, bad, records, lock))
               for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server_cores = (cpu_seconds(server_pid) - server_cpu) / elapsed
    client_cores = (time.process_time() - client_cpu) / elapsed
    served_after = served(url)
    clouds = served_after["clouds"] - served_before["clouds"]
    passes = served_after["forward_passes"] - served_before["forward_passes"]
    latencies = np.array([r["seconds"] for r in records if not r["bad"] and r["status"] == 200])
    statuses = Counter(str(r["status"]) for r in records)
    bad_records = [r for r in records if r["bad"]]
    return {
        "clients": clients, "seconds": round(elapsed, 1), "requests": len(records),
        "throughput": len(records) / elapsed, "good_throughput": len(latencies) / elapsed,
        "p50": float(np.percentile(latencies, 50)) if len(latencies) else float("nan"),
        "p95": float(np.percentile(latencies, 95)) if len(latencies) else float("nan"),
        "p99": float(np.percentile(latencies, 99)) if len(latencies) else float("nan"),
        "statuses": dict(statuses), "server_cores": server_cores, "client_cores": client_cores,
        "clouds_per_forward_pass": clouds / max(passes, 1),
        "server_errors": sum(1 for r in records if isinstance(r["status"], int) and r["status"] >= 500),
        "bad_requests": len(bad_records),
        "bad_answered_4xx_with_message": sum(1 for r in bad_records if isinstance(r["status"], int)
                                             and 400 <= r["status"] < 500 and r["message"]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per concurrency level")
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--max-batch", type=int, default=16, help="the server's --max-batch")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--model-processes", type=int, help="the server's --model-processes (an A/B; default: its own)")
    args = parser.parse_args(argv)
    import httpx
    from speed import gemm_rate

    gemm_gflops = gemm_rate(3)  # how fast this machine is today: the figures scale with it
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "lmad", "serve", "--port", str(port), "--max-batch", str(args.max_batch)]
    if args.model_processes is not None:
        command += ["--model-processes", str(args.model_processes)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise SystemExit("the server did not start: " + (server.stderr.read() if server.poll() is not None else ""))
        good, bad = requests_catalogue()
        for name, kwargs in good:  # warm-up (first-call compilation, caches) before memory is read
            httpx.post(f"{url}/predict", timeout=120, **kwargs).raise_for_status()
        # and a short burst at the highest concurrency, so that full batches have been seen: what
        # is measured after it is growth over the run, not the first full batch's working memory
        run_level(f"{url}/predict", max(int(n) for n in args.levels.split(",")), min(10.0, args.seconds), good, bad,
                  server.pid)
        rss_before = rss_mib(server.pid)
        levels = [run_level(f"{url}/predict", int(n), args.seconds, good, bad, server.pid)
                  for n in args.levels.split(",")]
        rss_after = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    first, last = levels[0], levels[-1]
    summary = {
        "levels": levels, "rss_before_mib": rss_before, "rss_after_mib": rss_after,
        "rss_growth": rss_after / rss_before - 1, "cpus": os.cpu_count(),
        "gemm_gflops": gemm_gflops,
        "targets": {
            "no_5xx": all(level["server_errors"] == 0 for level in levels),
            "bad_requests_4xx_with_message": all(level["bad_answered_4xx_with_message"] == level["bad_requests"]
                                                 for level in levels),
            "throughput_16_vs_1": last["throughput"] / first["throughput"],
            "rss_growth_under_10_percent": rss_after / rss_before - 1 < 0.10,
        },
    }
    table = markdown_table(summary)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve_load.json").write_text(json.dumps(summary, indent=2))
    if not args.no_readme:
        from generated_tables import write_table

        write_table("serve-table", table)


def markdown_table(summary: dict) -> str:
    lines = ["| clients | requests | answered / s | good p50 / p95 / p99 (s) | responses by status "
             "| bad requests: 4xx with message | clouds per forward pass | CPU cores busy: server / clients |",
             "|---|---|---|---|---|---|---|---|"]
    for level in summary["levels"]:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(level["statuses"].items()))
        lines.append(f"| {level['clients']} | {level['requests']} | {level['throughput']:.2f} | "
                     f"{level['p50']:.2f} / {level['p95']:.2f} / {level['p99']:.2f} | {statuses} | "
                     f"{level['bad_answered_4xx_with_message']} of {level['bad_requests']} | "
                     f"{level['clouds_per_forward_pass']:.1f} | "
                     f"{level['server_cores']:.2f} / {level['client_cores']:.2f} |")
    targets = summary["targets"]
    lines += ["", f"Server memory {summary['rss_before_mib']:.0f} MiB before, {summary['rss_after_mib']:.0f} MiB after "
              f"({100 * summary['rss_growth']:+.1f} %); throughput at {summary['levels'][-1]['clients']} clients "
              f"{targets['throughput_16_vs_1']:.2f}x that at {summary['levels'][0]['clients']}; 5xx answers: "
              f"{'none' if targets['no_5xx'] else 'SOME'} (generated by `benchmarks/serve_load.py`, "
              f"{summary['cpus']} CPU cores doing a 2048^3 fp32 GEMM at {summary.get('gemm_gflops', float('nan')):.0f} "
              f"GFLOP/s, clients and server on the same machine)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
