"""Asynchronous invocation with real functions (InvocationType=Event): durable queue, retries, and
destinations, through boto3 against a real daemon running the example functions of
$STRATUS_FUNCTIONS_DIR.

What the test can observe of a record: a Lambda-function destination receives it as its event; the
`echo` function returns its event, so the echo's own success record (sent to an SQS ARN, which nobody
subscribes to yet) carries, as responsePayload.event, exactly the record echo received. The daemon logs
records that no one takes (`record: {...}` at info), which is where the test reads them.

The retry delay base is made small with `--async-retry-base-ms` (AWS waits 1 min, then 2 min).
"""
import io
import json
import os
import re
import shutil
import tempfile
import time
import unittest
import zipfile

from harness import Daemon

FUNCTIONS_DIR = os.environ.get("STRATUS_FUNCTIONS_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-debug", "functions")
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
SINK = "arn:aws:sqs:us-east-1:000000000000:"
RETRY_BASE_MS = 200
RECORD_RE = re.compile(r"destination (?P<dest>\S+?);? record: (?P<record>\{.*\})\s*$")


def package(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(os.path.join(FUNCTIONS_DIR, f"{name}.so"), f"{name}.so")
    return buf.getvalue()


def records_in(stderr: str, destination: str) -> list[dict]:
    out = []
    for line in stderr.splitlines():
        m = RECORD_RE.search(line)
        if m and m.group("dest") == destination:
            out.append(json.loads(m.group("record")))
    return out


class AsyncBase(unittest.TestCase):
    def create(self, lam, name, library, **extra):
        args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler=f"{library}.so",
                    Code={"ZipFile": package(library)})
        args.update(extra)
        lam.create_function(**args)

    def wait_records(self, daemon, destination, count=1, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = records_in(daemon.stderr(), destination)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        self.fail(f"no record for {destination} within {timeout}s; daemon log tail:\n{daemon.stderr()[-3000:]}")

    def starts(self, daemon, name) -> int:
        r = daemon.request("GET", f"/_stratus/logs/{name}")
        return r.body.decode().count("START RequestId:")


class LambdaAsyncTest(AsyncBase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(os.path.join(FUNCTIONS_DIR, "echo.so")):
            raise AssertionError(f"example functions not built in {FUNCTIONS_DIR}")
        cls.daemon = Daemon("--log-level", "info", "--async-retry-base-ms", str(RETRY_BASE_MS)).start()
        cls.lam = cls.daemon.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def test_success_goes_to_on_success(self):
        self.create(self.lam, "async-echo", "echo")
        self.lam.put_function_event_invoke_config(
            FunctionName="async-echo",
            DestinationConfig={"OnSuccess": {"Destination": SINK + "echo-success"}})
        out = self.lam.invoke(FunctionName="async-echo", InvocationType="Event",
                              Payload=json.dumps({"hello": "async"}).encode())
        self.assertEqual(out["StatusCode"], 202)
        request_id = out["ResponseMetadata"]["RequestId"]
        [record] = self.wait_records(self.daemon, SINK + "echo-success")
        self.assertEqual(record["version"], "1.0")
        self.assertRegex(record["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(record["requestContext"], {
            "requestId": request_id, "functionArn": ARN + "async-echo:$LATEST", "condition": "Success",
            "approximateInvokeCount": 1})
        self.assertEqual(record["requestPayload"], {"hello": "async"})
        self.assertEqual(record["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST"})
        self.assertEqual(record["responsePayload"]["event"], {"hello": "async"})
        self.assertEqual(record["responsePayload"]["function_name"], "async-echo")

    def test_retries_then_failure_record_reaches_a_function(self):
        # async-fail throws; 1 retry; its failure record goes to async-sink (echo), whose own success
        # record shows what it received.
        self.create(self.lam, "async-sink", "echo")
        self.lam.put_function_event_invoke_config(
            FunctionName="async-sink", MaximumRetryAttempts=0,
            DestinationConfig={"OnSuccess": {"Destination": SINK + "sink-success"}})
        self.create(self.lam, "async-fail", "fail")
        self.lam.put_function_event_invoke_config(
            FunctionName="async-fail", MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": ARN + "async-sink"}})
        t0 = time.monotonic()
        out = self.lam.invoke(FunctionName="async-fail", InvocationType="Event",
                              Payload=json.dumps({"message": "kaboom"}).encode())
        self.assertEqual(out["StatusCode"], 202)
        request_id = out["ResponseMetadata"]["RequestId"]
        [outer] = self.wait_records(self.daemon, SINK + "sink-success")
        self.assertGreaterEqual(time.monotonic() - t0, RETRY_BASE_MS / 1000.0)  # waited for the retry
        self.assertEqual(outer["requestContext"]["condition"], "Success")
        self.assertEqual(outer["requestContext"]["functionArn"], ARN + "async-sink:$LATEST")
        received = outer["responsePayload"]["event"]  # what async-sink was invoked with
        self.assertEqual(outer["requestPayload"], received)
        self.assertEqual(set(received), {"version", "timestamp", "requestContext", "requestPayload",
                                         "responseContext", "responsePayload"})
        self.assertEqual(received["requestContext"], {
            "requestId": request_id, "functionArn": ARN + "async-fail:$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": 2})
        self.assertEqual(received["requestPayload"], {"message": "kaboom"})
        self.assertEqual(received["responseContext"],
                         {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"})
        self.assertEqual(received["responsePayload"]["errorMessage"], "kaboom")
        self.assertIn("errorType", received["responsePayload"])
        self.assertEqual(self.starts(self.daemon, "async-fail"), 2)
        self.assertEqual(self.starts(self.daemon, "async-sink"), 1)

    def test_no_retries_with_maximum_retry_attempts_zero(self):
        self.create(self.lam, "async-fail0", "fail")
        self.lam.put_function_event_invoke_config(
            FunctionName="async-fail0", MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": SINK + "fail0-failure"}})
        self.lam.invoke(FunctionName="async-fail0", InvocationType="Event", Payload=b"{}")
        [record] = self.wait_records(self.daemon, SINK + "fail0-failure")
        self.assertEqual(record["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 1)
        time.sleep(4 * RETRY_BASE_MS / 1000.0)
        self.assertEqual(self.starts(self.daemon, "async-fail0"), 1)


class LambdaAsyncRestartTest(AsyncBase):
    def setUp(self):
        if not os.path.exists(os.path.join(FUNCTIONS_DIR, "sleep.so")):
            raise AssertionError(f"example functions not built in {FUNCTIONS_DIR}")
        self.data_dir = tempfile.mkdtemp(prefix="stratus-async-")

    def tearDown(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def test_accepted_event_runs_after_a_restart(self):
        # The event is accepted (202) and the daemon is killed (SIGKILL) before the function finished it:
        # the event is still in the store and runs after the restart (at-least-once).
        with Daemon(data_dir=self.data_dir) as first:
            lam = first.client("lambda")
            self.create(lam, "async-slow", "sleep", Timeout=30)
            lam.put_function_event_invoke_config(
                FunctionName="async-slow",
                DestinationConfig={"OnSuccess": {"Destination": SINK + "slow-success"}})
            out = lam.invoke(FunctionName="async-slow", InvocationType="Event",
                             Payload=json.dumps({"ms": 5000}).encode())
            self.assertEqual(out["StatusCode"], 202)
            request_id = out["ResponseMetadata"]["RequestId"]
            time.sleep(0.5)  # queued or running (it sleeps 5 s), certainly not finished
            first.kill()
            self.assertEqual(records_in(first.stderr(), SINK + "slow-success"), [])
        with Daemon(data_dir=self.data_dir) as second:
            [record] = self.wait_records(second, SINK + "slow-success", timeout=30)
            self.assertEqual(record["requestContext"]["requestId"], request_id)
            self.assertEqual(record["requestPayload"], {"ms": 5000})
            self.assertEqual(record["responsePayload"]["slept_ms"], 5000)


if __name__ == "__main__":
    unittest.main()
