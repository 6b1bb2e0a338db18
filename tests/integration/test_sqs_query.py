"""SQS's query protocol (form-encoded POST, XML answers) against a real daemon: the AWS CLI v2 from
Debian's `awscli` package (v2.9 still speaks query to SQS) and raw form POSTs with http.client, checked
against the JSON protocol (boto3): the same behaviour gives the same result and the same error code.

AWS keeps both protocols (botocore's model has awsQueryCompatible; "Amazon SQS AWS JSON protocol" FAQ):
a query error is <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
with the legacy code (AWS.SimpleQueueService.NonExistentQueue, ...), the same code botocore reports for
the JSON protocol from x-amzn-query-error. Comments marked "MOTO DIFFERS" name where moto 5.2.1 does
not do what AWS does; the tests assert AWS.
"""
import base64
import http.client
import json
import os
import subprocess
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError

from harness import sigv4_auth
from sqs_support import NONEXISTENT, SqsCase, arn_of, md5_hex, md5_of_attributes, name_of

CLI_V2 = "/usr/bin/aws"       # Debian's awscli (v2); the `aws` on PATH may be CLI v1 (JSON protocol)


def strip_ns(root: ET.Element) -> ET.Element:
    for e in root.iter():
        if "}" in e.tag:
            e.tag = e.tag.split("}", 1)[1]
    return root


class QueryResp:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.xml = strip_ns(ET.fromstring(body)) if body.strip() else None
        except ET.ParseError:
            self.xml = None     # asserted on by the caller (an answer must be XML)

    @property
    def code(self) -> str | None:
        e = self.xml.find("Error/Code") if self.xml is not None else None
        return e.text if e is not None else None

    @property
    def message(self) -> str:
        e = self.xml.find("Error/Message")
        return e.text or "" if e is not None else ""

    def result(self, action: str) -> ET.Element:
        assert self.xml is not None and self.xml.tag == f"{action}Response", self.body[:500]
        r = self.xml.find(f"{action}Result")
        return r if r is not None else ET.Element(f"{action}Result")

    def texts(self, path: str) -> list[str]:
        return [e.text or "" for e in self.xml.iterfind(path)]


class QueryCase(SqsCase):
    def query(self, action: str, params: dict | None = None, path: str = "/", method: str = "POST",
              host: str | None = None) -> QueryResp:
        form = {"Action": action, "Version": "2012-11-05"}
        form.update({k: str(v) for k, v in (params or {}).items()})
        body = urllib.parse.urlencode(form)
        headers = {"Authorization": sigv4_auth("sqs"), "X-Amz-Date": "20261201T000000Z"}
        if host:
            headers["Host"] = host
        conn = http.client.HTTPConnection(self.d.host, self.d.port, timeout=30)
        try:
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
                conn.request("POST", path, body=body, headers=headers)
            else:
                conn.request("GET", path + "?" + body, headers=headers)
            r = conn.getresponse()
            return QueryResp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def ok(self, action: str, params: dict | None = None, **kw) -> ET.Element:
        r = self.query(action, params, **kw)
        self.assertEqual(r.status, 200, r.body[:800])
        rid = r.xml.find("ResponseMetadata/RequestId")
        self.assertTrue(rid is not None and rid.text, r.body[:500])
        return r.result(action)

    def assertQueryError(self, code: str, action: str, params: dict | None = None, status: int = 400,
                         **kw) -> QueryResp:
        r = self.query(action, params, **kw)
        self.assertEqual(r.status, status, r.body[:800])
        self.assertIsNotNone(r.xml, r.body)
        self.assertEqual(r.xml.tag, "ErrorResponse", r.body[:800])
        self.assertEqual(r.code, code, r.body[:800])
        self.assertEqual(r.xml.findtext("Error/Type"), "Sender", r.body[:800])
        self.assertTrue(r.xml.findtext("RequestId"), r.body[:800])
        self.assertTrue(r.message, r.body[:800])
        return r

    def json_error(self, fn, **kw) -> tuple[str, int, str]:
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")

    def assertSameError(self, code: str, status: int, json_call, query_action: str, query_params: dict,
                        **query_kw):
        """The JSON protocol (boto3) and the query protocol answer the same code and status."""
        jcode, jstatus, jmsg = self.json_error(json_call[0], **json_call[1])
        q = self.assertQueryError(code, query_action, query_params, status=status, **query_kw)
        self.assertEqual((jcode, jstatus), (code, status), jmsg)
        self.assertTrue(jmsg and q.message)


class QueryProtocolTest(QueryCase):
    def test_lifecycle_and_shapes(self):
        name = self.new_name("qry")
        res = self.ok("CreateQueue", {"QueueName": name, "Attribute.1.Name": "VisibilityTimeout",
                                      "Attribute.1.Value": "7", "Tag.1.Key": "team", "Tag.1.Value": "q"})
        url = res.findtext("QueueUrl")
        self._queues.append(url)
        self.assertEqual(name_of(url), name)
        self.assertTrue(url.startswith(self.d.url + "/"), url)
        self.assertEqual(self.ok("GetQueueUrl", {"QueueName": name}).findtext("QueueUrl"), url)
        # Same queue through the JSON protocol.
        self.assertEqual(self.sqs.get_queue_url(QueueName=name)["QueueUrl"], url)
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"team": "q"})

        # GetQueueAttributes: flattened <Attribute><Name/><Value/></Attribute>.
        res = self.ok("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "VisibilityTimeout",
                                             "AttributeName.2": "QueueArn"})
        attrs = {a.findtext("Name"): a.findtext("Value") for a in res.iterfind("Attribute")}
        self.assertEqual(attrs, {"VisibilityTimeout": "7", "QueueArn": arn_of(url)})

        # ListQueues: flattened <QueueUrl>.
        other = self.make_queue(name)
        res = self.ok("ListQueues", {"QueueNamePrefix": name})
        self.assertEqual(sorted(e.text for e in res.iterfind("QueueUrl")), sorted([url, other]))

        # GET with the parameters in the query string works too (AWS's query API accepts GET and POST).
        # MOTO DIFFERS: moto answers GET query requests with a JSON QueueDoesNotExist error.
        self.ok("SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "DelaySeconds",
                                       "Attribute.1.Value": "0", "Attribute.2.Name": "VisibilityTimeout",
                                       "Attribute.2.Value": "9"})
        res = self.ok("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "VisibilityTimeout"},
                      method="GET")
        self.assertEqual(res.findtext("Attribute/Value"), "9")
        # The queue URL's path addresses the queue without a QueueUrl parameter (how older SDKs call).
        # MOTO DIFFERS: moto's SetQueueAttributes does not take the queue from the path.
        path = urllib.parse.urlsplit(url).path
        self.ok("SetQueueAttributes", {"Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "10"},
                path=path)
        self.assertEqual(self.attrs(url, "VisibilityTimeout")["VisibilityTimeout"], "10")

        self.ok("DeleteQueue", {"QueueUrl": url})
        self.assertQueryError(NONEXISTENT, "GetQueueUrl", {"QueueName": name})

    def test_list_queues_pages(self):
        # MOTO DIFFERS: moto ignores MaxResults.
        prefix = self.new_name("qpage")
        urls = {self.make_queue(prefix) for _ in range(2)}
        res = self.ok("ListQueues", {"QueueNamePrefix": prefix, "MaxResults": 1})
        self.assertEqual(len(res.findall("QueueUrl")), 1)
        token = res.findtext("NextToken")
        self.assertTrue(token)
        res2 = self.ok("ListQueues", {"QueueNamePrefix": prefix, "MaxResults": 1, "NextToken": token})
        self.assertEqual({res.findtext("QueueUrl"), res2.findtext("QueueUrl")}, urls)
        self.assertIsNone(res2.findtext("NextToken"))

    def test_messages_and_attributes(self):
        url = self.make_queue("qmsg")
        path = urllib.parse.urlsplit(url).path
        binary = b"\x00\x01bin\xff"
        res = self.ok("SendMessage", {
            "MessageBody": "query body ü",
            "MessageAttribute.1.Name": "s", "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "sv",
            "MessageAttribute.2.Name": "n", "MessageAttribute.2.Value.DataType": "Number",
            "MessageAttribute.2.Value.StringValue": "3.5",
            "MessageAttribute.3.Name": "b", "MessageAttribute.3.Value.DataType": "Binary.custom",
            "MessageAttribute.3.Value.BinaryValue": base64.b64encode(binary).decode()}, path=path)
        expect_attrs = {"s": {"DataType": "String", "StringValue": "sv"},
                        "n": {"DataType": "Number", "StringValue": "3.5"},
                        "b": {"DataType": "Binary.custom", "BinaryValue": binary}}
        self.assertEqual(res.findtext("MD5OfMessageBody"), md5_hex("query body ü"))
        self.assertEqual(res.findtext("MD5OfMessageAttributes"), md5_of_attributes(expect_attrs))
        mid = res.findtext("MessageId")

        res = self.ok("ReceiveMessage", {"QueueUrl": url, "AttributeName.1": "All",
                                         "MessageAttributeName.1": "All", "WaitTimeSeconds": 1})
        msgs = res.findall("Message")
        self.assertEqual(len(msgs), 1, ET.tostring(res)[:800])
        m = msgs[0]
        self.assertEqual((m.findtext("MessageId"), m.findtext("Body"), m.findtext("MD5OfBody")),
                         (mid, "query body ü", md5_hex("query body ü")))
        sys_attrs = {a.findtext("Name"): a.findtext("Value") for a in m.iterfind("Attribute")}
        self.assertEqual(sys_attrs["ApproximateReceiveCount"], "1")
        self.assertIn("SentTimestamp", sys_attrs)
        got = {}
        for a in m.iterfind("MessageAttribute"):
            v = a.find("Value")
            entry = {"DataType": v.findtext("DataType")}
            if v.find("BinaryValue") is not None:
                entry["BinaryValue"] = base64.b64decode(v.findtext("BinaryValue"))
            else:
                entry["StringValue"] = v.findtext("StringValue")
            got[a.findtext("Name")] = entry
        self.assertEqual(got, expect_attrs)
        self.assertEqual(m.findtext("MD5OfMessageAttributes"), md5_of_attributes(expect_attrs))

        handle = m.findtext("ReceiptHandle")
        self.ok("ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": handle, "VisibilityTimeout": 0})
        # The same message through the JSON protocol: body and attributes identical.
        j = self.receive(url, 1, wait=1, MessageAttributeNames=["All"])[0]
        self.assertEqual((j["MessageId"], j["Body"], j["MessageAttributes"]), (mid, "query body ü", expect_attrs))
        self.ok("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": j["ReceiptHandle"]})
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_batches(self):
        # MOTO DIFFERS: moto accepts the entry with an invalid character.
        url = self.make_queue("qbatch")
        res = self.ok("SendMessageBatch", {
            "QueueUrl": url,
            "SendMessageBatchRequestEntry.1.Id": "a", "SendMessageBatchRequestEntry.1.MessageBody": "one",
            "SendMessageBatchRequestEntry.2.Id": "b", "SendMessageBatchRequestEntry.2.MessageBody": "two",
            "SendMessageBatchRequestEntry.2.DelaySeconds": "1",
            "SendMessageBatchRequestEntry.3.Id": "bad", "SendMessageBatchRequestEntry.3.MessageBody": "x\x01"})
        ok = {e.findtext("Id"): e for e in res.iterfind("SendMessageBatchResultEntry")}
        self.assertEqual(set(ok), {"a", "b"})
        self.assertEqual(ok["a"].findtext("MD5OfMessageBody"), md5_hex("one"))
        failed = res.findall("BatchResultErrorEntry")
        self.assertEqual([(f.findtext("Id"), f.findtext("SenderFault"), f.findtext("Code")) for f in failed],
                         [("bad", "true", "InvalidMessageContents")])
        got = self.drain(url, 2)
        params = {"QueueUrl": url}
        for i, m in enumerate(got, 1):
            params[f"DeleteMessageBatchRequestEntry.{i}.Id"] = f"d{i}"
            params[f"DeleteMessageBatchRequestEntry.{i}.ReceiptHandle"] = m["ReceiptHandle"]
        res = self.ok("DeleteMessageBatch", params)
        self.assertEqual(sorted(e.findtext("Id") for e in res.iterfind("DeleteMessageBatchResultEntry")),
                         ["d1", "d2"])
        self.assertEqual(self.counts(url), (0, 0, 0))

    def test_tags_permissions_and_dlq_sources(self):
        # Query names from the query-protocol model (awscli's botocore data): TagQueue Tag.N.Key/Value,
        # UntagQueue TagKey.N, AddPermission AWSAccountId.N + ActionName.N; answers flattened
        # <Tag><Key/><Value/></Tag> and <QueueUrl>.
        url = self.make_queue("qtags")
        self.ok("TagQueue", {"QueueUrl": url, "Tag.1.Key": "a", "Tag.1.Value": "1", "Tag.2.Key": "b",
                             "Tag.2.Value": "2"})
        res = self.ok("ListQueueTags", {"QueueUrl": url})
        self.assertEqual({t.findtext("Key"): t.findtext("Value") for t in res.iterfind("Tag")}, {"a": "1", "b": "2"})
        self.ok("UntagQueue", {"QueueUrl": url, "TagKey.1": "a"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"b": "2"})

        self.ok("AddPermission", {"QueueUrl": url, "Label": "lbl", "AWSAccountId.1": "111122223333",
                                  "ActionName.1": "SendMessage", "ActionName.2": "ReceiveMessage"})
        policy = json.loads(self.attrs(url, "Policy")["Policy"])
        st = [x for x in policy["Statement"] if x["Sid"] == "lbl"]
        self.assertEqual(len(st), 1, policy)
        self.assertEqual(sorted(st[0]["Action"]), ["SQS:ReceiveMessage", "SQS:SendMessage"])
        self.ok("RemovePermission", {"QueueUrl": url, "Label": "lbl"})

        src = self.make_queue("qsrc", RedrivePolicy=json.dumps({"deadLetterTargetArn": arn_of(url),
                                                                "maxReceiveCount": 2}))
        res = self.ok("ListDeadLetterSourceQueues", {"QueueUrl": url})
        self.assertEqual([e.text for e in res.iterfind("QueueUrl")], [src])

    def test_queue_url_host_follows_request(self):
        name = self.new_name("qhost")
        url = self.ok("CreateQueue", {"QueueName": name}, host=f"localhost:{self.d.port}").findtext("QueueUrl")
        self._queues.append(url)
        self.assertTrue(url.startswith(f"http://localhost:{self.d.port}/"), url)
        url2 = self.ok("GetQueueUrl", {"QueueName": name}, host=f"127.0.0.1:{self.d.port}").findtext("QueueUrl")
        self.assertTrue(url2.startswith(f"http://127.0.0.1:{self.d.port}/"), url2)


class SameErrorsBothProtocolsTest(QueryCase):
    """One behaviour, two protocols: the same code and HTTP status."""

    def test_nonexistent_queue(self):
        missing = self.new_name("missing")
        self.assertSameError(NONEXISTENT, 400, (self.sqs.get_queue_url, dict(QueueName=missing)),
                             "GetQueueUrl", {"QueueName": missing})
        url = self.make_queue("gone")
        self.sqs.delete_queue(QueueUrl=url)
        self.assertSameError(NONEXISTENT, 400, (self.sqs.send_message, dict(QueueUrl=url, MessageBody="x")),
                             "SendMessage", {"QueueUrl": url, "MessageBody": "x"})
        self.assertSameError(NONEXISTENT, 400, (self.sqs.receive_message, dict(QueueUrl=url)),
                             "ReceiveMessage", {}, path=urllib.parse.urlsplit(url).path)

    def test_queue_already_exists(self):
        url = self.make_queue("exists", VisibilityTimeout=5)
        name = name_of(url)
        self.assertSameError("QueueAlreadyExists", 400,
                             (self.sqs.create_queue, dict(QueueName=name, Attributes={"VisibilityTimeout": "6"})),
                             "CreateQueue", {"QueueName": name, "Attribute.1.Name": "VisibilityTimeout",
                                             "Attribute.1.Value": "6"})
        # Same attributes: the existing URL, in both.
        self.assertEqual(self.ok("CreateQueue", {"QueueName": name, "Attribute.1.Name": "VisibilityTimeout",
                                                 "Attribute.1.Value": "5"}).findtext("QueueUrl"), url)

    def test_attribute_errors(self):
        # MOTO DIFFERS for both: moto stores DelaySeconds=901 and ignores unknown names.
        url = self.make_queue("aerr")
        self.assertSameError("InvalidAttributeValue", 400,
                             (self.sqs.set_queue_attributes, dict(QueueUrl=url, Attributes={"DelaySeconds": "901"})),
                             "SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "DelaySeconds",
                                                    "Attribute.1.Value": "901"})
        self.assertSameError("InvalidAttributeName", 400,
                             (self.sqs.set_queue_attributes, dict(QueueUrl=url, Attributes={"Bogus": "1"})),
                             "SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "Bogus",
                                                    "Attribute.1.Value": "1"})

    def test_message_errors(self):
        url = self.make_queue("merr")
        self.assertSameError("ReceiptHandleIsInvalid", 400,
                             (self.sqs.delete_message, dict(QueueUrl=url, ReceiptHandle="garbage")),
                             "DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "garbage"})
        self.assertSameError("InvalidParameterValue", 400,
                             (self.sqs.receive_message, dict(QueueUrl=url, MaxNumberOfMessages=11)),
                             "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11})
        # MOTO DIFFERS: moto accepts invalid characters over JSON.
        self.assertSameError("InvalidMessageContents", 400,
                             (self.sqs.send_message, dict(QueueUrl=url, MessageBody="bad\x01")),
                             "SendMessage", {"QueueUrl": url, "MessageBody": "bad\x01"})

    def test_batch_errors(self):
        url = self.make_queue("berr")
        self.assertSameError("AWS.SimpleQueueService.EmptyBatchRequest", 400,
                             (self.sqs_nv.send_message_batch, dict(QueueUrl=url, Entries=[])),
                             "SendMessageBatch", {"QueueUrl": url})
        many = {}
        for i in range(1, 12):
            many[f"SendMessageBatchRequestEntry.{i}.Id"] = f"e{i}"
            many[f"SendMessageBatchRequestEntry.{i}.MessageBody"] = "x"
        self.assertSameError("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
                             (self.sqs.send_message_batch,
                              dict(QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)])),
                             "SendMessageBatch", dict(QueueUrl=url, **many))
        self.assertSameError("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400,
                             (self.sqs.send_message_batch,
                              dict(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}] * 2)),
                             "SendMessageBatch", {"QueueUrl": url,
                                                  "SendMessageBatchRequestEntry.1.Id": "a",
                                                  "SendMessageBatchRequestEntry.1.MessageBody": "x",
                                                  "SendMessageBatchRequestEntry.2.Id": "a",
                                                  "SendMessageBatchRequestEntry.2.MessageBody": "x"})
        self.assertSameError("AWS.SimpleQueueService.InvalidBatchEntryId", 400,
                             (self.sqs.send_message_batch,
                              dict(QueueUrl=url, Entries=[{"Id": "a.b", "MessageBody": "x"}])),
                             "SendMessageBatch", {"QueueUrl": url,
                                                  "SendMessageBatchRequestEntry.1.Id": "a.b",
                                                  "SendMessageBatchRequestEntry.1.MessageBody": "x"})

    def test_fifo_errors(self):
        url = self.make_queue("ferr", fifo=True)
        self.assertSameError("MissingParameter", 400,
                             (self.sqs.send_message, dict(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")),
                             "SendMessage", {"QueueUrl": url, "MessageBody": "x", "MessageDeduplicationId": "d"})

    def test_purge_in_progress(self):
        # MOTO DIFFERS: moto allows a second purge at once.
        a = self.make_queue("purge-a")
        b = self.make_queue("purge-b")
        self.sqs.purge_queue(QueueUrl=a)
        self.ok("PurgeQueue", {"QueueUrl": b})
        jcode, jstatus, _ = self.json_error(self.sqs.purge_queue, QueueUrl=b)
        q = self.assertQueryError("AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueue", {"QueueUrl": a},
                                  status=403)
        self.assertEqual((jcode, jstatus), ("AWS.SimpleQueueService.PurgeQueueInProgress", 403))
        self.assertIn("allowed every 60 seconds", q.message)

    def test_queue_deleted_recently(self):
        # MOTO DIFFERS: moto lets the name be reused at once.
        a = self.make_queue("del-a")
        b = self.make_queue("del-b")
        self.sqs.delete_queue(QueueUrl=a)
        self.sqs.delete_queue(QueueUrl=b)
        jcode, jstatus, _ = self.json_error(self.sqs.create_queue, QueueName=name_of(a))
        self.assertQueryError("AWS.SimpleQueueService.QueueDeletedRecently", "CreateQueue",
                              {"QueueName": name_of(b)})
        self.assertEqual((jcode, jstatus), ("AWS.SimpleQueueService.QueueDeletedRecently", 400))

    def test_unknown_action_and_missing_parameter(self):
        # MOTO DIFFERS: moto answers an unknown action with an HTML 500 page.
        self.assertQueryError("InvalidAction", "NoSuchAction", {})
        self.assertQueryError("MissingParameter", "CreateQueue", {})


def cli_env() -> dict:
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_PAGER": ""})
    env.pop("AWS_PROFILE", None)
    return env


class AwsCliV2Test(QueryCase):
    """AWS CLI v2 (query protocol on SQS): `aws sqs ...` end to end, JSON output parsed."""

    @classmethod
    def setUpClass(cls):
        if not os.access(CLI_V2, os.X_OK):
            raise AssertionError(f"{CLI_V2} missing: scripts/deps.sh installs Debian's awscli (CLI v2)")
        super().setUpClass()

    def cli(self, *args, expect_ok: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run([CLI_V2, "sqs", *args, "--endpoint-url", self.d.url, "--output", "json"],
                           env=cli_env(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if expect_ok:
            self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def test_cli_is_v2_and_speaks_query(self):
        p = subprocess.run([CLI_V2, "--version"], capture_output=True, text=True, timeout=30)
        self.assertTrue(p.stdout.startswith("aws-cli/2."), p.stdout)
        p = subprocess.run([CLI_V2, "sqs", "list-queues", "--endpoint-url", self.d.url, "--debug"],
                           env=cli_env(), capture_output=True, text=True, timeout=60)
        self.assertIn("'Action': 'ListQueues'", p.stderr)

    def test_cli_round_trip(self):
        name = self.new_name("cli")
        out = json.loads(self.cli("create-queue", "--queue-name", name,
                                  "--attributes", "VisibilityTimeout=5,DelaySeconds=0").stdout)
        url = out["QueueUrl"]
        self._queues.append(url)
        self.assertEqual(json.loads(self.cli("get-queue-url", "--queue-name", name).stdout)["QueueUrl"], url)
        listed = json.loads(self.cli("list-queues", "--queue-name-prefix", name).stdout)
        self.assertEqual(listed["QueueUrls"], [url])

        attrs = json.dumps({"s": {"DataType": "String", "StringValue": "v"},
                            "n": {"DataType": "Number", "StringValue": "7"},
                            "b": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x01\x02").decode()}})
        sent = json.loads(self.cli("send-message", "--queue-url", url, "--message-body", "from cli",
                                   "--message-attributes", attrs).stdout)
        self.assertEqual(sent["MD5OfMessageBody"], md5_hex("from cli"))
        self.assertEqual(sent["MD5OfMessageAttributes"], md5_of_attributes(
            {"s": {"DataType": "String", "StringValue": "v"}, "n": {"DataType": "Number", "StringValue": "7"},
             "b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}}))
        got = json.loads(self.cli("receive-message", "--queue-url", url, "--attribute-names", "All",
                                  "--message-attribute-names", "All", "--wait-time-seconds", "1").stdout)
        m = got["Messages"][0]
        self.assertEqual((m["MessageId"], m["Body"]), (sent["MessageId"], "from cli"))
        self.assertEqual(m["MessageAttributes"]["n"], {"DataType": "Number", "StringValue": "7"})
        self.assertEqual(base64.b64decode(m["MessageAttributes"]["b"]["BinaryValue"]), b"\x01\x02")
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.cli("delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
        qa = json.loads(self.cli("get-queue-attributes", "--queue-url", url, "--attribute-names", "All").stdout)
        self.assertEqual(qa["Attributes"]["VisibilityTimeout"], "5")
        self.assertEqual(qa["Attributes"]["ApproximateNumberOfMessages"], "0")

        batch = json.loads(self.cli("send-message-batch", "--queue-url", url, "--entries",
                                    json.dumps([{"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": "b"}])
                                    ).stdout)
        self.assertEqual(sorted(e["Id"] for e in batch["Successful"]), ["1", "2"])
        self.cli("purge-queue", "--queue-url", url)
        self.cli("tag-queue", "--queue-url", url, "--tags", "k=v")
        self.assertEqual(json.loads(self.cli("list-queue-tags", "--queue-url", url).stdout)["Tags"], {"k": "v"})
        self.cli("delete-queue", "--queue-url", url)

    def test_cli_errors(self):
        p = self.cli("get-queue-url", "--queue-name", self.new_name("nope"), expect_ok=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f"An error occurred ({NONEXISTENT}) when calling the GetQueueUrl operation", p.stderr)
        url = self.make_queue("clierr")
        p = self.cli("delete-message", "--queue-url", url, "--receipt-handle", "garbage", expect_ok=False)
        self.assertIn("(ReceiptHandleIsInvalid)", p.stderr)
        p = self.cli("send-message-batch", "--queue-url", url, "--entries",
                     json.dumps([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}]), expect_ok=False)
        self.assertIn("(AWS.SimpleQueueService.BatchEntryIdsNotDistinct)", p.stderr)
        p = self.cli("create-queue", "--queue-name", name_of(url), "--attributes", "VisibilityTimeout=99",
                     expect_ok=False)
        self.assertIn("(QueueAlreadyExists)", p.stderr)


if __name__ == "__main__":
    unittest.main()
