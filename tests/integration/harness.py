"""Shared helpers for the integration tests: start a real Stratus daemon, talk to it.

The daemon binary comes from $STRATUS_BIN (set by ctest); when unset, the usual build
folders of the source tree are tried (build-itest/, build-debug/, build/).

Opt-in: STRATUS_TEST_ENDPOINT=http://127.0.0.1:PORT makes `target()` return an `Endpoint` for that
already running server (another Stratus, or moto_server to check a test against a second
implementation) instead of starting a daemon. Tests that need to restart or kill the daemon use
`needs_own_daemon` and are skipped then. A shared endpoint keeps state between tests: tests that use
`target()` name their resources with `unique()`.

Everything here talks only to 127.0.0.1 and every wait is bounded.
"""
from __future__ import annotations

import atexit
import http.client
import itertools
import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.config
import botocore.parsers
import botocore.session
from botocore.awsrequest import HeadersDict

HOST = "127.0.0.1"
READY_RE = re.compile(r"^stratus ready on http://(?P<host>[^:\s]+):(?P<port>\d+)$")
# A hang detector, not a speed check (tests/bench measures start time): the sanitizer build starts a
# stack file ~20x slower than Release (2-3 s for config/demo.yaml at load 4), and CI machines are loaded.
READY_TIMEOUT_S = 30.0
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"

SOURCE_DIR = Path(os.environ.get("STRATUS_SOURCE_DIR") or Path(__file__).resolve().parents[2])

# Every daemon started by this module, so that none outlives the test process.
_live_procs: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


def _kill_all() -> None:
    with _live_lock:
        procs = list(_live_procs)
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass


atexit.register(_kill_all)


def stratus_bin() -> str:
    env = os.environ.get("STRATUS_BIN")
    if env:
        if not os.access(env, os.X_OK):
            raise RuntimeError(f"STRATUS_BIN={env} is not an executable file")
        return env
    for sub in ("build-itest", "build-debug", "build"):
        cand = SOURCE_DIR / sub / "bin" / "stratus"
        if os.access(cand, os.X_OK):
            return str(cand)
    raise RuntimeError("no stratus binary: set STRATUS_BIN or build build/bin/stratus")


def sigv4_auth(service: str, region: str = REGION, date: str = "20261201") -> str:
    """An Authorization header that looks like SigV4 (the signature is not checked)."""
    return (f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{date}/{region}/{service}/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}")


EXTERNAL_ENDPOINT = os.environ.get("STRATUS_TEST_ENDPOINT") or None

# For tests that stop, restart or kill -9 the daemon: they need one this process started.
needs_own_daemon = unittest.skipIf(
    EXTERNAL_ENDPOINT is not None,
    f"restarts/kills the daemon: not possible against STRATUS_TEST_ENDPOINT={EXTERNAL_ENDPOINT}")


def unique(prefix: str) -> str:
    """A resource name not used before by this process or an earlier run against the same endpoint."""
    return f"{prefix}-{os.getpid()}-{next(_unique_counter)}-{int(time.time() * 1000) % 100000}"


_unique_counter = itertools.count(1)


# --------------------------------------------------------------------------------------
# Running the daemon
# --------------------------------------------------------------------------------------

class DaemonError(AssertionError):
    pass


class Daemon:
    """A Stratus daemon on a free port; a context manager.

        with Daemon("--log-level", "debug") as d:
            d.client("sqs").list_queues()

    ephemeral=True adds --ephemeral; data_dir=... adds --data-dir instead.
    """

    def __init__(self, *extra_args: str, ephemeral: bool = True, data_dir: str | None = None,
                 port: int = 0, ready_timeout: float = READY_TIMEOUT_S, env: dict | None = None):
        self.extra_args = list(extra_args)
        self.ephemeral = ephemeral and data_dir is None
        self.data_dir = data_dir
        self.requested_port = port
        self.ready_timeout = ready_timeout
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.host: str | None = None
        self.port: int | None = None
        self.ready_line: str | None = None
        self.ready_after_s: float | None = None
        self.external = False       # True for an Endpoint (STRATUS_TEST_ENDPOINT)
        self.stdout_lines: list[str] = []
        self._stdout_cond = threading.Condition()
        self._stdout_eof = False
        self._reader: threading.Thread | None = None
        self._stderr_file = None

    # -- lifecycle ----------------------------------------------------------------------
    def argv(self) -> list[str]:
        args = [stratus_bin(), "serve", "--port", str(self.requested_port)]
        if self.data_dir is not None:
            args += ["--data-dir", self.data_dir]
        elif self.ephemeral:
            args.append("--ephemeral")
        return args + self.extra_args

    def start(self) -> "Daemon":
        self._stderr_file = tempfile.NamedTemporaryFile(prefix="stratus-stderr-", suffix=".log",
                                                        delete=False)
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr_file, env=env, cwd=tempfile.gettempdir())
        with _live_lock:
            _live_procs.add(self.proc)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = t0 + self.ready_timeout
        with self._stdout_cond:
            while not self.stdout_lines and not self._stdout_eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._stdout_cond.wait(left)
            first = self.stdout_lines[0] if self.stdout_lines else None
        if first is None:
            rc = self.proc.poll()
            self.kill()
            what = (f"exited with code {rc}" if rc is not None
                    else f"printed no ready line within {self.ready_timeout}s")
            raise DaemonError(f"stratus {what}; argv={self.argv()}\nstderr:\n{self.stderr()[-4000:]}")
        self.ready_after_s = time.monotonic() - t0
        m = READY_RE.match(first)
        if not m:
            self.kill()
            raise DaemonError(f"unexpected first stdout line {first!r} (want 'stratus ready on "
                              f"http://HOST:PORT')\nstderr:\n{self.stderr()[-4000:]}")
        self.ready_line = first
        self.host = m.group("host")
        self.port = int(m.group("port"))
        return self

    def _read_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._stdout_cond:
                self.stdout_lines.append(line)
                self._stdout_cond.notify_all()
        with self._stdout_cond:
            self._stdout_eof = True
            self._stdout_cond.notify_all()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int | None, float]:
        """Send `sig`, wait up to `timeout` s; returns (exit code, seconds taken).

        The exit code is None if it had not exited by then (it is then killed)."""
        if self.proc is None:
            return (None, 0.0)
        if self.proc.poll() is not None:
            return (self.proc.returncode, 0.0)
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        return self.wait_exit(timeout, t0)

    def wait_exit(self, timeout: float, t0: float | None = None) -> tuple[int | None, float]:
        t0 = time.monotonic() if t0 is None else t0
        try:
            rc = self.proc.wait(timeout=max(0.0, t0 + timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        if rc is None:
            self.kill()
        self._finish()
        return (rc, took)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
                self.proc.wait(timeout=5)
            except Exception:
                pass
        self._finish()

    def _finish(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            if self._reader is not None:
                self._reader.join(timeout=2)
            with _live_lock:
                _live_procs.discard(self.proc)

    def stderr(self) -> str:
        if self._stderr_file is None:
            return ""
        try:
            return Path(self._stderr_file.name).read_text("utf-8", "replace")
        except OSError:
            return ""

    def cleanup(self) -> None:
        # SIGTERM first: an ephemeral daemon removes its temporary data directory when it exits cleanly, and
        # SIGKILL left one behind in $TMPDIR per test daemon (about 2 MB each, gigabytes over a day of runs).
        # Only a daemon that does not exit within 5 s is killed.
        if self.running():
            self.stop(signal.SIGTERM, timeout=5.0)
        self.kill()
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if self._stderr_file is not None:
            self._stderr_file.close()
            try:
                os.unlink(self._stderr_file.name)
            except OSError:
                pass
            self._stderr_file = None

    def __enter__(self) -> "Daemon":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # -- talking to it ------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self, service: str, host: str | None = None, **config_kwargs):
        """A boto3 client for this server; `host` replaces the address in the endpoint URL (e.g.
        "localhost", to see which Host header the server echoes back)."""
        cfg = dict(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                   read_timeout=15, s3={"addressing_style": "path"})
        cfg.update(config_kwargs)
        session = boto3.session.Session(aws_access_key_id=ACCESS_KEY,
                                        aws_secret_access_key=SECRET_KEY, region_name=REGION)
        url = self.url if host is None else f"http://{host}:{self.port}"
        return session.client(service, endpoint_url=url, region_name=REGION,
                              config=botocore.config.Config(**cfg))

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict | None = None, timeout: float = 10.0) -> "Resp":
        """One request on a fresh http.client connection."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return Resp(r.status, r.reason, f"HTTP/{r.version // 10}.{r.version % 10}",
                        list(r.getheaders()), data)
        finally:
            conn.close()

    def health(self, timeout: float = 5.0) -> dict:
        r = self.request("GET", "/_stratus/health", timeout=timeout)
        if r.status != 200:
            raise AssertionError(f"health answered {r.status}: {r.body[:300]!r}")
        return json.loads(r.body)

    def raw(self, timeout: float = 5.0) -> "RawConn":
        return RawConn(self.host, self.port, timeout)


class Endpoint(Daemon):
    """An already running server at `url` (STRATUS_TEST_ENDPOINT); same talking API as Daemon,
    and start/stop/cleanup never touch the server."""

    def __init__(self, url: str):
        super().__init__()
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http" or not parsed.hostname or not parsed.port:
            raise ValueError(f"STRATUS_TEST_ENDPOINT must look like http://HOST:PORT, not {url!r}")
        self.host = parsed.hostname
        self.port = parsed.port

    def argv(self) -> list[str]:
        raise DaemonError("an external endpoint has no argv")

    def start(self) -> "Endpoint":
        socket.create_connection((self.host, self.port), timeout=5).close()
        return self

    def running(self) -> bool:
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0):
        raise DaemonError("cannot stop an external endpoint (use needs_own_daemon)")

    def kill(self) -> None:
        pass

    def cleanup(self) -> None:
        pass


def target(*extra_args: str, **kwargs) -> Daemon:
    """The server a test talks to, started: the endpoint of STRATUS_TEST_ENDPOINT if set, otherwise
    a new `Daemon(*extra_args, **kwargs)` (ephemeral by default). Call .cleanup() when done."""
    if EXTERNAL_ENDPOINT:
        return Endpoint(EXTERNAL_ENDPOINT).start()
    return Daemon(*extra_args, **kwargs).start()


@dataclass
class ExitResult:
    returncode: int | None      # None: it did not exit in time (and was killed)
    stdout: str
    stderr: str
    seconds: float


def run_expect_exit(args: list[str], timeout: float = 10.0, env: dict | None = None) -> ExitResult:
    """Run `$STRATUS_BIN args...` expecting it to exit by itself within `timeout` s."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([stratus_bin(), *args], stdin=subprocess.DEVNULL, stdout=out,
                             stderr=err, env=full_env, cwd=tempfile.gettempdir())
        with _live_lock:
            _live_procs.add(p)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
            p.kill()
            p.wait(timeout=5)
        finally:
            with _live_lock:
                _live_procs.discard(p)
        took = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        return ExitResult(rc, out.read().decode("utf-8", "replace"),
                          err.read().decode("utf-8", "replace"), took)


# --------------------------------------------------------------------------------------
# Raw HTTP over a socket (for keep-alive, pipelining, malformed input, timeouts)
# --------------------------------------------------------------------------------------

@dataclass
class Resp:
    status: int
    reason: str
    version: str
    header_list: list[tuple[str, str]]
    body: bytes
    headers: HeadersDict = field(init=False)

    def __post_init__(self):
        self.headers = HeadersDict()
        for k, v in self.header_list:
            self.headers[k] = v

    def header(self, name: str, default=None):
        return self.headers.get(name, default)

    def json(self):
        return json.loads(self.body)

    def botocore_dict(self) -> dict:
        return {"status_code": self.status, "headers": self.headers, "body": self.body}


class ConnectionClosed(Exception):
    pass


class RawConn:
    """A plain TCP connection with a minimal HTTP/1.x response reader."""

    def __init__(self, host: str, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out waiting for the server")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ConnectionClosed(f"connection closed by server (buffered: {self.buf[:200]!r})")
        self.buf += chunk

    def _read_until(self, marker: bytes, deadline: float) -> bytes:
        while marker not in self.buf:
            if len(self.buf) > 1 << 20:
                raise AssertionError("response header larger than 1 MiB")
            self._fill(deadline)
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_head(self, timeout: float | None = None) -> tuple[str, int, str, list[tuple[str, str]]]:
        deadline = time.monotonic() + (timeout or self.timeout)
        head = self._read_until(b"\r\n\r\n", deadline).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError(f"bad status line {lines[0]!r}")
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers

    def read_response(self, head_request: bool = False, timeout: float | None = None,
                      skip_interim: bool = True) -> Resp:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            version, status, reason, headers = self.read_head(max(0.001, deadline - time.monotonic()))
            if 100 <= status < 200 and skip_interim:
                continue
            break
        h = {k.lower(): v for k, v in headers}
        body = b""
        if head_request or status in (204, 304) or 100 <= status < 200:
            pass
        elif "chunked" in h.get("transfer-encoding", "").lower():
            while True:
                size_line = self._read_until(b"\r\n", deadline).decode("latin-1")
                size = int(size_line.split(";")[0].strip(), 16)
                if size == 0:
                    # trailers until the empty line
                    while self._read_until(b"\r\n", deadline):
                        pass
                    break
                body += self._read_exact(size, deadline)
                self._read_exact(2, deadline)
        elif "content-length" in h:
            body = self._read_exact(int(h["content-length"]), deadline)
        else:
            # delimited by close
            while True:
                try:
                    self._fill(deadline)
                except ConnectionClosed:
                    break
            body, self.buf = self.buf, b""
        return Resp(status, reason, version, headers, body)

    def wait_closed(self, timeout: float) -> float | None:
        """Wait until the server closes (EOF/RST). Returns seconds waited, or None if still
        open after `timeout`. Any bytes received meanwhile are kept in self.buf."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return time.monotonic() - t0
            except socket.timeout:
                continue
            if not chunk:
                return time.monotonic() - t0
            self.buf += chunk

    def is_open_now(self) -> bool:
        """True if the server has not closed the connection (nothing pending either)."""
        r, _, _ = select.select([self.sock], [], [], 0)
        if not r:
            return True
        try:
            self.sock.setblocking(False)
            chunk = self.sock.recv(65536, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        finally:
            self.sock.setblocking(True)
            self.sock.settimeout(self.timeout)
        return bool(chunk)


def http_request(method: str, path: str, headers: dict | None = None, body: bytes | str = b"",
                 version: str = "HTTP/1.1", host: str = "127.0.0.1") -> bytes:
    """Serialize a request for RawConn.send (Content-Length added when there is a body and
    no Transfer-Encoding/Content-Length is given)."""
    if isinstance(body, str):
        body = body.encode()
    headers = dict(headers or {})
    lower = {k.lower() for k in headers}
    if "host" not in lower and version == "HTTP/1.1":
        headers["Host"] = host
    if body and "content-length" not in lower and "transfer-encoding" not in lower:
        headers["Content-Length"] = str(len(body))
    if not body and method in ("POST", "PUT") and "content-length" not in lower \
            and "transfer-encoding" not in lower:
        headers["Content-Length"] = "0"
    head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


# --------------------------------------------------------------------------------------
# AWS-shaped requests and botocore's own parsers
# --------------------------------------------------------------------------------------

_botocore_session = botocore.session.get_session()


def service_model(service: str):
    return _botocore_session.get_service_model(service)


def parse_with_botocore(resp: Resp, service: str, operation: str, protocol: str | None = None) -> dict:
    """Parse `resp` the way botocore would for service/operation; returns the parsed dict
    (for errors: {'Error': {'Code', 'Message', ...}, 'ResponseMetadata': {...}})."""
    model = service_model(service)
    op = model.operation_model(operation)
    parser = botocore.parsers.create_parser(protocol or model.protocol)
    return parser.parse(resp.botocore_dict(), op.output_shape)


def json_target_headers(service: str, target: str, json_version: str = "1.0",
                        auth: str | None = "sigv4") -> dict:
    h = {"Content-Type": f"application/x-amz-json-{json_version}", "X-Amz-Target": target,
         "X-Amz-Date": "20261201T000000Z"}
    if auth == "sigv4":
        h["Authorization"] = sigv4_auth(service)
    elif auth:
        h["Authorization"] = auth
    return h


def ddb_request(target_op: str = "ListTables", body: bytes | str = b"{}", auth: str | None = "sigv4",
                extra_headers: dict | None = None, version: str = "HTTP/1.1") -> bytes:
    """A DynamoDB JSON-protocol request (serialized, for RawConn)."""
    h = json_target_headers("dynamodb", f"DynamoDB_20120810.{target_op}", "1.0", auth)
    h.update(extra_headers or {})
    return http_request("POST", "/", h, body, version=version)
