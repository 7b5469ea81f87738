"""Service load: street offices reading their workers while a planner re-solves, against PostGIS.

    python benchmarks/bench_load.py [--scale 0.3] [--duration 30] [--connections 32] [--workers 2] [--runner process|thread] [--cache-entries 512]
                                    [--streets 8] [--solve-limit 2] [--access-log] [--quick]

Builds the seeded demo city in a fresh schema of the PostGIS test database (GRIDGOV_TEST_PG,
default postgresql://postgres@127.0.0.1:5432/gridgov_test), adds a planner and a few street-office
accounts, starts the real service (uvicorn running ``gridgov.api.main:create_app``) on 127.0.0.1 at
a free port, and drives it with wrk (Debian package ``wrk``): every connection sends
``GET /api/workers?ward=CODE`` with a street office's own token, round robin over the accounts.

Two runs of the same length and connection count, side by side in one process:
- ``quiet``: nothing else running (the peer figure);
- ``re-solve``: a planner keeps a background solve job in flight the whole time
  (``POST /api/plans/solve``; the next one starts as soon as one finishes).

Prints requests/s, p50/p90/p99 latency, errors (socket errors and non-2xx) and the ratio. Traffic goes
to 127.0.0.1 only, bounded by ``--duration``; the server and the schema are removed afterwards. The
goal in issue 6: at least 300 requests/s with p99 under 100 ms on 2 cores. Not run by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import httpx

PG_URL = os.environ.get("GRIDGOV_TEST_PG", "postgresql://postgres@127.0.0.1:5432/gridgov_test")
PASSWORD = "bench-password-1"
SECRET = "bench-secret-of-at-least-32-bytes-long"

LUA = r"""
-- Round robin over (path, token) pairs written by bench_load.py; a summary as JSON at the end.
local pairs_ = {}
for line in io.lines("%(pairs)s") do
  local path, token = line:match("^(%%S+) (%%S+)$")
  table.insert(pairs_, {path, "Bearer " .. token})
end
local i = 0
request = function()
  i = i %% #pairs_ + 1
  return wrk.format("GET", pairs_[i][1], {["Authorization"] = pairs_[i][2]})
end
local non2xx = 0
-- Think time: each connection waits this many ms before its next request (0: back to back).
local think = %(think)d
if think > 0 then delay = function() return think end end
response = function(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50": %%d, "p90": %%d, "p99": %%d, "max": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "status": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_schema() -> tuple[str, str]:
    import psycopg2

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(PG_URL, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {schema}")
    admin.close()
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options={quote(f'-csearch_path={schema},public')}"


def drop_schema(schema: str) -> None:
    import psycopg2

    admin = psycopg2.connect(PG_URL, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    admin.close()


def build_city(url: str, scale: float, streets: int) -> list[tuple[str, str]]:
    """The demo city with a published plan; a planner and ``streets`` street offices (user, ward)."""
    from gridgov.api.accounts import add_user
    from gridgov.demo import generate_demo, save_demo
    from gridgov.plans.allocation import AllocationOptions
    from gridgov.plans.run import solve_plan
    from gridgov.plans.versions import publish_plan
    from gridgov.store import open_store

    with open_store(url, create=True) as store:
        save_demo(store, generate_demo(seed=2026, scale=scale))
        plan = solve_plan(store, options=AllocationOptions(time_limit=1.0), actor="bench")
        publish_plan(store, int(plan.plan_id), actor="bench")
        add_user(store, "planner", role="planner", password=PASSWORD, actor="bench")
        # The wards with the most workers living there: the heaviest lists a street office reads.
        workers = store.load("workers")
        wards = list(workers["home_ward"].value_counts().index[:streets])
        accounts = []
        for i, ward in enumerate(wards):
            add_user(store, f"street{i}", role="street", password=PASSWORD, wards=[ward], actor="bench")
            accounts.append((f"street{i}", ward))
    return accounts


def start_runner(url: str) -> subprocess.Popen:
    """``gridgov jobs``: the job runner in its own process (nice 10), beside the web workers."""
    env = {**os.environ, "GRIDGOV_DB": url, "GRIDGOV_API_JOB_POLL_S": "0.2"}
    return subprocess.Popen([sys.executable, "-m", "gridgov", "jobs", "--nice", "10"], env=env,
                            stdout=subprocess.DEVNULL)


def start_server(url: str, port: int, workers: int, access_log: bool, pool: int, *, run_jobs: bool,
                 cache_entries: int) -> subprocess.Popen:
    env = {**os.environ, "GRIDGOV_DB": url, "GRIDGOV_API_SECRET": SECRET,
           "GRIDGOV_API_RUN_JOBS": "true" if run_jobs else "false",
           "GRIDGOV_API_STORE_POOL": str(pool), "GRIDGOV_API_CACHE_ENTRIES": str(cache_entries),
           "GRIDGOV_API_JOB_POLL_S": "0.2"}
    # gridgov serve: uvicorn with every connection's Nagle off (gridgov/api/server.py).
    cmd = [sys.executable, "-m", "gridgov", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--jobs" if run_jobs else "--no-jobs",
           "--access-log" if access_log else "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the service did not start")
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the service did not answer within 60 s")


def login(base: str, user: str) -> str:
    r = httpx.post(f"{base}/api/login/access-token", data={"username": user, "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


class Resolver(threading.Thread):
    """A planner keeping one solve job in flight until stopped; records how long one was running."""

    def __init__(self, base: str, token: str, time_limit: float, wards: list[str] | None = None) -> None:
        super().__init__(daemon=True)
        self.base, self.headers, self.time_limit = base, {"Authorization": f"Bearer {token}"}, time_limit
        self.body = {"time_limit": time_limit, **({"wards": wards} if wards else {})}
        self.stop = threading.Event()
        self.jobs: list[dict] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=60) as http:
            while not self.stop.is_set():
                job = http.post("/api/plans/solve", json=self.body).json()
                while not self.stop.is_set():
                    job = http.get(f"/api/jobs/{job['job_id']}").json()
                    if job["status"] in ("done", "failed"):
                        break
                    time.sleep(0.25)
                self.jobs.append(job)


def run_wrk(base: str, script: Path, duration: int, connections: int, threads: int) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s",
           "-s", str(script), f"{base}/api/workers"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["connect"] + r["read"] + r["write"] + r["timeout"] + r["status"]
    return r


def show(name: str, r: dict) -> None:
    print(f"{name:<10} {r['rps']:>9.1f} {r['p50'] / 1000:>8.1f} {r['p90'] / 1000:>8.1f} {r['p99'] / 1000:>8.1f} "
          f"{r['max'] / 1000:>8.1f} {r['requests']:>9d} {r['errors']:>7d}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.3)
    parser.add_argument("--duration", type=int, default=30, help="seconds per run (at most 120)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--streets", type=int, default=8, help="street-office accounts (one ward each)")
    parser.add_argument("--solve-limit", type=float, default=2.0, help="solver seconds per ward in the re-solve")
    parser.add_argument("--pool", type=int, default=32,
                        help="GRIDGOV_API_STORE_POOL: stores kept open per process (default setting: 4)")
    parser.add_argument("--access-log", action="store_true", help="keep uvicorn's access log on")
    parser.add_argument("--runner", choices=["process", "thread"], default="process",
                        help="solve jobs in a `gridgov jobs` process beside the web workers (default) "
                             "or in a thread of a web worker")
    parser.add_argument("--resolve-own-wards", action="store_true",
                        help="the planner re-solves the street offices' own wards, again and again: "
                             "every finished job writes a plan, so cached lists go stale every few seconds")
    parser.add_argument("--think-ms", type=int, default=0,
                        help="each connection waits this long before its next request, as a person "
                             "at a desk does (0: back to back, a closed loop at full speed)")
    parser.add_argument("--cache-entries", type=int, default=512,
                        help="GRIDGOV_API_CACHE_ENTRIES of the web workers (0: no response cache)")
    parser.add_argument("--quick", action="store_true", help="scale 0.1, 10 s runs")
    args = parser.parse_args()
    if args.quick:
        args.scale, args.duration = 0.1, 10
    args.duration = max(1, min(args.duration, 120))  # bounded: this is loopback load, not a soak
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")

    schema, url = make_schema()
    proc = runner = None
    try:
        t0 = time.perf_counter()
        accounts = build_city(url, args.scale, args.streets)
        setup_s = time.perf_counter() - t0
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(url, port, args.workers, args.access_log, args.pool,
                            run_jobs=args.runner == "thread", cache_entries=args.cache_entries)
        if args.runner == "process":
            runner = start_runner(url)
        with tempfile.TemporaryDirectory(prefix="gridgov-bench-") as tmp:
            pairs = Path(tmp) / "pairs.txt"
            pairs.write_text("".join(f"/api/workers?ward={ward} {login(base, user)}\n" for user, ward in accounts))
            script = Path(tmp) / "workers.lua"
            script.write_text(LUA % {"pairs": pairs, "think": args.think_ms})
            sizes = [len(httpx.get(f"{base}{line.split()[0]}", headers={"Authorization": f"Bearer {line.split()[1]}"},
                                   timeout=30).json()) for line in pairs.read_text().splitlines()]
            print(f"demo scale {args.scale}, setup {setup_s:.1f} s; {len(accounts)} street offices, "
                  f"{min(sizes)}-{max(sizes)} workers each; gridgov serve --workers {args.workers}"
                  f"{'' if args.access_log else ' --no-access-log'}, store pool {args.pool}, "
                  f"cache {args.cache_entries} entries, jobs in a {args.runner}; think {args.think_ms} ms; wrk -t{args.threads} -c{args.connections} "
                  f"-d{args.duration}s; {os.cpu_count()} cores", flush=True)
            run_wrk(base, script, 3, args.connections, args.threads)  # warm-up: pools, imports, caches
            print(f"{'run':<10} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
                  f"{'requests':>9} {'errors':>7}")
            quiet = run_wrk(base, script, args.duration, args.connections, args.threads)
            show("quiet", quiet)
            resolver = Resolver(base, login(base, "planner"), args.solve_limit,
                                [ward for _, ward in accounts] if args.resolve_own_wards else None)
            resolver.start()
            time.sleep(1.0)  # the first job is claimed and solving before the clock starts
            busy = run_wrk(base, script, args.duration, args.connections, args.threads)
            resolver.stop.set()
            resolver.join(120)
            show("re-solve", busy)
        statuses = Counter(j["status"] for j in resolver.jobs)
        print(f"re-solve jobs during the run: {len(resolver.jobs)} ({dict(statuses)} when the run ended)")
        for j in resolver.jobs:
            print(f"  job {j['job_id']}: {j['status']} {j.get('started_at')} -> {j.get('finished_at')} "
                  f"{j.get('progress')} {j.get('message') or ''}")
        print(f"ratio re-solve / quiet: {busy['rps'] / quiet['rps']:.2f} x requests/s, "
              f"{busy['p99'] / max(quiet['p99'], 1):.2f} x p99")
        goal = busy["rps"] >= 300 and busy["p99"] < 100_000 and busy["errors"] == 0
        print(f"goal (>= 300 req/s, p99 < 100 ms, no errors, during the re-solve): {'met' if goal else 'MISSED'}")
    finally:
        for p in (runner, proc):
            if p is not None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        drop_schema(schema)


if __name__ == "__main__":
    main()
