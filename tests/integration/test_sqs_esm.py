"""SQS event source mappings and Lambda's SQS dead-letter queue and destinations, end to end: boto3 against a
real daemon, real SQS queues (with a redrive policy to a DLQ), the example functions of
$STRATUS_FUNCTIONS_DIR (order_worker, fail) in worker processes.

What AWS specifies and this checks:
  - a good message is processed and deleted; a poison message fails, comes back after the queue's
    visibility timeout and SQS moves it to the DLQ after maxReceiveCount receives
    (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html);
  - with ReportBatchItemFailures only the reported messages come back;
  - a disabled mapping processes nothing, and picks up again when enabled;
  - messages that match no FilterCriteria pattern are deleted without invoking the function
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html);
  - a mapping survives a restart (its pollers start again);
  - an asynchronous invocation that fails for good goes to the function's DeadLetterConfig queue (body =
    the event, attributes RequestID / ErrorCode / ErrorMessage) and to an SQS OnFailure destination
    (body = the invocation record) (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).

Visibility timeouts are kept at 2 s (Lambda requires them to be at least the function's timeout, 2 s here)
so that every retry cycle is quick and every wait below is bounded.
"""
import io
import json
import os
import shutil
import tempfile
import time
import unittest
import zipfile

import botocore.exceptions

from harness import Daemon

FUNCTIONS_DIR = os.environ.get("STRATUS_FUNCTIONS_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-debug", "functions")
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
VISIBILITY = 2
TIMEOUT = 2
GOOD = {"orderId": "o-1", "items": [{"sku": "tea", "qty": 2, "price": 3.5}]}


def package(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(os.path.join(FUNCTIONS_DIR, f"{name}.so"), f"{name}.so")
    return buf.getvalue()


def require_functions():
    for name in ("order_worker", "fail"):
        if not os.path.exists(os.path.join(FUNCTIONS_DIR, f"{name}.so")):
            raise AssertionError(f"example function {name} not built in {FUNCTIONS_DIR}")


class EsmBase(unittest.TestCase):
    daemon: Daemon

    def setUp(self):
        self.lam = self.daemon.client("lambda")
        self.sqs = self.daemon.client("sqs")

    # --- queues ---
    def queue(self, name, dlq_arn=None, max_receive=2, visibility=VISIBILITY):
        attrs = {"VisibilityTimeout": str(visibility)}
        if dlq_arn:
            attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive})
        url = self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def queue_with_dlq(self, name, max_receive=2):
        dlq_url, dlq_arn = self.queue(name + "-dlq")
        url, arn = self.queue(name, dlq_arn, max_receive)
        return url, arn, dlq_url

    def counts(self, url):
        a = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        a = a["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def wait_empty(self, url, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.counts(url) == (0, 0):
                return
            time.sleep(0.1)
        self.fail(f"queue {url} not empty after {timeout}s: {self.counts(url)}; log:\n{self.daemon.stderr()[-3000:]}")

    def receive_one(self, url, timeout=20.0):
        """The next message of `url` (a DLQ), waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10,
                                           AttributeNames=["All"], MessageAttributeNames=["All"])
            if out.get("Messages"):
                return out["Messages"]
        self.fail(f"nothing arrived in {url} within {timeout}s; log:\n{self.daemon.stderr()[-3000:]}")

    # --- functions and mappings ---
    def function(self, name, library="order_worker", **extra):
        args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler=f"{library}.so",
                    Code={"ZipFile": package(library)}, Timeout=TIMEOUT)
        args.update(extra)
        self.lam.create_function(**args)

    def mapping(self, function, queue_arn, **extra):
        out = self.lam.create_event_source_mapping(FunctionName=function, EventSourceArn=queue_arn, **extra)
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(out["State"], "Creating")
        self.wait_state(out["UUID"], "Enabled" if extra.get("Enabled", True) else "Disabled")
        return out["UUID"]

    def wait_state(self, uuid, state, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.lam.get_event_source_mapping(UUID=uuid)["State"] == state:
                return
            time.sleep(0.1)
        self.fail(f"mapping {uuid} not {state} within {timeout}s")

    def log(self, function) -> str:
        return self.daemon.request("GET", f"/_stratus/logs/{function}").body.decode()

    def wait_log(self, function, text, count=1, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log(function).count(text) >= count:
                return
            time.sleep(0.1)
        self.fail(f"{text!r} not {count} time(s) in the log of {function} within {timeout}s:\n{self.log(function)}")


class SqsEventSourceMappingTest(EsmBase):
    @classmethod
    def setUpClass(cls):
        require_functions()
        cls.daemon = Daemon("--log-level", "info").start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def test_good_message_is_processed_and_deleted(self):
        url, arn, dlq_url = self.queue_with_dlq("good")
        self.function("good-worker")
        uuid = self.mapping("good-worker", arn, FunctionResponseTypes=["ReportBatchItemFailures"])
        m = self.lam.get_event_source_mapping(UUID=uuid)
        self.assertEqual(m["EventSourceArn"], arn)
        self.assertEqual(m["BatchSize"], 10)
        self.assertEqual(m["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:good-worker")
        self.assertEqual(m["StateTransitionReason"], "USER_INITIATED")
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(GOOD))
        self.wait_log("good-worker", "order o-1: 1 item(s)")
        self.wait_empty(url)
        # It does not come back after the visibility timeout: it was deleted.
        time.sleep(VISIBILITY + 1)
        self.assertEqual(self.log("good-worker").count("order o-1:"), 1)
        self.assertEqual(self.counts(dlq_url), (0, 0))
        stats = json.loads(self.daemon.request("GET", "/_stratus/event-source-mappings").body)
        self.assertEqual(stats[uuid]["deleted"], 1, stats)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"], "OK")

    def test_a_backlog_scales_the_pollers_past_five(self):
        """https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html: five concurrent batches
        at first, more while messages wait, up to MaximumConcurrency. A slow function (sleep, 100 ms a batch
        of one) behind a backlog runs more than five instances at once, and never more than the maximum."""
        url, arn = self.queue("backlog", visibility=30)
        for start in range(0, 400, 10):
            self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
        self.function("slow-worker", library="sleep")
        uuid = self.mapping("slow-worker", arn, BatchSize=1, ScalingConfig={"MaximumConcurrency": 12})
        peak_active = peak_pollers = 0
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            pools = json.loads(self.daemon.request("GET", "/_stratus/functions").body)["pools"]
            active = sum(p["concurrency"]["active"] for p in pools if p["function"] == "slow-worker")
            mapping = json.loads(self.daemon.request("GET", "/_stratus/event-source-mappings").body)[uuid]
            peak_active = max(peak_active, active)
            peak_pollers = max(peak_pollers, mapping["pollers"])
            self.assertLessEqual(active, 12)
            self.assertLessEqual(mapping["pollers"], 12)
            self.assertEqual(mapping["max_pollers"], 12)
            if self.counts(url) == (0, 0):
                break
            time.sleep(0.05)
        self.wait_empty(url)
        self.assertGreater(peak_pollers, 5)
        self.assertGreater(peak_active, 5, f"at most {peak_active} concurrent instances")
        # The queue is empty: one poller fewer a second, back to five.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if json.loads(self.daemon.request("GET", "/_stratus/event-source-mappings").body)[uuid]["pollers"] == 5:
                break
            time.sleep(0.2)
        self.assertEqual(json.loads(self.daemon.request("GET", "/_stratus/event-source-mappings").body)[uuid]["pollers"], 5)
        self.lam.delete_event_source_mapping(UUID=uuid)

    def test_poison_message_ends_in_the_dlq_after_max_receive_count(self):
        url, arn, dlq_url = self.queue_with_dlq("poison", max_receive=2)
        self.function("poison-worker")
        self.mapping("poison-worker", arn, FunctionResponseTypes=["ReportBatchItemFailures"])
        self.sqs.send_message(QueueUrl=url, MessageBody="not an order")
        [moved] = self.receive_one(dlq_url, timeout=25)
        self.assertEqual(moved["Body"], "not an order")
        # Two failed receives (maxReceiveCount 2), each a batch that failed in the function (the worker logs
        # "poison message <id> (receive N): <why>" and throws).
        self.wait_log("poison-worker", "(receive ", count=2)
        log = self.log("poison-worker")
        self.assertEqual(log.count("(receive "), 2, log)
        self.assertIn("(receive 1): body is not JSON", log)
        self.assertIn("(receive 2): body is not JSON", log)
        self.wait_empty(url)

    def test_partial_batch_failure_returns_only_the_reported_messages(self):
        url, arn, dlq_url = self.queue_with_dlq("partial", max_receive=2)
        self.function("partial-worker")
        # Both messages wait in the queue before the mapping exists, so the first receive takes both and
        # the batching window keeps them together.
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(dict(GOOD, orderId="o-good")))
        bad_id = self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"orderId": "o-bad"}))["MessageId"]
        self.mapping("partial-worker", arn, FunctionResponseTypes=["ReportBatchItemFailures"],
                     MaximumBatchingWindowInSeconds=1, ScalingConfig={"MaximumConcurrency": 2})
        [moved] = self.receive_one(dlq_url, timeout=25)
        self.assertEqual(moved["MessageId"], bad_id)
        self.wait_empty(url)
        log = self.log("partial-worker")
        self.assertEqual(log.count("order o-good:"), 1, log)  # deleted after the first batch
        self.assertEqual(log.count("(receive "), 2, log)  # the bad one, received twice
        self.assertIn("(receive 2): items are missing", log)

    def test_messages_matching_no_filter_are_deleted_without_invoking(self):
        url, arn, dlq_url = self.queue_with_dlq("filtered")
        self.function("filtered-worker")
        self.mapping("filtered-worker", arn,
                     FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"orderId": [{"prefix": "keep-"}]}})}]})
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(dict(GOOD, orderId="skip-1")))
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(dict(GOOD, orderId="keep-1")))
        self.wait_log("filtered-worker", "order keep-1:")
        self.wait_empty(url)
        self.assertNotIn("skip-1", self.log("filtered-worker"))
        self.assertEqual(self.counts(dlq_url), (0, 0))

    def test_disable_stops_processing_and_enable_resumes(self):
        url, arn, _ = self.queue_with_dlq("paused")
        self.function("paused-worker")
        uuid = self.mapping("paused-worker", arn)
        out = self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.assertEqual(out["State"], "Disabling")
        self.wait_state(uuid, "Disabled")
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(dict(GOOD, orderId="o-paused")))
        time.sleep(3)
        self.assertNotIn("o-paused", self.log("paused-worker"))
        self.assertEqual(self.counts(url), (1, 0))
        out = self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.assertEqual(out["State"], "Enabling")
        self.wait_log("paused-worker", "order o-paused:")
        self.wait_empty(url)

    def test_delete_stops_processing(self):
        url, arn, _ = self.queue_with_dlq("deleted")
        self.function("deleted-worker")
        uuid = self.mapping("deleted-worker", arn)
        out = self.lam.delete_event_source_mapping(UUID=uuid)
        self.assertEqual(out["State"], "Deleting")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.lam.get_event_source_mapping(UUID=uuid)
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(GOOD))
        time.sleep(3)
        self.assertEqual(self.counts(url), (1, 0))

    def test_api_errors(self):
        self.function("err-worker")
        _, arn = self.queue("short", visibility=1)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.lam.create_event_source_mapping(FunctionName="err-worker", EventSourceArn=arn)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameterValueException")
        self.assertEqual(e.exception.response["Error"]["Message"],
                         "Queue visibility timeout: 1 seconds is less than Function timeout: 2 seconds")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.lam.create_event_source_mapping(
                FunctionName="err-worker", EventSourceArn="arn:aws:sqs:us-east-1:000000000000:no-such-queue")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameterValueException")
        self.assertIn("AWS.SimpleQueueService.NonExistentQueue", e.exception.response["Error"]["Message"])
        _, arn = self.queue("errs")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.lam.create_event_source_mapping(FunctionName="err-worker", EventSourceArn=arn, BatchSize=100)
        self.assertEqual(e.exception.response["Error"]["Message"],
                         "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater "
                         "than 10")
        uuid = self.mapping("err-worker", arn)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.lam.create_event_source_mapping(FunctionName="err-worker", EventSourceArn=arn)
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceConflictException")
        self.assertIn(uuid, e.exception.response["Error"]["Message"])
        listed = self.lam.list_event_source_mappings(FunctionName="err-worker")["EventSourceMappings"]
        self.assertEqual([m["UUID"] for m in listed], [uuid])


class AsyncDeadLetterQueueTest(EsmBase):
    @classmethod
    def setUpClass(cls):
        require_functions()
        cls.daemon = Daemon("--log-level", "info", "--async-retry-base-ms", "100").start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def test_failed_event_goes_to_the_dlq_and_the_on_failure_destination(self):
        dlq_url, dlq_arn = self.queue("async-dlq")
        dest_url, dest_arn = self.queue("async-failures")
        self.function("async-fail", library="fail", DeadLetterConfig={"TargetArn": dlq_arn})
        self.assertEqual(self.lam.get_function_configuration(FunctionName="async-fail")["DeadLetterConfig"],
                         {"TargetArn": dlq_arn})
        self.lam.put_function_event_invoke_config(
            FunctionName="async-fail", MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": dest_arn}})
        out = self.lam.invoke(FunctionName="async-fail", InvocationType="Event",
                              Payload=json.dumps({"message": "nope"}).encode())
        request_id = out["ResponseMetadata"]["RequestId"]
        [dead] = self.receive_one(dlq_url)
        self.assertEqual(json.loads(dead["Body"]), {"message": "nope"})
        attrs = dead["MessageAttributes"]
        self.assertEqual(attrs["RequestID"], {"StringValue": request_id, "DataType": "String"})
        self.assertEqual(attrs["ErrorCode"], {"StringValue": "200", "DataType": "Number"})
        self.assertEqual(attrs["ErrorMessage"], {"StringValue": "nope", "DataType": "String"})
        [failure] = self.receive_one(dest_url)
        record = json.loads(failure["Body"])
        self.assertEqual(record["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(record["requestContext"]["requestId"], request_id)
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 2)
        self.assertEqual(record["requestPayload"], {"message": "nope"})
        self.assertEqual(record["responseContext"]["functionError"], "Unhandled")


class MappingRestartTest(EsmBase):
    daemon = None

    @classmethod
    def setUpClass(cls):
        require_functions()

    def setUp(self):
        pass

    def test_a_mapping_survives_a_restart(self):
        data_dir = tempfile.mkdtemp(prefix="stratus-esm-restart-")
        try:
            with Daemon("--log-level", "info", ephemeral=False, data_dir=data_dir) as first:
                self.daemon = first
                EsmBase.setUp(self)
                url, arn, _ = self.queue_with_dlq("durable")
                self.function("durable-worker")
                uuid = self.mapping("durable-worker", arn)
            with Daemon("--log-level", "info", ephemeral=False, data_dir=data_dir) as second:
                self.daemon = second
                EsmBase.setUp(self)
                self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["State"], "Enabled")
                self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(dict(GOOD, orderId="o-restart")))
                self.wait_log("durable-worker", "order o-restart:")
                self.wait_empty(url)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
