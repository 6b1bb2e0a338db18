"""<stratus/aws_client.hpp> (the header-only client functions use to call services at AWS_ENDPOINT_URL)
against the real daemon: its driver stratus-aws-client-check ($STRATUS_AWS_CLIENT_CHECK, built from
tests/integration/aws_client_check.cpp against include/ only) runs one JSON call per input line; boto3
checks the effects independently.

Covered: JSON 1.0 calls and their outputs, one keep-alive connection across calls, reconnecting after the
daemon closed an idle connection, AWS errors (status, code incl. SQS's legacy code, message, a what() that
names the call), the region taken from AWS_REGION, and transport errors (connection refused, no endpoint).
Transport cases the daemon cannot produce on demand (chunked answers, Connection: close, a kept connection
closed as a request arrives, no answer, non-JSON answers) run against ScriptedServer, a socket server that
answers each request with the next scripted bytes."""
import json
import os
import socket
import subprocess
import threading
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


def run_calls(endpoint: str | None, calls: list[dict], region: str = "us-east-1",
              timeout_ms: int | None = None) -> list[dict]:
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": region, "AWS_ACCESS_KEY_ID": "test"}
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    argv = [driver()] + ([str(timeout_ms)] if timeout_ms is not None else [])
    p = subprocess.run(argv, input="".join(json.dumps(c) + "\n" for c in calls), capture_output=True,
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


class ScriptedServer:
    """A TCP server on 127.0.0.1 that answers each request with the next scripted action, for the transport
    cases the daemon cannot be made to produce on demand (chunked answers, Connection: close, a connection
    closed just as a request arrives, no answer at all). An action is (raw response bytes or None, keep
    the connection open?). It records every request it read (head and body) and how many connections it
    accepted."""

    def __init__(self, actions: list[tuple[bytes | None, bool]]):
        self.actions = list(actions)
        self.requests: list[bytes] = []
        self.accepted = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for c in self.held:
            c.close()
        self.sock.close()

    def _read_request(self, conn, buf: bytes) -> tuple[bytes | None, bytes]:
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return head + b"\r\n\r\n" + rest[:length], rest[length:]

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.accepted += 1
            conn.settimeout(5)
            buf = b""
            try:
                while True:
                    req, buf = self._read_request(conn, buf)
                    if req is None:
                        break
                    self.requests.append(req)
                    response, keep = self.actions.pop(0) if self.actions else (None, False)
                    if response is None and keep:      # never answer: hold the connection open
                        self.held.append(conn)
                        conn = None
                        break
                    if response is not None:
                        conn.sendall(response)
                    if not keep:
                        break
            except OSError:
                pass
            finally:
                if conn is not None:
                    conn.close()


def answer(status: int, body: bytes, *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


OK = answer(200, b'{"QueueUrls": []}', "Content-Type: application/x-amz-json-1.0")


class AwsClientTransportTest(unittest.TestCase):
    def serve(self, actions) -> ScriptedServer:
        server = ScriptedServer(actions)
        self.addCleanup(server.close)
        return server

    def test_the_request_is_what_the_daemon_expects(self):
        server = self.serve([(OK, True)])
        out = run_calls(server.url, [sqs("ListQueues", QueueNamePrefix="a")], region="eu-west-1")
        self.assertEqual(out[0]["ok"], {"QueueUrls": []})
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.assertEqual(lines[0], "POST / HTTP/1.1")
        headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        self.assertEqual(headers["host"], f"127.0.0.1:{server.port}")
        self.assertEqual(headers["x-amz-target"], "AmazonSQS.ListQueues")
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.0")
        self.assertRegex(headers["authorization"],
                         r"^AWS4-HMAC-SHA256 Credential=test/\d{8}/eu-west-1/sqs/aws4_request, ")
        self.assertEqual(json.loads(body), {"QueueNamePrefix": "a"})

    def test_chunked_answers_are_read_and_the_connection_kept(self):
        chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"5\r\n{\"a\":\r\n3;ext=1\r\n 1}\r\n0\r\nX-Trailer: t\r\n\r\n")
        server = self.serve([(chunked, True), (OK, True)])
        out = run_calls(server.url, [sqs("ListQueues"), sqs("ListQueues")])
        self.assertEqual(out[0]["ok"], {"a": 1})
        self.assertIn("ok", out[1])
        self.assertEqual((out[1]["connections"], server.accepted), (1, 1))

    def test_connection_close_makes_the_next_call_reconnect(self):
        server = self.serve([(answer(200, b"{}", "Connection: close"), False), (OK, True)])
        out = run_calls(server.url, [sqs("ListQueues"), sqs("ListQueues")])
        self.assertEqual([("ok" in o, o["connections"]) for o in out], [(True, 1), (True, 2)])
        self.assertEqual(server.accepted, 2)

    def test_a_reused_connection_closed_without_an_answer_is_retried_once(self):
        # The second request arrives on the kept connection, which the server then closes unanswered.
        server = self.serve([(OK, True), (None, False), (OK, True)])
        out = run_calls(server.url, [sqs("ListQueues"), sqs("ListQueues")])
        self.assertIn("ok", out[1], out[1])
        self.assertEqual(out[1]["connections"], 2)
        self.assertEqual(len(server.requests), 3)

    def test_a_fresh_connection_closed_without_an_answer_is_not_retried(self):
        server = self.serve([(None, False), (OK, True)])
        out = run_calls(server.url, [sqs("SendMessage", QueueUrl="q", MessageBody="once")])
        err = out[0]["error"]
        self.assertEqual((err["status"], err["code"]), (0, "NetworkError"))
        self.assertIn("closed the connection before answering", err["what"])
        self.assertEqual(len(server.requests), 1)    # sent once: it may have been processed

    def test_no_answer_times_out(self):
        server = self.serve([(None, True)])
        out = run_calls(server.url, [sqs("ListQueues")], timeout_ms=300)
        self.assertEqual(out[0]["error"]["code"], "NetworkError")
        self.assertIn("no answer within 300 ms", out[0]["error"]["what"])

    def test_answers_that_are_not_json(self):
        server = self.serve([(answer(200, b"<html>", "Content-Type: text/html"), True),
                             (answer(502, b"<html>bad gateway</html>"), True),
                             (answer(400, b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",'
                                          b'"message":"Requested resource not found"}'), True)])
        out = run_calls(server.url, [sqs("ListQueues"), sqs("ListQueues"),
                                     {"service": "dynamodb", "target": "DynamoDB_20120810.DescribeTable",
                                      "input": {"TableName": "t"}}])
        self.assertEqual((out[0]["error"]["status"], out[0]["error"]["code"]), (200, "MalformedResponse"))
        self.assertEqual((out[1]["error"]["status"], out[1]["error"]["code"]), (502, "HTTP502"))
        self.assertEqual(out[1]["error"]["message"], "<html>bad gateway</html>")
        self.assertEqual(out[2]["error"]["code"], "ResourceNotFoundException")
        self.assertEqual(out[2]["error"]["message"], "Requested resource not found")


if __name__ == "__main__":
    unittest.main()
