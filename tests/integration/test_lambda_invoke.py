"""Real functions through the Lambda API: boto3 creates functions from zips of the example libraries
(functions/, built into $STRATUS_FUNCTIONS_DIR) and invokes them on real worker processes."""
import base64
import io
import json
import os
import re
import time
import unittest
import urllib.request
import zipfile

from botocore.exceptions import ClientError

from harness import Daemon

FUNCTIONS_DIR = os.environ.get("STRATUS_FUNCTIONS_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-debug", "functions")
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def package(name: str, as_name: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(os.path.join(FUNCTIONS_DIR, f"{name}.so"), as_name or f"{name}.so")
    return buf.getvalue()


class LambdaInvokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(os.path.join(FUNCTIONS_DIR, "echo.so")):
            raise AssertionError(f"example functions not built in {FUNCTIONS_DIR}")
        cls.daemon = Daemon().start()
        cls.lam = cls.daemon.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def create(self, name, library, **extra):
        args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler=f"{library}.so",
                    Code={"ZipFile": package(library)})
        args.update(extra)
        self.lam.create_function(**args)

    def invoke(self, name, event=None, **extra):
        out = self.lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), LogType="Tail", **extra)
        payload = json.loads(out["Payload"].read() or b"null")
        log = base64.b64decode(out.get("LogResult", "")).decode()
        return out, payload, log

    def test_cold_then_warm_with_logs(self):
        self.create("echo-fn", "echo", MemorySize=256)
        out, payload, log = self.invoke("echo-fn", {"hello": "world"})
        self.assertEqual(out["StatusCode"], 200)
        self.assertNotIn("FunctionError", out)
        self.assertEqual(payload["event"], {"hello": "world"}, payload)
        self.assertEqual(payload["function_name"], "echo-fn")
        self.assertEqual(payload["memory_limit_in_mb"], 256)
        self.assertRegex(log, r"START RequestId: [0-9a-f-]+ Version: \$LATEST")
        self.assertRegex(log, r"END RequestId: ")
        self.assertRegex(log, r"REPORT RequestId: .*Duration: [\d.]+ ms\s+Billed Duration: \d+ ms\s+"
                              r"Memory Size: 256 MB\s+Max Memory Used: \d+ MB\s+Init Duration: [\d.]+ ms")
        _, _, warm_log = self.invoke("echo-fn", {"n": 2})
        self.assertIn("REPORT RequestId:", warm_log)
        self.assertNotIn("Init Duration", warm_log)

    def test_globals_survive_between_warm_invocations(self):
        self.create("counter-fn", "counter")
        counts = [self.invoke("counter-fn")[1]["count"] for _ in range(3)]
        self.assertEqual(counts, [1, 2, 3])

    def test_handler_error_then_recovery(self):
        self.create("fail-fn", "fail")
        out, payload, _ = self.invoke("fail-fn")
        self.assertEqual(out["StatusCode"], 200)
        self.assertEqual(out["FunctionError"], "Unhandled")
        self.assertIn("errorMessage", payload)
        self.assertIn("errorType", payload)

    def test_crash_costs_one_instance(self):
        self.create("crash-fn", "crash")
        out, payload, _ = self.invoke("crash-fn")
        self.assertEqual(out["FunctionError"], "Unhandled")
        self.assertEqual(payload["errorType"], "Runtime.ExitError", payload)
        self.assertIn("Runtime exited with error", payload["errorMessage"])
        out, payload, _ = self.invoke("crash-fn")
        self.assertEqual(payload["errorType"], "Runtime.ExitError")
        self.assertEqual(self.daemon.health()["status"], "running")

    def test_timeout_kills_the_instance(self):
        self.create("sleep-fn", "sleep", Timeout=1)
        out, payload, _ = self.invoke("sleep-fn", {"ms": 3000})
        self.assertEqual(out["FunctionError"], "Unhandled")
        self.assertEqual(payload["errorType"], "Sandbox.Timedout", payload)
        self.assertRegex(payload["errorMessage"], r"Task timed out after 1\.00 seconds")
        out, payload, _ = self.invoke("sleep-fn", {"ms": 10})
        self.assertNotIn("FunctionError", out)
        self.assertEqual(payload["slept_ms"], 10)

    def test_environment_is_clean_and_points_back(self):
        self.create("env-fn", "env", Environment={"Variables": {"STAGE": "test"}})
        _, env, _ = self.invoke("env-fn")
        self.assertEqual(env["STAGE"], "test")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], "env-fn")
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        self.assertEqual(env["AWS_ENDPOINT_URL"], self.daemon.url)
        self.assertNotIn("STRATUS_BIN", env)  # nothing leaks from the daemon's environment
        self.assertNotIn("HOME", env)

    def test_throttle_and_event_invocation(self):
        self.create("conc-fn", "echo")
        self.lam.put_function_concurrency(FunctionName="conc-fn", ReservedConcurrentExecutions=0)
        with self.assertRaises(ClientError) as cm:
            self.invoke("conc-fn")
        err = cm.exception.response
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 429)
        self.assertEqual(err["Error"]["Code"], "TooManyRequestsException")
        self.assertEqual(err.get("Reason"), "ReservedFunctionConcurrentInvocationLimitExceeded")
        self.assertEqual(err["ResponseMetadata"]["HTTPHeaders"].get("retry-after"), "1")
        self.lam.delete_function_concurrency(FunctionName="conc-fn")
        event = self.lam.invoke(FunctionName="conc-fn", InvocationType="Event", Payload=b"{}")
        self.assertEqual(event["StatusCode"], 202)

    def test_update_code_takes_effect(self):
        self.create("swap-fn", "echo")
        self.assertIn("event", self.invoke("swap-fn")[1])
        # New code under the same Handler: the next invocation runs it (in a new instance).
        self.lam.update_function_code(FunctionName="swap-fn", ZipFile=package("counter", "echo.so"))
        self.assertEqual(self.invoke("swap-fn")[1]["count"], 1)
        self.assertEqual(self.invoke("swap-fn")[1]["count"], 2)

    def test_pool_stats_are_visible(self):
        self.create("stats-fn", "echo")
        self.invoke("stats-fn")
        self.invoke("stats-fn")
        with urllib.request.urlopen(self.daemon.url + "/_stratus/functions", timeout=5) as r:
            stats = json.loads(r.read())
        pool = next(p for p in stats["pools"] if p["function"] == "stats-fn")
        self.assertEqual(pool["cold_starts"], 1, pool)
        self.assertEqual(pool["warm_starts"], 1, pool)
        with urllib.request.urlopen(self.daemon.url + "/_stratus/logs/stats-fn", timeout=5) as r:
            log = r.read().decode()
        self.assertEqual(len(re.findall(r"REPORT RequestId:", log)), 2, log)


class KeepWarmTest(unittest.TestCase):
    """--keep-warm-ms reaches the pools: an idle instance is stopped, and the next invoke is cold again."""

    def test_idle_instances_are_evicted(self):
        with Daemon("--keep-warm-ms", "300") as d:
            lam = d.client("lambda")
            lam.create_function(FunctionName="kw", Runtime="provided.al2023", Role=ROLE, Handler="counter.so",
                                Code={"ZipFile": package("counter")})
            first = json.loads(lam.invoke(FunctionName="kw")["Payload"].read())
            self.assertEqual(first["count"], 1)
            deadline = time.time() + 10
            pool = None
            while time.time() < deadline:
                with urllib.request.urlopen(d.url + "/_stratus/functions", timeout=5) as r:
                    pool = next(p for p in json.loads(r.read())["pools"] if p["function"] == "kw")
                if pool["instances"]["total"] == 0:
                    break
                time.sleep(0.1)
            self.assertEqual(pool["instances"]["total"], 0, pool)
            self.assertEqual(pool["evictions"], 1, pool)
            again = json.loads(lam.invoke(FunctionName="kw")["Payload"].read())
            self.assertEqual(again["count"], 1)  # a new instance: its globals start over
            self.assertNotEqual(again["pid"], first["pid"])


if __name__ == "__main__":
    unittest.main()
