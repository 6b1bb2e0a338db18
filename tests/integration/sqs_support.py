"""Shared pieces of the SQS integration tests (test_sqs_*.py): a base TestCase that talks to the server
from harness.target(), queue helpers and the MD5 digests SQS returns.

Every test names its queues with harness.unique(), so the suite can also run against one long-lived
server (STRATUS_TEST_ENDPOINT, e.g. moto_server) without tests seeing each other's queues.
Comments marked "MOTO DIFFERS" name a place where moto 5.2.1 does not behave as AWS does; AWS is the
specification there and the test asserts AWS's behaviour.
"""
from __future__ import annotations

import hashlib
import json
import struct
import time
import unittest

from botocore.exceptions import ClientError

from harness import REGION, target, unique

NONEXISTENT = "AWS.SimpleQueueService.NonExistentQueue"


def md5_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


def md5_of_attributes(attrs: dict) -> str:
    """MD5OfMessageAttributes as AWS computes it ("Calculating the MD5 message digest for message
    attributes", Amazon SQS Developer Guide): for each attribute sorted by name, length-prefixed
    name, length-prefixed DataType, then 1 + length-prefixed UTF-8 string value or 2 + length-prefixed
    binary value."""
    buf = b""
    for name in sorted(attrs):
        a = attrs[name]
        dt = a["DataType"]
        buf += struct.pack(">I", len(name.encode())) + name.encode()
        buf += struct.pack(">I", len(dt.encode())) + dt.encode()
        if "BinaryValue" in a:
            v = a["BinaryValue"]
            buf += b"\x02" + struct.pack(">I", len(v)) + v
        else:
            v = a["StringValue"].encode("utf-8")
            buf += b"\x01" + struct.pack(">I", len(v)) + v
    return hashlib.md5(buf).hexdigest()


def account_of(queue_url: str) -> str:
    return queue_url.rstrip("/").split("/")[-2]


def name_of(queue_url: str) -> str:
    return queue_url.rstrip("/").split("/")[-1]


def arn_of(queue_url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{account_of(queue_url)}:{name_of(queue_url)}"


class SqsCase(unittest.TestCase):
    """One server per test class (a fresh ephemeral daemon, or the external endpoint)."""

    @classmethod
    def setUpClass(cls):
        cls.d = target()
        cls.sqs = cls.d.client("sqs")
        cls.sqs_nv = cls.d.client("sqs", parameter_validation=False)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def setUp(self):
        self._queues: list[str] = []

    def tearDown(self):
        for url in self._queues:
            try:
                self.sqs.delete_queue(QueueUrl=url)
            except ClientError:
                pass

    # -- queues -------------------------------------------------------------------------
    def new_name(self, prefix: str = "q", fifo: bool = False) -> str:
        return unique(prefix) + (".fifo" if fifo else "")

    def make_queue(self, prefix: str = "q", fifo: bool = False, tags: dict | None = None,
                   **attrs) -> str:
        """Create a queue with a unique name; attrs are queue attributes (values str()-ed)."""
        attributes = {k: str(v) for k, v in attrs.items()}
        if fifo:
            attributes["FifoQueue"] = "true"
        kw = dict(QueueName=self.new_name(prefix, fifo), Attributes=attributes)
        if tags:
            kw["tags"] = tags
        url = self.sqs.create_queue(**kw)["QueueUrl"]
        self._queues.append(url)
        return url

    def attrs(self, url: str, *names: str) -> dict:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"]
                                             )["Attributes"]

    def counts(self, url: str) -> tuple[int, int, int]:
        a = self.attrs(url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                       "ApproximateNumberOfMessagesDelayed")
        return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
                int(a["ApproximateNumberOfMessagesDelayed"]))

    # -- messages -----------------------------------------------------------------------
    def receive(self, url: str, n: int = 10, wait: int = 0, **kw) -> list[dict]:
        return self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, WaitTimeSeconds=wait,
                                        **kw).get("Messages", [])

    def drain(self, url: str, expect: int, timeout: float = 5.0, **kw) -> list[dict]:
        """Receive until `expect` distinct messages were seen (or `timeout` s passed)."""
        seen: dict[str, dict] = {}
        deadline = time.monotonic() + timeout
        while len(seen) < expect and time.monotonic() < deadline:
            for m in self.receive(url, 10, 1, **kw):
                seen.setdefault(m["MessageId"], m)
        return list(seen.values())

    # -- errors -------------------------------------------------------------------------
    def assertError(self, code: str, fn, *args, status: int = 400, message: str | None = None,
                    **kwargs) -> dict:
        """Call fn, expect a ClientError with this botocore Error.Code (and HTTP status); `message`
        must be a substring of Error.Message. Returns the error response."""
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kwargs)
        resp = cm.exception.response
        self.assertEqual(resp["Error"]["Code"], code, resp)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], status, resp)
        if message is not None:
            self.assertIn(message, resp["Error"].get("Message", ""), resp)
        # JSON protocol: the legacy query code travels in x-amzn-query-error ("<code>;Sender"); when it is
        # there it must agree with the code (botocore and the JS SDK read it from there).
        qe = resp["ResponseMetadata"].get("HTTPHeaders", {}).get("x-amzn-query-error")
        if qe is not None:
            self.assertEqual(qe.split(";")[0], code, resp)
            self.assertEqual(qe.split(";")[1:], ["Sender"], resp)
        return resp

    def wait_until(self, pred, timeout: float, what: str, step: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(step)
        self.fail(f"timed out after {timeout}s waiting for {what}")


def policy_statements(attrs: dict) -> list[dict]:
    if not attrs.get("Policy"):
        return []
    return json.loads(attrs["Policy"]).get("Statement", [])
