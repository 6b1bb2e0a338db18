"""<stratus/aws_client.hpp> (the header-only client functions use to call services at AWS_ENDPOINT_URL)
against the real daemon: its driver stratus-aws-client-check ($STRATUS_AWS_CLIENT_CHECK, built from
tests/integration/aws_client_check.cpp against include/ only) runs one JSON call per input line; boto3
checks the effects independently.

Covered: JSON 1.0 calls and their outputs, one keep-alive connection across calls, reconnecting after the
daemon closed an idle connection, AWS errors (status, code incl. SQS's legacy code, message, a what() that
names the call), the region taken from AWS_REGION, and transport errors (connection refused, no endpoint)."""
import json
import os
import socket
import subprocess
import unittest
from pathlib import Path

import boto3

from harness import SOURCE_DIR, Daemon, unique


def driver() -> str:
    path = os.environ.get("STRATUS_AWS_CLIENT_CHECK")
    if not path:
        for sub in ("build-dev", "build-debug", "build"):
            cand = Path(SOURCE_DIR) / sub / "bin" / "stratus-aws-client-check"
            if cand.exists():
                return str(cand)
        raise AssertionError("stratus-aws-client-check is not built (set STRATUS_AWS_CLIENT_CHECK)")
    return path


def run_calls(endpoint: str | None, calls: list[dict], region: str = "us-east-1") -> list[dict]:
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": region, "AWS_ACCESS_KEY_ID": "test"}
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    p = subprocess.run([driver()], input="".join(json.dumps(c) + "\n" for c in calls), capture_output=True,
                       text=True, env=env, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"driver exited {p.returncode}: {p.stderr}")
    out = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    if len(out) != len(calls):
        raise AssertionError(f"{len(calls)} calls, {len(out)} answers: {p.stdout}\n{p.stderr}")
    return out


def sqs(target: str, **input) -> dict:
    return {"service": "sqs", "target": f"AmazonSQS.{target}", "input": input}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AwsClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A short idle timeout, so that the reconnect case does not wait a minute.
        cls.d = Daemon("--idle-timeout-ms", "300").start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_calls_share_one_keep_alive_connection(self):
        name = unique("client")
        out = run_calls(self.d.url, [
            sqs("CreateQueue", QueueName=name),
            sqs("SendMessage", QueueUrl=f"{self.d.url}/000000000000/{name}", MessageBody="hello from C++"),
            sqs("ReceiveMessage", QueueUrl=f"{self.d.url}/000000000000/{name}", MaxNumberOfMessages=10),
            sqs("GetQueueAttributes", QueueUrl=f"{self.d.url}/000000000000/{name}", AttributeNames=["All"]),
        ])
        for o in out:
            self.assertIn("ok", o, o)
        self.assertTrue(out[0]["ok"]["QueueUrl"].endswith(f"/000000000000/{name}"), out[0])
        message_id = out[1]["ok"]["MessageId"]
        self.assertEqual([m["MessageId"] for m in out[2]["ok"]["Messages"]], [message_id])
        self.assertEqual(out[2]["ok"]["Messages"][0]["Body"], "hello from C++")
        self.assertEqual(out[3]["ok"]["Attributes"]["ApproximateNumberOfMessagesNotVisible"], "1")
        self.assertEqual([o["connections"] for o in out], [1, 1, 1, 1])
        # The effects, seen by boto3.
        attrs = self.d.client("sqs").get_queue_attributes(
            QueueUrl=self.d.client("sqs").get_queue_url(QueueName=name)["QueueUrl"],
            AttributeNames=["ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        self.assertEqual(attrs["ApproximateNumberOfMessagesNotVisible"], "1")

    def test_reconnects_after_the_daemon_closed_an_idle_connection(self):
        name = unique("idle")
        out = run_calls(self.d.url, [
            sqs("CreateQueue", QueueName=name),
            dict(sqs("GetQueueUrl", QueueName=name), sleep_ms=1000),   # > --idle-timeout-ms 300
            sqs("GetQueueUrl", QueueName=name),
        ])
        for o in out:
            self.assertIn("ok", o, o)
        self.assertEqual([o["connections"] for o in out], [1, 2, 2])

    def test_aws_errors_carry_status_code_and_message(self):
        out = run_calls(self.d.url, [
            sqs("GetQueueUrl", QueueName=unique("missing")),
            sqs("CreateQueue", QueueName="bad name!"),
            sqs("ListQueues"),                                    # the connection survives errors
        ])
        missing, bad, listed = out
        self.assertEqual(missing["error"]["status"], 400)
        self.assertEqual(missing["error"]["code"], "AWS.SimpleQueueService.NonExistentQueue")
        self.assertTrue(missing["error"]["message"], missing)
        self.assertIn("AmazonSQS.GetQueueUrl", missing["error"]["what"])
        self.assertEqual(bad["error"]["status"], 400)
        self.assertEqual(bad["error"]["code"], "InvalidParameterValue")
        self.assertIn("ok", listed)
        self.assertEqual(listed["connections"], 1)

    def test_region_comes_from_aws_region(self):
        name = unique("region")
        out = run_calls(self.d.url, [sqs("CreateQueue", QueueName=name)], region="eu-west-1")
        self.assertIn("ok", out[0], out[0])
        eu = boto3.client("sqs", endpoint_url=self.d.url, region_name="eu-west-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
        self.assertIn(name, " ".join(eu.list_queues(QueueNamePrefix=name).get("QueueUrls", [])))
        us = self.d.client("sqs")
        self.assertEqual(us.list_queues(QueueNamePrefix=name).get("QueueUrls", []), [])

    def test_transport_errors_are_clear(self):
        port = free_port()
        out = run_calls(f"http://127.0.0.1:{port}", [sqs("ListQueues")])
        err = out[0]["error"]
        self.assertEqual((err["status"], err["code"]), (0, "NetworkError"))
        self.assertIn(f"cannot connect to 127.0.0.1:{port}", err["what"])
        self.assertIn("AmazonSQS.ListQueues", err["what"])
        out = run_calls(None, [sqs("ListQueues")])
        self.assertEqual(out[0]["error"]["code"], "InvalidEndpoint")
        self.assertIn("AWS_ENDPOINT_URL", out[0]["error"]["what"])
        out = run_calls("https://127.0.0.1:1", [sqs("ListQueues")])
        self.assertEqual(out[0]["error"]["code"], "InvalidEndpoint")


if __name__ == "__main__":
    unittest.main()
