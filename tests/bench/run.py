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

    def __init__(self, binary: str, extra: list[str], stack_file: str):
        self.binary = binary
        self.extra = extra
        self.stack_file = stack_file

    def argv(self) -> list[str]:
        return [self.binary, "serve", "--ephemeral", "--host", HOST, "--port", "0",
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


# name → function; order is the run order. Add new workloads here.
WORKLOADS: list[tuple[str, Callable[[Ctx], list[Figure]]]] = [
    ("start", wl_start),
    ("rss", wl_rss),
    ("health_rps", wl_health_rps),
    ("fn_cold", wl_fn_cold),
    ("fn_warm", wl_fn_warm),
    ("fn_rps", wl_fn_rps),
    ("fn_rss", wl_fn_rss),
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
    rows = [("figure", "stratus", "moto", "ratio", "better")]
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
        print("\nratio = stratus / moto.  notes:", file=out)
        for f in notes:
            print(f"  {f.name}: {f.note}", file=out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stratus", default=str(REPO / "build" / "bin" / "stratus"),
                    help="the stratus binary (default: build/bin/stratus, the Release build)")
    ap.add_argument("--stratus-args", default="", help="extra arguments for 'stratus serve'")
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

    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)

    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
        stack = os.path.join(tmp, "empty-stack.yaml")
        Path(stack).write_text("Resources: {}\n")
        moto = None if args.no_moto else Moto(shlex.split(args.moto) if args.moto else default_moto_argv())
        functions_dir = (args.functions_dir
                         or str(Path(os.path.abspath(args.stratus)).parent.parent / "functions"))
        ctx = Ctx(Stratus(os.path.abspath(args.stratus), shlex.split(args.stratus_args), stack), moto,
                  args.starts, args.duration, args.threads, args.connections, functions_dir,
                  args.cold_starts, args.warm_calls, args.rss_invokes)
        figs: list[Figure] = []
        errors: dict[str, str] = {}
        try:
            for name, fn in WORKLOADS:
                if only and name not in only:
                    continue
                print(f"[bench] {name} ...", file=sys.stderr, flush=True)
                try:
                    figs += fn(ctx)
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
    if args.json:
        meta = {"stratus": ctx.stratus.argv(), "moto": ctx.moto.argv(0)[:-4] if ctx.moto else None,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
                "cpus": os.cpu_count(), "python": platform.python_version(),
                "starts": args.starts, "duration_s": args.duration, "threads": args.threads,
                "connections": args.connections, "errors": errors}
        Path(args.json).write_text(json.dumps({"meta": meta, "figures": [asdict(f) for f in figs]},
                                              indent=2) + "\n")
    if errors:
        print("\nfailed workloads: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
