"""More real functions through the daemon: `stratus logs [--follow]`, functions declared in a stack file
(config/demo.yaml), the AWS CLI, provisioned concurrency, init failure, out of memory, throttling with
functions held busy, hot reload through the API, a library without the ABI, and oversized payloads.

The example libraries come from $STRATUS_FUNCTIONS_DIR (functions/, built with the daemon)."""
import base64
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
import zipfile

from botocore.exceptions import ClientError

from harness import ACCESS_KEY, REGION, SECRET_KEY, SOURCE_DIR, Daemon, run_expect_exit, stratus_bin

FUNCTIONS_DIR = os.environ.get("STRATUS_FUNCTIONS_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-debug", "functions")
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
REPORT_RE = re.compile(r"^REPORT RequestId: (?P<id>[0-9a-f-]+)", re.M)


def library(name: str) -> str:
    return os.path.join(FUNCTIONS_DIR, f"{name}.so")


def package_file(path: str, as_name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(path, as_name)
    return buf.getvalue()


def package(name: str) -> bytes:
    return package_file(library(name), f"{name}.so")


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def require_functions():
    if not os.path.exists(library("echo")):
        raise AssertionError(f"example functions not built in {FUNCTIONS_DIR}")


class FunctionsBase(unittest.TestCase):
    """One daemon for the class; helpers to create and invoke."""

    daemon_args: tuple = ()

    @classmethod
    def setUpClass(cls):
        require_functions()
        cls.daemon = Daemon(*cls.daemon_args).start()
        cls.lam = cls.daemon.client("lambda", read_timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def create(self, name, lib, **extra):
        args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler=f"{lib}.so",
                    Code={"ZipFile": package(lib)})
        args.update(extra)
        return self.lam.create_function(**args)

    def invoke(self, name, event=None, **extra):
        out = self.lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), LogType="Tail",
                              **extra)
        payload = json.loads(out["Payload"].read() or b"null")
        log = base64.b64decode(out.get("LogResult", "")).decode()
        return out, payload, log

    def raw_invoke(self, name, body: bytes, timeout: float = 30.0):
        return self.daemon.request("POST", f"/2015-03-31/functions/{name}/invocations", body=body,
                                   headers={"Content-Type": "application/json"}, timeout=timeout)

    def stats(self) -> dict:
        with urllib.request.urlopen(self.daemon.url + "/_stratus/functions", timeout=5) as r:
            return json.loads(r.read())

    def pools(self, function: str) -> list[dict]:
        return [p for p in self.stats().get("pools", []) if p["function"] == function]


# --------------------------------------------------------------------------------------
# stratus logs
# --------------------------------------------------------------------------------------

class LogsCommandTest(FunctionsBase):
    def test_prints_the_function_log(self):
        self.create("logs-fn", "echo")
        ids = []
        for i in range(2):
            _, _, log = self.invoke("logs-fn", {"i": i})
            ids.append(REPORT_RE.search(log).group("id"))
        r = run_expect_exit(["logs", "logs-fn", "--endpoint", self.daemon.url])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(REPORT_RE.findall(r.stdout), ids, r.stdout)
        self.assertEqual(len(re.findall(r"^START RequestId: ", r.stdout, re.M)), 2, r.stdout)
        self.assertIn("Init Duration", r.stdout)

    def test_unknown_function_prints_nothing(self):
        r = run_expect_exit(["logs", "no-such-fn", f"--endpoint={self.daemon.url}"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("no log lines for 'no-such-fn'", r.stderr)

    def test_unreachable_daemon_and_usage(self):
        r = run_expect_exit(["logs", "x", "--endpoint", f"http://127.0.0.1:{free_port()}"])
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("cannot read logs from the daemon", r.stderr)
        self.assertIn("Connection refused", r.stderr)
        r = run_expect_exit(["logs"])
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("needs a function name", r.stderr)
        r = run_expect_exit(["logs", "x", "--endpoint", "https://example.com"])
        self.assertEqual(r.returncode, 2, r)

    def test_follow_prints_new_lines_once(self):
        self.create("follow-fn", "echo")
        _, _, log = self.invoke("follow-fn", {"n": 1})
        first_id = REPORT_RE.search(log).group("id")
        argv = [stratus_bin(), "logs", "follow-fn", "--follow", "--endpoint", self.daemon.url]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        lines: list[str] = []
        cond = threading.Condition()

        def read():
            for raw in proc.stdout:
                with cond:
                    lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                    cond.notify_all()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()

        def wait_line(pattern: str, timeout: float = 10.0) -> bool:
            deadline = time.monotonic() + timeout
            with cond:
                while not any(pattern in line for line in lines):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    cond.wait(left)
                return True

        try:
            self.assertTrue(wait_line(f"REPORT RequestId: {first_id}"), lines)
            _, _, log = self.invoke("follow-fn", {"n": 2})
            second_id = REPORT_RE.search(log).group("id")
            self.assertTrue(wait_line(f"REPORT RequestId: {second_id}"), lines)
            time.sleep(1.2)  # two more polls: nothing may be printed again
            with cond:
                seen = list(lines)
            reports = [m for line in seen for m in REPORT_RE.findall(line)]
            self.assertEqual(reports, [first_id, second_id], seen)
            self.assertEqual(sum(line.startswith("START RequestId:") for line in seen), 2, seen)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=5)
            self.assertEqual(rc, 0, proc.stderr.read())
            self.assertLess(time.monotonic() - t0, 2.0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            reader.join(timeout=2)
            proc.stdout.close()
            proc.stderr.close()


    def test_cursor_endpoint(self):
        """GET /_stratus/logs/NAME?since=SEQ: the lines after the cursor, repeated lines included."""
        self.create("cursor-fn", "echo")
        self.invoke("cursor-fn", {})
        r = self.daemon.request("GET", "/_stratus/logs/cursor-fn")
        self.assertEqual(r.status, 200)
        cursor = int(r.header("X-Stratus-Log-Cursor"))
        self.assertGreater(cursor, 0)
        _, _, log = self.invoke("cursor-fn", {"print": "same", "repeat": 3})
        r = self.daemon.request("GET", f"/_stratus/logs/cursor-fn?since={cursor}")
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        self.assertEqual(text, log if log.endswith("\n") else log + "\n")  # exactly this invocation
        self.assertEqual(text.count('\t"same"\n'), 3, text)
        self.assertIsNone(r.header("X-Stratus-Log-Lost"))
        after = int(r.header("X-Stratus-Log-Cursor"))
        self.assertGreaterEqual(after, cursor + len(text.splitlines()))  # one daemon-wide sequence
        r = self.daemon.request("GET", f"/_stratus/logs/cursor-fn?since={after}")
        self.assertEqual((r.status, r.body, r.header("X-Stratus-Log-Cursor")), (200, b"", str(after)))
        for bad in ("x", "-1", "", "1.5"):
            r = self.daemon.request("GET", f"/_stratus/logs/cursor-fn?since={bad}")
            self.assertEqual(r.status, 400, bad)
            self.assertIn("since must be", json.loads(r.body)["message"])

    def test_follow_prints_repeated_lines_exactly_once(self):
        """A function that logs the same text again and again: --follow prints every line once."""
        self.create("repeat-fn", "echo")
        self.invoke("repeat-fn", {"print": "same", "repeat": 2})
        argv = [stratus_bin(), "logs", "repeat-fn", "--follow", "--endpoint", self.daemon.url]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        lines: list[str] = []
        cond = threading.Condition()

        def read():
            for raw in proc.stdout:
                with cond:
                    lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                    cond.notify_all()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()

        def wait_reports(n: int, timeout: float = 10.0) -> bool:
            deadline = time.monotonic() + timeout
            with cond:
                while sum(bool(REPORT_RE.match(line)) for line in lines) < n:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    cond.wait(left)
                return True

        try:
            self.assertTrue(wait_reports(1), lines)
            want = []  # the whole log of every invocation, in order
            for i in range(6):
                _, _, log = self.invoke("repeat-fn", {"print": "same", "repeat": 3})
                want.append(log.rstrip("\n"))
                if i % 2:
                    self.assertTrue(wait_reports(i + 2), lines)  # sometimes between polls, sometimes not
            self.assertTrue(wait_reports(7), lines)
            time.sleep(1.2)  # two more polls: nothing may be printed again
            with cond:
                seen = list(lines)
            # The first invocation (printed from the recent log), then the six followed ones, line for line.
            first_end = next(i for i, line in enumerate(seen) if REPORT_RE.match(line))
            self.assertEqual(seen[first_end + 1:], "\n".join(want).split("\n"))
            self.assertEqual(sum(line.endswith('\t"same"') for line in seen), 2 + 6 * 3, seen)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=5), 0, proc.stderr.read())
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            reader.join(timeout=2)
            proc.stdout.close()
            proc.stderr.close()


# --------------------------------------------------------------------------------------
# Functions declared in a stack file
# --------------------------------------------------------------------------------------

DEMO = SOURCE_DIR / "config" / "demo.yaml"


class DemoStackTest(unittest.TestCase):
    def test_demo_yaml_validates(self):
        # Run from the repository root as scripts/demo.sh does (CodeUri paths are relative to it).
        p = subprocess.run([stratus_bin(), "validate", str(DEMO)], cwd=SOURCE_DIR, capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for logical_id in ("EchoFunction", "CounterFunction", "OrderQueue", "OrderDLQ", "OrderWorkerFunction",
                           "OrderWorkerMapping", "OrderApiFunction", "ServerlessHttpApi"):
            self.assertIn(logical_id, p.stdout)

    def test_demo_functions_run_from_a_stack_file(self):
        # The demo stack with CodeUri pointing at this build's example libraries (the demo file names the
        # Release build's build/functions/, which the tests do not use).
        require_functions()
        text = DEMO.read_text()
        self.assertIn("build/functions/", text)
        text = text.replace("build/functions/", FUNCTIONS_DIR.rstrip("/") + "/")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
            stack = f.name
        try:
            with Daemon("--config", stack) as d:
                lam = d.client("lambda")
                names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
                self.assertTrue({"echo", "counter", "order-worker"} <= names, names)
                # The order flow's mapping (its queues need the SQS service).
                mappings = lam.list_event_source_mappings(FunctionName="order-worker")["EventSourceMappings"]
                self.assertEqual(len(mappings), 1, mappings)
                self.assertEqual(mappings[0]["FunctionResponseTypes"], ["ReportBatchItemFailures"])
                self.assertTrue(mappings[0]["EventSourceArn"].endswith(":orders"), mappings[0])
                logs = []
                for expected in (1, 2):
                    out = lam.invoke(FunctionName="counter", Payload=b"{}", LogType="Tail")
                    self.assertNotIn("FunctionError", out)
                    self.assertEqual(json.loads(out["Payload"].read())["count"], expected)
                    logs.append(base64.b64decode(out["LogResult"]).decode())
                self.assertIn("Init Duration", logs[0])
                self.assertNotIn("Init Duration", logs[1])
                out = lam.invoke(FunctionName="echo", Payload=b'{"hi": 1}')
                self.assertEqual(json.loads(out["Payload"].read())["event"], {"hi": 1})
                r = run_expect_exit(["logs", "counter", "--endpoint", d.url])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(len(REPORT_RE.findall(r.stdout)), 2, r.stdout)
        finally:
            os.unlink(stack)


# --------------------------------------------------------------------------------------
# The AWS CLI
# --------------------------------------------------------------------------------------

class AwsCliTest(FunctionsBase):
    def aws(self, *args, cwd=None) -> dict:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
        env.pop("AWS_PROFILE", None)
        p = subprocess.run(["aws", *args, "--endpoint-url", self.daemon.url, "--output", "json"], cwd=cwd,
                           env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, f"aws {' '.join(args)}: {p.stderr}")
        return json.loads(p.stdout) if p.stdout.strip() else {}

    @unittest.skipUnless(shutil.which("aws"), "the AWS CLI is not installed")
    def test_create_from_zip_and_invoke_with_tail(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "fn.zip"), "wb") as f:
                f.write(package("echo"))
            created = self.aws("lambda", "create-function", "--function-name", "cli-fn", "--runtime",
                               "provided.al2023", "--role", ROLE, "--handler", "echo.so", "--zip-file",
                               "fileb://fn.zip", cwd=tmp)
            self.assertEqual(created["FunctionName"], "cli-fn")
            self.assertEqual(created["State"], "Active")
            # AWS CLI v1 sends --payload as given (v2 would need --cli-binary-format raw-in-base64-out).
            result = self.aws("lambda", "invoke", "--function-name", "cli-fn", "--payload", '{"from": "cli"}',
                              "--log-type", "Tail", "out.json", cwd=tmp)
            self.assertEqual(result["StatusCode"], 200, result)
            self.assertNotIn("FunctionError", result)
            log = base64.b64decode(result["LogResult"]).decode()
            self.assertRegex(log, r"REPORT RequestId: .*Init Duration: [\d.]+ ms")
            with open(os.path.join(tmp, "out.json")) as f:
                self.assertEqual(json.load(f)["event"], {"from": "cli"})


# --------------------------------------------------------------------------------------
# Pools: provisioned concurrency, throttling, hot reload
# --------------------------------------------------------------------------------------

class PoolBehaviourTest(FunctionsBase):
    def provisioned_instances(self, function: str, version: str) -> int:
        """Provisioned instances of `version` that finished their init (none still starting): as on AWS,
        where provisioned concurrency serves invocations once it is initialized."""
        pools = [p for p in self.pools(function) if p["version"] == version]
        if any(p["instances"]["cold"] for p in pools):
            return 0
        return sum(p["instances"]["provisioned"] for p in pools)

    def test_provisioned_instances_exist_before_any_invoke(self):
        self.create("pc-fn", "counter")
        version = self.lam.publish_version(FunctionName="pc-fn")["Version"]
        self.lam.put_provisioned_concurrency_config(FunctionName="pc-fn", Qualifier=version,
                                                    ProvisionedConcurrentExecutions=2)
        self.assertTrue(wait_for(lambda: self.provisioned_instances("pc-fn", version) == 2, 10),
                        self.pools("pc-fn"))
        pool = next(p for p in self.pools("pc-fn") if p["version"] == version)
        self.assertEqual(pool["invocations"], 0, pool)
        out, payload, log = self.invoke("pc-fn", Qualifier=version)
        self.assertNotIn("FunctionError", out)
        self.assertEqual(payload["count"], 1)
        self.assertIn("REPORT RequestId:", log)
        self.assertNotIn("Init Duration", log)
        pool = next(p for p in self.pools("pc-fn") if p["version"] == version)
        self.assertEqual(pool["cold_starts"], 0, pool)

    def test_provisioned_on_an_alias(self):
        self.create("pca-fn", "counter")
        version = self.lam.publish_version(FunctionName="pca-fn")["Version"]
        self.lam.create_alias(FunctionName="pca-fn", Name="live", FunctionVersion=version)
        self.lam.put_provisioned_concurrency_config(FunctionName="pca-fn", Qualifier="live",
                                                    ProvisionedConcurrentExecutions=1)
        self.assertTrue(wait_for(lambda: self.provisioned_instances("pca-fn", version) == 1, 10),
                        self.pools("pca-fn"))
        out, _, log = self.invoke("pca-fn", Qualifier="live")
        self.assertNotIn("FunctionError", out)
        self.assertNotIn("Init Duration", log)

    def test_throttled_while_the_only_instance_is_busy(self):
        self.create("busy-fn", "sleep", Timeout=10)
        self.lam.put_function_concurrency(FunctionName="busy-fn", ReservedConcurrentExecutions=1)
        result = {}

        def long_invoke():
            result["out"] = self.invoke("busy-fn", {"ms": 3000})

        t = threading.Thread(target=long_invoke)
        t.start()
        try:
            busy = lambda: any(p["concurrency"]["active"] == 1 for p in self.pools("busy-fn"))  # noqa: E731
            self.assertTrue(wait_for(busy, 5), self.pools("busy-fn"))
            r = self.raw_invoke("busy-fn", b'{"ms": 1}')
            self.assertEqual(r.status, 429, r.body)
            doc = r.json()
            self.assertEqual(r.header("x-amzn-ErrorType", "").split(":")[0], "TooManyRequestsException",
                             r.headers)
            self.assertEqual(doc.get("Reason"), "ReservedFunctionConcurrentInvocationLimitExceeded", doc)
            with self.assertRaises(ClientError) as cm:
                self.invoke("busy-fn", {"ms": 1})
            self.assertEqual(cm.exception.response["Error"]["Code"], "TooManyRequestsException")
        finally:
            t.join(timeout=20)
        out, payload, _ = result["out"]
        self.assertNotIn("FunctionError", out)
        self.assertEqual(payload["slept_ms"], 3000)
        # Free again: the next invoke runs.
        out, payload, _ = self.invoke("busy-fn", {"ms": 1})
        self.assertEqual(payload["slept_ms"], 1)
        pool = self.pools("busy-fn")[0]
        self.assertGreaterEqual(pool["throttles"], 2, pool)

    def test_hot_reload_through_the_api(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "fn.so")
            shutil.copyfile(library("echo"), path)
            self.lam.create_function(FunctionName="hot-fn", Runtime="provided.al2023", Role=ROLE,
                                     Handler="fn.so", Code={"S3Bucket": "hot-reload", "S3Key": path})
            out, payload, _ = self.invoke("hot-fn", {"v": 1})
            self.assertNotIn("FunctionError", out)
            self.assertEqual(payload["event"], {"v": 1})
            shutil.copyfile(library("counter"), path)  # rebuilt in place
            out, payload, _ = self.invoke("hot-fn")
            self.assertNotIn("FunctionError", out)
            self.assertEqual(payload.get("count"), 1, payload)
            self.assertEqual(self.invoke("hot-fn")[1].get("count"), 2)


# --------------------------------------------------------------------------------------
# Failures and bad input
# --------------------------------------------------------------------------------------

class FailureTest(FunctionsBase):
    def test_init_failure_is_reported_each_time(self):
        self.create("initfail-fn", "init_fail")
        for _ in range(2):
            out, payload, log = self.invoke("initfail-fn")
            self.assertEqual(out["StatusCode"], 200)
            self.assertEqual(out.get("FunctionError"), "Unhandled", out)
            self.assertEqual(payload["errorType"], "std::runtime_error", payload)
            self.assertEqual(payload["errorMessage"], "init failed on purpose", payload)
            self.assertIn("stackTrace", payload)
            self.assertIn("init_fail: connecting to nowhere", log)
            self.assertRegex(log, r"INIT_REPORT Init Duration: [\d.]+ ms\s+Phase: init\s+Status: error")
        self.assertEqual(self.daemon.health()["status"], "running")
        self.create("after-initfail", "echo")
        self.assertEqual(self.invoke("after-initfail", {"ok": True})[1]["event"], {"ok": True})

    def test_out_of_memory_then_a_working_invoke(self):
        # Timeout well above the time to fill 128 MB: on a loaded 2-core box the default 3 s ran out first
        # (Sandbox.Timedout) before the memory limit was reached.
        self.create("oom-fn", "oom", MemorySize=128, Timeout=30)
        out, payload, log = self.invoke("oom-fn")
        self.assertEqual(out.get("FunctionError"), "Unhandled", out)
        self.assertEqual(payload["errorType"], "Runtime.OutOfMemory", payload)
        self.assertRegex(payload["errorMessage"], r"RequestId: [0-9a-f-]+ Error: Runtime exited with error")
        self.assertIn("REPORT RequestId:", log)
        out, payload, _ = self.invoke("oom-fn", {"mb": 4})
        self.assertNotIn("FunctionError", out)
        self.assertEqual(payload["allocated_mb"], 4)

    def test_library_without_the_abi(self):
        libz = "/usr/lib/x86_64-linux-gnu/libz.so.1"
        if not os.path.exists(libz):
            self.skipTest("no libz.so.1 to use as a plain shared library")
        self.lam.create_function(FunctionName="noabi-fn", Runtime="provided.al2023", Role=ROLE,
                                 Handler="libz.so", Code={"ZipFile": package_file(libz, "libz.so")})
        for _ in range(2):
            out, payload, _ = self.invoke("noabi-fn")
            self.assertEqual(out.get("FunctionError"), "Unhandled", out)
            self.assertEqual(payload["errorType"], "Runtime.InvalidEntrypoint", payload)
            self.assertIn("does not export stratus_function_abi_version", payload["errorMessage"])
        self.assertEqual(self.daemon.health()["status"], "running")

    def test_zip_without_a_library_is_rejected(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("handler.py", "def handler(e, c): return e\n")
        with self.assertRaises(ClientError) as cm:
            self.lam.create_function(FunctionName="py-fn", Runtime="provided.al2023", Role=ROLE,
                                     Handler="handler.py", Code={"ZipFile": buf.getvalue()})
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")

    def test_oversized_payload(self):
        self.create("big-fn", "echo")
        body = b'{"x": "' + b"a" * (6 * 1024 * 1024) + b'"}'
        r = self.raw_invoke("big-fn", body)
        self.assertEqual(r.status, 413, r.body[:300])
        self.assertEqual(r.header("x-amzn-ErrorType", "").split(":")[0], "RequestTooLargeException",
                         r.headers)
        with self.assertRaises(ClientError) as cm:
            self.lam.invoke(FunctionName="big-fn", Payload=body)
        self.assertEqual(cm.exception.response["Error"]["Code"], "RequestTooLargeException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 413)
        # Just under the limit works (noop: echo's answer would exceed the 6 MB response limit).
        self.create("big-noop", "noop")
        small = b'{"x": "' + b"a" * (6 * 1024 * 1024 - 100) + b'"}'
        out = self.lam.invoke(FunctionName="big-noop", Payload=small)
        self.assertEqual(out["StatusCode"], 200)
        self.assertNotIn("FunctionError", out)


if __name__ == "__main__":
    unittest.main()
