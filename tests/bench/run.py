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


# name → function; order is the run order. Add new workloads here.
WORKLOADS: list[tuple[str, Callable[[Ctx], list[Figure]]]] = [
    ("start", wl_start),
    ("rss", wl_rss),
    ("health_rps", wl_health_rps),
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

    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)

    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
        stack = os.path.join(tmp, "empty-stack.yaml")
        Path(stack).write_text("Resources: {}\n")
        moto = None if args.no_moto else Moto(shlex.split(args.moto) if args.moto else default_moto_argv())
        ctx = Ctx(Stratus(os.path.abspath(args.stratus), shlex.split(args.stratus_args), stack), moto,
                  args.starts, args.duration, args.threads, args.connections)
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
