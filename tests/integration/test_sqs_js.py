"""SQS through the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs, JSON protocol) against a real daemon.

tests/integration/js/sqs_driver.mjs runs a list of calls and prints each output or error. The SDK itself
refuses a wrong MD5OfMessageBody on SendMessage, SendMessageBatch and ReceiveMessage; the driver also
checks MD5OfMessageAttributes with AWS's algorithm. The JS dependencies are installed into
tests/integration/js/node_modules from package-lock.json by this file (npm ci) when missing;
scripts/deps.sh installs node and npm.
"""
import base64
import fcntl
import json
import shutil
import subprocess
import unittest
from pathlib import Path

from sqs_support import NONEXISTENT, SqsCase, md5_hex, md5_of_attributes, name_of

JS_DIR = Path(__file__).resolve().parent / "js"
DRIVER = JS_DIR / "sqs_driver.mjs"


def ensure_js_deps() -> str | None:
    """Install the JS SDK into js/node_modules if it is not there; returns why it cannot, or None."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node/npm missing: run scripts/deps.sh"
    if (JS_DIR / "node_modules" / "@aws-sdk" / "client-sqs" / "package.json").exists():
        return None
    with open(JS_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (JS_DIR / "node_modules" / "@aws-sdk" / "client-sqs" / "package.json").exists():
            return None
        cmd = ["npm", "ci", "--no-audit", "--no-fund"] if (JS_DIR / "package-lock.json").exists() \
            else ["npm", "install", "--no-audit", "--no-fund"]
        p = subprocess.run(cmd, cwd=JS_DIR, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed in {JS_DIR}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return None


def b64(data: bytes) -> dict:
    return {"$b64": base64.b64encode(data).decode()}


ALL_TYPES = {
    "str": {"DataType": "String", "StringValue": "héllo \U0001F600"},
    "num": {"DataType": "Number", "StringValue": "-1.25e10"},
    "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02\xfe\xff"},
    "str.custom": {"DataType": "String.json", "StringValue": "{\"a\":1}"},
    "num_custom": {"DataType": "Number.float", "StringValue": "3.14"},
    "bin-custom": {"DataType": "Binary.png", "BinaryValue": b"\x89PNG\r\n"},
}


def to_js(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        out[k] = dict(v)
        if "BinaryValue" in v:
            out[k]["BinaryValue"] = b64(v["BinaryValue"])
    return out


def from_js(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        out[k] = {kk: vv for kk, vv in v.items() if vv is not None and kk in ("DataType", "StringValue", "BinaryValue")}
        if "BinaryValue" in out[k]:
            out[k]["BinaryValue"] = base64.b64decode(out[k]["BinaryValue"]["$b64"])
    return out


class SqsJsTest(SqsCase):
    @classmethod
    def setUpClass(cls):
        why = ensure_js_deps()
        if why:
            raise AssertionError(why)
        super().setUpClass()

    def js(self, calls: list[dict], host: str | None = None, **options) -> list[dict]:
        endpoint = f"http://{host or self.d.host}:{self.d.port}"
        req = {"endpoint": endpoint, "region": "us-east-1", "calls": calls, **options}
        p = subprocess.run(["node", str(DRIVER)], input=json.dumps(req), cwd=JS_DIR, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        out = json.loads(p.stdout)
        self.assertEqual(len(out), len(calls))
        return out

    def assertOk(self, r: dict) -> dict:
        self.assertTrue(r["ok"], r)
        self.assertEqual(r.get("md5", {}).get("mismatches", []), [], r)
        return r["output"]

    def test_send_receive_every_attribute_type(self):
        name = self.new_name("js")
        body = "JS body ü \U0001F600 <x/>"
        r = self.js([
            {"op": "CreateQueue", "input": {"QueueName": name}},
            {"op": "SendMessage", "input": {"QueueUrl": "$ref:0.QueueUrl", "MessageBody": body,
                                            "MessageAttributes": to_js(ALL_TYPES)}},
            {"op": "ReceiveMessage", "input": {"QueueUrl": "$ref:0.QueueUrl", "MaxNumberOfMessages": 1,
                                               "WaitTimeSeconds": 1, "MessageAttributeNames": ["All"],
                                               "MessageSystemAttributeNames": ["All"]}},
            {"op": "DeleteMessage", "input": {"QueueUrl": "$ref:0.QueueUrl",
                                              "ReceiptHandle": "$ref:2.Messages[0].ReceiptHandle"}},
            {"op": "GetQueueAttributes", "input": {"QueueUrl": "$ref:0.QueueUrl", "AttributeNames": ["All"]}},
        ])
        url = self.assertOk(r[0])["QueueUrl"]
        self._queues.append(url)
        sent = self.assertOk(r[1])
        self.assertEqual(sent["MD5OfMessageBody"], md5_hex(body))
        self.assertEqual(sent["MD5OfMessageAttributes"], md5_of_attributes(ALL_TYPES))
        self.assertEqual(r[1]["md5"]["checked"], 1)
        got = self.assertOk(r[2])
        self.assertEqual(r[2]["md5"]["checked"], 1)
        self.assertEqual(len(got["Messages"]), 1)
        m = got["Messages"][0]
        self.assertEqual((m["MessageId"], m["Body"]), (sent["MessageId"], body))
        self.assertEqual(from_js(m["MessageAttributes"]), ALL_TYPES)
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertOk(r[3])
        self.assertEqual(self.assertOk(r[4])["Attributes"]["ApproximateNumberOfMessages"], "0")

    def test_send_message_batch(self):
        url = self.make_queue("jsb")
        entries = [
            {"Id": "plain", "MessageBody": "one"},
            {"Id": "typed", "MessageBody": "two \u00e9", "MessageAttributes": to_js(ALL_TYPES)},
            {"Id": "bin", "MessageBody": "three", "MessageAttributes": {
                "only": {"DataType": "Binary", "BinaryValue": b64(bytes(range(256)))}}},
        ]
        r = self.js([
            {"op": "SendMessageBatch", "input": {"QueueUrl": url, "Entries": entries}},
            {"op": "ReceiveMessage", "input": {"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1,
                                               "MessageAttributeNames": ["All"]}},
        ])
        out = self.assertOk(r[0])
        self.assertEqual(out.get("Failed", []), [])
        self.assertEqual(sorted(e["Id"] for e in out["Successful"]), ["bin", "plain", "typed"])
        self.assertEqual(r[0]["md5"]["checked"], 2)
        got = self.assertOk(r[1])["Messages"]
        bodies = {m["Body"]: m for m in got}
        # A receive may return fewer than all; the rest through boto3.
        rest = self.drain(url, 3 - len(got), MessageAttributeNames=["All"]) if len(got) < 3 else []
        for m in rest:
            bodies[m["Body"]] = {**m, "MessageAttributes": to_js(m.get("MessageAttributes", {}))}
        self.assertEqual(set(bodies), {"one", "two \u00e9", "three"})
        self.assertEqual(from_js(bodies["two \u00e9"]["MessageAttributes"]), ALL_TYPES)
        self.assertEqual(from_js(bodies["three"]["MessageAttributes"])["only"]["BinaryValue"], bytes(range(256)))
        self.assertNotIn("MessageAttributes", bodies["one"])

    def test_batch_visibility_delete_and_list(self):
        prefix = self.new_name("jsv")
        url = self.make_queue(prefix, VisibilityTimeout=30)
        other = self.make_queue(prefix)
        r = self.js([
            {"op": "SendMessageBatch", "input": {"QueueUrl": url, "Entries": [
                {"Id": "a", "MessageBody": "va"}, {"Id": "b", "MessageBody": "vb"}]}},
            {"op": "ReceiveMessage", "input": {"QueueUrl": url, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 1}},
            {"op": "ChangeMessageVisibilityBatch", "input": {"QueueUrl": url, "Entries": [
                {"Id": "x", "ReceiptHandle": "$ref:1.Messages[0].ReceiptHandle", "VisibilityTimeout": 0},
                {"Id": "y", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}]}},
            {"op": "ReceiveMessage", "input": {"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1,
                                               "MessageSystemAttributeNames": ["ApproximateReceiveCount"]}},
            {"op": "ListQueues", "input": {"QueueNamePrefix": prefix, "MaxResults": 1}},
            {"op": "ListQueues", "input": {"QueueNamePrefix": prefix, "MaxResults": 1,
                                           "NextToken": "$ref:4.NextToken"}},
        ])
        self.assertEqual(len(self.assertOk(r[0])["Successful"]), 2)
        first = self.assertOk(r[1])["Messages"][0]
        cmv = self.assertOk(r[2])
        self.assertEqual([e["Id"] for e in cmv["Successful"]], ["x"])
        self.assertEqual([(f["Id"], f["Code"], f["SenderFault"]) for f in cmv["Failed"]],
                         [("y", "ReceiptHandleIsInvalid", True)])
        again = {m["MessageId"]: m for m in self.assertOk(r[3])["Messages"]}
        self.assertIn(first["MessageId"], again)
        self.assertEqual(again[first["MessageId"]]["Attributes"]["ApproximateReceiveCount"], "2")
        # MOTO DIFFERS: moto ignores MaxResults, so the second page has no token to follow.
        pages = self.assertOk(r[4])["QueueUrls"] + self.assertOk(r[5])["QueueUrls"]
        self.assertEqual(sorted(pages), sorted([url, other]))

        handles = [{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(again.values())]
        r = self.js([{"op": "DeleteMessageBatch", "input": {"QueueUrl": url, "Entries": handles}},
                     {"op": "GetQueueAttributes", "input": {"QueueUrl": url, "AttributeNames": [
                         "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]}}])
        self.assertEqual(len(self.assertOk(r[0])["Successful"]), len(handles))
        left = self.assertOk(r[1])["Attributes"]
        self.assertEqual(int(left["ApproximateNumberOfMessages"]) + int(left["ApproximateNumberOfMessagesNotVisible"]),
                         2 - len(handles))

    def test_errors_carry_legacy_code(self):
        # JS v3 names the error after the modeled shape (e.name) and puts the legacy query code from
        # x-amzn-query-error into e.Code.
        url = self.make_queue("jse", VisibilityTimeout=5)
        r = self.js([
            {"op": "GetQueueUrl", "input": {"QueueName": self.new_name("absent")}},
            {"op": "CreateQueue", "input": {"QueueName": name_of(url), "Attributes": {"VisibilityTimeout": "6"}}},
            {"op": "DeleteMessage", "input": {"QueueUrl": url, "ReceiptHandle": "garbage"}},
            {"op": "SendMessageBatch", "input": {"QueueUrl": url, "Entries": [
                {"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}]}},
            {"op": "SendMessageBatch", "input": {"QueueUrl": url, "Entries": []}},
        ])
        want = [("QueueDoesNotExist", NONEXISTENT),
                ("QueueNameExists", "QueueAlreadyExists"),
                ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"),
                ("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
                ("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest")]
        for res, (name, code) in zip(r, want):
            with self.subTest(name=name):
                self.assertFalse(res["ok"], res)
                e = res["error"]
                self.assertEqual(e["name"], name, e)
                self.assertEqual(e["Code"], code, e)
                self.assertEqual(e["status"], 400, e)
                self.assertEqual(e["fault"], "client", e)
                self.assertEqual(e["Type"], "Sender", e)

    def test_queue_url_host_and_follow(self):
        # The SDK sends each call to the QueueUrl's host (useQueueUrlAsEndpoint): the daemon must build
        # QueueUrl from the Host the client used, here "localhost".
        name = self.new_name("jsh")
        r = self.js([
            {"op": "CreateQueue", "input": {"QueueName": name}},
            {"op": "SendMessage", "input": {"QueueUrl": "$ref:0.QueueUrl", "MessageBody": "via localhost"}},
            {"op": "ReceiveMessage", "input": {"QueueUrl": "$ref:0.QueueUrl", "WaitTimeSeconds": 1}},
        ], host="localhost")
        url = self.assertOk(r[0])["QueueUrl"]
        self._queues.append(url)
        self.assertTrue(url.startswith(f"http://localhost:{self.d.port}/"), url)
        self.assertOk(r[1])
        self.assertEqual([m["Body"] for m in self.assertOk(r[2])["Messages"]], ["via localhost"])

    def test_fifo_and_long_poll(self):
        url = self.make_queue("jsf", fifo=True)
        r = self.js([
            {"op": "SendMessage", "input": {"QueueUrl": url, "MessageBody": "f1", "MessageGroupId": "g",
                                            "MessageDeduplicationId": "d1"}},
            {"op": "SendMessage", "input": {"QueueUrl": url, "MessageBody": "f2", "MessageGroupId": "g",
                                            "MessageDeduplicationId": "d2"}},
            {"op": "SendMessage", "input": {"QueueUrl": url, "MessageBody": "f1 again", "MessageGroupId": "g",
                                            "MessageDeduplicationId": "d1"}},
            {"op": "ReceiveMessage", "input": {"QueueUrl": url, "MaxNumberOfMessages": 10,
                                               "MessageSystemAttributeNames": ["SequenceNumber"]}},
            {"op": "ReceiveMessage", "input": {"QueueUrl": url, "WaitTimeSeconds": 1}},
        ])
        a, b, again = (self.assertOk(x) for x in r[:3])
        # MOTO DIFFERS: moto's SequenceNumbers are random, AWS's grow within a group.
        self.assertLess(int(a["SequenceNumber"]), int(b["SequenceNumber"]))
        # MOTO DIFFERS: moto gives the deduplicated send a new MessageId.
        self.assertEqual(again["MessageId"], a["MessageId"])
        got = self.assertOk(r[3])["Messages"]
        self.assertEqual([m["Body"] for m in got][:1], ["f1"])
        self.assertLessEqual(len(got), 2)
        # Everything of group g is in flight: the long poll waits its second and returns nothing.
        self.assertEqual(self.assertOk(r[4]).get("Messages", []), [])
        self.assertGreaterEqual(r[4]["ms"], 900)


if __name__ == "__main__":
    unittest.main()
