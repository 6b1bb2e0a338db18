"""SQS through boto3 (the JSON 1.0 protocol) against a real daemon, written to AWS's documented behaviour
(Amazon SQS API Reference and Developer Guide; botocore's SQS model docs).

Runs against a fresh `stratus serve --ephemeral` per class, or against STRATUS_TEST_ENDPOINT. Comments
marked "MOTO DIFFERS" are where moto 5.2.1 does not do what AWS does; the test asserts AWS.
Time-dependent checks use VisibilityTimeout/DelaySeconds of 1-2 s and bounded waits.
"""
import hashlib
import json
import threading
import time
import unittest

from botocore.exceptions import ClientError

from harness import REGION
from sqs_support import (NONEXISTENT, SqsCase, account_of, arn_of, md5_hex, md5_of_attributes,
                         name_of, policy_statements)

MAX_MESSAGE = 1_048_576   # 1 MiB: SendMessage MessageBody / MaximumMessageSize upper bound (botocore docs)


class QueueLifecycleTest(SqsCase):
    def test_create_get_url_arn_delete(self):
        name = self.new_name("life")
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        self._queues.append(url)
        self.assertEqual(name_of(url), name)
        self.assertTrue(url.startswith(self.d.url + "/"), url)
        self.assertRegex(account_of(url), r"^\d{12}$")
        self.assertEqual(self.sqs.get_queue_url(QueueName=name)["QueueUrl"], url)
        self.assertEqual(self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account_of(url)
                                                )["QueueUrl"], url)
        self.assertEqual(self.attrs(url, "QueueArn")["QueueArn"],
                         f"arn:aws:sqs:{REGION}:{account_of(url)}:{name}")

        self.sqs.delete_queue(QueueUrl=url)
        resp = self.assertError(NONEXISTENT, self.sqs.get_queue_url, QueueName=name,
                                message="The specified queue does not exist")
        # botocore keeps the modeled (JSON) code beside the legacy one from x-amzn-query-error.
        self.assertEqual(resp["Error"].get("QueryErrorCode"), "QueueDoesNotExist", resp)
        self.assertEqual(resp["Error"].get("Type"), "Sender", resp)
        self.assertTrue(resp["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-query-error", "")
                        .startswith(NONEXISTENT + ";Sender"), resp)
        for fn, kw in ((self.sqs.send_message, dict(QueueUrl=url, MessageBody="x")),
                       (self.sqs.receive_message, dict(QueueUrl=url)),
                       (self.sqs.get_queue_attributes, dict(QueueUrl=url, AttributeNames=["All"])),
                       (self.sqs.delete_queue, dict(QueueUrl=url)),
                       (self.sqs.purge_queue, dict(QueueUrl=url)),
                       (self.sqs.list_queue_tags, dict(QueueUrl=url))):
            with self.subTest(op=fn.__name__):
                self.assertError(NONEXISTENT, fn, **kw)

    def test_names_are_case_sensitive_and_owner_checked(self):
        base = self.new_name("Case")
        upper = self.sqs.create_queue(QueueName=base)["QueueUrl"]
        self._queues.append(upper)
        lower = self.sqs.create_queue(QueueName=base.lower())["QueueUrl"]
        self._queues.append(lower)
        self.assertNotEqual(upper, lower)
        self.sqs.send_message(QueueUrl=upper, MessageBody="upper")
        self.assertEqual(self.receive(lower), [])
        # Another account's queue of that name does not exist.
        # MOTO DIFFERS: moto ignores QueueOwnerAWSAccountId.
        other = "111122223333" if account_of(upper) != "111122223333" else "222233334444"
        self.assertError(NONEXISTENT, self.sqs.get_queue_url, QueueName=base, QueueOwnerAWSAccountId=other)

    def test_create_is_idempotent_with_same_attributes(self):
        name = self.new_name("idem")
        url = self.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "7"})["QueueUrl"]
        self._queues.append(url)
        again = self.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "7"})
        self.assertEqual(again["QueueUrl"], url)
        # No attributes at all: also the existing queue (only attributes given are compared).
        self.assertEqual(self.sqs.create_queue(QueueName=name)["QueueUrl"], url)
        resp = self.assertError("QueueAlreadyExists", self.sqs.create_queue, QueueName=name,
                                Attributes={"VisibilityTimeout": "8"})
        self.assertEqual(resp["Error"].get("QueryErrorCode"), "QueueNameExists", resp)
        self.assertEqual(self.attrs(url, "VisibilityTimeout")["VisibilityTimeout"], "7")

    def test_queue_deleted_recently(self):
        # AWS: "After you delete a queue, you must wait at least 60 seconds before creating a queue with
        # the same name" (CreateQueue); the error is AWS.SimpleQueueService.QueueDeletedRecently.
        # MOTO DIFFERS: moto lets the name be reused at once.
        name = self.new_name("recent")
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        self.sqs.delete_queue(QueueUrl=url)
        try:
            resp = self.assertError("AWS.SimpleQueueService.QueueDeletedRecently", self.sqs.create_queue,
                                    QueueName=name)
            self.assertEqual(resp["Error"].get("QueryErrorCode"), "QueueDeletedRecently", resp)
        finally:
            try:
                self.sqs.delete_queue(QueueUrl=url)
            except ClientError:
                pass

    def test_queue_name_rules(self):
        # AWS: 1-80 characters of [A-Za-z0-9_-], plus ".fifo" for (and only for) FIFO queues.
        # MOTO DIFFERS: moto accepts FifoQueue=true on a name without .fifo.
        name80 = (self.new_name("max") + "_x-" * 30)[:80]
        url = self.sqs.create_queue(QueueName=name80)["QueueUrl"]
        self._queues.append(url)
        self.assertEqual(name_of(url), name80)
        for bad in ("a" * 81, "has space", "dot.name", "slash/name", "star*"):
            with self.subTest(name=bad):
                self.assertError("InvalidParameterValue", self.sqs_nv.create_queue, QueueName=bad)
        # An empty name is refused too (as missing or as invalid).
        with self.assertRaises(ClientError) as cm:
            self.sqs_nv.create_queue(QueueName="")
        self.assertIn(cm.exception.response["Error"]["Code"], ("MissingParameter", "InvalidParameterValue"))
        # FIFO: FifoQueue=true needs the .fifo suffix, and .fifo without FifoQueue is refused.
        self.assertError("InvalidParameterValue", self.sqs.create_queue, QueueName=self.new_name("nf"),
                         Attributes={"FifoQueue": "true"})
        self.assertError("InvalidParameterValue", self.sqs.create_queue,
                         QueueName=self.new_name("nf", fifo=True))

    def test_list_queues_prefix_and_pagination(self):
        # MOTO DIFFERS: moto ignores MaxResults (returns all 5, no NextToken).
        prefix = self.new_name("lst")
        urls = sorted(self.make_queue(prefix) for _ in range(5))
        other = self.make_queue("other")
        got = self.sqs.list_queues(QueueNamePrefix=prefix)
        self.assertEqual(sorted(got["QueueUrls"]), urls)
        self.assertNotIn("NextToken", got)
        self.assertNotIn(other, got["QueueUrls"])

        pages, token = [], None
        for _ in range(10):
            kw = dict(QueueNamePrefix=prefix, MaxResults=2)
            if token:
                kw["NextToken"] = token
            page = self.sqs.list_queues(**kw)
            self.assertLessEqual(len(page.get("QueueUrls", [])), 2, page)
            pages += page.get("QueueUrls", [])
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(sorted(pages), urls)
        self.assertEqual(len(pages), len(set(pages)))

        # No queue has this prefix: AWS returns no QueueUrls member at all.
        empty = self.sqs.list_queues(QueueNamePrefix=prefix + "zzz-none")
        self.assertEqual(empty.get("QueueUrls", []), [])
        # The whole listing includes ours.
        everything = self.sqs.list_queues()
        if "NextToken" not in everything:
            self.assertTrue(set(urls) <= set(everything["QueueUrls"]))

    def test_list_queues_max_results_bounds(self):
        # AWS: MaxResults must be 1..1000 ("Value for parameter MaxResults is invalid").
        # MOTO DIFFERS: moto accepts any MaxResults.
        for bad in (0, 1001):
            with self.subTest(max_results=bad):
                self.assertError("InvalidParameterValue", self.sqs_nv.list_queues, MaxResults=bad)

    def test_queue_url_uses_request_host(self):
        # JS SDK v3 sends later requests to the QueueUrl's host: the URL must carry the Host the client used.
        client = self.d.client("sqs", host="localhost")
        url = client.create_queue(QueueName=self.new_name("host"))["QueueUrl"]
        self._queues.append(url)
        self.assertTrue(url.startswith(f"http://localhost:{self.d.port}/"), url)
        got = client.get_queue_url(QueueName=name_of(url))["QueueUrl"]
        self.assertTrue(got.startswith(f"http://localhost:{self.d.port}/"), got)
        via_ip = self.sqs.get_queue_url(QueueName=name_of(url))["QueueUrl"]
        self.assertTrue(via_ip.startswith(f"http://127.0.0.1:{self.d.port}/"), via_ip)
        # Either URL addresses the same queue.
        client.send_message(QueueUrl=url, MessageBody="via localhost")
        self.assertEqual([m["Body"] for m in self.receive(via_ip, wait=1)], ["via localhost"])


class QueueAttributesTest(SqsCase):
    def test_defaults(self):
        # AWS creates queues with SSE-SQS on (SqsManagedSseEnabled=true) since 2022.
        url = self.make_queue("defaults")
        a = self.attrs(url)
        expect = {"VisibilityTimeout": "30", "MaximumMessageSize": str(MAX_MESSAGE),
                  "MessageRetentionPeriod": "345600", "DelaySeconds": "0",
                  "ReceiveMessageWaitTimeSeconds": "0", "ApproximateNumberOfMessages": "0",
                  "ApproximateNumberOfMessagesNotVisible": "0", "ApproximateNumberOfMessagesDelayed": "0",
                  "QueueArn": arn_of(url), "SqsManagedSseEnabled": "true"}
        for k, v in expect.items():
            self.assertEqual(a.get(k), v, f"{k}: {a}")
        # CreatedTimestamp/LastModifiedTimestamp are epoch seconds (integers) in AWS.
        # MOTO DIFFERS: moto returns them with a fractional part ("1796120691.1825").
        for k in ("CreatedTimestamp", "LastModifiedTimestamp"):
            self.assertRegex(a.get(k, ""), r"^\d{10}$", f"{k}: {a}")
            self.assertLess(abs(int(a[k]) - time.time()), 120)
        for k in ("FifoQueue", "ContentBasedDeduplication", "RedrivePolicy", "Policy"):
            self.assertNotIn(k, a)

    def test_fifo_defaults(self):
        url = self.make_queue("fdef", fifo=True)
        a = self.attrs(url)
        self.assertEqual(a.get("FifoQueue"), "true", a)
        self.assertEqual(a.get("ContentBasedDeduplication"), "false", a)
        self.assertEqual(a.get("DeduplicationScope"), "queue", a)
        self.assertEqual(a.get("FifoThroughputLimit"), "perQueue", a)

    def test_get_selected_attributes(self):
        url = self.make_queue("sel", VisibilityTimeout=11)
        a = self.attrs(url, "VisibilityTimeout", "DelaySeconds")
        self.assertEqual(a, {"VisibilityTimeout": "11", "DelaySeconds": "0"})
        resp = self.sqs.get_queue_attributes(QueueUrl=url)      # no AttributeNames: no Attributes
        self.assertEqual(resp.get("Attributes", {}), {})

    def test_set_and_get_every_settable_attribute(self):
        url = self.make_queue("setall")
        dlq = self.make_queue("setall-dlq")
        redrive = json.dumps({"deadLetterTargetArn": arn_of(dlq), "maxReceiveCount": 4})
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "s1", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_of(url)}:root"},
            "Action": "sqs:SendMessage", "Resource": arn_of(url)}]})
        # MOTO DIFFERS: moto does not keep KmsDataKeyReusePeriodSeconds.
        values = {"DelaySeconds": "5", "MaximumMessageSize": "2048", "MessageRetentionPeriod": "120",
                  "ReceiveMessageWaitTimeSeconds": "3", "VisibilityTimeout": "45", "Policy": policy,
                  "RedrivePolicy": redrive, "KmsDataKeyReusePeriodSeconds": "600",
                  "SqsManagedSseEnabled": "false"}
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes=values)
        got = self.attrs(url)
        for k, v in values.items():
            with self.subTest(attribute=k):
                if k in ("Policy", "RedrivePolicy"):
                    self.assertEqual(json.loads(got[k]), json.loads(v))
                else:
                    self.assertEqual(got.get(k), v, got)
        # RedrivePolicy comes back with maxReceiveCount as a number.
        self.assertEqual(json.loads(got["RedrivePolicy"])["maxReceiveCount"], 4)

        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/aws/sqs"})
        self.assertEqual(self.attrs(url, "KmsMasterKeyId").get("KmsMasterKeyId"), "alias/aws/sqs")

        # An empty RedrivePolicy removes it.
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
        self.assertNotIn("RedrivePolicy", self.attrs(url))

    def test_fifo_attributes(self):
        url = self.make_queue("fattr", fifo=True)
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={
            "ContentBasedDeduplication": "true", "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId"})
        a = self.attrs(url)
        self.assertEqual((a["ContentBasedDeduplication"], a["DeduplicationScope"], a["FifoThroughputLimit"]),
                         ("true", "messageGroup", "perMessageGroupId"))

    def test_invalid_attribute_values(self):
        # AWS: InvalidAttributeValue "Invalid value for the parameter <Name>." for any out-of-range or
        # non-integer value. MOTO DIFFERS: moto stores most out-of-range values and answers 500 for
        # non-integers.
        url = self.make_queue("inval")
        cases = {"VisibilityTimeout": ["-1", "43201", "abc", "1.5"],
                 "DelaySeconds": ["-1", "901"],
                 "MaximumMessageSize": ["1023", str(MAX_MESSAGE + 1)],
                 "MessageRetentionPeriod": ["59", "1209601"],
                 "ReceiveMessageWaitTimeSeconds": ["-1", "21"],
                 "KmsDataKeyReusePeriodSeconds": ["59", "86401"]}
        for name, bads in cases.items():
            for bad in bads:
                with self.subTest(attribute=name, value=bad):
                    self.assertError("InvalidAttributeValue", self.sqs.set_queue_attributes, QueueUrl=url,
                                     Attributes={name: bad},
                                     message=f"Invalid value for the parameter {name}.")
                    self.assertError("InvalidAttributeValue", self.sqs.create_queue,
                                     QueueName=self.new_name("inval-c"), Attributes={name: bad})
        # Nothing invalid was stored.
        a = self.attrs(url)
        self.assertEqual((a["VisibilityTimeout"], a["DelaySeconds"]), ("30", "0"))
        for bad in ("{not json", json.dumps({"maxReceiveCount": 3}),
                    json.dumps({"deadLetterTargetArn": arn_of(url) + "-none", "maxReceiveCount": 0})):
            with self.subTest(redrive=bad):
                with self.assertRaises(ClientError) as cm:
                    self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": bad})
                self.assertIn(cm.exception.response["Error"]["Code"],
                              ("InvalidParameterValue", "InvalidAttributeValue"), cm.exception.response)
        self.assertNotIn("RedrivePolicy", self.attrs(url))

    def test_invalid_attribute_names(self):
        url = self.make_queue("inname")
        # MOTO DIFFERS: moto's SetQueueAttributes accepts unknown and read-only names.
        # AWS answers InvalidAttributeName "Unknown Attribute <name>." for names it does not know, and for
        # FIFO-only attributes on a standard queue (also FifoQueue=false on CreateQueue).
        self.assertError("InvalidAttributeName", self.sqs.set_queue_attributes, QueueUrl=url,
                         Attributes={"Bogus": "1"}, message="Unknown Attribute Bogus.")
        self.assertError("InvalidAttributeName", self.sqs.create_queue, QueueName=self.new_name("inname-c"),
                         Attributes={"Bogus": "1"})
        self.assertError("InvalidAttributeName", self.sqs_nv.get_queue_attributes, QueueUrl=url,
                         AttributeNames=["Bogus"])
        self.assertError("InvalidAttributeName", self.sqs.set_queue_attributes, QueueUrl=url,
                         Attributes={"ContentBasedDeduplication": "true"})
        # Read-only attributes cannot be set.
        self.assertError("InvalidAttributeName", self.sqs.set_queue_attributes, QueueUrl=url,
                         Attributes={"QueueArn": "arn:aws:sqs:us-east-1:000000000000:x"})
        self.assertError("InvalidAttributeName", self.sqs.set_queue_attributes, QueueUrl=url,
                         Attributes={"ApproximateNumberOfMessages": "3"})


class MessagesTest(SqsCase):
    def test_send_receive_delete_and_md5(self):
        url = self.make_queue("msg")
        body = "héllo wörld \U0001F600 <xml/> {\"json\": true}"
        sent = self.sqs.send_message(QueueUrl=url, MessageBody=body)
        self.assertEqual(sent["MD5OfMessageBody"], md5_hex(body))
        self.assertRegex(sent["MessageId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertNotIn("MD5OfMessageAttributes", sent)
        t_send = time.time()

        msgs = self.receive(url, wait=1, MessageSystemAttributeNames=["All"])
        self.assertEqual(len(msgs), 1, msgs)
        m = msgs[0]
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Body"], body)
        self.assertEqual(m["MD5OfBody"], md5_hex(body))
        self.assertTrue(m["ReceiptHandle"])
        sa = m["Attributes"]
        self.assertEqual(sa["ApproximateReceiveCount"], "1")
        self.assertLess(abs(int(sa["SentTimestamp"]) / 1000 - t_send), 60)
        self.assertGreaterEqual(int(sa["ApproximateFirstReceiveTimestamp"]), int(sa["SentTimestamp"]))
        self.assertTrue(sa["SenderId"])
        # In flight now: nothing else to receive.
        self.assertEqual(self.receive(url), [])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_message_attributes_every_type(self):
        url = self.make_queue("mattr")
        attrs = {"s": {"DataType": "String", "StringValue": "text ü"},
                 "n": {"DataType": "Number", "StringValue": "-12.5e3"},
                 "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
                 "custom": {"DataType": "String.custom-type", "StringValue": "c"},
                 "num.custom": {"DataType": "Number.int", "StringValue": "42"},
                 "bin_custom": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a"}}
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="with attributes", MessageAttributes=attrs)
        self.assertEqual(sent["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        m = self.receive(url, wait=1, MessageAttributeNames=["All"])[0]
        self.assertEqual(m["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        self.assertEqual(m["MessageAttributes"], attrs)
        # The reference vector from the SQS developer guide's MD5 example.
        self.assertEqual(md5_of_attributes({"attribName1": {"DataType": "String",
                                                            "StringValue": "attribValue 1"}}),
                         "19e27d4e946b072f3f58da80d94fd778")

    def test_message_attribute_selection(self):
        url = self.make_queue("msel")
        attrs = {"alpha.one": {"DataType": "String", "StringValue": "1"},
                 "alpha.two": {"DataType": "String", "StringValue": "2"},
                 "beta": {"DataType": "Number", "StringValue": "3"}}
        self.sqs.send_message(QueueUrl=url, MessageBody="sel", MessageAttributes=attrs)

        def get(names, sys_names=None):
            kw = dict(VisibilityTimeout=0, WaitTimeSeconds=1)
            if names is not None:
                kw["MessageAttributeNames"] = names
            if sys_names is not None:
                kw["MessageSystemAttributeNames"] = sys_names
            m = self.sqs.receive_message(QueueUrl=url, **kw)["Messages"][0]
            return m

        m = get(None)
        self.assertNotIn("MessageAttributes", m)
        self.assertNotIn("Attributes", m)
        # MD5OfMessageAttributes is over the attributes returned (SDKs check it against them), so it is
        # absent when none are returned.
        self.assertNotIn("MD5OfMessageAttributes", m)

        def check(names, expect):
            m = get(names)
            if not expect:
                self.assertNotIn("MessageAttributes", m)
                return
            self.assertEqual(set(m["MessageAttributes"]), expect, names)
            self.assertEqual(m["MD5OfMessageAttributes"], md5_of_attributes(m["MessageAttributes"]))
        check(["All"], {"alpha.one", "alpha.two", "beta"})
        check([".*"], {"alpha.one", "alpha.two", "beta"})
        check(["beta"], {"beta"})
        check(["alpha.*"], {"alpha.one", "alpha.two"})      # "prefix.*" selects names with that prefix
        check(["beta", "nope"], {"beta"})
        check(["nope"], set())

        m = get(None, ["SentTimestamp", "ApproximateReceiveCount"])
        self.assertEqual(set(m["Attributes"]), {"SentTimestamp", "ApproximateReceiveCount"})
        m = get(None, ["All"])
        self.assertTrue({"SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
                         "SenderId"} <= set(m["Attributes"]), m["Attributes"])
        # The older AttributeNames parameter selects the same system attributes.
        m = self.sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"],
                                     VisibilityTimeout=0, WaitTimeSeconds=1)["Messages"][0]
        self.assertEqual(set(m["Attributes"]), {"ApproximateReceiveCount"})
        self.assertGreaterEqual(int(m["Attributes"]["ApproximateReceiveCount"]), 2)

    def test_system_attribute_aws_trace_header(self):
        url = self.make_queue("trace")
        header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        sys_attrs = {"AWSTraceHeader": {"DataType": "String", "StringValue": header}}
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="traced", MessageSystemAttributes=sys_attrs)
        # MD5OfMessageSystemAttributes uses the message-attribute digest algorithm.
        # MOTO DIFFERS: moto does not return MD5OfMessageSystemAttributes.
        self.assertEqual(sent["MD5OfMessageSystemAttributes"], md5_of_attributes(sys_attrs))
        m = self.receive(url, 1, wait=1, MessageSystemAttributeNames=["AWSTraceHeader"])[0]
        self.assertEqual(m["Attributes"], {"AWSTraceHeader": header})
        self.assertNotIn("MessageAttributes", m)

    def test_message_attribute_validation(self):
        # AWS: InvalidParameterValue for each case (e.g. "Number of message attributes [11] exceeds the
        # allowed maximum [10]."). MOTO DIFFERS: over JSON moto accepts all of them.
        url = self.make_queue("mval")
        cases = [
            ("no value", {"a": {"DataType": "String"}}),
            ("empty string", {"a": {"DataType": "String", "StringValue": ""}}),
            ("bad type", {"a": {"DataType": "Integer", "StringValue": "1"}}),
            ("not a number", {"a": {"DataType": "Number", "StringValue": "abc"}}),
            ("reserved prefix aws.", {"AWS.x": {"DataType": "String", "StringValue": "1"}}),
            ("reserved prefix amazon.", {"Amazon.x": {"DataType": "String", "StringValue": "1"}}),
            ("bad name char", {"a b": {"DataType": "String", "StringValue": "1"}}),
            ("leading dot", {".a": {"DataType": "String", "StringValue": "1"}}),
            ("double dot", {"a..b": {"DataType": "String", "StringValue": "1"}}),
            ("too many", {f"a{i}": {"DataType": "String", "StringValue": "1"} for i in range(11)}),
        ]
        for what, attrs in cases:
            with self.subTest(what):
                self.assertError("InvalidParameterValue", self.sqs_nv.send_message, QueueUrl=url,
                                 MessageBody="x", MessageAttributes=attrs)
        self.assertEqual(self.counts(url), (0, 0, 0))
        # Ten attributes are allowed.
        ten = {f"a{i}": {"DataType": "String", "StringValue": "1"} for i in range(10)}
        self.sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=ten)

    def test_message_size_limit(self):
        # AWS: InvalidParameterValue "One or more parameters are invalid. Reason: Message must be shorter
        # than 1048576 bytes." (limit raised from 256 KiB to 1 MiB in 2025; botocore's SendMessage doc).
        # MOTO DIFFERS: over JSON moto accepts a body past the limit.
        url = self.make_queue("size")
        body = "x" * MAX_MESSAGE
        sent = self.sqs.send_message(QueueUrl=url, MessageBody=body)
        self.assertEqual(sent["MD5OfMessageBody"], md5_hex(body))
        m = self.receive(url, wait=1)[0]
        self.assertEqual(len(m["Body"]), MAX_MESSAGE)
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertError("InvalidParameterValue", self.sqs.send_message, QueueUrl=url,
                         MessageBody=body + "x", message="Message must be shorter than 1048576 bytes")
        # Attributes count toward the limit (name + type + value bytes).
        self.assertError("InvalidParameterValue", self.sqs.send_message, QueueUrl=url,
                         MessageBody="x" * (MAX_MESSAGE - 4),
                         MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        # A queue's MaximumMessageSize lowers the limit.
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})
        self.sqs.send_message(QueueUrl=url, MessageBody="y" * 1024)
        self.assertError("InvalidParameterValue", self.sqs.send_message, QueueUrl=url,
                         MessageBody="y" * 1025, message="Message must be shorter than 1024 bytes")
        self.assertEqual(self.counts(url)[0], 1)

    def test_invalid_characters_and_empty_body(self):
        # AWS: allowed are #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF; others give
        # InvalidMessageContents. MOTO DIFFERS: over JSON moto accepts any character and an empty body.
        url = self.make_queue("chars")
        for bad in ("a\x00b", "\x08", "x\x1fy", "\ufffe", "\uffff"):
            with self.subTest(body=repr(bad)):
                self.assertError("InvalidMessageContents", self.sqs.send_message, QueueUrl=url,
                                 MessageBody=bad)
        for good in ("\t\n\r", " ~\ud7ff", "\ue000\ufffd", "\U00010000\U0010ffff"):
            with self.subTest(body=repr(good)):
                sent = self.sqs.send_message(QueueUrl=url, MessageBody=good)
                self.assertEqual(sent["MD5OfMessageBody"], md5_hex(good))
        # The body must be at least one character.
        with self.assertRaises(ClientError) as cm:
            self.sqs_nv.send_message(QueueUrl=url, MessageBody="")
        self.assertIn(cm.exception.response["Error"]["Code"], ("MissingParameter", "InvalidParameterValue"))
        got = sorted(m["Body"] for m in self.drain(url, 4))
        self.assertEqual(got, sorted(["\t\n\r", " ~\ud7ff", "\ue000\ufffd", "\U00010000\U0010ffff"]))


class VisibilityTest(SqsCase):
    def test_visibility_timeout_expiry(self):
        url = self.make_queue("vis", VisibilityTimeout=1)
        mid = self.sqs.send_message(QueueUrl=url, MessageBody="again")["MessageId"]
        first = self.receive(url, 1, MessageSystemAttributeNames=["ApproximateReceiveCount"])[0]
        self.assertEqual(first["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertEqual(self.receive(url), [])
        self.assertEqual(self.counts(url), (0, 1, 0))
        t0 = time.monotonic()
        second = self.receive(url, 1, wait=3, MessageSystemAttributeNames=["ApproximateReceiveCount"])
        waited = time.monotonic() - t0
        self.assertEqual(len(second), 1)
        second = second[0]
        self.assertLess(waited, 2.9)
        self.assertEqual(second["MessageId"], mid)
        self.assertEqual(second["Attributes"]["ApproximateReceiveCount"], "2")
        self.assertNotEqual(second["ReceiptHandle"], first["ReceiptHandle"])
        # An earlier receive's handle is stale now; on a standard queue DeleteMessage with it succeeds.
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])

    def test_receive_visibility_timeout_parameter(self):
        url = self.make_queue("visp")
        self.sqs.send_message(QueueUrl=url, MessageBody="p")
        self.assertEqual(len(self.receive(url, 1, VisibilityTimeout=1)), 1)
        self.assertEqual(self.receive(url), [])
        self.assertEqual(len(self.receive(url, 1, wait=3)), 1)

    def test_change_visibility(self):
        url = self.make_queue("chg", VisibilityTimeout=30)
        self.sqs.send_message(QueueUrl=url, MessageBody="c")
        m = self.receive(url, 1)[0]
        self.assertEqual(self.receive(url), [])
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        again = self.receive(url, 1, MessageSystemAttributeNames=["ApproximateReceiveCount"])
        self.assertEqual(len(again), 1)
        self.assertEqual(again[0]["Attributes"]["ApproximateReceiveCount"], "2")
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"],
                                           VisibilityTimeout=1)
        self.assertEqual(self.receive(url), [])
        self.assertEqual(len(self.receive(url, 1, wait=3)), 1)
        # AWS: "Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200".
        self.assertError("InvalidParameterValue", self.sqs.change_message_visibility, QueueUrl=url,
                         ReceiptHandle=again[0]["ReceiptHandle"], VisibilityTimeout=43201)

    def test_change_visibility_batch(self):
        url = self.make_queue("chgb", VisibilityTimeout=30)
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"b{i}")
        got = self.drain(url, 3)
        self.assertEqual(len(got), 3)
        entries = [{"Id": f"e{i}", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                   for i, m in enumerate(got[:2])]
        entries.append({"Id": "bad", "ReceiptHandle": "garbage-handle", "VisibilityTimeout": 0})
        out = self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        self.assertEqual(sorted(e["Id"] for e in out["Successful"]), ["e0", "e1"])
        self.assertEqual(len(out["Failed"]), 1, out)
        f = out["Failed"][0]
        self.assertEqual((f["Id"], f["SenderFault"], f["Code"]), ("bad", True, "ReceiptHandleIsInvalid"))
        self.assertEqual(len(self.drain(url, 2, timeout=2)), 2)

    def test_receipt_handle_is_invalid(self):
        # AWS: 'The input receipt handle "garbage" is not a valid receipt handle.'
        # MOTO DIFFERS: moto's message does not name the handle.
        url = self.make_queue("rh")
        self.assertError("ReceiptHandleIsInvalid", self.sqs.delete_message, QueueUrl=url,
                         ReceiptHandle="garbage", message="garbage")
        self.assertError("ReceiptHandleIsInvalid", self.sqs.change_message_visibility, QueueUrl=url,
                         ReceiptHandle="garbage", VisibilityTimeout=5)

    def test_stale_receipt_handle_delete_succeeds(self):
        url = self.make_queue("stale")
        self.sqs.send_message(QueueUrl=url, MessageBody="s")
        m = self.receive(url, 1)[0]
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        # Deleting again with the same (now stale) handle succeeds on a standard queue.
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(self.counts(url), (0, 0, 0))


class DelayAndPollingTest(SqsCase):
    def test_queue_delay(self):
        url = self.make_queue("qdelay", DelaySeconds=1)
        self.sqs.send_message(QueueUrl=url, MessageBody="later")
        self.assertEqual(self.receive(url), [])
        self.assertEqual(self.counts(url), (0, 0, 1))
        got = self.receive(url, 1, wait=3)
        self.assertEqual([m["Body"] for m in got], ["later"])

    def test_message_delay_overrides_queue(self):
        url = self.make_queue("mdelay", DelaySeconds=600)
        self.sqs.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
        self.sqs.send_message(QueueUrl=url, MessageBody="soon", DelaySeconds=1)
        self.assertEqual([m["Body"] for m in self.receive(url)], ["now"])
        self.assertEqual([m["Body"] for m in self.receive(url, 1, wait=3)], ["soon"])
        self.assertError("InvalidParameterValue", self.sqs.send_message, QueueUrl=url, MessageBody="x",
                         DelaySeconds=901)

    def test_long_poll_returns_early(self):
        url = self.make_queue("lp")
        timer = threading.Timer(1.0, lambda: self.sqs.send_message(QueueUrl=url, MessageBody="arrived"))
        t0 = time.monotonic()
        timer.start()
        try:
            got = self.receive(url, 1, wait=10)
        finally:
            timer.cancel()
        took = time.monotonic() - t0
        self.assertEqual([m["Body"] for m in got], ["arrived"])
        self.assertGreaterEqual(took, 0.8)
        self.assertLess(took, 4.0, "long poll did not return when the message arrived")

    def test_one_message_wakes_one_of_two_pollers(self):
        url = self.make_queue("lp2")
        results = [None, None]

        def poll(i):
            client = self.d.client("sqs")
            results[i] = client.receive_message(QueueUrl=url, WaitTimeSeconds=3).get("Messages", [])

        threads = [threading.Thread(target=poll, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.sqs.send_message(QueueUrl=url, MessageBody="only one")
        for t in threads:
            t.join(10)
        got = [m["Body"] for r in results for m in (r or [])]
        self.assertEqual(got, ["only one"], results)

    def test_long_poll_returns_at_once_when_messages_are_there(self):
        # Fewer messages than MaxNumberOfMessages: the receive does not wait for more.
        url = self.make_queue("lpnow")
        for i in range(2):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"now{i}")
        t0 = time.monotonic()
        got = self.receive(url, 10, wait=5)
        self.assertLess(time.monotonic() - t0, 2.5)
        self.assertGreaterEqual(len(got), 1)

    def test_long_poll_empty_after_wait(self):
        url = self.make_queue("lpe")
        t0 = time.monotonic()
        self.assertEqual(self.receive(url, 1, wait=1), [])
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 3.0)

    def test_queue_receive_wait_time_default(self):
        url = self.make_queue("lpq", ReceiveMessageWaitTimeSeconds=1)
        t0 = time.monotonic()
        self.assertEqual(self.sqs.receive_message(QueueUrl=url).get("Messages", []), [])
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        t0 = time.monotonic()
        self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
        self.assertLess(time.monotonic() - t0, 0.8)

    def test_receive_parameter_bounds(self):
        url = self.make_queue("bounds")
        for n in (0, 11):
            with self.subTest(max_messages=n):
                self.assertError("InvalidParameterValue", self.sqs.receive_message, QueueUrl=url,
                                 MaxNumberOfMessages=n)
        self.assertError("InvalidParameterValue", self.sqs.receive_message, QueueUrl=url, WaitTimeSeconds=21)
        self.assertError("InvalidParameterValue", self.sqs.receive_message, QueueUrl=url,
                         VisibilityTimeout=43201)

    def test_max_number_of_messages(self):
        url = self.make_queue("maxn")
        for i in range(15):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        one = self.receive(url, 1)
        self.assertEqual(len(one), 1)
        batch = self.receive(url, 10, wait=1)
        self.assertTrue(1 <= len(batch) <= 10, len(batch))
        rest = self.drain(url, 15 - 1 - len(batch))
        bodies = {m["Body"] for m in one + batch + rest}
        self.assertEqual(bodies, {f"m{i}" for i in range(15)})

    def test_approximate_counts(self):
        url = self.make_queue("counts")
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"c{i}")
        self.sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=300)
        self.assertEqual(self.counts(url), (3, 0, 1))
        self.receive(url, 1)
        self.assertEqual(self.counts(url), (2, 1, 1))


class PurgeTest(SqsCase):
    def test_purge(self):
        url = self.make_queue("purge")
        for i in range(3):
            self.sqs.send_message(QueueUrl=url, MessageBody=f"p{i}")
        self.receive(url, 1)
        self.sqs.purge_queue(QueueUrl=url)
        self.assertEqual(self.counts(url), (0, 0, 0))
        self.assertEqual(self.receive(url), [])
        # A message sent after the purge is kept.
        self.sqs.send_message(QueueUrl=url, MessageBody="after")
        self.assertEqual([m["Body"] for m in self.receive(url, wait=1)], ["after"])

    def test_purge_in_progress(self):
        # AWS: one PurgeQueue per queue every 60 s; the next answers
        # AWS.SimpleQueueService.PurgeQueueInProgress "Only one PurgeQueue operation on <name> is allowed
        # every 60 seconds." (HTTP 403). MOTO DIFFERS: moto allows repeated purges.
        url = self.make_queue("purge2")
        self.sqs.purge_queue(QueueUrl=url)
        resp = self.assertError("AWS.SimpleQueueService.PurgeQueueInProgress", self.sqs.purge_queue,
                                QueueUrl=url, status=403,
                                message=f"Only one PurgeQueue operation on {name_of(url)} is allowed every "
                                        "60 seconds.")
        self.assertEqual(resp["Error"].get("QueryErrorCode"), "PurgeQueueInProgress")


class BatchTest(SqsCase):
    def test_send_batch(self):
        url = self.make_queue("sb")
        attrs = {"k": {"DataType": "String", "StringValue": "v"}}
        out = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b-2_X", "MessageBody": "two", "MessageAttributes": attrs},
            {"Id": "c", "MessageBody": "three", "DelaySeconds": 1}])
        self.assertEqual(out.get("Failed", []), [])
        ok = {e["Id"]: e for e in out["Successful"]}
        self.assertEqual(set(ok), {"a", "b-2_X", "c"})
        self.assertEqual(ok["a"]["MD5OfMessageBody"], md5_hex("one"))
        self.assertEqual(ok["b-2_X"]["MD5OfMessageAttributes"], md5_of_attributes(attrs))
        self.assertEqual(sorted(m["Body"] for m in self.receive(url)), ["one", "two"])
        self.assertEqual([m["Body"] for m in self.receive(url, wait=3)], ["three"])

    def test_batch_request_errors(self):
        # AWS checks the entry count first. MOTO DIFFERS: moto's DeleteMessageBatch answers
        # BatchEntryIdsNotDistinct for 11 entries with equal receipt handles, and its
        # ChangeMessageVisibilityBatch accepts an empty batch.
        url = self.make_queue("berr")
        for fn, entry in ((self.sqs_nv.send_message_batch, lambda i: {"Id": i, "MessageBody": "x"}),
                          (self.sqs_nv.delete_message_batch, lambda i: {"Id": i, "ReceiptHandle": "h"}),
                          (self.sqs_nv.change_message_visibility_batch,
                           lambda i: {"Id": i, "ReceiptHandle": "h", "VisibilityTimeout": 1})):
            with self.subTest(op=fn.__name__):
                self.assertError("AWS.SimpleQueueService.EmptyBatchRequest", fn, QueueUrl=url, Entries=[])
                self.assertError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", fn, QueueUrl=url,
                                 Entries=[entry(f"e{i}") for i in range(11)])
                self.assertError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", fn, QueueUrl=url,
                                 Entries=[entry("same"), entry("same")])
                for bad in ("has.dot", "x" * 81, "sp ace"):
                    self.assertError("AWS.SimpleQueueService.InvalidBatchEntryId", fn, QueueUrl=url,
                                     Entries=[entry(bad)])
        big = "x" * (MAX_MESSAGE // 2 + 10)
        self.assertError("AWS.SimpleQueueService.BatchRequestTooLong", self.sqs.send_message_batch, QueueUrl=url,
                         Entries=[{"Id": "a", "MessageBody": big}, {"Id": "b", "MessageBody": big}])
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_partial_failures(self):
        # MOTO DIFFERS: moto accepts the invalid characters (see test_invalid_characters_and_empty_body).
        url = self.make_queue("bpart")
        out = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "good", "MessageBody": "fine"},
            {"Id": "badchars", "MessageBody": "bad\x00"},
            {"Id": "good2", "MessageBody": "fine too"}])
        self.assertEqual(sorted(e["Id"] for e in out["Successful"]), ["good", "good2"])
        self.assertEqual([(f["Id"], f["SenderFault"], f["Code"]) for f in out["Failed"]],
                         [("badchars", True, "InvalidMessageContents")])
        self.assertTrue(out["Failed"][0].get("Message"))

        got = self.drain(url, 2)
        self.assertEqual(sorted(m["Body"] for m in got), ["fine", "fine too"])
        out = self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": "ok", "ReceiptHandle": got[0]["ReceiptHandle"]}, {"Id": "bad", "ReceiptHandle": "garbage"},
            {"Id": "ok2", "ReceiptHandle": got[1]["ReceiptHandle"]}])
        self.assertEqual(sorted(e["Id"] for e in out["Successful"]), ["ok", "ok2"])
        self.assertEqual([(f["Id"], f["Code"], f["SenderFault"]) for f in out["Failed"]],
                         [("bad", "ReceiptHandleIsInvalid", True)])
        self.assertEqual(self.counts(url), (0, 0, 0))


class TagsAndPermissionsTest(SqsCase):
    def test_tags(self):
        url = self.make_queue("tags", tags={"team": "a", "env": "dev"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"team": "a", "env": "dev"})
        self.sqs.tag_queue(QueueUrl=url, Tags={"env": "prod", "cost": "1"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"team": "a", "env": "prod", "cost": "1"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["team", "absent"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"env": "prod", "cost": "1"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["env", "cost"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url).get("Tags", {}), {})

    def test_add_remove_permission(self):
        url = self.make_queue("perm")
        acct = account_of(url)
        self.sqs.add_permission(QueueUrl=url, Label="send1", AWSAccountIds=["111122223333"],
                                Actions=["SendMessage"])
        self.sqs.add_permission(QueueUrl=url, Label="recv2", AWSAccountIds=["111122223333", acct],
                                Actions=["ReceiveMessage", "DeleteMessage"])
        st = {s["Sid"]: s for s in policy_statements(self.attrs(url, "Policy"))}
        self.assertEqual(set(st), {"send1", "recv2"})
        self.assertEqual(st["send1"]["Effect"], "Allow")
        self.assertEqual(st["send1"]["Resource"], arn_of(url))
        self.assertIn(st["send1"]["Action"], ("SQS:SendMessage", ["SQS:SendMessage"]))
        self.assertIn(st["send1"]["Principal"]["AWS"], ("arn:aws:iam::111122223333:root",
                                                        ["arn:aws:iam::111122223333:root"]))
        self.assertEqual(sorted(st["recv2"]["Action"]), ["SQS:DeleteMessage", "SQS:ReceiveMessage"])
        self.assertEqual(sorted(st["recv2"]["Principal"]["AWS"]),
                         sorted([f"arn:aws:iam::{a}:root" for a in ("111122223333", acct)]))
        # A label is unique per queue.
        self.assertError("InvalidParameterValue", self.sqs.add_permission, QueueUrl=url, Label="send1",
                         AWSAccountIds=["111122223333"], Actions=["SendMessage"])
        self.sqs.remove_permission(QueueUrl=url, Label="send1")
        self.assertEqual([s["Sid"] for s in policy_statements(self.attrs(url, "Policy"))], ["recv2"])
        self.assertError("InvalidParameterValue", self.sqs.remove_permission, QueueUrl=url, Label="send1")
        self.sqs.remove_permission(QueueUrl=url, Label="recv2")
        self.assertEqual(policy_statements(self.attrs(url)), [])


class FifoTest(SqsCase):
    def send(self, url, body, group="g", dedup=None, **kw):
        args = dict(QueueUrl=url, MessageBody=body, MessageGroupId=group, **kw)
        if dedup is not None:
            args["MessageDeduplicationId"] = dedup
        return self.sqs.send_message(**args)

    def test_fifo_send_rules(self):
        url = self.make_queue("frules", fifo=True)
        self.assertError("MissingParameter", self.sqs.send_message, QueueUrl=url, MessageBody="x",
                         MessageDeduplicationId="d", message="MessageGroupId")
        # No dedup id and ContentBasedDeduplication off.
        self.assertError("InvalidParameterValue", self.sqs.send_message, QueueUrl=url, MessageBody="x",
                         MessageGroupId="g")
        # Per-message DelaySeconds is not valid on FIFO queues (the queue's DelaySeconds is).
        self.assertError("InvalidParameterValue", self.send, url, "x", dedup="d1", DelaySeconds=2)
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_dedup_by_id(self):
        # AWS returns the first message's MessageId for a deduplicated send. MOTO DIFFERS: new MessageId.
        url = self.make_queue("fdedup", fifo=True)
        a = self.send(url, "first", dedup="same")
        b = self.send(url, "second body", dedup="same")
        self.assertEqual(a["MessageId"], b["MessageId"])
        self.assertRegex(a["SequenceNumber"], r"^\d+$")
        got = self.receive(url, wait=1)
        self.assertEqual([m["Body"] for m in got], ["first"])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
        # Still deduplicated after the first copy was deleted (5-minute interval).
        c = self.send(url, "third", dedup="same")
        self.assertEqual(c["MessageId"], a["MessageId"])
        self.assertEqual(self.receive(url), [])

    def test_dedup_by_content(self):
        # MOTO DIFFERS: a new MessageId for the deduplicated send (see test_dedup_by_id).
        url = self.make_queue("fcbd", fifo=True, ContentBasedDeduplication="true")
        a = self.send(url, "payload")
        b = self.send(url, "payload")
        c = self.send(url, "other")
        self.assertEqual(a["MessageId"], b["MessageId"])
        self.assertNotEqual(a["MessageId"], c["MessageId"])
        got = self.drain(url, 2, MessageSystemAttributeNames=["MessageDeduplicationId"])
        self.assertEqual(sorted(m["Body"] for m in got), ["other", "payload"])
        dedup = {m["Body"]: m["Attributes"]["MessageDeduplicationId"] for m in got}
        # The content-based id is the SHA-256 of the body, hex.
        self.assertEqual(dedup["payload"], hashlib.sha256(b"payload").hexdigest())

    def test_order_and_sequence_numbers(self):
        # AWS: SequenceNumber grows within a group. MOTO DIFFERS: moto's are random.
        url = self.make_queue("forder", fifo=True)
        seqs = [int(self.send(url, f"m{i}", dedup=f"d{i}")["SequenceNumber"]) for i in range(6)]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), 6)
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 6 and time.monotonic() < deadline:
            batch = self.receive(url, 10, MessageSystemAttributeNames=["All"])
            for m in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got += batch
        self.assertEqual([m["Body"] for m in got], [f"m{i}" for i in range(6)])
        a = got[0]["Attributes"]
        self.assertEqual((a["MessageGroupId"], a["MessageDeduplicationId"]), ("g", "d0"))
        self.assertEqual(int(a["SequenceNumber"]), seqs[0])

    def test_group_blocked_while_in_flight(self):
        url = self.make_queue("fgroup", fifo=True, VisibilityTimeout=30)
        self.send(url, "a1", "A", "a1")
        self.send(url, "a2", "A", "a2")
        self.send(url, "b1", "B", "b1")
        first = self.receive(url, 1)
        self.assertEqual([m["Body"] for m in first], ["a1"])
        second = self.receive(url, 1)
        self.assertEqual([m["Body"] for m in second], ["b1"], "group A is blocked, B is not")
        self.assertEqual(self.receive(url, 10), [], "both groups have a message in flight")
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
        self.assertEqual([m["Body"] for m in self.receive(url, 10)], ["a2"])

    def test_fifo_visibility_returns_in_order(self):
        url = self.make_queue("fvis", fifo=True, VisibilityTimeout=1)
        self.send(url, "x1", dedup="x1")
        self.send(url, "x2", dedup="x2")
        self.assertEqual([m["Body"] for m in self.receive(url, 1)], ["x1"])
        got = self.receive(url, 1, wait=3, MessageSystemAttributeNames=["ApproximateReceiveCount"])
        self.assertEqual([m["Body"] for m in got], ["x1"])
        self.assertEqual(got[0]["Attributes"]["ApproximateReceiveCount"], "2")

    def test_dedup_scope_message_group(self):
        # MOTO DIFFERS: a new MessageId for the deduplicated send (see test_dedup_by_id).
        url = self.make_queue("fscope", fifo=True, DeduplicationScope="messageGroup",
                              FifoThroughputLimit="perMessageGroupId")
        a = self.send(url, "in A", group="A", dedup="same")
        b = self.send(url, "in B", group="B", dedup="same")
        again = self.send(url, "A again", group="A", dedup="same")
        self.assertNotEqual(a["MessageId"], b["MessageId"])
        self.assertEqual(again["MessageId"], a["MessageId"])
        self.assertEqual(sorted(m["Body"] for m in self.drain(url, 2)), ["in A", "in B"])

    def test_fifo_queue_delay(self):
        url = self.make_queue("fdelay", fifo=True, DelaySeconds=1)
        self.send(url, "later", dedup="l")
        self.assertEqual(self.receive(url), [])
        self.assertEqual([m["Body"] for m in self.receive(url, 1, wait=3)], ["later"])

    def test_fifo_batch(self):
        # MOTO DIFFERS: moto's SendMessageBatch has no SequenceNumber for FIFO queues.
        url = self.make_queue("fbatch", fifo=True, ContentBasedDeduplication="true")
        out = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": f"e{i}", "MessageBody": f"b{i}", "MessageGroupId": "g"} for i in range(3)])
        self.assertEqual(len(out["Successful"]), 3)
        seqs = [int(e["SequenceNumber"]) for e in sorted(out["Successful"], key=lambda e: e["Id"])]
        self.assertEqual(seqs, sorted(seqs))
        out = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "nogroup", "MessageBody": "x"}, {"Id": "ok", "MessageBody": "y", "MessageGroupId": "g"}])
        self.assertEqual([e["Id"] for e in out["Successful"]], ["ok"])
        self.assertEqual([f["Id"] for f in out["Failed"]], ["nogroup"])
        self.assertEqual(out["Failed"][0]["Code"], "MissingParameter")


    def test_fifo_receive_request_attempt_id(self):
        # API_ReceiveMessage.html, ReceiveRequestAttemptId: a retry with the same id within 5 minutes returns
        # the same messages and receipt handles, as long as none was deleted or had its visibility changed.
        url = self.make_queue("fattempt", fifo=True, ContentBasedDeduplication="true")
        for body, group in (("a0", "A"), ("a1", "A"), ("b0", "B")):
            self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
        first = self.receive(url, 2, ReceiveRequestAttemptId="attempt-1", AttributeNames=["All"])
        self.assertEqual([m["Body"] for m in first], ["a0", "a1"])
        retry = self.receive(url, 2, ReceiveRequestAttemptId="attempt-1", AttributeNames=["All"])
        self.assertEqual([(m["Body"], m["ReceiptHandle"]) for m in retry],
                         [(m["Body"], m["ReceiptHandle"]) for m in first])
        self.assertEqual([m["Attributes"]["ApproximateReceiveCount"] for m in retry], ["1", "1"])
        self.assertEqual(self.counts(url), (1, 2, 0))
        # Another id is another receive: only group B is available.
        self.assertEqual([m["Body"] for m in self.receive(url, 10, ReceiveRequestAttemptId="attempt-2")], ["b0"])
        # After a visibility change of one of its messages, the id no longer returns them.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"],
                                           VisibilityTimeout=40)
        self.assertEqual(self.receive(url, 2, ReceiveRequestAttemptId="attempt-1"), [])
        for m in first:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(self.counts(url), (0, 1, 0))
        self.assertError("InvalidParameterValue", self.sqs.receive_message, QueueUrl=url,
                         ReceiveRequestAttemptId="x" * 129)

class DeadLetterTest(SqsCase):
    def redrive(self, dlq_url, n):
        return json.dumps({"deadLetterTargetArn": arn_of(dlq_url), "maxReceiveCount": str(n)})

    def test_moves_after_max_receives(self):
        dlq = self.make_queue("dlq")
        src = self.make_queue("src", VisibilityTimeout=30, RedrivePolicy=self.redrive(dlq, 2))
        attrs = {"k": {"DataType": "String", "StringValue": "v"}}
        mid = self.sqs.send_message(QueueUrl=src, MessageBody="poison", MessageAttributes=attrs)["MessageId"]
        for i in (1, 2):
            m = self.receive(src, 1, MessageSystemAttributeNames=["ApproximateReceiveCount"])
            self.assertEqual(len(m), 1, f"receive {i}")
            self.assertEqual(m[0]["Attributes"]["ApproximateReceiveCount"], str(i))
            self.sqs.change_message_visibility(QueueUrl=src, ReceiptHandle=m[0]["ReceiptHandle"],
                                               VisibilityTimeout=0)
        # The third receive finds the count exceeded: the message goes to the DLQ instead.
        self.assertEqual(self.receive(src, 1), [])
        moved = self.receive(dlq, 1, wait=2, MessageAttributeNames=["All"],
                             MessageSystemAttributeNames=["All"])
        self.assertEqual(len(moved), 1)
        self.assertEqual(moved[0]["MessageId"], mid)
        self.assertEqual(moved[0]["Body"], "poison")
        self.assertEqual(moved[0]["MessageAttributes"], attrs)
        self.assertEqual(self.counts(src), (0, 0, 0))

        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"], [src])
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=src).get("queueUrls", []), [])

    def test_redrive_allow_policy(self):
        # MOTO DIFFERS: moto 5.2.1 does not know RedriveAllowPolicy (InvalidAttributeName).
        dlq = self.make_queue("rap")
        src = self.make_queue("rap-src")
        other = self.make_queue("rap-other")
        deny = json.dumps({"redrivePermission": "denyAll"})
        self.sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": deny})
        self.assertEqual(json.loads(self.attrs(dlq, "RedriveAllowPolicy")["RedriveAllowPolicy"]),
                         json.loads(deny))
        self.assertError("InvalidParameterValue", self.sqs.set_queue_attributes, QueueUrl=src,
                         Attributes={"RedrivePolicy": self.redrive(dlq, 3)})
        self.sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
            {"redrivePermission": "byQueue", "sourceQueueArns": [arn_of(src)]})})
        self.sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": self.redrive(dlq, 3)})
        self.assertError("InvalidParameterValue", self.sqs.set_queue_attributes, QueueUrl=other,
                         Attributes={"RedrivePolicy": self.redrive(dlq, 3)})
        self.assertNotIn("RedrivePolicy", self.attrs(other))
        # byQueue needs sourceQueueArns; allowAll must not have them.
        for bad in ({"redrivePermission": "byQueue"},
                    {"redrivePermission": "allowAll", "sourceQueueArns": [arn_of(src)]},
                    {"redrivePermission": "sometimes"}):
            with self.subTest(policy=bad):
                with self.assertRaises(ClientError) as cm:
                    self.sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(bad)})
                self.assertIn(cm.exception.response["Error"]["Code"],
                              ("InvalidParameterValue", "InvalidAttributeValue"))

    def test_fifo_source_needs_fifo_dlq(self):
        std_dlq = self.make_queue("std-dlq")
        fifo_dlq = self.make_queue("fifo-dlq", fifo=True)
        # AWS: InvalidParameterValue "Value {..} for parameter RedrivePolicy is invalid. Reason: Dead-letter
        # queue must be same type of queue as the source.". MOTO DIFFERS: InvalidParameterCombination.
        self.assertError("InvalidParameterValue", self.make_queue, "fsrc", fifo=True,
                         RedrivePolicy=self.redrive(std_dlq, 2),
                         message="Dead-letter queue must be same type of queue as the source")
        self.assertError("InvalidParameterValue", self.make_queue, "ssrc", RedrivePolicy=self.redrive(fifo_dlq, 2))
        src = self.make_queue("fsrc-ok", fifo=True, RedrivePolicy=self.redrive(fifo_dlq, 1),
                              ContentBasedDeduplication="true")
        self.sqs.send_message(QueueUrl=src, MessageBody="f", MessageGroupId="g")
        m = self.receive(src, 1)[0]
        self.sqs.change_message_visibility(QueueUrl=src, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        self.assertEqual(self.receive(src, 1), [])
        self.assertEqual([x["Body"] for x in self.receive(fifo_dlq, 1, wait=2)], ["f"])


class MoveTaskTest(SqsCase):
    """StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask (messages out of a DLQ).
    MOTO DIFFERS: moto 5.2.1 does not implement these operations (the tests assert AWS's behaviour)."""

    def fill_dlq(self, n, **src_attrs):
        dlq = self.make_queue("mt-dlq")
        src = self.make_queue("mt-src", RedrivePolicy=json.dumps(
            {"deadLetterTargetArn": arn_of(dlq), "maxReceiveCount": 1}), **src_attrs)
        for i in range(n):
            self.sqs.send_message(QueueUrl=src, MessageBody=f"mv{i}")
        got = self.drain(src, n, VisibilityTimeout=0)
        self.assertEqual(len(got), n)
        # Receives past maxReceiveCount move them all.
        self.wait_until(lambda: (self.receive(src, 10, VisibilityTimeout=0) or True)
                        and self.counts(dlq)[0] == n, 10, "messages in the DLQ")
        return src, dlq

    def wait_task(self, source_arn, status, timeout=15):
        def done():
            r = self.sqs.list_message_move_tasks(SourceArn=source_arn)["Results"]
            return r if r and r[0]["Status"] == status else None
        return self.wait_until(done, timeout, f"move task {status}", step=0.2)

    def test_move_back_to_source(self):
        src, dlq = self.fill_dlq(3)
        handle = self.sqs.start_message_move_task(SourceArn=arn_of(dlq))["TaskHandle"]
        self.assertTrue(handle)
        r = self.wait_task(arn_of(dlq), "COMPLETED")[0]
        self.assertEqual(r["SourceArn"], arn_of(dlq))
        self.assertEqual(r["ApproximateNumberOfMessagesMoved"], 3)
        self.assertEqual(r["ApproximateNumberOfMessagesToMove"], 3)
        self.assertNotIn("DestinationArn", r)
        self.assertIsInstance(r["StartedTimestamp"], int)
        self.assertEqual(sorted(m["Body"] for m in self.drain(src, 3)), ["mv0", "mv1", "mv2"])
        self.assertEqual(self.counts(dlq)[0], 0)

    def test_move_to_destination(self):
        src, dlq = self.fill_dlq(2)
        dest = self.make_queue("mt-dest")
        self.sqs.start_message_move_task(SourceArn=arn_of(dlq), DestinationArn=arn_of(dest))
        r = self.wait_task(arn_of(dlq), "COMPLETED")[0]
        self.assertEqual(r["DestinationArn"], arn_of(dest))
        self.assertEqual(r["ApproximateNumberOfMessagesMoved"], 2)
        self.assertEqual(sorted(m["Body"] for m in self.drain(dest, 2)), ["mv0", "mv1"])

    def test_cancel_and_already_running(self):
        src, dlq = self.fill_dlq(6)
        handle = self.sqs.start_message_move_task(SourceArn=arn_of(dlq), MaxNumberOfMessagesPerSecond=1)[
            "TaskHandle"]
        running = self.sqs.list_message_move_tasks(SourceArn=arn_of(dlq))["Results"][0]
        self.assertEqual(running["Status"], "RUNNING")
        self.assertEqual(running["TaskHandle"], handle)
        self.assertEqual(running["MaxNumberOfMessagesPerSecond"], 1)
        self.assertEqual(running["ApproximateNumberOfMessagesToMove"], 6)
        self.assertError("InvalidParameterValue", self.sqs.start_message_move_task, SourceArn=arn_of(dlq),
                         message="There is already a task running. Only one active task is allowed for a "
                                 "source queue arn at a given time.")
        out = self.sqs.cancel_message_move_task(TaskHandle=handle)
        self.assertLess(out["ApproximateNumberOfMessagesMoved"], 6)
        r = self.wait_task(arn_of(dlq), "CANCELLED")[0]
        self.assertLess(r["ApproximateNumberOfMessagesMoved"], 6)
        self.assertNotIn("TaskHandle", r)

    def test_errors(self):
        plain = self.make_queue("mt-plain")
        self.assertError("InvalidParameterValue", self.sqs.start_message_move_task, SourceArn=arn_of(plain),
                         message="Source queue must be configured as a Dead Letter Queue.")
        src, dlq = self.fill_dlq(1)
        self.assertError("ResourceNotFoundException", self.sqs.start_message_move_task, SourceArn=arn_of(dlq),
                         DestinationArn=arn_of(dlq) + "-absent", status=404)
        self.assertError("InvalidParameterValue", self.sqs.cancel_message_move_task, TaskHandle="garbage",
                         message="Value for parameter TaskHandle is invalid.")


if __name__ == "__main__":
    unittest.main()
