"""HTTP APIs end to end: apigatewayv2 through boto3 (quick create, routes, integrations, stages), then real
requests to the API by its host and path forms, the event the function received checked field by field
against the AWS docs (payload 2.0 and 1.0), the responses mapped back, and API Gateway's own answers."""
import base64
import http.client
import json
import re
import time
import unittest

from botocore.exceptions import ClientError

from apigw_common import ACCOUNT, call, create_function, event_of
from harness import Daemon

TIME_RE = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")


class HttpApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()
        cls.lam = cls.daemon.client("lambda")
        cls.gw = cls.daemon.client("apigatewayv2")
        cls.fn_arn = create_function(cls.lam, "http-fn", Timeout=30)  # big bodies on a loaded machine

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def quick_create(self, name="quick"):
        return self.gw.create_api(Name=name, ProtocolType="HTTP", Target=self.fn_arn)

    def test_quick_create_then_payload_v2_event(self):
        api = self.quick_create()
        api_id = api["ApiId"]
        self.assertRegex(api_id, r"^[a-z0-9]{10}$")
        self.assertEqual(api["ApiEndpoint"], f"http://{api_id}.execute-api.localhost:{self.daemon.port}")
        self.assertEqual(api["RouteSelectionExpression"], "$request.method $request.path")
        routes = self.gw.get_routes(ApiId=api_id)["Items"]
        self.assertEqual([r["RouteKey"] for r in routes], ["$default"])
        integrations = self.gw.get_integrations(ApiId=api_id)["Items"]
        self.assertEqual(integrations[0]["IntegrationType"], "AWS_PROXY")
        self.assertEqual(integrations[0]["PayloadFormatVersion"], "2.0")
        self.assertEqual(routes[0]["Target"], "integrations/" + integrations[0]["IntegrationId"])
        stages = self.gw.get_stages(ApiId=api_id)["Items"]
        self.assertEqual([(s["StageName"], s["AutoDeploy"]) for s in stages], [("$default", True)])

        before = int(time.time() * 1000)
        r = call(self.daemon, api_id, "GET", "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
                 headers={"Header1": "value1", "Header2": ["value1", "value2"], "Cookie": "cookie1; cookie2",
                          "User-Agent": "agent"})
        self.assertEqual(r.status, 200, r.body)
        request_id = r.header("apigw-requestid")
        self.assertRegex(request_id, r"^[A-Za-z0-9+/]{15}=$")
        e = event_of(r)
        self.assertEqual(e["version"], "2.0")
        self.assertEqual(e["routeKey"], "$default")
        self.assertEqual(e["rawPath"], "/my/path")
        self.assertEqual(e["rawQueryString"], "parameter1=value1&parameter1=value2&parameter2=value")
        self.assertEqual(e["cookies"], ["cookie1", "cookie2"])
        self.assertEqual(e["headers"]["header1"], "value1")
        self.assertEqual(e["headers"]["header2"], "value1,value2")
        self.assertEqual(e["headers"]["host"], f"{api_id}.execute-api.localhost:{self.daemon.port}")
        self.assertNotIn("cookie", e["headers"])
        self.assertEqual(e["headers"]["x-forwarded-proto"], "http")
        self.assertEqual(e["queryStringParameters"], {"parameter1": "value1,value2", "parameter2": "value"})
        c = e["requestContext"]
        self.assertEqual(c["accountId"], ACCOUNT)
        self.assertEqual(c["apiId"], api_id)
        self.assertEqual(c["domainName"], f"{api_id}.execute-api.localhost")
        self.assertEqual(c["domainPrefix"], api_id)
        self.assertEqual(c["http"], {"method": "GET", "path": "/my/path", "protocol": "HTTP/1.1",
                                     "sourceIp": "127.0.0.1", "userAgent": "agent"})
        self.assertEqual(c["requestId"], request_id)
        self.assertEqual(c["routeKey"], "$default")
        self.assertEqual(c["stage"], "$default")
        self.assertRegex(c["time"], TIME_RE)
        self.assertTrue(before <= c["timeEpoch"] <= int(time.time() * 1000) + 1, c["timeEpoch"])
        self.assertFalse(e["isBase64Encoded"])
        for absent in ("body", "pathParameters", "stageVariables"):
            self.assertNotIn(absent, e)

        # The same API by the path form.
        p = call(self.daemon, api_id, "POST", "/other?x=1", body='{"a":1}',
                 headers={"Content-Type": "application/json"}, host_form=False)
        e = event_of(p)
        self.assertEqual(e["rawPath"], "/other")
        self.assertEqual(e["body"], '{"a":1}')
        self.assertEqual(e["requestContext"]["http"]["method"], "POST")

    def test_routes_parameters_stages_and_payload_v1(self):
        api_id = self.gw.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
        integ = self.gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                           PayloadFormatVersion="1.0")
        self.assertEqual(integ["TimeoutInMillis"], 30000)
        target = "integrations/" + integ["IntegrationId"]
        for key in ("GET /pets/{id}", "GET /pets/dog", "ANY /files/{proxy+}"):
            self.gw.create_route(ApiId=api_id, RouteKey=key, Target=target)
        stage = self.gw.create_stage(ApiId=api_id, StageName="dev", StageVariables={"color": "blue"})
        self.assertEqual(stage["StageVariables"], {"color": "blue"})

        e = event_of(call(self.daemon, api_id, "GET", "/dev/pets/7?a=1&a=2",
                          headers={"X-Multi": ["1", "2"]}))
        self.assertEqual(e["version"], "1.0")
        self.assertEqual(e["resource"], "/pets/{id}")
        self.assertEqual(e["path"], "/dev/pets/7")
        self.assertEqual(e["httpMethod"], "GET")
        self.assertEqual(e["pathParameters"], {"id": "7"})
        self.assertEqual(e["stageVariables"], {"color": "blue"})
        self.assertEqual(e["headers"]["x-multi"], "2")
        self.assertEqual(e["multiValueHeaders"]["x-multi"], ["1", "2"])
        self.assertEqual(e["queryStringParameters"], {"a": "2"})
        self.assertEqual(e["multiValueQueryStringParameters"], {"a": ["1", "2"]})
        self.assertEqual(e["requestContext"]["stage"], "dev")
        self.assertEqual(e["requestContext"]["resourcePath"], "/pets/{id}")
        self.assertIsNone(e["body"])
        self.assertEqual(event_of(call(self.daemon, api_id, "GET", "/dev/pets/dog"))["resource"], "/pets/dog")
        f = event_of(call(self.daemon, api_id, "DELETE", "/dev/files/a/b.txt"))
        self.assertEqual(f["pathParameters"], {"proxy": "a/b.txt"})

        # No route, no such stage ($default does not exist here): HTTP APIs answer 404.
        for path in ("/dev/nothing", "/pets/7", "/dev/files"):
            r = call(self.daemon, api_id, "GET", path)
            self.assertEqual(r.status, 404, path)
            self.assertEqual(r.json(), {"message": "Not Found"})
            self.assertIsNotNone(r.header("apigw-requestid"))

    def test_responses_and_failures(self):
        api_id = self.quick_create("responses")["ApiId"]

        def steer(doc, **kw):
            return call(self.daemon, api_id, "POST", "/", body=json.dumps(doc),
                        headers={"Content-Type": "application/json"}, **kw)

        r = steer({"respond": {"statusCode": 201, "headers": {"X-One": "1"}, "multiValueHeaders": {"X-Two": ["a", "b"]},
                               "cookies": ["c1=v1", "c2=v2; Path=/"], "body": "created"}})
        self.assertEqual(r.status, 201)
        self.assertEqual(r.body, b"created")
        self.assertEqual(r.header("X-One"), "1")
        self.assertEqual(r.all("X-Two"), ["a", "b"])
        self.assertEqual(r.all("Set-Cookie"), ["c1=v1", "c2=v2; Path=/"])

        r = steer({"respond": {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                               "body": base64.b64encode(b"\x89PNG\x00\xff").decode(), "isBase64Encoded": True}})
        self.assertEqual((r.status, r.body, r.header("Content-Type")), (200, b"\x89PNG\x00\xff", "image/png"))

        r = steer({"respond": {"hello": "world"}})  # payload 2.0 inferred format
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertEqual(json.loads(r.body), {"hello": "world"})

        for doc in ({"fail": "boom"}, {"respond": {"statusCode": "abc"}}, {"respond": {"statusCode": 200, "cookies": 5}}):
            r = steer(doc)
            self.assertEqual(r.status, 500, doc)
            self.assertEqual(r.json(), {"message": "Internal Server Error"})

    def test_binary_request_body_is_base64(self):
        api_id = self.quick_create("binary")["ApiId"]
        data = bytes(range(256))
        e = event_of(call(self.daemon, api_id, "PUT", "/upload", body=data, headers={"Content-Type": "image/png"}))
        self.assertTrue(e["isBase64Encoded"])
        self.assertEqual(base64.b64decode(e["body"]), data)

    def test_integration_timeout(self):
        api_id = self.gw.create_api(Name="slow", ProtocolType="HTTP")["ApiId"]
        integ = self.gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                           PayloadFormatVersion="2.0", TimeoutInMillis=300)
        self.gw.create_route(ApiId=api_id, RouteKey="POST /slow", Target="integrations/" + integ["IntegrationId"])
        self.gw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
        t0 = time.monotonic()
        r = call(self.daemon, api_id, "POST", "/slow", body='{"sleep_ms": 1500}')
        self.assertEqual(r.status, 503)
        self.assertEqual(r.json(), {"message": "Service Unavailable"})
        self.assertLess(time.monotonic() - t0, 1.4)

    def test_management_errors(self):
        with self.assertRaises(ClientError) as cm:
            self.gw.get_api(ApiId="nosuchapi0")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NotFoundException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        api_id = self.gw.create_api(Name="errs", ProtocolType="HTTP")["ApiId"]
        with self.assertRaises(ClientError) as cm:
            self.gw.create_route(ApiId=api_id, RouteKey="FETCH /x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "BadRequestException")
        with self.assertRaises(ClientError) as cm:
            self.gw.create_route(ApiId=api_id, RouteKey="GET /x", Target="integrations/nope123")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NotFoundException")
        self.gw.create_route(ApiId=api_id, RouteKey="GET /x")
        with self.assertRaises(ClientError) as cm:
            self.gw.create_route(ApiId=api_id, RouteKey="GET /x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ConflictException")
        with self.assertRaises(ClientError) as cm:
            self.gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn)
        self.assertEqual(cm.exception.response["Error"]["Code"], "BadRequestException")  # no PayloadFormatVersion
        with self.assertRaises(ClientError) as cm:
            self.gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                       PayloadFormatVersion="2.0", TimeoutInMillis=40000)
        self.assertEqual(cm.exception.response["Error"]["Code"], "BadRequestException")
        self.gw.create_stage(ApiId=api_id, StageName="s1")
        with self.assertRaises(ClientError) as cm:
            self.gw.create_stage(ApiId=api_id, StageName="s1")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ConflictException")
        names = [a["Name"] for a in self.gw.get_apis()["Items"]]
        self.assertIn("errs", names)
        self.gw.update_api(ApiId=api_id, Name="renamed")
        self.assertEqual(self.gw.get_api(ApiId=api_id)["Name"], "renamed")
        self.gw.delete_api(ApiId=api_id)
        self.assertNotIn(api_id, [a["ApiId"] for a in self.gw.get_apis()["Items"]])
        self.assertEqual(call(self.daemon, api_id, "GET", "/s1/x").status, 404)

    def test_route_and_stage_changes_apply_at_once(self):
        api_id = self.gw.create_api(Name="live", ProtocolType="HTTP")["ApiId"]
        integ = self.gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                           PayloadFormatVersion="2.0")
        self.gw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
        self.assertEqual(call(self.daemon, api_id, "GET", "/a").status, 404)
        route = self.gw.create_route(ApiId=api_id, RouteKey="GET /a", Target="integrations/" + integ["IntegrationId"])
        self.assertEqual(event_of(call(self.daemon, api_id, "GET", "/a"))["routeKey"], "GET /a")
        self.gw.update_route(ApiId=api_id, RouteId=route["RouteId"], RouteKey="GET /b")
        self.assertEqual(call(self.daemon, api_id, "GET", "/a").status, 404)
        self.assertEqual(event_of(call(self.daemon, api_id, "GET", "/b"))["routeKey"], "GET /b")
        self.gw.delete_route(ApiId=api_id, RouteId=route["RouteId"])
        self.assertEqual(call(self.daemon, api_id, "GET", "/b").status, 404)

    def test_payload_over_10_mb(self):
        # API Gateway's payload limit is 10 MB. With Expect: 100-continue the daemon answers before the body.
        api_id = self.quick_create("big")["ApiId"]
        conn = http.client.HTTPConnection(self.daemon.host, self.daemon.port, timeout=10)
        try:
            conn.putrequest("POST", "/", skip_host=True)
            conn.putheader("Host", f"{api_id}.execute-api.localhost:{self.daemon.port}")
            conn.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
            conn.putheader("Expect", "100-continue")
            conn.endheaders()
            r = conn.getresponse()
            self.assertEqual(r.status, 413)
            self.assertEqual(json.loads(r.read()), {"message": "Request Entity Too Large"})
        finally:
            conn.close()
        # Under the limit the body reaches the function, unless the event is over Lambda's 6 MB invocation
        # payload limit: Lambda refuses the invocation and API Gateway answers its internal error.
        e = event_of(call(self.daemon, api_id, "POST", "/", body=b"x" * (2 * 1024 * 1024),
                          headers={"Content-Type": "text/plain"}))
        self.assertEqual(len(e["body"]), 2 * 1024 * 1024)
        r = call(self.daemon, api_id, "POST", "/", body=b"x" * (7 * 1024 * 1024), headers={"Content-Type": "text/plain"})
        self.assertEqual((r.status, r.json()), (500, {"message": "Internal Server Error"}))

    def test_unknown_api(self):
        r = call(self.daemon, "zzzzzzzzzz", "GET", "/")
        self.assertEqual((r.status, r.json()), (404, {"message": "Not Found"}))


if __name__ == "__main__":
    unittest.main()
