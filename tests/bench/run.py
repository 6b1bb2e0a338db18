#!/usr/bin/env python3
"""Stratus vs moto_server, side by side, on this machine.

    tests/bench/run.py --stratus build/bin/stratus            # all workloads
    tests/bench/run.py --only start --starts 5                 # one workload
    tests/bench/run.py --only health_rps --duration 10 --json out.json

Prints a table: figure, stratus, moto, ratio (= stratus / moto) and which way is better.
Every process started here runs in its own process group and is killed on exit, Ctrl-C or
SIGTERM. Only 127.0.0.1 is ever contacted. See tests/bench/README.md.

Adding a workload: write `def wl_NAME(ctx) -> list[Figure]` and append it to WORKLOADS.
"""
from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import platform
import re
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
STRATUS_HEALTH = "/_stratus/health"
MOTO_CHEAP_GET = "/moto-api/"     # moto's dashboard page: the cheapest 200 GET it has
START_TIMEOUT_S = 30.0


# ------------------------------------------------------------------------------------------
# Processes: every child in its own process group, all killed at the end
# ------------------------------------------------------------------------------------------

class Procs:
    def __init__(self):
        self.live: list[subprocess.Popen] = []

    def spawn(self, argv: list[str], **kw) -> subprocess.Popen:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        self.live.append(p)
        return p

    def stop(self, p: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 5.0) -> float | None:
        """Signal the process group, wait up to `grace` s; returns seconds to exit (None if it
        had to be killed)."""
        took = None
        if p.poll() is None:
            t0 = time.monotonic()
            self._signal(p, sig)
            try:
                p.wait(timeout=grace)
                took = time.monotonic() - t0
            except subprocess.TimeoutExpired:
                pass
        self._signal(p, signal.SIGKILL)   # stragglers in the group
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if p in self.live:
            self.live.remove(p)
        return took

    @staticmethod
    def _signal(p: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill_all(self) -> None:
        for p in list(self.live):
            self.stop(p, signal.SIGKILL, grace=2.0)


PROCS = Procs()
atexit.register(PROCS.kill_all)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# ------------------------------------------------------------------------------------------
# Small HTTP helpers (raw sockets, bounded)
# ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_get_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    """Status code of GET path, or None if nothing answers (refused, reset, timeout)."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
            return int(m.group(1)) if m else None
    except OSError:
        return None


def wait_http(port: int, path: str, deadline: float, want_200: bool, proc: subprocess.Popen) -> float:
    """Poll until GET path answers (200 if want_200); returns the monotonic time it did."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before answering")
        st = http_get_status(port, path)
        if st is not None and (st == 200 or not want_200):
            return time.monotonic()
        time.sleep(0.002)
    raise RuntimeError(f"nothing answered GET {path} on port {port} within {START_TIMEOUT_S}s")


def read_line(proc: subprocess.Popen, deadline: float) -> str | None:
    fd = proc.stdout.fileno()
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
        if b"\n" in buf:
            return buf.split(b"\n", 1)[0].decode("utf-8", "replace")
    return None


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


# ------------------------------------------------------------------------------------------
# The two servers
# ------------------------------------------------------------------------------------------

@dataclass
class Running:
    proc: subprocess.Popen
    port: int
    t_spawn: float
    t_ready: float | None      # Stratus: ready line printed; moto: None (it has no such line)
    t_answer: float            # first (200) answer on its cheap path


class Stratus:
    name = "stratus"
    cheap_path = STRATUS_HEALTH

    def __init__(self, binary: str, extra: list[str], stack_file: str, persistent_root: str | None = None):
        self.binary = binary
        self.extra = extra
        self.stack_file = stack_file
        # --persistent: every start gets a new data directory under this root (a write-ahead log, as a
        # daemon that keeps state across restarts writes), instead of --ephemeral.
        self.persistent_root = persistent_root

    def argv(self, fresh: bool = True) -> list[str]:
        """The command line; fresh=False (for reports) names the data directory instead of making one."""
        data_dir = tempfile.mkdtemp(prefix="data-", dir=self.persistent_root) if fresh else "<new per start>"
        state = ["--data-dir", data_dir] if self.persistent_root else ["--ephemeral"]
        return [self.binary, "serve", *state, "--host", HOST, "--port", "0",
                "--config", self.stack_file, *self.extra]

    def start(self) -> Running:
        t0 = time.monotonic()
        p = PROCS.spawn(self.argv(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = t0 + START_TIMEOUT_S
        line = read_line(p, deadline)
        t_ready = time.monotonic()
        m = re.match(r"^stratus ready on http://[^:]+:(\d+)$", line or "")
        if not m:
            PROCS.stop(p, signal.SIGKILL)
            raise RuntimeError(f"stratus did not print its ready line (got {line!r})")
        port = int(m.group(1))
        t_answer = wait_http(port, STRATUS_HEALTH, deadline, True, p)
        return Running(p, port, t0, t_ready, t_answer)


class Moto:
    name = "moto"
    cheap_path = MOTO_CHEAP_GET

    def __init__(self, argv: list[str]):
        self.base = argv

    def argv(self, port: int) -> list[str]:
        return [*self.base, "-H", HOST, "-p", str(port)]

    def start(self) -> Running:
        port = free_port()
        t0 = time.monotonic()
        p = PROCS.spawn(self.argv(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t_answer = wait_http(port, MOTO_CHEAP_GET, t0 + START_TIMEOUT_S, False, p)
        return Running(p, port, t0, None, t_answer)


def default_moto_argv() -> list[str]:
    exe = shutil.which("moto_server")
    if exe and "/shims/" in exe and shutil.which("pyenv"):
        # a pyenv shim adds a bash + pyenv hop to every start: use the real script
        try:
            real = subprocess.run(["pyenv", "which", "moto_server"], capture_output=True,
                                  text=True, timeout=20).stdout.strip()
            if real and os.access(real, os.X_OK):
                exe = real
        except (OSError, subprocess.TimeoutExpired):
            pass
    if exe:
        return [exe]
    return [sys.executable, "-m", "moto.server"]


# ------------------------------------------------------------------------------------------
# Figures and workloads
# ------------------------------------------------------------------------------------------

class Skipped(Exception):
    """A workload that cannot run against this daemon (a feature it does not have yet): reported, not a
    failure, and never a made-up figure."""


@dataclass
class Figure:
    workload: str
    name: str
    unit: str
    stratus: float | None
    moto: float | None
    better: str = "lower"            # "lower" or "higher"
    note: str = ""
    ratio: float | None = field(default=None)
    peer: str = "moto"               # what the second column measured (moto, or serverless-offline)

    def __post_init__(self):
        if self.stratus is not None and self.moto not in (None, 0):
            self.ratio = self.stratus / self.moto


@dataclass
class Ctx:
    stratus: Stratus
    moto: Moto | None
    starts: int
    duration: float
    threads: int
    connections: int
    functions_dir: str = ""
    cold_starts: int = 30
    warm_calls: int = 2000
    rss_invokes: int = 1_000_000
    sqs_client: str = ""
    drain_messages: int = 100_000
    moto_messages: int = 1_000
    fill_timeout: float = 300.0
    drain_timeout: float = 30.0
    longpoll_receivers: int = 1000
    longpoll_hold: float = 10.0
    longpoll_reps: int = 200
    rss_messages: int = 1_000_000
    esm_messages: int = 100
    longpoll_latency_receivers: int = 1
    sls: "ServerlessOffline | None" = None

    def servers(self):
        return [s for s in (self.stratus, self.moto) if s is not None]


def median(xs):
    return statistics.median(xs) if xs else None


def p90(xs):
    if not xs:
        return None
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]      # nearest rank


def wl_start(ctx: Ctx) -> list[Figure]:
    """Spawn → ready line / first answer, and SIGTERM → exit, over ctx.starts starts."""
    ready, answer, stop = {}, {}, {}
    for srv in ctx.servers():
        ready[srv.name], answer[srv.name], stop[srv.name] = [], [], []
        for _ in range(ctx.starts):
            r = srv.start()
            if r.t_ready is not None:
                ready[srv.name].append((r.t_ready - r.t_spawn) * 1000)
            answer[srv.name].append((r.t_answer - r.t_spawn) * 1000)
            took = PROCS.stop(r.proc, signal.SIGTERM, grace=5.0)
            if took is not None:
                stop[srv.name].append(took * 1000)
    g = lambda d, n: d.get(n) or []   # noqa: E731
    n = ctx.starts
    ans_note = f"stratus: GET {STRATUS_HEALTH} = 200; moto: any answer on GET {MOTO_CHEAP_GET}"
    figs = [
        Figure("start", "start → ready line, median", "ms", median(g(ready, "stratus")), None,
               note=f"{n} starts, empty stack; moto prints no ready line"),
        Figure("start", "start → ready line, p90", "ms", p90(g(ready, "stratus")), None),
        Figure("start", "start → first answer, median", "ms", median(g(answer, "stratus")),
               median(g(answer, "moto")), note=ans_note),
        Figure("start", "start → first answer, p90", "ms", p90(g(answer, "stratus")),
               p90(g(answer, "moto"))),
        Figure("start", "SIGTERM → exit, median", "ms", median(g(stop, "stratus")),
               median(g(stop, "moto")),
               note=f"killed after 5 s: stratus {n - len(g(stop, 'stratus'))}/{n}, "
                    f"moto {n - len(g(stop, 'moto'))}/{n}" if ctx.moto else ""),
    ]
    return figs


def wl_rss(ctx: Ctx) -> list[Figure]:
    """Resident memory right after start (VmRSS once it answers, after 200 ms settling)."""
    rss = {}
    for srv in ctx.servers():
        r = srv.start()
        time.sleep(0.2)
        kib = rss_kib(r.proc.pid)
        PROCS.stop(r.proc, signal.SIGTERM)
        rss[srv.name] = kib / 1024 if kib is not None else None
    return [Figure("rss", "RSS after start", "MiB", rss.get("stratus"), rss.get("moto"),
                   note="/proc/PID/status VmRSS of the server process")]


def parse_wrk(out: str) -> dict:
    def ms(val, unit):
        return float(val) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    res = {"rps": None, "p50_ms": None, "p99_ms": None, "requests": None, "non2xx": 0,
           "socket_errors": ""}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        res["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        if m := re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
            res[key] = ms(m.group(1), m.group(2))
    if m := re.search(r"(\d+) requests in", out):
        res["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        res["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors:\s*(.+)", out):
        res["socket_errors"] = m.group(1).strip()
    return res


def run_wrk(ctx: Ctx, port: int, path: str) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        raise RuntimeError("wrk is not installed")
    argv = [wrk, f"-t{ctx.threads}", f"-c{ctx.connections}", f"-d{ctx.duration:g}s", "--latency",
            f"http://{HOST}:{port}{path}"]
    p = PROCS.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=ctx.duration + 30)
    finally:
        PROCS.stop(p, signal.SIGKILL, grace=0)
    res = parse_wrk(out or "")
    if res["rps"] is None:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    return res


def wl_health_rps(ctx: Ctx) -> list[Figure]:
    """Throughput and latency of each server's cheapest GET with keep-alive connections."""
    res = {}
    for srv in ctx.servers():
        r = srv.start()
        try:
            res[srv.name] = run_wrk(ctx, r.port, srv.cheap_path)
        finally:
            PROCS.stop(r.proc, signal.SIGTERM)
    s, m = res.get("stratus", {}), res.get("moto", {})
    notes = [f"wrk -t{ctx.threads} -c{ctx.connections} -d{ctx.duration:g}s; stratus GET {STRATUS_HEALTH}"
             + (f", moto GET {MOTO_CHEAP_GET} (moto closes each connection: no keep-alive)" if ctx.moto else "")]
    for name, r in res.items():
        if r.get("non2xx") or r.get("socket_errors"):
            notes.append(f"{name}: {r['non2xx']} non-2xx, socket errors: {r['socket_errors'] or 'none'}")
    return [
        Figure("health_rps", "cheap GET requests/s", "req/s", s.get("rps"), m.get("rps"), better="higher",
               note="; ".join(notes)),
        Figure("health_rps", "cheap GET latency p50", "ms", s.get("p50_ms"), m.get("p50_ms")),
        Figure("health_rps", "cheap GET latency p99", "ms", s.get("p99_ms"), m.get("p99_ms")),
    ]


# ------------------------------------------------------------------------------------------
# Functions (Stratus only: moto's Lambda runs code in Docker images, not Stratus's .so functions)
# ------------------------------------------------------------------------------------------

FN_NOTE = "Stratus only: moto cannot run .so functions"
FN_ROLE = "arn:aws:iam::000000000000:role/bench"
FN_AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, "
           "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


def pct(xs, q: float):
    """Nearest-rank percentile (q in 0..100)."""
    if not xs:
        return None
    s = sorted(xs)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


class LambdaConn:
    """One keep-alive HTTP/1.1 connection to the daemon speaking the Lambda REST API (http.client, not
    boto3: the figures measure the daemon, not botocore)."""

    def __init__(self, port: int, timeout: float = 30.0):
        import http.client
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, method: str, path: str, body: bytes = b"",
             headers: dict | None = None) -> tuple[int, bytes]:
        h = {"Content-Type": "application/json", "Authorization": FN_AUTH}
        h.update(headers or {})
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        return r.status, r.read()

    def create_function(self, name: str, library: str, **extra) -> None:
        import base64
        import io
        import zipfile
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.write(library, os.path.basename(library))
        doc = {"FunctionName": name, "Runtime": "provided.al2023", "Role": FN_ROLE,
               "Handler": os.path.basename(library),
               "Code": {"ZipFile": base64.b64encode(buf.getvalue()).decode()}}
        doc.update(extra)
        status, body = self.call("POST", "/2015-03-31/functions", json.dumps(doc).encode())
        if status != 201:
            raise RuntimeError(f"CreateFunction {name} answered {status}: {body[:300]!r}")

    def invoke(self, name: str, payload: bytes = b"{}") -> tuple[int, bytes]:
        return self.call("POST", f"/2015-03-31/functions/{name}/invocations", payload)

    def close(self) -> None:
        self.conn.close()


def function_library(ctx: Ctx, name: str) -> str:
    path = Path(ctx.functions_dir) / f"{name}.so"
    if not path.is_file():
        raise RuntimeError(f"no example function {path} (build the stratus_functions target, or pass "
                           f"--functions-dir)")
    return str(path)


def stratus_with_noop(ctx: Ctx) -> tuple[Running, LambdaConn]:
    """A Stratus daemon with function `noop` created and warmed (one instance)."""
    lib = function_library(ctx, "noop")
    r = ctx.stratus.start()
    c = LambdaConn(r.port)
    c.create_function("noop", lib)
    for _ in range(20):
        status, body = c.invoke("noop")
        if status != 200:
            raise RuntimeError(f"Invoke noop answered {status}: {body[:300]!r}")
    return r, c


def function_stats(port: int) -> dict:
    c = LambdaConn(port)
    try:
        status, body = c.call("GET", "/_stratus/functions")
        return json.loads(body) if status == 200 else {}
    finally:
        c.close()


def wl_fn_cold(ctx: Ctx) -> list[Figure]:
    """Cold start through the API: CreateFunction (noop, zip), then the first Invoke is timed."""
    lib = function_library(ctx, "noop")
    r = ctx.stratus.start()
    times = []
    try:
        c = LambdaConn(r.port)
        for i in range(ctx.cold_starts):
            name = f"cold-{i}"
            c.create_function(name, lib)
            t0 = time.perf_counter_ns()
            status, body = c.invoke(name)
            times.append((time.perf_counter_ns() - t0) / 1e6)
            if status != 200:
                raise RuntimeError(f"first Invoke of {name} answered {status}: {body[:300]!r}")
        c.close()
        pools = [p for p in function_stats(r.port).get("pools", []) if p["function"].startswith("cold-")]
        cold = sum(p.get("cold_starts", 0) for p in pools)
        if cold != ctx.cold_starts:
            raise RuntimeError(f"expected {ctx.cold_starts} cold starts, the pools count {cold}")
    finally:
        PROCS.stop(r.proc, signal.SIGTERM)
    note = (f"{FN_NOTE}; {ctx.cold_starts} functions, each timed from sending its first Invoke to the "
            f"answer, one keep-alive connection; every one counted as a cold start by /_stratus/functions")
    return [Figure("fn_cold", "cold start (first Invoke), p50", "ms", pct(times, 50), None, note=note),
            Figure("fn_cold", "cold start (first Invoke), p99", "ms", pct(times, 99), None),
            Figure("fn_cold", "cold start (first Invoke), max", "ms", max(times), None)]


def wl_fn_warm(ctx: Ctx) -> list[Figure]:
    """Warm Invoke of noop over one keep-alive connection (http.client), latency p50/p99."""
    r, c = stratus_with_noop(ctx)
    times = []
    try:
        for _ in range(200):   # settle
            c.invoke("noop")
        for _ in range(ctx.warm_calls):
            t0 = time.perf_counter_ns()
            status, body = c.invoke("noop")
            times.append((time.perf_counter_ns() - t0) / 1e3)
            if status != 200:
                raise RuntimeError(f"Invoke noop answered {status}: {body[:300]!r}")
        c.close()
        pool = next(p for p in function_stats(r.port)["pools"] if p["function"] == "noop")
    finally:
        PROCS.stop(r.proc, signal.SIGTERM)
    note = (f"{FN_NOTE}; {ctx.warm_calls} sequential Invokes (RequestResponse, payload {{}}) on one "
            f"keep-alive connection, timed in the Python client (includes its overhead); "
            f"cold starts in the pool: "
            f"{pool.get('cold_starts')}")
    figures = [Figure("fn_warm", "warm Invoke, 1 connection (Python), p50", "µs", pct(times, 50), None,
                      note=note),
               Figure("fn_warm", "warm Invoke, 1 connection (Python), p99", "µs", pct(times, 99), None)]
    # The same, timed by wrk (C, one connection): the daemon's latency without the Python client's.
    r, c = stratus_with_noop(ctx)
    c.close()
    try:
        with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
            res = run_wrk_invoke(ctx, r.port, min(ctx.duration, 5), tmp, threads=1, connections=1)
    finally:
        PROCS.stop(r.proc, signal.SIGTERM)
    wrk_note = f"{FN_NOTE}; wrk -t1 -c1 POST /2015-03-31/functions/noop/invocations, --latency percentiles"
    figures += [Figure("fn_warm", "warm Invoke, 1 connection (wrk), p50", "µs", res["p50_ms"] * 1000, None,
                       note=wrk_note),
                Figure("fn_warm", "warm Invoke, 1 connection (wrk), p99", "µs", res["p99_ms"] * 1000, None)]
    return figures


INVOKE_LUA = """wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
"""


def run_wrk_invoke(ctx: Ctx, port: int, duration: float, tmp: str, threads: int | None = None,
                   connections: int | None = None) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        raise RuntimeError("wrk is not installed")
    script = os.path.join(tmp, "invoke.lua")
    Path(script).write_text(INVOKE_LUA)
    argv = [wrk, f"-t{threads or ctx.threads}", f"-c{connections or ctx.connections}", f"-d{duration:g}s",
            "--latency", "-s", script,
            f"http://{HOST}:{port}/2015-03-31/functions/noop/invocations"]
    p = PROCS.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=duration + 30)
    finally:
        PROCS.stop(p, signal.SIGKILL, grace=0)
    res = parse_wrk(out or "")
    if res["rps"] is None:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    return res


def wl_fn_rps(ctx: Ctx) -> list[Figure]:
    """Warm Invoke throughput of noop with wrk, --connections keep-alive connections."""
    r, c = stratus_with_noop(ctx)
    c.close()
    try:
        with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
            res = run_wrk_invoke(ctx, r.port, ctx.duration, tmp)
        pool = next(p for p in function_stats(r.port)["pools"] if p["function"] == "noop")
    finally:
        PROCS.stop(r.proc, signal.SIGTERM)
    note = (f"{FN_NOTE}; wrk -t{ctx.threads} -c{ctx.connections} -d{ctx.duration:g}s POST "
            f"/2015-03-31/functions/noop/invocations body {{}}, no reserved concurrency; "
            f"{res['non2xx']} non-2xx, socket errors: {res['socket_errors'] or 'none'}; pool: "
            f"{pool['instances']['total']} instances, {pool.get('cold_starts')} cold starts, "
            f"{pool.get('throttles')} throttles")
    return [Figure("fn_rps", "warm Invoke/s", "req/s", res["rps"], None, better="higher", note=note),
            Figure("fn_rps", "warm Invoke latency p50", "ms", res["p50_ms"], None),
            Figure("fn_rps", "warm Invoke latency p99", "ms", res["p99_ms"], None)]


def wl_fn_rss(ctx: Ctx) -> list[Figure]:
    """Daemon RSS before/after --rss-invokes warm invocations (wrk in 10 s rounds, at most 300 s)."""
    r, c = stratus_with_noop(ctx)
    c.close()
    samples = []
    total = 0
    try:
        time.sleep(0.2)
        before = rss_kib(r.proc.pid)
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
            while total < ctx.rss_invokes and time.monotonic() - t0 < 300:
                res = run_wrk_invoke(ctx, r.port, 10, tmp)
                total += res["requests"] or 0
                if res["non2xx"] or res["socket_errors"]:
                    raise RuntimeError(f"wrk saw {res['non2xx']} non-2xx, "
                                       f"socket errors {res['socket_errors']}")
                samples.append(rss_kib(r.proc.pid))
        took = time.monotonic() - t0
        time.sleep(0.2)
        after = rss_kib(r.proc.pid)
    finally:
        PROCS.stop(r.proc, signal.SIGTERM)
    mib = lambda k: k / 1024 if k is not None else None   # noqa: E731
    trail = ", ".join(f"{mib(k):.1f}" for k in samples if k is not None)
    note = (f"{FN_NOTE}; {total:,} warm Invokes of noop in {took:.0f} s "
            f"(wrk -c{ctx.connections}, 10 s rounds); daemon VmRSS after each round (MiB): {trail}")
    return [Figure("fn_rss", "daemon RSS before invokes", "MiB", mib(before), None, note=note),
            Figure("fn_rss", f"daemon RSS after {total:,} invokes", "MiB", mib(after), None),
            Figure("fn_rss", "daemon RSS growth", "MiB",
                   mib(after - before) if after is not None and before is not None else None, None)]


# ------------------------------------------------------------------------------------------
# SQS (both servers; the wire format is boto3's JSON 1.0 protocol)
# ------------------------------------------------------------------------------------------

SQS_AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=" + "0" * 64)
SQS_BODY_BYTES = 1024


def sqs_headers(op: str) -> dict:
    """The headers boto3 sends for an SQS operation (JSON 1.0, query-compatible mode)."""
    return {"X-Amz-Target": f"AmazonSQS.{op}", "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-query-mode": "true", "X-Amz-Date": "20260101T000000Z", "Authorization": SQS_AUTH}


def sqs_message_body(n: int = SQS_BODY_BYTES) -> str:
    """n bytes of ASCII that need no JSON escaping (the same pattern stratus-sqsload sends)."""
    pattern = "stratus-bench 0123456789 abcdefghijklmnopqrstuvwxyz "
    return (pattern * (n // len(pattern) + 1))[:n]


class SqsUnavailable(RuntimeError):
    """The server has no SQS (CreateQueue answered 501 Not Implemented or an unknown-operation error)."""


class SqsConn:
    """One HTTP/1.1 connection speaking SQS's JSON protocol (http.client; it reconnects by itself after
    moto's `Connection: close`)."""

    def __init__(self, port: int, timeout: float = 30.0):
        import http.client
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, op: str, doc: dict) -> None:
        """Writes the request only (for a long poll whose answer is read later with `answer`)."""
        if self.conn.sock is None:
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn.request("POST", "/", body=json.dumps(doc).encode(), headers=sqs_headers(op))

    def answer(self) -> tuple[int, dict]:
        r = self.conn.getresponse()
        body = r.read()
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            doc = {"_raw": body[:300].decode("utf-8", "replace")}
        return r.status, doc

    def call(self, op: str, doc: dict) -> tuple[int, dict]:
        self.send(op, doc)
        return self.answer()

    def close(self) -> None:
        self.conn.close()


def sqs_create_queue(port: int, name: str, attributes: dict | None = None) -> str:
    c = SqsConn(port)
    try:
        doc = {"QueueName": name}
        if attributes:
            doc["Attributes"] = attributes
        status, out = c.call("CreateQueue", doc)
    finally:
        c.close()
    if status == 501 or (status == 400 and "UnknownOperation" in json.dumps(out)):
        raise SqsUnavailable(f"CreateQueue answered {status} {out.get('__type') or out.get('message') or ''}"
                             .strip())
    if status != 200 or "QueueUrl" not in out:
        raise RuntimeError(f"CreateQueue answered {status}: {json.dumps(out)[:300]}")
    return out["QueueUrl"]


def sqs_queue_counts(port: int, url: str) -> dict:
    """ApproximateNumberOfMessages (visible) and ...NotVisible (in flight) of the queue."""
    c = SqsConn(port)
    try:
        status, out = c.call("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": [
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "QueueArn"]})
    finally:
        c.close()
    if status != 200:
        raise RuntimeError(f"GetQueueAttributes answered {status}: {json.dumps(out)[:300]}")
    a = out.get("Attributes", {})
    return {"visible": int(a.get("ApproximateNumberOfMessages", -1)),
            "in_flight": int(a.get("ApproximateNumberOfMessagesNotVisible", -1)),
            "arn": a.get("QueueArn", "")}


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process (all its threads), in clock ticks, from /proc/PID/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()   # after "pid (comm) "; fields[0] is the state
    return int(fields[11]) + int(fields[12])


def sqs_servers(ctx: Ctx, body) -> tuple[dict, list[str]]:
    """Runs body(srv, running, queue_url) -> dict against each server with a fresh queue "bench".
    A server without SQS gets a note instead of figures; Skipped when no server has SQS."""
    res, notes = {}, []
    for srv in ctx.servers():
        r = srv.start()
        try:
            try:
                url = sqs_create_queue(r.port, "bench")
            except SqsUnavailable as e:
                notes.append(f"{srv.name}: no SQS ({e})")
                continue
            res[srv.name] = body(srv, r, url)
        finally:
            PROCS.stop(r.proc, signal.SIGTERM)
    if not res:
        raise Skipped("; ".join(notes) or "no server to measure")
    return res, notes


def sqs_client(ctx: Ctx) -> str:
    path = Path(ctx.sqs_client)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RuntimeError(f"no load client at {path} (build the stratus-sqsload target, or pass --sqs-client)")
    return str(path)


def run_sqsload(ctx: Ctx, port: int, url: str, mode: str, messages: int, duration: float,
                watch_pid: int | None = None, extra: tuple[str, ...] = ()) -> dict:
    """Runs stratus-sqsload; adds the client's and the server's CPU use (% of one core) to its result."""
    import resource
    argv = [sqs_client(ctx), "--mode", mode, "--port", str(port), "--queue-url", url,
            "--connections", str(ctx.connections), "--duration", f"{duration:g}", "--messages", str(messages),
            *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = cpu_ticks(watch_pid) if watch_pid else None
    t0 = time.monotonic()
    p = PROCS.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=duration + 60)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"stratus-sqsload {mode} did not finish within {duration + 60:g} s") from None
    finally:
        PROCS.stop(p, signal.SIGKILL, grace=0)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError(f"stratus-sqsload {mode} printed no result: {err.strip()[:300]}") from None
    res["client_cpu_pct"] = 100 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / wall
    if server_before is not None:
        server_after = cpu_ticks(watch_pid)
        if server_after is not None:
            res["server_cpu_pct"] = 100 * (server_after - server_before) / os.sysconf("SC_CLK_TCK") / wall
    return res


def sqsload_problems(res: dict) -> str:
    bits = []
    if res.get("errors"):
        bits.append(f"{res['errors']} errors (first: {res.get('first_error', '')[:200]})")
    if res.get("failed_entries"):
        bits.append(f"{res['failed_entries']} failed batch entries")
    return "; ".join(bits)


def cpu_note(res: dict) -> str:
    s = f"client {res.get('client_cpu_pct', 0):.0f}% of a core"
    if "server_cpu_pct" in res:
        s += f", server {res['server_cpu_pct']:.0f}%"
    return s


SQS_SEND_LUA = """wrk.method = "POST"
wrk.path = "/"
wrk.body = [==[{body}]==]
wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessage"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["x-amzn-query-mode"] = "true"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"
wrk.headers["Authorization"] = "{auth}"
"""


def run_wrk_script(ctx: Ctx, port: int, script_text: str, duration: float) -> dict:
    wrk = shutil.which("wrk")
    if not wrk:
        raise RuntimeError("wrk is not installed")
    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
        script = os.path.join(tmp, "script.lua")
        Path(script).write_text(script_text)
        argv = [wrk, f"-t{ctx.threads}", f"-c{ctx.connections}", f"-d{duration:g}s", "--latency", "-s", script,
                f"http://{HOST}:{port}/"]
        p = PROCS.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = p.communicate(timeout=duration + 30)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"wrk did not finish within {duration + 30:g} s") from None
        finally:
            PROCS.stop(p, signal.SIGKILL, grace=0)
    res = parse_wrk(out or "")
    if res["rps"] is None:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    return res


def wl_sqs_send(ctx: Ctx) -> list[Figure]:
    """SendMessage (1 KiB body) msgs/s with wrk, --connections keep-alive connections; latency p50/p99."""
    def body(srv, r, url):
        script = SQS_SEND_LUA.format(body=json.dumps({"QueueUrl": url, "MessageBody": sqs_message_body()}),
                                     auth=SQS_AUTH)
        c0, t0 = cpu_ticks(r.proc.pid), time.monotonic()
        res = run_wrk_script(ctx, r.port, script, ctx.duration)
        res["server_cpu_pct"] = 100 * (cpu_ticks(r.proc.pid) - c0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0)
        res["stored"] = sqs_queue_counts(r.port, url)["visible"]
        ok = (res["requests"] or 0) - res["non2xx"]
        res["ok_rate"] = res["rps"] * ok / res["requests"] if res["requests"] else 0.0
        return res
    res, notes = sqs_servers(ctx, body)
    s, m = res.get("stratus", {}), res.get("moto", {})
    notes.insert(0, f"wrk -t{ctx.threads} -c{ctx.connections} -d{ctx.duration:g}s -s sendmessage.lua "
                    f"(JSON 1.0, 1 KiB body); msgs/s counts 2xx answers only")
    for name, x in res.items():
        ok = (x["requests"] or 0) - x["non2xx"]
        notes.append(f"{name}: {x['requests']:,} answers, {x['non2xx']} non-2xx, socket errors: "
                     f"{x['socket_errors'] or 'none'}, queue holds {x['stored']:,} after (2xx: {ok:,}), "
                     f"server CPU {x['server_cpu_pct']:.0f}% of a core")
    return [Figure("sqs_send", "SendMessage msgs/s", "msg/s", s.get("ok_rate"), m.get("ok_rate"),
                   better="higher", note="; ".join(notes)),
            Figure("sqs_send", "SendMessage latency p50", "ms", s.get("p50_ms"), m.get("p50_ms")),
            Figure("sqs_send", "SendMessage latency p99", "ms", s.get("p99_ms"), m.get("p99_ms"))]


def wl_sqs_drain(ctx: Ctx) -> list[Figure]:
    """Prefilled queue drained by ReceiveMessage(10) + DeleteMessageBatch on --connections connections."""
    def body(srv, r, url):
        n = ctx.drain_messages if srv.name == "stratus" else min(ctx.drain_messages, ctx.moto_messages)
        fill = run_sqsload(ctx, r.port, url, "fill", n, ctx.fill_timeout, r.proc.pid)
        if problems := sqsload_problems(fill):
            raise RuntimeError(f"{srv.name}: prefill: {problems}")
        counts = sqs_queue_counts(r.port, url)
        if counts["visible"] != fill["messages"]:
            raise RuntimeError(f"{srv.name}: prefilled {fill['messages']:,} messages but the queue shows "
                               f"{counts['visible']:,} visible")
        drain = run_sqsload(ctx, r.port, url, "drain", 0, ctx.drain_timeout, r.proc.pid)
        if problems := sqsload_problems(drain):
            raise RuntimeError(f"{srv.name}: drain: {problems}")
        left = sqs_queue_counts(r.port, url)
        return {"n": fill["messages"], "fill": fill, "drain": drain, "left": left}
    res, notes = sqs_servers(ctx, body)
    g = lambda name, part, key: res[name][part][key] if name in res else None   # noqa: E731
    ms = lambda name, key: g(name, "drain", key) / 1000 if name in res and g(name, "drain", key) >= 0 else None  # noqa: E731,E501
    notes.insert(0, f"stratus-sqsload drain: {ctx.connections} connections, each ReceiveMessage("
                    f"MaxNumberOfMessages=10) then DeleteMessageBatch of the handles, until a receive comes "
                    f"back empty (or {ctx.drain_timeout:g} s)")
    for name, x in res.items():
        d = x["drain"]
        notes.append(f"{name}: {x['n']:,} prefilled, {d['messages']:,} deleted in {d['elapsed_s']:.2f} s "
                     f"({'stopped at ' + format(ctx.drain_timeout, 'g') + ' s' if d['hit_deadline'] else 'drained'}"
                     f"), left visible {x['left']['visible']:,} / in flight {x['left']['in_flight']:,}; "
                     f"{cpu_note(d)}")
    fill_note = "; ".join(f"{name}: {x['n']:,} messages in {x['fill']['elapsed_s']:.2f} s, {cpu_note(x['fill'])}"
                          for name, x in res.items())
    return [Figure("sqs_drain", "messages drained/s", "msg/s", g("stratus", "drain", "messages_per_s"),
                   g("moto", "drain", "messages_per_s"), better="higher", note="; ".join(notes)),
            Figure("sqs_drain", "ReceiveMessage(10) latency p50", "ms", ms("stratus", "p50_us"), ms("moto", "p50_us")),
            Figure("sqs_drain", "ReceiveMessage(10) latency p99", "ms", ms("stratus", "p99_us"), ms("moto", "p99_us")),
            Figure("sqs_drain", "DeleteMessageBatch latency p50", "ms", ms("stratus", "delete_p50_us"),
                   ms("moto", "delete_p50_us")),
            Figure("sqs_drain", "DeleteMessageBatch latency p99", "ms", ms("stratus", "delete_p99_us"),
                   ms("moto", "delete_p99_us")),
            Figure("sqs_drain", "prefill SendMessageBatch msgs/s", "msg/s", g("stratus", "fill", "messages_per_s"),
                   g("moto", "fill", "messages_per_s"), better="higher",
                   note=f"stratus-sqsload fill, {ctx.connections} connections, batches of 10; " + fill_note)]


async def _hold_receivers(port: int, url: str, n: int, pid: int, hold_s: float, wait_s: int) -> dict:
    """Opens n connections, each sending ReceiveMessage(WaitTimeSeconds=wait_s) on an empty queue, then
    measures the server's CPU over hold_s seconds while they all wait."""
    import asyncio
    request = (f"POST / HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in sqs_headers("ReceiveMessage").items()))
    body = json.dumps({"QueueUrl": url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": wait_s}).encode()
    request = request.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    writers, answered = [], []
    connect_gate = asyncio.Semaphore(64)   # a burst of 1,000 SYNs would overflow small listen backlogs

    async def one():
        async with connect_gate:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 30)
        writers.append(writer)
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        answered.append((time.monotonic(), head[:40]))

    t_start = time.monotonic()
    tasks = [asyncio.ensure_future(one()) for _ in range(n)]
    try:
        deadline = time.monotonic() + 60
        while len(writers) < n and time.monotonic() < deadline:
            failed = [t for t in tasks if t.done() and t.exception() is not None]
            if failed:
                raise RuntimeError(f"a receiver failed: {failed[0].exception()!r}")
            await asyncio.sleep(0.05)
        if len(writers) < n:
            raise RuntimeError(f"only {len(writers)} of {n} receivers connected within 60 s")
        t_sent = time.monotonic()
        await asyncio.sleep(0.5)           # let the server take the last requests in
        # The window ends a second before the first receiver's wait could expire.
        window = min(hold_s, t_start + wait_s - 1 - time.monotonic())
        if window < 1:
            raise RuntimeError(f"connecting {n} receivers took {t_sent - t_start:.1f} s: no time is left to "
                               f"measure before their {wait_s} s waits end")
        c0, t0 = cpu_ticks(pid), time.monotonic()
        await asyncio.sleep(window)
        c1, t1 = cpu_ticks(pid), time.monotonic()
        answered_in_window = [a for a in answered if a[0] <= t1]
        return {"cpu_pct": 100 * (c1 - c0) / os.sysconf("SC_CLK_TCK") / (t1 - t0), "window_s": t1 - t0,
                "setup_s": t_sent - t_start, "answered": len(answered_in_window),
                "answered_sample": answered_in_window[0][1].decode("latin-1") if answered_in_window else ""}
    finally:
        for t in tasks:
            t.cancel()
        for w in writers:
            w.close()
        await asyncio.gather(*tasks, return_exceptions=True)


def longpoll_latency(port: int, url: str, reps: int) -> dict:
    """One receiver waiting (WaitTimeSeconds=20); SendMessage on another connection; time from sending it
    to the receiver's answer (read completely). Each message is deleted before the next round."""
    receiver, sender = SqsConn(port), SqsConn(port)
    times, misses = [], 0
    body = sqs_message_body()
    try:
        for i in range(reps):
            receiver.send("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 20})
            time.sleep(0.02)                # the receive is waiting in the server by now
            t0 = time.perf_counter_ns()
            sender.send("SendMessage", {"QueueUrl": url, "MessageBody": body})
            status, out = receiver.answer()
            t1 = time.perf_counter_ns()
            s_status, s_out = sender.answer()
            if s_status != 200:
                raise RuntimeError(f"SendMessage answered {s_status}: {json.dumps(s_out)[:300]}")
            msgs = out.get("Messages") or []
            if status != 200 or len(msgs) != 1:
                misses += 1
                if status != 200:
                    raise RuntimeError(f"ReceiveMessage answered {status}: {json.dumps(out)[:300]}")
                continue
            times.append((t1 - t0) / 1e6)
            d_status, d_out = sender.call("DeleteMessage", {"QueueUrl": url,
                                                            "ReceiptHandle": msgs[0]["ReceiptHandle"]})
            if d_status != 200:
                raise RuntimeError(f"DeleteMessage answered {d_status}: {json.dumps(d_out)[:300]}")
    finally:
        receiver.close()
        sender.close()
    return {"times": times, "misses": misses}


def wl_sqs_longpoll(ctx: Ctx) -> list[Figure]:
    """Server CPU with 1,000 idle long polls; SendMessage → waiting receiver latency p50/p99."""
    import asyncio
    wait_s = 20

    def body(srv, r, url):
        hold = asyncio.run(_hold_receivers(r.port, url, ctx.longpoll_receivers, r.proc.pid, ctx.longpoll_hold,
                                           wait_s))
        # A queue of its own: the receivers just closed may still be waiting in the server (it learns of a
        # closed socket only when it answers), and such a waiter would take the message.
        lat = longpoll_latency(r.port, sqs_create_queue(r.port, "bench-latency"), ctx.longpoll_reps)
        # The same rounds timed by the C++ client (its own cost a few µs), on a queue of its own again.
        cpp = run_sqsload(ctx, r.port, sqs_create_queue(r.port, "bench-latency-cpp"), "longpoll",
                          ctx.longpoll_reps, ctx.longpoll_reps * 0.2 + 30, r.proc.pid,
                          ("--receivers", str(ctx.longpoll_latency_receivers)))
        if problems := sqsload_problems(cpp):
            raise RuntimeError(f"{srv.name}: stratus-sqsload longpoll: {problems}")
        return {"hold": hold, "lat": lat, "cpp": cpp}
    res, notes = sqs_servers(ctx, body)
    for name, x in res.items():
        h = x["hold"]
        bits = [f"{name}: {ctx.longpoll_receivers:,} receivers connected and sent in {h['setup_s']:.1f} s"]
        if h["answered"]:
            bits.append(f"{h['answered']} answered before {wait_s} s ({h['answered_sample']!r})")
        if h["window_s"] < ctx.longpoll_hold - 0.05:
            bits.append(f"window shortened to {h['window_s']:.1f} s so that it ends before the first wait does")
        if x["lat"]["misses"]:
            bits.append(f"{x['lat']['misses']} of {ctx.longpoll_reps} waiting receives came back without the message")
        notes.append(", ".join(bits))
    cpu = {n: x["hold"]["cpu_pct"] for n, x in res.items()}
    lat = {n: x["lat"]["times"] for n, x in res.items()}
    cpp = {n: x["cpp"] for n, x in res.items()}
    cpp_ms = lambda name, key: cpp[name][key] / 1000 if name in cpp and cpp[name][key] >= 0 else None  # noqa: E731
    lat_note = (f"{ctx.longpoll_reps} rounds: one ReceiveMessage(WaitTimeSeconds={wait_s}) waiting 20 ms, then "
                f"SendMessage (1 KiB) on a second connection; timed from writing SendMessage to the receiver's "
                f"answer read (Python http.client, its overhead included)")
    cpp_note = (f"stratus-sqsload --mode longpoll: {ctx.longpoll_latency_receivers} receiver connection(s) each "
                f"keeping a ReceiveMessage(WaitTimeSeconds={wait_s}) waiting, {ctx.longpoll_reps} rounds of one "
                f"SendMessage (1 KiB) 20 ms after every receiver waits again, timed in C++ from just before the "
                f"SendMessage is written to the receiver having read the whole answer; "
                + "; ".join(f"{n}: {c['messages']} timed, max {c['max_us'] / 1000:.2f} ms, {cpu_note(c)}"
                            for n, c in cpp.items()))
    return [Figure("sqs_longpoll", f"server CPU, {ctx.longpoll_receivers:,} idle long polls", "% core",
                   cpu.get("stratus"), cpu.get("moto"), note="; ".join(
                       [f"/proc/PID/stat utime+stime over {ctx.longpoll_hold:g} s, every receiver a keep-alive "
                        f"socket of its own (asyncio)"] + notes)),
            Figure("sqs_longpoll", "send → waiting receiver, p50 (C++ client)", "ms", cpp_ms("stratus", "p50_us"),
                   cpp_ms("moto", "p50_us"), note=cpp_note),
            Figure("sqs_longpoll", "send → waiting receiver, p99 (C++ client)", "ms", cpp_ms("stratus", "p99_us"),
                   cpp_ms("moto", "p99_us")),
            Figure("sqs_longpoll", "send → waiting receiver, p50 (Python client)", "ms", pct(lat.get("stratus"), 50),
                   pct(lat.get("moto"), 50), note=lat_note),
            Figure("sqs_longpoll", "send → waiting receiver, p99 (Python client)", "ms", pct(lat.get("stratus"), 99),
                   pct(lat.get("moto"), 99))]


def wl_sqs_rss_1m(ctx: Ctx) -> list[Figure]:
    """Server RSS with 1,000,000 1 KiB messages waiting (moto: --moto-messages); fill rate."""
    def body(srv, r, url):
        n = ctx.rss_messages if srv.name == "stratus" else min(ctx.rss_messages, ctx.moto_messages)
        time.sleep(0.2)
        before = rss_kib(r.proc.pid)
        fill = run_sqsload(ctx, r.port, url, "fill", n, ctx.fill_timeout, r.proc.pid)
        if problems := sqsload_problems(fill):
            raise RuntimeError(f"{srv.name}: fill: {problems}")
        counts = sqs_queue_counts(r.port, url)
        time.sleep(0.2)
        after = rss_kib(r.proc.pid)
        return {"n": fill["messages"], "wanted": n, "fill": fill, "counts": counts, "before": before,
                "after": after}
    res, notes = sqs_servers(ctx, body)
    for name, x in res.items():
        notes.append(f"{name}: {x['n']:,} of {x['wanted']:,} messages sent in {x['fill']['elapsed_s']:.1f} s"
                     f"{' (stopped at ' + format(ctx.fill_timeout, 'g') + ' s)' if x['fill']['hit_deadline'] else ''}, "
                     f"queue shows {x['counts']['visible']:,} visible; {cpu_note(x['fill'])}")
    mib = lambda k: k / 1024 if k is not None else None   # noqa: E731
    v = lambda name, key: res[name][key] if name in res else None   # noqa: E731
    per_msg = {n: (x["after"] - x["before"]) * 1024 / x["n"] for n, x in res.items() if x["n"]}
    ns = ", ".join(f"{n} {x['n']:,}" for n, x in res.items())
    after = Figure("sqs_rss_1m", "RSS with the messages waiting", "MiB", mib(v("stratus", "after")),
                   mib(v("moto", "after")), note=f"messages waiting: {ns}"
                   + ("; no ratio: different counts" if len({x['n'] for x in res.values()}) > 1 else ""))
    if len({x["n"] for x in res.values()}) > 1:
        after.ratio = None
    return [Figure("sqs_rss_1m", "fill SendMessageBatch msgs/s", "msg/s",
                   v("stratus", "fill") and v("stratus", "fill")["messages_per_s"],
                   v("moto", "fill") and v("moto", "fill")["messages_per_s"], better="higher",
                   note=f"stratus-sqsload fill, {ctx.connections} connections, batches of 10 x 1 KiB; "
                        + "; ".join(notes)),
            Figure("sqs_rss_1m", "RSS before fill", "MiB", mib(v("stratus", "before")), mib(v("moto", "before")),
                   note="VmRSS of the server process, queue created, empty"),
            after,
            Figure("sqs_rss_1m", "RSS growth per message", "bytes", per_msg.get("stratus"), per_msg.get("moto"),
                   note="(after - before) / messages; 1 KiB bodies")]


# ------------------------------------------------------------------------------------------
# SQS → Lambda event source mapping (Stratus only)
# ------------------------------------------------------------------------------------------

STAMP_LINE = re.compile(r"STAMP (\d+) (\S+) (esm-\S+)")


def function_log_stamps(c: LambdaConn, name: str) -> dict[str, int]:
    """body → handler-entry time (ns, CLOCK_REALTIME) from the stamp function's log lines."""
    status, body = c.call("GET", f"/_stratus/logs/{name}")
    if status != 200:
        raise RuntimeError(f"GET /_stratus/logs/{name} answered {status}: {body[:200]!r}")
    return {m.group(3): int(m.group(1)) for m in STAMP_LINE.finditer(body.decode("utf-8", "replace"))}


def wait_stamp(c: LambdaConn, name: str, key: str, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stamps = function_log_stamps(c, name)
        if key in stamps:
            return stamps[key]
        time.sleep(0.01)    # the figure comes from the stamps, not from when they are seen
    return None


def wl_esm_latency(ctx: Ctx) -> list[Figure]:
    """SQS event source mapping → warm `stamp` function: SendMessage → handler entered, p50/p99."""
    lib = function_library(ctx, "stamp")
    r = ctx.stratus.start()
    c = sqs = None
    try:
        try:
            url = sqs_create_queue(r.port, "esm-bench")
        except SqsUnavailable as e:
            raise Skipped(f"stratus has no SQS yet: {e}") from None
        arn = sqs_queue_counts(r.port, url)["arn"]
        c = LambdaConn(r.port)
        c.create_function("stamp", lib, Timeout=30)
        for _ in range(5):   # one warm instance
            status, body = c.invoke("stamp")
            if status != 200:
                raise RuntimeError(f"Invoke stamp answered {status}: {body[:300]!r}")
        status, body = c.call("POST", "/2015-03-31/event-source-mappings/", json.dumps({
            "EventSourceArn": arn, "FunctionName": "stamp", "BatchSize": 1,
            "MaximumBatchingWindowInSeconds": 0, "Enabled": True}).encode())
        if status == 501:
            raise Skipped(f"CreateEventSourceMapping answered 501 (not implemented): {body[:200]!r}")
        if status != 202:
            raise RuntimeError(f"CreateEventSourceMapping answered {status}: {body[:300]!r}")
        uuid = json.loads(body)["UUID"]
        state, deadline = "", time.monotonic() + 15
        while time.monotonic() < deadline:
            status, body = c.call("GET", f"/2015-03-31/event-source-mappings/{uuid}")
            state = json.loads(body).get("State", "") if status == 200 else f"HTTP {status}"
            if state == "Enabled":
                break
            time.sleep(0.05)
        sqs = SqsConn(r.port)
        status, out = sqs.call("SendMessage", {"QueueUrl": url, "MessageBody": "esm-warmup"})
        if status != 200:
            raise RuntimeError(f"SendMessage answered {status}: {json.dumps(out)[:300]}")
        if wait_stamp(c, "stamp", "esm-warmup", 15) is None:
            raise Skipped(f"the mapping (state {state!r}) never invoked the function within 15 s of a "
                          f"SendMessage: no figure")
        times = []
        for i in range(ctx.esm_messages):
            key = f"esm-{i}"
            t_send = time.time_ns()
            sqs.send("SendMessage", {"QueueUrl": url, "MessageBody": key})
            status, out = sqs.answer()
            if status != 200:
                raise RuntimeError(f"SendMessage answered {status}: {json.dumps(out)[:300]}")
            entered = wait_stamp(c, "stamp", key, 10)
            if entered is None:
                raise RuntimeError(f"message {key} did not reach the function within 10 s "
                                   f"({len(times)} of {ctx.esm_messages} had)")
            times.append((entered - t_send) / 1e6)
        pool = next((p for p in function_stats(r.port).get("pools", []) if p["function"] == "stamp"), {})
    finally:
        for x in (c, sqs):
            if x is not None:
                x.close()
        PROCS.stop(r.proc, signal.SIGTERM)
    note = (f"Stratus only: moto runs Lambda in Docker; mapping BatchSize=1, batching window 0; "
            f"{ctx.esm_messages} messages one at a time, each timed from just before writing SendMessage "
            f"(time.time_ns) to the CLOCK_REALTIME the stamp function logged on entry; "
            f"cold starts in the pool: {pool.get('cold_starts')}")
    return [Figure("esm_latency", "send → handler entered, p50", "ms", pct(times, 50), None, note=note),
            Figure("esm_latency", "send → handler entered, p99", "ms", pct(times, 99), None),
            Figure("esm_latency", "send → handler entered, max", "ms", max(times), None)]


# name → function; order is the run order. Add new workloads here.
# ------------------------------------------------------------------------------------------
# API Gateway (Stratus only: moto's API Gateway does not run .so functions)
# ------------------------------------------------------------------------------------------

APIGW_AUTH = FN_AUTH.replace("/lambda/", "/apigateway/")


def apigw_http_api(c: LambdaConn, routes: int) -> str:
    """Quick-creates an HTTP API in front of noop with `routes` routes in all; returns its id."""
    def call(method: str, path: str, doc: dict) -> dict:
        status, body = c.call(method, path, json.dumps(doc).encode(), {"Authorization": APIGW_AUTH})
        if status not in (200, 201):
            raise RuntimeError(f"{method} {path} answered {status}: {body[:300]!r}")
        return json.loads(body)
    fn_arn = "arn:aws:lambda:us-east-1:000000000000:function:noop"
    api = call("POST", "/v2/apis", {"name": f"bench-{routes}", "protocolType": "HTTP", "target": fn_arn})["apiId"]
    status, body = c.call("GET", f"/v2/apis/{api}/integrations", b"", {"Authorization": APIGW_AUTH})
    integration = json.loads(body)["items"][0]["integrationId"]
    for i in range(routes - 1):  # quick create made the $default route
        call("POST", f"/v2/apis/{api}/routes", {"routeKey": f"GET /r{i}/{{id}}/x", "target": f"integrations/{integration}"})
    return api


SLS_DIR = REPO / "tests" / "bench" / "peers" / "serverless-offline"
SLS_PATH = "/r5/abc/x"              # serverless.yml: GET /r{0..9}/{id}/x → handler.noop
SLS_START_TIMEOUT_S = 120.0         # `serverless offline` loads the whole framework: ~20 s on a loaded 2-core box
# How each serverless-offline mode is started (README: "The serverless-offline peer").
SLS_MODES = {
    # The handler runs on serverless-offline's own event loop: no thread hop, the fastest it offers.
    "in-process": ["--useInProcess"],
    # The default for Node handlers: each instance is a worker thread, reused while warm.
    "worker-threads": [],
}


class ServerlessOffline:
    """serverless-offline (serverless v3) from tests/bench/peers/serverless-offline, installed there by
    tests/bench/setup.sh: the Node twin of noop (handler.js) behind an httpApi event, 10 routes."""
    name = "serverless-offline"

    def __init__(self, directory: Path, modes: list[str]):
        self.dir = Path(directory)
        self.modes = modes

    def missing(self) -> str | None:
        """Why it cannot run here, or None."""
        if not shutil.which("node"):
            return "node is not installed (scripts/deps.sh)"
        for rel in ("node_modules/serverless/bin/serverless.js", "node_modules/serverless-offline/package.json"):
            if not (self.dir / rel).is_file():
                return f"{self.dir / rel} is missing: run tests/bench/setup.sh (npm ci)"
        return None

    def version(self) -> str:
        def v(pkg):
            try:
                return json.loads((self.dir / "node_modules" / pkg / "package.json").read_text())["version"]
            except (OSError, ValueError, KeyError):
                return "?"
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        return f"serverless {v('serverless')}, serverless-offline {v('serverless-offline')}, node {node}"

    def argv(self, mode: str, port: int, lambda_port: int) -> list[str]:
        return ["node", str(self.dir / "node_modules" / "serverless" / "bin" / "serverless.js"), "offline",
                "--httpPort", str(port), "--lambdaPort", str(lambda_port), *SLS_MODES[mode]]

    def start(self, mode: str, log) -> Running:
        port, lambda_port = free_port(), free_port()
        env = dict(os.environ, SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
                   SLS_DEPRECATION_DISABLE="*", NODE_ENV="production")
        t0 = time.monotonic()
        # Its per-request log lines go to a file (as Stratus keeps its function logs in memory).
        p = PROCS.spawn(self.argv(mode, port, lambda_port), cwd=self.dir, env=env, stdout=log,
                        stderr=subprocess.STDOUT)
        try:
            t_answer = wait_http(port, SLS_PATH, t0 + SLS_START_TIMEOUT_S, True, p)
        except RuntimeError as e:
            PROCS.stop(p, signal.SIGKILL, grace=0)
            log.seek(0)
            raise RuntimeError(f"serverless-offline ({mode}) did not serve GET {SLS_PATH}: {e}\n"
                               f"{log.read()[-2000:].decode('utf-8', 'replace')}") from None
        return Running(p, port, t0, None, t_answer)


def wl_apigw_rps(ctx: Ctx) -> list[Figure]:
    """HTTP API (payload 2.0) → warm noop with wrk, --connections connections; 10 routes vs 1,000 routes;
    side by side with serverless-offline serving a Node no-op on the same wrk workload (10 routes)."""
    r, c = stratus_with_noop(ctx)
    figures = []
    stratus10 = None
    try:
        for routes in (10, 1000):
            api = apigw_http_api(c, routes)
            path = f"/_aws/execute-api/{api}/r5/abc/x"   # matches GET /r5/{id}/x
            run_wrk(ctx, r.port, path)                    # warms the pool (cold starts) untimed
            res = run_wrk(ctx, r.port, path)
            if routes == 10:
                stratus10 = res
            note = (f"moto cannot run .so functions; wrk -t{ctx.threads} "
                    f"-c{ctx.connections} -d{ctx.duration:g}s GET {path} (path form), "
                    f"{routes} routes, after an untimed warm-up run; {res['non2xx']} non-2xx, socket errors: "
                    f"{res['socket_errors'] or 'none'}")
            figures += [Figure("apigw_rps", f"HTTP API req/s, {routes} routes", "req/s", res["rps"], None,
                               better="higher", note=note),
                        Figure("apigw_rps", f"HTTP API latency p50, {routes} routes", "ms", res["p50_ms"], None),
                        Figure("apigw_rps", f"HTTP API latency p99, {routes} routes", "ms", res["p99_ms"], None)]
    finally:
        c.close()
        PROCS.stop(r.proc, signal.SIGTERM)

    # The peer, one server at a time (never both under load at once), same wrk workload.
    sls = ctx.sls
    if sls is None:
        print("[bench] apigw_rps: serverless-offline comparison off (--no-serverless-offline)",
              file=sys.stderr, flush=True)
        return figures
    why = sls.missing()
    if why:
        print(f"[bench] apigw_rps: serverless-offline skipped: {why}", file=sys.stderr, flush=True)
        figures[0].note += f"; serverless-offline skipped: {why}"
        return figures
    version = sls.version()
    for mode in sls.modes:
        with tempfile.TemporaryFile() as log:
            p = sls.start(mode, log)
            try:
                run_wrk(ctx, p.port, SLS_PATH)             # warm-up: its instances (worker threads) start here
                res = run_wrk(ctx, p.port, SLS_PATH)
            finally:
                PROCS.stop(p.proc, signal.SIGTERM)
        label = f"vs serverless-offline ({mode})"
        note = (f"{version}; `serverless offline {' '.join(SLS_MODES[mode]) or '(defaults)'}` "
                f"(reloadHandler off, its default), handler.js returns {{}} like noop; wrk -t{ctx.threads} "
                f"-c{ctx.connections} -d{ctx.duration:g}s GET {SLS_PATH}, 10 routes, after an untimed warm-up run; "
                f"{res['non2xx']} non-2xx, socket errors: {res['socket_errors'] or 'none'}; the stratus column "
                f"repeats its 10-route run")
        figures += [Figure("apigw_rps", f"HTTP API req/s, 10 routes, {label}", "req/s", stratus10["rps"],
                           res["rps"], better="higher", note=note, peer=sls.name),
                    Figure("apigw_rps", f"HTTP API latency p50, 10 routes, {label}", "ms", stratus10["p50_ms"],
                           res["p50_ms"], peer=sls.name),
                    Figure("apigw_rps", f"HTTP API latency p99, 10 routes, {label}", "ms", stratus10["p99_ms"],
                           res["p99_ms"], peer=sls.name)]
    return figures


WORKLOADS: list[tuple[str, Callable[[Ctx], list[Figure]]]] = [
    ("start", wl_start),
    ("rss", wl_rss),
    ("health_rps", wl_health_rps),
    ("fn_cold", wl_fn_cold),
    ("fn_warm", wl_fn_warm),
    ("fn_rps", wl_fn_rps),
    ("fn_rss", wl_fn_rss),
    ("sqs_send", wl_sqs_send),
    ("sqs_drain", wl_sqs_drain),
    ("sqs_longpoll", wl_sqs_longpoll),
    ("sqs_rss_1m", wl_sqs_rss_1m),
    ("esm_latency", wl_esm_latency),
    ("apigw_rps", wl_apigw_rps),
]


# ------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------

def fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    if abs(v) >= 1000:
        s = f"{v:,.0f}"
    elif abs(v) >= 100:
        s = f"{v:.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return f"{s} {unit}".rstrip()


def print_table(figs: list[Figure], out=sys.stdout) -> None:
    peers = sorted({f.peer for f in figs if f.moto is not None} | ({"moto"} if not figs else set()))
    second = "moto" if peers in ([], ["moto"]) else "peer"
    rows = [("figure", "stratus", second, "ratio", "better")]
    for f in figs:
        rows.append((f.name, fmt(f.stratus, f.unit), fmt(f.moto, f.unit),
                     "-" if f.ratio is None else f"{f.ratio:.3g}x", f.better))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))),
              file=out)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=out)
    notes = [f for f in figs if f.note]
    if notes:
        print(f"\nratio = stratus / {second}" + (f" (peer: {', '.join(peers)}, named in each figure)"
                                              if second == "peer" else "") + ".  notes:", file=out)
        for f in notes:
            print(f"  {f.name}: {f.note}", file=out)


def default_sqs_client(stratus: str) -> str:
    """stratus-sqsload next to the stratus binary, else the Release build's."""
    beside = Path(os.path.abspath(stratus)).parent / "stratus-sqsload"
    return str(beside if beside.is_file() else REPO / "build" / "bin" / "stratus-sqsload")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stratus", default=str(REPO / "build" / "bin" / "stratus"),
                    help="the stratus binary (default: build/bin/stratus, the Release build)")
    ap.add_argument("--stratus-args", default="", help="extra arguments for 'stratus serve'")
    ap.add_argument("--persistent", action="store_true",
                    help="start Stratus with a fresh --data-dir each time instead of --ephemeral (measures "
                         "the write-ahead log that keeps acknowledged writes across kill -9)")
    ap.add_argument("--moto", default=None, help="command starting moto_server (default: the "
                    "moto_server found on PATH, pyenv shims resolved)")
    ap.add_argument("--no-moto", action="store_true", help="measure Stratus only")
    ap.add_argument("--only", action="append", default=[],
                    help="run only these workloads (repeatable or comma-separated)")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    ap.add_argument("--starts", type=int, default=10, help="starts per server for 'start' (10)")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds of wrk load (5)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    ap.add_argument("--functions-dir", default=None,
                    help="the example functions (default: ../functions next to the stratus binary's bin/)")
    ap.add_argument("--cold-starts", type=int, default=30, help="cold starts for 'fn_cold' (30)")
    ap.add_argument("--warm-calls", type=int, default=2000, help="timed Invokes for 'fn_warm' (2000)")
    ap.add_argument("--rss-invokes", type=int, default=1_000_000,
                    help="warm Invokes for 'fn_rss' (1,000,000; stops after 300 s regardless)")
    ap.add_argument("--sqs-client", default=None,
                    help="the SQS load client stratus-sqsload (default: next to the stratus binary, else "
                         "build/bin/stratus-sqsload)")
    ap.add_argument("--drain-messages", type=int, default=100_000,
                    help="messages prefilled for 'sqs_drain' (100,000; moto gets at most --moto-messages)")
    ap.add_argument("--moto-messages", type=int, default=1_000,
                    help="cap on the messages moto is filled with in 'sqs_drain' and 'sqs_rss_1m' (1,000)")
    ap.add_argument("--fill-timeout", type=float, default=300.0,
                    help="bound on one fill (SendMessageBatch) run in seconds (300)")
    ap.add_argument("--drain-timeout", type=float, default=30.0, help="bound on the drain in seconds (30)")
    ap.add_argument("--longpoll-receivers", type=int, default=1000,
                    help="concurrent long polls in 'sqs_longpoll' (1000)")
    ap.add_argument("--longpoll-hold", type=float, default=10.0,
                    help="seconds the server's CPU is measured while they wait (10; at most 18)")
    ap.add_argument("--longpoll-reps", type=int, default=200,
                    help="send → waiting receiver rounds in 'sqs_longpoll' (200)")
    ap.add_argument("--longpoll-latency-receivers", type=int, default=1,
                    help="receivers waiting during the C++ client's send → receiver rounds in 'sqs_longpoll' (1)")
    ap.add_argument("--rss-messages", type=int, default=1_000_000,
                    help="messages waiting in 'sqs_rss_1m' (1,000,000; moto gets at most --moto-messages)")
    ap.add_argument("--esm-messages", type=int, default=100, help="timed messages in 'esm_latency' (100)")
    ap.add_argument("--no-serverless-offline", action="store_true",
                    help="apigw_rps without its serverless-offline peer")
    ap.add_argument("--serverless-offline-dir", default=str(SLS_DIR),
                    help="the serverless-offline project (default tests/bench/peers/serverless-offline, "
                         "installed by tests/bench/setup.sh)")
    ap.add_argument("--serverless-offline-modes", default="in-process,worker-threads",
                    help=f"which serverless-offline modes apigw_rps measures, in order ({', '.join(SLS_MODES)})")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)

    names = [n for n, _ in WORKLOADS]
    if args.list:
        for n, fn in WORKLOADS:
            print(f"{n:12} {(fn.__doc__ or '').strip()}")
        return 0
    only = [x for o in args.only for x in o.split(",") if x]
    unknown = [x for x in only if x not in names]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; known: {names}")
    if not (os.path.isfile(args.stratus) and os.access(args.stratus, os.X_OK)):
        ap.error(f"no stratus binary at {args.stratus} (build it or pass --stratus)")
    if not (1 <= args.starts <= 1000 and 0 < args.duration <= 600):
        ap.error("--starts must be 1..1000 and --duration 0..600 s")
    if not (1 <= args.cold_starts <= 1000 and 1 <= args.warm_calls <= 1_000_000
            and 1 <= args.rss_invokes <= 100_000_000):
        ap.error("--cold-starts must be 1..1000, --warm-calls 1..1e6, --rss-invokes 1..1e8")
    if not (10 <= args.drain_messages <= 100_000_000 and 10 <= args.moto_messages <= 100_000_000
            and 10 <= args.rss_messages <= 100_000_000 and 0 < args.fill_timeout <= 3600
            and 0 < args.drain_timeout <= 3600):
        ap.error("--drain-messages, --moto-messages, --rss-messages must be 10..1e8; "
                 "--fill-timeout, --drain-timeout 0..3600 s")
    if not (1 <= args.longpoll_receivers <= 10_000 and 0 < args.longpoll_hold <= 18
            and 1 <= args.longpoll_reps <= 100_000 and 1 <= args.esm_messages <= 100_000
            and 1 <= args.longpoll_latency_receivers <= 4096):
        ap.error("--longpoll-receivers must be 1..10000, --longpoll-hold 0..18 s (the waits last 20 s), "
                 "--longpoll-reps and --esm-messages 1..1e5, --longpoll-latency-receivers 1..4096")

    sls_modes = [m for m in args.serverless_offline_modes.split(",") if m]
    if not sls_modes or any(m not in SLS_MODES for m in sls_modes):
        ap.error(f"--serverless-offline-modes takes a comma-separated list of {list(SLS_MODES)}")

    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    loadavg_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
        stack = os.path.join(tmp, "empty-stack.yaml")
        Path(stack).write_text("Resources: {}\n")
        moto = None if args.no_moto else Moto(shlex.split(args.moto) if args.moto else default_moto_argv())
        functions_dir = (args.functions_dir
                         or str(Path(os.path.abspath(args.stratus)).parent.parent / "functions"))
        ctx = Ctx(Stratus(os.path.abspath(args.stratus), shlex.split(args.stratus_args), stack,
                          tmp if args.persistent else None), moto,
                  args.starts, args.duration, args.threads, args.connections, functions_dir,
                  args.cold_starts, args.warm_calls, args.rss_invokes,
                  args.sqs_client or default_sqs_client(args.stratus), args.drain_messages,
                  args.moto_messages, args.fill_timeout, args.drain_timeout, args.longpoll_receivers,
                  args.longpoll_hold, args.longpoll_reps, args.rss_messages, args.esm_messages,
                  args.longpoll_latency_receivers,
                  None if args.no_serverless_offline else ServerlessOffline(Path(args.serverless_offline_dir),
                                                                           sls_modes))
        figs: list[Figure] = []
        errors: dict[str, str] = {}
        skipped: dict[str, str] = {}
        try:
            for name, fn in WORKLOADS:
                if only and name not in only:
                    continue
                print(f"[bench] {name} ...", file=sys.stderr, flush=True)
                try:
                    figs += fn(ctx)
                except Skipped as e:
                    skipped[name] = str(e)
                    print(f"[bench] {name} skipped: {e}", file=sys.stderr, flush=True)
                except RuntimeError as e:
                    errors[name] = str(e)
                    print(f"[bench] {name} failed: {e}", file=sys.stderr, flush=True)
                finally:
                    PROCS.kill_all()
        except KeyboardInterrupt:
            print("\n[bench] interrupted; stopping everything", file=sys.stderr)
            PROCS.kill_all()
            print_table(figs)
            return 130
        finally:
            PROCS.kill_all()

    print_table(figs)
    if skipped:
        print("\nskipped workloads: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    print(f"\nstratus state: {'--data-dir (a new one per start; write-ahead log on)' if args.persistent else '--ephemeral (no write-ahead log)'}")
    print(f"load average before / after: {' '.join(f'{x:.2f}' for x in loadavg_before)} / "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs; other work on the "
          f"machine skews every figure)")
    if args.json:
        meta = {"stratus": ctx.stratus.argv(fresh=False), "moto": ctx.moto.argv(0)[:-4] if ctx.moto else None,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
                "cpus": os.cpu_count(), "python": platform.python_version(),
                "starts": args.starts, "duration_s": args.duration, "threads": args.threads,
                "connections": args.connections, "errors": errors, "skipped": skipped,
                "serverless_offline": (None if ctx.sls is None or ctx.sls.missing()
                                       else {"versions": ctx.sls.version(), "modes": ctx.sls.modes}),
                "loadavg_before": loadavg_before, "loadavg_after": os.getloadavg()}
        Path(args.json).write_text(json.dumps({"meta": meta, "figures": [asdict(f) for f in figs]},
                                              indent=2) + "\n")
    if errors:
        print("\nfailed workloads: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
