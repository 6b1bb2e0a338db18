"""SQS state survives the daemon: restart (SIGTERM) and kill -9 with the same --data-dir.

AWS never loses an acknowledged SendMessage ("Amazon SQS stores all message queues and messages within a
single, highly-available AWS region with multiple redundant Availability Zones"); Stratus's promise is the
local analogue: what a call acknowledged is in RocksDB when the answer leaves. These tests start and stop
their own daemons, so they are skipped when STRATUS_TEST_ENDPOINT points at another server.
"""
import json
import shutil
import signal
import tempfile
import time
import unittest

from harness import Daemon, needs_own_daemon
from sqs_support import arn_of, md5_of_attributes


@needs_own_daemon
class SqsDurabilityTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="stratus-sqs-dur-")
        self.daemons: list[Daemon] = []

    def tearDown(self):
        for d in self.daemons:
            d.cleanup()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def start(self) -> Daemon:
        d = Daemon(data_dir=self.data_dir).start()
        self.daemons.append(d)
        return d

    def restart(self, d: Daemon, sig=signal.SIGTERM) -> Daemon:
        if sig == signal.SIGKILL:
            d.kill()
        else:
            rc, _ = d.stop(sig, timeout=15)
            self.assertEqual(rc, 0, d.stderr()[-2000:])
        return self.start()

    def receive(self, sqs, url, n=10, wait=1, **kw):
        return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, WaitTimeSeconds=wait,
                                   **kw).get("Messages", [])

    def test_restart_keeps_queues_messages_and_attributes(self):
        d = self.start()
        sqs = d.client("sqs")
        dlq = sqs.create_queue(QueueName="dur-dlq")["QueueUrl"]
        url = sqs.create_queue(QueueName="dur-q", Attributes={
            "VisibilityTimeout": "17", "DelaySeconds": "0", "MaximumMessageSize": "4096",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn_of(dlq), "maxReceiveCount": 3})},
            tags={"team": "dur"})["QueueUrl"]
        fifo = sqs.create_queue(QueueName="dur-f.fifo", Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
        attrs = {"s": {"DataType": "String", "StringValue": "v"},
                 "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
        ids = [sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageAttributes=attrs)["MessageId"]
               for i in range(3)]
        f1 = sqs.send_message(QueueUrl=fifo, MessageBody="f1", MessageGroupId="g")
        f2 = sqs.send_message(QueueUrl=fifo, MessageBody="f2", MessageGroupId="g")
        before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

        d = self.restart(d)
        sqs = d.client("sqs")
        listed = sorted(sqs.list_queues(QueueNamePrefix="dur-")["QueueUrls"])
        self.assertEqual([u.rsplit("/", 1)[1] for u in listed], ["dur-dlq", "dur-f.fifo", "dur-q"])
        url = sqs.get_queue_url(QueueName="dur-q")["QueueUrl"]
        after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for k in ("VisibilityTimeout", "MaximumMessageSize", "QueueArn", "CreatedTimestamp", "RedrivePolicy",
                  "ApproximateNumberOfMessages"):
            self.assertEqual(after.get(k), before.get(k), k)
        self.assertEqual(sqs.list_queue_tags(QueueUrl=url)["Tags"], {"team": "dur"})
        self.assertEqual(sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"], [url])

        got = {}
        deadline = time.monotonic() + 5
        while len(got) < 3 and time.monotonic() < deadline:
            for m in self.receive(sqs, url, MessageAttributeNames=["All"]):
                got[m["MessageId"]] = m
        self.assertEqual(sorted(got), sorted(ids))
        for m in got.values():
            self.assertEqual(m["MessageAttributes"], attrs)
            self.assertEqual(m["MD5OfMessageAttributes"], md5_of_attributes(attrs))

        # FIFO: order, sequence numbers and the deduplication window survive too.
        again = sqs.send_message(QueueUrl=fifo, MessageBody="f1", MessageGroupId="g")
        self.assertEqual(again["MessageId"], f1["MessageId"])
        f3 = sqs.send_message(QueueUrl=fifo, MessageBody="f3", MessageGroupId="g")
        self.assertGreater(int(f3["SequenceNumber"]), int(f2["SequenceNumber"]))
        bodies = []
        for _ in range(6):
            for m in self.receive(sqs, fifo, wait=0):
                bodies.append(m["Body"])
                sqs.delete_message(QueueUrl=fifo, ReceiptHandle=m["ReceiptHandle"])
            if len(bodies) >= 3:
                break
        self.assertEqual(bodies, ["f1", "f2", "f3"])

    def test_in_flight_message_reappears_after_restart(self):
        d = self.start()
        sqs = d.client("sqs")
        url = sqs.create_queue(QueueName="dur-vis", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        mid = sqs.send_message(QueueUrl=url, MessageBody="in flight")["MessageId"]
        m = self.receive(sqs, url, 1, 0)
        self.assertEqual([x["MessageId"] for x in m], [mid])
        t_received = time.monotonic()

        d = self.restart(d)
        sqs = d.client("sqs")
        # Still invisible right after the restart (if the timeout has not run out yet) ...
        if time.monotonic() - t_received < 1.5:
            self.assertEqual(self.receive(sqs, url, 1, 0), [])
        # ... and visible again once it has, with the receive count kept.
        got = []
        deadline = t_received + 8
        while not got and time.monotonic() < deadline:
            got = self.receive(sqs, url, 1, 1, MessageSystemAttributeNames=["ApproximateReceiveCount"])
        self.assertEqual([x["MessageId"] for x in got], [mid])
        self.assertEqual(got[0]["Attributes"]["ApproximateReceiveCount"], "2")
        self.assertGreaterEqual(time.monotonic() - t_received, 1.8)
        self.assertNotEqual(got[0]["ReceiptHandle"], m[0]["ReceiptHandle"])

    def test_kill_9_right_after_send_acknowledged(self):
        d = self.start()
        sqs = d.client("sqs")
        url = sqs.create_queue(QueueName="dur-kill")["QueueUrl"]
        single = sqs.send_message(QueueUrl=url, MessageBody="acked")["MessageId"]
        batch = sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": f"b{i}"} for i in range(5)])
        self.assertEqual(len(batch["Successful"]), 5)
        d.proc.send_signal(signal.SIGKILL)           # at once, no grace
        d.wait_exit(5)

        d = self.start()
        sqs = d.client("sqs")
        got = {}
        deadline = time.monotonic() + 5
        while len(got) < 6 and time.monotonic() < deadline:
            for m in self.receive(sqs, url):
                got[m["MessageId"]] = m["Body"]
        self.assertEqual(got.get(single), "acked")
        self.assertEqual(sorted(got.values()), sorted(["acked"] + [f"b{i}" for i in range(5)]))

    def test_delete_and_purge_survive_kill_9(self):
        d = self.start()
        sqs = d.client("sqs")
        url = sqs.create_queue(QueueName="dur-del")["QueueUrl"]
        gone = sqs.create_queue(QueueName="dur-gone")["QueueUrl"]
        for i in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"d{i}")
        m = self.receive(sqs, url, 1, 0)[0]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        sqs.delete_queue(QueueUrl=gone)
        d.proc.send_signal(signal.SIGKILL)
        d.wait_exit(5)

        d = self.start()
        sqs = d.client("sqs")
        self.assertEqual([u.rsplit("/", 1)[1] for u in sqs.list_queues(QueueNamePrefix="dur-")["QueueUrls"]],
                         ["dur-del"])
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
        self.assertEqual(int(a["Attributes"]["ApproximateNumberOfMessages"])
                         + int(a["Attributes"]["ApproximateNumberOfMessagesNotVisible"]), 2)
        sqs.purge_queue(QueueUrl=url)
        d = self.restart(d, signal.SIGKILL)
        sqs = d.client("sqs")
        self.assertEqual(self.receive(sqs, url, 10, 1), [])


    def test_message_move_task_survives_restart(self):
        """ListMessageMoveTasks shows the same tasks after a restart; a RUNNING task goes on from where it
        was and its handle still cancels it."""
        d = self.start()
        sqs = d.client("sqs")
        dlq = sqs.create_queue(QueueName="dur-mv-dlq")["QueueUrl"]
        sqs.create_queue(QueueName="dur-mv-src", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn_of(dlq), "maxReceiveCount": 1})})
        dest = sqs.create_queue(QueueName="dur-mv-dest")["QueueUrl"]
        sqs.send_message_batch(QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)])
        sqs.send_message_batch(QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": f"n{i}"} for i in range(10)])
        handle = sqs.start_message_move_task(SourceArn=arn_of(dlq), DestinationArn=arn_of(dest),
                                             MaxNumberOfMessagesPerSecond=1)["TaskHandle"]

        def task():
            results = sqs.list_message_move_tasks(SourceArn=arn_of(dlq))["Results"]
            self.assertEqual(len(results), 1)
            return results[0]

        deadline = time.monotonic() + 10
        while task()["ApproximateNumberOfMessagesMoved"] < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        before = task()
        self.assertEqual(before["Status"], "RUNNING")
        self.assertGreaterEqual(before["ApproximateNumberOfMessagesMoved"], 1)

        d = self.restart(d)
        sqs = d.client("sqs")
        after = task()
        self.assertEqual(after["Status"], "RUNNING", after)
        self.assertEqual(after["TaskHandle"], handle)
        self.assertEqual(after["StartedTimestamp"], before["StartedTimestamp"])
        self.assertEqual(after["ApproximateNumberOfMessagesToMove"], 20)
        self.assertEqual(after["DestinationArn"], arn_of(dest))
        self.assertGreaterEqual(after["ApproximateNumberOfMessagesMoved"], before["ApproximateNumberOfMessagesMoved"])
        with self.assertRaises(sqs.exceptions.ClientError) as e:
            sqs.start_message_move_task(SourceArn=arn_of(dlq))
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameterValue")
        # It goes on moving after the restart.
        moved = after["ApproximateNumberOfMessagesMoved"]
        deadline = time.monotonic() + 10
        while task()["ApproximateNumberOfMessagesMoved"] <= moved and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertGreater(task()["ApproximateNumberOfMessagesMoved"], moved)
        cancelled = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
        deadline = time.monotonic() + 5
        while task()["Status"] != "CANCELLED" and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(task()["Status"], "CANCELLED")

        d = self.restart(d, signal.SIGKILL)
        sqs = d.client("sqs")
        final = task()
        self.assertEqual(final["Status"], "CANCELLED")
        self.assertNotIn("TaskHandle", final)
        self.assertLessEqual(final["ApproximateNumberOfMessagesMoved"] - cancelled, 1)
        counts = [int(sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["ApproximateNumberOfMessages"])
                      ["Attributes"]["ApproximateNumberOfMessages"]) for u in (dlq, dest)]
        self.assertEqual(sum(counts), 20)
        self.assertEqual(counts[1], final["ApproximateNumberOfMessagesMoved"])

if __name__ == "__main__":
    unittest.main()
