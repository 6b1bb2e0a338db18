"""Protocol routing on the one port, and AWS-shaped errors that botocore parses.

Milestone 1: no operation is implemented, so every known operation answers 501 NotImplemented;
unknown operations, garbled signatures and bad bodies answer the error each protocol uses.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError

from harness import (Daemon, http_request, json_target_headers, parse_with_botocore, sigv4_auth)

GARBLED_AUTH = "AWS4-HMAC-SHA256 garbage-without-a-credential"
GARBLED_AUTH_2 = "AWS4-HMAC-SHA256 Credential=onlyone, SignedHeaders=host, Signature=00"
FORM = "application/x-www-form-urlencoded; charset=utf-8"

# (service, boto3 method, kwargs, AWS operation name)
BOTO3_CASES = [
    ("dynamodb", "list_tables", {}, "ListTables"),
    ("events", "list_rules", {}, "ListRules"),
    ("lambda", "list_layers", {}, "ListLayers"),
    ("s3", "list_buckets", {}, "ListBuckets"),
    ("s3", "get_object", {"Bucket": "stratus-bucket", "Key": "dir/key.txt"}, "GetObject"),
    ("apigatewayv2", "get_domain_names", {}, "GetDomainNames"),
    ("apigateway", "get_api_keys", {}, "GetApiKeys"),
]

# More operations, to see that routing finds the right operation name on each protocol.
MORE_BOTO3_CASES = [
    ("dynamodb", "put_item", {"TableName": "t", "Item": {"pk": {"S": "1"}}}, "PutItem"),
    ("events", "put_events", {"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}]},
     "PutEvents"),
    ("lambda", "get_layer_version", {"LayerName": "l", "VersionNumber": 1}, "GetLayerVersion"),
    ("lambda", "get_function_url_config", {"FunctionName": "fn"}, "GetFunctionUrlConfig"),
    ("s3", "put_object", {"Bucket": "stratus-bucket", "Key": "k", "Body": b"hello"}, "PutObject"),
    ("s3", "list_objects_v2", {"Bucket": "stratus-bucket"}, "ListObjectsV2"),
    ("s3", "create_bucket", {"Bucket": "stratus-bucket"}, "CreateBucket"),
    ("apigatewayv2", "create_domain_name", {"DomainName": "api.example.com"}, "CreateDomainName"),
    ("apigateway", "create_api_key", {"name": "a"}, "CreateApiKey"),
]


class ProtocolBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def tearDown(self):
        self.assertIsNone(self.d.proc.poll(), f"daemon died; stderr:\n{self.d.stderr()[-3000:]}")

    def assert_request_id(self, parsed, resp=None, s3=False):
        rid = parsed.get("ResponseMetadata", {}).get("RequestId")
        self.assertTrue(rid, f"no request id in {parsed.get('ResponseMetadata')}")
        if resp is not None:
            if s3:
                self.assertTrue(resp.header("x-amz-request-id"), "no x-amz-request-id header")
                self.assertTrue(resp.header("x-amz-id-2"), "no x-amz-id-2 header")
            else:
                self.assertTrue(resp.header("x-amzn-RequestId"), "no x-amzn-RequestId header")

    def raw_error(self, method, path, headers, body, service, operation, status, code,
                  protocol=None, s3=False):
        r = self.d.request(method, path, body, headers)
        self.assertEqual(r.status, status, r.body[:500])
        parsed = parse_with_botocore(r, service, operation, protocol)
        self.assertEqual(parsed["Error"]["Code"], code, parsed)
        self.assert_request_id(parsed, r, s3=s3)
        return r, parsed


class Boto3NotImplementedTest(ProtocolBase):
    def check_cases(self, cases):
        for service, method, kwargs, op in cases:
            with self.subTest(service=service, op=op):
                client = self.d.client(service)
                with self.assertRaises(ClientError) as cm:
                    getattr(client, method)(**kwargs)
                err = cm.exception.response
                self.assertEqual(err["Error"]["Code"], "NotImplemented", err)
                self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 501)
                msg = err["Error"].get("Message", "")
                self.assertIn("stratus", msg.lower(), f"message does not mention Stratus: {msg!r}")
                self.assertIn(op, msg, f"message does not name the operation: {msg!r}")
                self.assertTrue(err["ResponseMetadata"].get("RequestId"), err["ResponseMetadata"])
                hdrs = err["ResponseMetadata"]["HTTPHeaders"]
                if service == "s3":
                    self.assertTrue(hdrs.get("x-amz-request-id"))
                    self.assertTrue(hdrs.get("x-amz-id-2"))
                else:
                    self.assertTrue(hdrs.get("x-amzn-requestid"))

    def test_not_implemented_each_service(self):
        self.check_cases(BOTO3_CASES)

    def test_not_implemented_more_operations(self):
        self.check_cases(MORE_BOTO3_CASES)

    def test_request_ids_differ(self):
        ids = set()
        client = self.d.client("dynamodb")
        for _ in range(5):
            try:
                client.list_tables()
            except ClientError as e:
                ids.add(e.response["ResponseMetadata"]["RequestId"])
        self.assertEqual(len(ids), 5)


class UnsignedRoutingTest(ProtocolBase):
    """No Authorization header: routed by X-Amz-Target, Action/Version, Lambda paths, else S3."""

    def test_json_target_without_auth(self):
        r, parsed = self.raw_error("POST", "/", json_target_headers("dynamodb", "DynamoDB_20120810.ListTables",
                                                                    auth=None),
                                   b"{}", "dynamodb", "ListTables", 501, "NotImplemented")
        self.assertIn("ListTables", parsed["Error"]["Message"])

    def test_events_target_without_auth(self):
        self.raw_error("POST", "/", json_target_headers("events", "AWSEvents.ListRules", "1.1", auth=None),
                       b"{}", "events", "ListRules", 501, "NotImplemented")

    def test_query_without_auth(self):
        # SQS is implemented: an unsigned query request reaches it and is answered in XML.
        r = self.d.request("POST", "/", "Action=ListQueues&Version=2012-11-05", {"Content-Type": FORM})
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertIn(b"<ListQueuesResponse", r.body)

    def test_lambda_path_without_auth(self):
        # Unsigned requests on Lambda's path prefixes reach Lambda (ListFunctions is implemented) ...
        r = self.d.request("GET", "/2015-03-31/functions/", None, {})
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertEqual(json.loads(r.body)["Functions"], [])
        # ... and an operation Lambda lacks in this build answers in REST-JSON.
        r, parsed = self.raw_error("GET", "/2018-10-31/layers", {}, None, "lambda",
                                   "ListLayers", 501, "NotImplemented")
        self.assertIn("ListLayers", parsed["Error"]["Message"])

    def test_s3_without_auth(self):
        r, parsed = self.raw_error("GET", "/", {}, None, "s3", "ListBuckets", 501, "NotImplemented",
                                   s3=True)
        self.assertIn("ListBuckets", parsed["Error"]["Message"])
        r, parsed = self.raw_error("GET", "/some-bucket/some/key", {}, None, "s3", "GetObject", 501,
                                   "NotImplemented", s3=True)
        self.assertIn("GetObject", parsed["Error"]["Message"])


class QueryProtocolTest(ProtocolBase):
    """SQS's query (form + XML) protocol, which AWS still serves beside the JSON one."""

    def headers(self, auth="sigv4"):
        h = {"Content-Type": FORM, "X-Amz-Date": "20261201T000000Z"}
        if auth == "sigv4":
            h["Authorization"] = sigv4_auth("sqs")
        elif auth:
            h["Authorization"] = auth
        return h

    def check_xml(self, r):
        root = ET.fromstring(r.body)
        self.assertTrue(root.tag.endswith("ErrorResponse"), root.tag)
        rid = [e for e in root.iter() if e.tag.endswith("RequestId")]
        self.assertTrue(rid and rid[0].text, "no <RequestId> in <ErrorResponse>")

    def test_post_form(self):
        r = self.d.request("POST", "/", "Action=ListQueues&Version=2012-11-05", self.headers())
        self.assertEqual(r.status, 200, r.body[:500])
        parsed = parse_with_botocore(r, "sqs", "ListQueues", "query")
        self.assert_request_id(parsed, r)

    def test_get_query_string(self):
        r = self.d.request("GET", "/?" + urllib.parse.urlencode({"Action": "ListQueues", "Version": "2012-11-05"}),
                           None, self.headers())
        self.assertEqual(r.status, 200, r.body[:500])

    def test_queue_url_path(self):
        # POST /<account>/<queue> without a QueueUrl parameter: the path names the queue.
        body = urllib.parse.urlencode({"Action": "SendMessage", "Version": "2012-11-05",
                                       "MessageBody": "hello"})
        r, parsed = self.raw_error("POST", "/000000000000/my-queue", self.headers(), body, "sqs",
                                   "SendMessage", 400, "AWS.SimpleQueueService.NonExistentQueue",
                                   protocol="query")
        self.check_xml(r)

    def test_bogus_action(self):
        r, _ = self.raw_error("POST", "/", self.headers(), "Action=Bogus&Version=2012-11-05", "sqs",
                              "ListQueues", 400, "InvalidAction", protocol="query")
        self.check_xml(r)

    def test_missing_action(self):
        r, _ = self.raw_error("POST", "/", self.headers(), "Version=2012-11-05&QueueName=q", "sqs",
                              "ListQueues", 400, "MissingAction", protocol="query")
        self.check_xml(r)

    def test_empty_form_body(self):
        self.raw_error("POST", "/", self.headers(), "", "sqs", "ListQueues", 400, "MissingAction",
                       protocol="query")

    def test_garbled_authorization(self):
        r, _ = self.raw_error("POST", "/", self.headers(GARBLED_AUTH), "Action=ListQueues&Version=2012-11-05",
                              "sqs", "ListQueues", 400, "IncompleteSignatureException", protocol="query")
        self.check_xml(r)


class JsonProtocolTest(ProtocolBase):
    def test_dynamodb_unknown_operation(self):
        self.raw_error("POST", "/", json_target_headers("dynamodb", "DynamoDB_20120810.Bogus"), b"{}",
                       "dynamodb", "ListTables", 400, "UnknownOperationException")

    def test_events_unknown_operation(self):
        self.raw_error("POST", "/", json_target_headers("events", "AWSEvents.Bogus", "1.1"), b"{}",
                       "events", "ListRules", 400, "UnknownOperationException")

    def test_sqs_json_unknown_operation(self):
        r = self.d.request("POST", "/", b"{}", json_target_headers("sqs", "AmazonSQS.Bogus", "1.0"))
        self.assertEqual(r.status, 400, r.body[:500])
        self.assertTrue(r.header("x-amzn-query-error", "").startswith("InvalidAction;"),
                        f"x-amzn-query-error: {r.header('x-amzn-query-error')!r}")
        parsed = parse_with_botocore(r, "sqs", "ListQueues")
        self.assertEqual(parsed["Error"]["Code"], "InvalidAction", parsed)
        self.assert_request_id(parsed, r)

    def test_sqs_json_nonexistent_queue(self):
        body = json.dumps({"QueueUrl": "http://localhost/000000000000/nope"}).encode()
        r, parsed = self.raw_error("POST", "/", json_target_headers("sqs", "AmazonSQS.GetQueueAttributes"), body,
                                   "sqs", "GetQueueAttributes", 400, "AWS.SimpleQueueService.NonExistentQueue")
        self.assertEqual(r.header("x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender")

    def test_invalid_json_body(self):
        for service, target, ver, op in (("dynamodb", "DynamoDB_20120810.ListTables", "1.0", "ListTables"),
                                         ("events", "AWSEvents.ListRules", "1.1", "ListRules")):
            for body in (b"{not json", b"[1, 2", b"\xff\xfe"):
                with self.subTest(service=service, body=body):
                    self.raw_error("POST", "/", json_target_headers(service, target, ver), body,
                                   service, op, 400, "SerializationException")

    def test_garbled_authorization_json(self):
        for auth in (GARBLED_AUTH, GARBLED_AUTH_2):
            with self.subTest(auth=auth):
                self.raw_error("POST", "/", json_target_headers("dynamodb", "DynamoDB_20120810.ListTables",
                                                                auth=auth),
                               b"{}", "dynamodb", "ListTables", 400, "IncompleteSignatureException")
        self.raw_error("POST", "/", json_target_headers("events", "AWSEvents.ListRules", "1.1",
                                                        auth=GARBLED_AUTH),
                       b"{}", "events", "ListRules", 400, "IncompleteSignatureException")


class RestProtocolTest(ProtocolBase):
    def test_lambda_unknown_path(self):
        self.raw_error("GET", "/2015-03-31/bogus", {"Authorization": sigv4_auth("lambda"),
                                                    "X-Amz-Date": "20261201T000000Z"},
                       None, "lambda", "ListFunctions", 404, "UnknownOperationException")

    def test_s3_garbled_authorization(self):
        self.raw_error("GET", "/stratus-bucket/some/key", {"Authorization": GARBLED_AUTH,
                                                           "X-Amz-Date": "20261201T000000Z"},
                       None, "s3", "GetObject", 400, "AuthorizationHeaderMalformed", s3=True)


def aws_cli() -> list[str]:
    exe = shutil.which("aws")
    return [exe] if exe else [sys.executable, "-m", "awscli"]


class AwsCliTest(ProtocolBase):
    def run_cli(self, *args):
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/nonexistent/config",
                    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                    "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard",
                    "AWS_EC2_METADATA_DISABLED": "true"})
        env.pop("AWS_PROFILE", None)
        return subprocess.run([*aws_cli(), *args, "--endpoint-url", self.d.url], env=env,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    def test_sqs_list_queues(self):
        p = self.run_cli("sqs", "list-queues")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_dynamodb_list_tables(self):
        p = self.run_cli("dynamodb", "list-tables")
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("NotImplemented", p.stderr)
        self.assertIn("ListTables", p.stderr)


if __name__ == "__main__":
    unittest.main()
