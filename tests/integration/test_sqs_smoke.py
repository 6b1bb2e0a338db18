"""SQS smoke test: the service is wired into the daemon and both of its protocols work end to end.

The thorough suite (boto3, AWS CLI v2, JS v3) lives in its own files; this one proves the wiring: boto3
(JSON protocol) send/receive/delete, one raw query-protocol form POST to /<account>/<queue>, and
/_stratus/queues.
"""
import hashlib
import json
import os
import signal
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError

from harness import Daemon, sigv4_auth

FORM = "application/x-www-form-urlencoded; charset=utf-8"


class SqsSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.sqs = cls.d.client("sqs")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_send_receive_delete_with_boto3(self):
        url = self.sqs.create_queue(QueueName="smoke")["QueueUrl"]
        self.assertEqual(url, f"{self.d.url}/000000000000/smoke")
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="hello",
                                     MessageAttributes={"attribName1": {"DataType": "String",
                                                                        "StringValue": "attribValue 1"}})
        self.assertEqual(sent["MD5OfMessageBody"], hashlib.md5(b"hello").hexdigest())
        self.assertEqual(sent["MD5OfMessageAttributes"], "19e27d4e946b072f3f58da80d94fd778")
        got = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"],
                                       WaitTimeSeconds=1)
        self.assertEqual(len(got["Messages"]), 1)
        m = got["Messages"][0]
        self.assertEqual(m["Body"], "hello")
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["ApproximateNumberOfMessages"], "0")
        self.assertEqual(attrs["ApproximateNumberOfMessagesNotVisible"], "0")
        with self.assertRaises(ClientError) as cm:
            self.sqs.get_queue_url(QueueName="missing")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AWS.SimpleQueueService.NonExistentQueue")
        self.assertEqual(type(cm.exception).__name__, "QueueDoesNotExist")

    def test_long_poll_wakes_on_send_and_times_out(self):
        url = self.sqs.create_queue(QueueName="smoke-poll")["QueueUrl"]
        t0 = time.monotonic()
        r = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
        waited = time.monotonic() - t0
        self.assertNotIn("Messages", r)
        self.assertGreaterEqual(waited, 1.9)
        self.assertLess(waited, 4.0)
        result = {}

        def poll():
            t = time.monotonic()
            result["r"] = self.d.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=20)
            result["t"] = time.monotonic() - t

        th = threading.Thread(target=poll)
        th.start()
        time.sleep(0.5)
        self.sqs.send_message(QueueUrl=url, MessageBody="wake up")
        th.join(timeout=10)
        self.assertEqual(result["r"]["Messages"][0]["Body"], "wake up")
        self.assertLess(result["t"], 5.0)

    def test_query_protocol_form_post_to_queue_path(self):
        self.sqs.create_queue(QueueName="smoke-query")
        body = urllib.parse.urlencode({"Action": "SendMessage", "Version": "2012-11-05", "MessageBody": "via query"})
        headers = {"Content-Type": FORM, "Authorization": sigv4_auth("sqs"), "X-Amz-Date": "20261201T000000Z"}
        r = self.d.request("POST", "/000000000000/smoke-query", body, headers)
        self.assertEqual(r.status, 200, r.body[:500])
        root = ET.fromstring(r.body)
        ns = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
        self.assertEqual(root.find("q:SendMessageResult/q:MD5OfMessageBody", ns).text,
                         hashlib.md5(b"via query").hexdigest())
        url = self.sqs.get_queue_url(QueueName="smoke-query")["QueueUrl"]
        got = self.sqs.receive_message(QueueUrl=url)
        self.assertEqual(got["Messages"][0]["Body"], "via query")
        stats = json.loads(self.d.request("GET", "/_stratus/queues").body)
        names = {q["name"]: q for q in stats["queues"]}
        self.assertEqual(names["smoke-query"]["in_flight"], 1)
        self.assertEqual(names["smoke-query"]["received"], 1)


class SqsDurabilityAndStackTest(unittest.TestCase):
    def test_acknowledged_send_survives_kill_9_and_stack_queues_exist(self):
        with tempfile.TemporaryDirectory(prefix="stratus-sqs-") as tmp:
            stack = os.path.join(tmp, "stack.yaml")
            with open(stack, "w") as f:
                f.write("""\
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: orders
      VisibilityTimeout: 45
      RedrivePolicy: {deadLetterTargetArn: !GetAtt OrdersDLQ.Arn, maxReceiveCount: 3}
  OrdersDLQ:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: false
Outputs:
  Url: {Value: !Ref Orders}
""")
            data = os.path.join(tmp, "data")
            d = Daemon("--config", stack, data_dir=data).start()
            try:
                sqs = d.client("sqs")
                url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
                attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                self.assertEqual(attrs["VisibilityTimeout"], "45")
                policy = json.loads(attrs["RedrivePolicy"])
                self.assertEqual(policy["maxReceiveCount"], 3)
                self.assertTrue(policy["deadLetterTargetArn"].endswith(":stratus-OrdersDLQ"), policy)
                ids = [sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")["MessageId"] for i in range(20)]
            finally:
                d.kill()  # SIGKILL: no shutdown path runs
            self.assertEqual(d.proc.returncode, -signal.SIGKILL)
            d2 = Daemon("--config", stack, data_dir=data).start()
            try:
                sqs = d2.client("sqs")
                url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
                got = []
                for _ in range(10):
                    r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
                    got += [m["MessageId"] for m in r.get("Messages", [])]
                    if len(got) >= len(ids):
                        break
                self.assertEqual(sorted(got), sorted(ids))
            finally:
                d2.stop()
                d2.cleanup()
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
