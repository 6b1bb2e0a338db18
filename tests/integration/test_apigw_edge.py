"""The edges of API Gateway's data plane against a real daemon: CORS of HTTP APIs (preflight answered by the
gateway, CORS headers on answers), throttling (429 under a burst of raw requests, HTTP and REST), a throttled
Lambda function behind both API types, access logs read back through /_stratus/logs and `stratus logs`, an
API on a port of its own (stack file `Port`), and the answers to bad input."""
import http.client
import os
import random
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from botocore.exceptions import ClientError

from apigw_common import ACCOUNT, FUNCTIONS_DIR, call, create_function, event_of
from harness import Daemon, DaemonError, stratus_bin

LOG_ARN = "arn:aws:logs:us-east-1:000000000000:log-group:{}"


def free_port() -> int:
    """A port free now, below Linux's ephemeral range (32768-60999), so that the outgoing connections of
    other processes (parallel tests, CI) don't take it before the daemon binds it."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-32000")


def lambda_uri(fn_arn):
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn_arn}/invocations"


class EdgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()
        cls.lam = cls.daemon.client("lambda")
        cls.gw = cls.daemon.client("apigatewayv2")
        cls.rest = cls.daemon.client("apigateway")
        cls.fn_arn = create_function(cls.lam, "edge-fn", Timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def logs(self, name, since=None):
        target = "/_stratus/logs/" + urllib.parse.quote(name, safe="")
        if since is not None:
            target += f"?since={since}"
        conn = http.client.HTTPConnection(self.daemon.host, self.daemon.port, timeout=5)
        try:
            conn.request("GET", target)
            r = conn.getresponse()
            return r.status, r.read().decode(), r.getheader("X-Stratus-Log-Cursor")
        finally:
            conn.close()

    def wait_for_log_lines(self, name, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            status, text, _ = self.logs(name)
            self.assertEqual(status, 200)
            lines = [l for l in text.splitlines() if l]
            if len(lines) >= count:
                return lines
            time.sleep(0.05)
        self.fail(f"{name}: {lines}")

    def rest_api(self, name):
        """A REST API with GET and POST /items → the function, deployed to stage prod."""
        api = self.rest.create_rest_api(name=name)
        items = self.rest.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="items")
        for method in ("GET", "POST"):
            self.rest.put_method(restApiId=api["id"], resourceId=items["id"], httpMethod=method,
                                 authorizationType="NONE")
            self.rest.put_integration(restApiId=api["id"], resourceId=items["id"], httpMethod=method,
                                      type="AWS_PROXY", integrationHttpMethod="POST", uri=lambda_uri(self.fn_arn))
        self.rest.create_deployment(restApiId=api["id"], stageName="prod")
        return api["id"]

    # --- CORS -------------------------------------------------------------------------------------------

    def test_cors_preflight_is_answered_by_the_gateway(self):
        api = self.gw.create_api(Name="cors", ProtocolType="HTTP", Target=self.fn_arn, CorsConfiguration={
            "AllowOrigins": ["https://app.example.com"], "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type", "x-api-key"], "ExposeHeaders": ["x-total"], "MaxAge": 600,
            "AllowCredentials": True})
        api_id = api["ApiId"]
        self.assertEqual(api["CorsConfiguration"]["AllowOrigins"], ["https://app.example.com"])
        # No OPTIONS route (only $default): the gateway answers, the function is not called.
        r = call(self.daemon, api_id, "OPTIONS", "/anything", headers={
            "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(r.status, 204, r.body)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://app.example.com")
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "GET,POST")
        self.assertEqual(r.header("Access-Control-Allow-Headers"), "content-type,x-api-key")
        self.assertEqual(r.header("Access-Control-Max-Age"), "600")
        self.assertEqual(r.header("Access-Control-Allow-Credentials"), "true")
        self.assertIsNotNone(r.header("Apigw-Requestid"))
        # An origin the configuration does not list: no CORS headers.
        r = call(self.daemon, api_id, "OPTIONS", "/anything", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 204)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        self.assertIsNone(r.header("Access-Control-Allow-Methods"))
        # An OPTIONS request that is not a preflight (no Access-Control-Request-Method) goes to the route.
        r = call(self.daemon, api_id, "OPTIONS", "/anything", headers={"Origin": "https://app.example.com"})
        self.assertEqual(event_of(r)["requestContext"]["http"]["method"], "OPTIONS")

    def test_cors_headers_on_answers_replace_the_functions(self):
        api_id = self.gw.create_api(Name="cors2", ProtocolType="HTTP", Target=self.fn_arn, CorsConfiguration={
            "AllowOrigins": ["*"], "ExposeHeaders": ["x-total", "date"]})["ApiId"]
        steer = '{"respond": {"statusCode": 201, "headers": {"Access-Control-Allow-Origin": "https://fn.example",' \
                ' "Access-Control-Expose-Headers": "x-fn", "x-total": "3"}, "body": "made"}}'
        r = call(self.daemon, api_id, "POST", "/items", body=steer, headers={"Origin": "https://web.example"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.body, b"made")
        self.assertEqual(r.all("Access-Control-Allow-Origin"), ["*"])
        self.assertEqual(r.all("Access-Control-Expose-Headers"), ["x-total,date"])
        self.assertEqual(r.header("x-total"), "3")
        # Without an Origin header: no CORS headers at all (the function's are still dropped).
        r = call(self.daemon, api_id, "POST", "/items", body=steer)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        self.assertIsNone(r.header("Access-Control-Expose-Headers"))

    def test_cors_update_delete_and_validation(self):
        api_id = self.gw.create_api(Name="cors3", ProtocolType="HTTP", Target=self.fn_arn)["ApiId"]
        preflight = {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
        # No CORS configured: the preflight is an ordinary OPTIONS request for the $default route.
        self.assertEqual(event_of(call(self.daemon, api_id, "OPTIONS", "/x", headers=preflight))
                         ["requestContext"]["http"]["method"], "OPTIONS")
        self.gw.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["https://a.example"]})
        self.assertEqual(self.gw.get_api(ApiId=api_id)["CorsConfiguration"], {"AllowOrigins": ["https://a.example"]})
        r = call(self.daemon, api_id, "OPTIONS", "/x", headers=preflight)
        self.assertEqual((r.status, r.header("Access-Control-Allow-Origin")), (204, "https://a.example"))
        self.gw.delete_cors_configuration(ApiId=api_id)
        self.assertNotIn("CorsConfiguration", self.gw.get_api(ApiId=api_id))
        r = call(self.daemon, api_id, "OPTIONS", "/x", headers=preflight)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        for bad in ({"AllowOrigins": ["*"], "AllowCredentials": True}, {"MaxAge": 86401},
                    {"AllowMethods": ["FETCH"]}):
            with self.assertRaises(ClientError) as e:
                self.gw.update_api(ApiId=api_id, CorsConfiguration=bad)
            self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException", bad)
        self.assertNotIn("CorsConfiguration", self.gw.get_api(ApiId=api_id))  # nothing invalid stored
        with self.assertRaises(ClientError) as e:
            self.gw.delete_cors_configuration(ApiId="nosuchapi0")
        self.assertEqual(e.exception.response["Error"]["Code"], "NotFoundException")

    # --- throttling -------------------------------------------------------------------------------------

    def burst(self, api_id, method, path, n):
        return [call(self.daemon, api_id, method, path) for _ in range(n)]

    def test_http_api_stage_and_route_throttling(self):
        api_id = self.gw.create_api(Name="throttled", ProtocolType="HTTP")["ApiId"]
        integ = self.gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                           PayloadFormatVersion="2.0")["IntegrationId"]
        for key in ("GET /a", "GET /b", "GET /closed"):
            self.gw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ}")
        self.gw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True,
                             DefaultRouteSettings={"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 0.01},
                             RouteSettings={"GET /closed": {"ThrottlingBurstLimit": 0}})
        stage = self.gw.get_stage(ApiId=api_id, StageName="$default")
        self.assertEqual(stage["DefaultRouteSettings"]["ThrottlingBurstLimit"], 2)
        replies = self.burst(api_id, "GET", "/a", 5)
        self.assertEqual([r.status for r in replies], [200, 200, 429, 429, 429])
        self.assertEqual(replies[2].json(), {"message": "Too Many Requests"})
        self.assertIsNotNone(replies[2].header("Apigw-Requestid"))
        # Stage defaults apply per route: /b has a bucket of its own.
        self.assertEqual([r.status for r in self.burst(api_id, "GET", "/b", 3)], [200, 200, 429])
        self.assertEqual(call(self.daemon, api_id, "GET", "/closed").status, 429)
        # Lifting the limit takes effect at once.
        self.gw.update_stage(ApiId=api_id, StageName="$default",
                             DefaultRouteSettings={"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 100})
        self.assertEqual(call(self.daemon, api_id, "GET", "/a").status, 200)
        with self.assertRaises(ClientError) as e:
            self.gw.update_stage(ApiId=api_id, StageName="$default", DefaultRouteSettings={"ThrottlingBurstLimit": -1})
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        self.gw.delete_route_settings(ApiId=api_id, StageName="$default", RouteKey="GET /closed")
        self.assertEqual(call(self.daemon, api_id, "GET", "/closed").status, 200)

    def test_rest_api_method_settings_throttling(self):
        api_id = self.rest_api("rest-throttled")
        out = self.rest.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.01"},
            {"op": "replace", "path": "/~1items/POST/throttling/burstLimit", "value": "3"}])
        self.assertEqual(out["methodSettings"]["*/*"]["throttlingBurstLimit"], 1)
        self.assertEqual(out["methodSettings"]["*/*"]["throttlingRateLimit"], 0.01)
        self.assertEqual(out["methodSettings"]["items/POST"]["throttlingBurstLimit"], 3)
        self.assertEqual(self.rest.get_stage(restApiId=api_id, stageName="prod")["methodSettings"], out["methodSettings"])
        replies = self.burst(api_id, "GET", "/prod/items", 3)
        self.assertEqual([r.status for r in replies], [200, 429, 429])
        self.assertEqual(replies[1].json(), {"message": "Too Many Requests"})
        self.assertEqual(replies[1].header("x-amzn-ErrorType"), "TooManyRequestsException")
        # POST /items: its own setting (burst 3; the rate of 10000 the stage-wide setting does not lend it).
        self.assertEqual([r.status for r in self.burst(api_id, "POST", "/prod/items", 3)], [200, 200, 200])
        with self.assertRaises(ClientError) as e:
            self.rest.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
                {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "lots"}])
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        with self.assertRaises(ClientError) as e:
            self.rest.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
                {"op": "replace", "path": "/nonsense", "value": "1"}])
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        with self.assertRaises(ClientError) as e:
            self.rest.update_stage(restApiId=api_id, stageName="nostage", patchOperations=[])
        self.assertEqual(e.exception.response["Error"]["Code"], "NotFoundException")

    def test_a_throttled_function_is_a_500_behind_both_api_types(self):
        # AWS: Lambda's 429 TooManyRequestsException is not passed through; HTTP APIs answer 500
        # {"message":"Internal Server Error"}, REST APIs 500 {"message": "Internal server error"}
        # (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html).
        fn = create_function(self.lam, "edge-throttled-fn")
        self.lam.put_function_concurrency(FunctionName="edge-throttled-fn", ReservedConcurrentExecutions=0)
        http_id = self.gw.create_api(Name="fn-throttled", ProtocolType="HTTP", Target=fn)["ApiId"]
        r = call(self.daemon, http_id, "GET", "/x")
        self.assertEqual((r.status, r.json()), (500, {"message": "Internal Server Error"}))
        api = self.rest.create_rest_api(name="fn-throttled-rest")
        self.rest.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                             authorizationType="NONE")
        self.rest.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                                  type="AWS_PROXY", integrationHttpMethod="POST", uri=lambda_uri(fn))
        self.rest.create_deployment(restApiId=api["id"], stageName="prod")
        r = call(self.daemon, api["id"], "GET", "/prod/")
        self.assertEqual((r.status, r.json()), (500, {"message": "Internal server error"}))
        # With one concurrent execution, a second request while the first runs is throttled the same way.
        self.lam.put_function_concurrency(FunctionName="edge-throttled-fn", ReservedConcurrentExecutions=1)
        self.assertEqual(call(self.daemon, http_id, "GET", "/warm").status, 200)  # no cold start below
        import threading
        slow = {}
        t = threading.Thread(target=lambda: slow.setdefault(
            "r", call(self.daemon, http_id, "POST", "/slow", body='{"sleep_ms": 1500}')))
        t.start()
        time.sleep(0.7)
        r = call(self.daemon, http_id, "GET", "/x")
        t.join()
        self.assertEqual(slow["r"].status, 200)
        self.assertEqual((r.status, r.json()), (500, {"message": "Internal Server Error"}))

    # --- access logs ------------------------------------------------------------------------------------

    def test_http_api_access_log_lines(self):
        group = "/aws/apigateway/edge-http"
        api_id = self.gw.create_api(Name="logged", ProtocolType="HTTP")["ApiId"]
        integ = self.gw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                           PayloadFormatVersion="2.0")["IntegrationId"]
        self.gw.create_route(ApiId=api_id, RouteKey="GET /pets/{id}", Target=f"integrations/{integ}")
        fmt = ('{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","method":"$context.httpMethod",'
               '"routeKey":"$context.routeKey","path":"$context.path","protocol":"$context.protocol",'
               '"status":"$context.status","len":"$context.responseLength","istatus":"$context.integration.status",'
               '"ilat":"$context.integration.latency","lat":"$context.responseLatency","stage":"$context.stage",'
               '"api":"$context.apiId","err":"$context.error.message","time":"$context.requestTime",'
               '"epoch":"$context.requestTimeEpoch","domain":"$context.domainName"}')
        with self.assertRaises(ClientError) as e:
            self.gw.create_stage(ApiId=api_id, StageName="$default", AccessLogSettings={
                "DestinationArn": "arn:aws:s3:::bucket", "Format": fmt})
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        with self.assertRaises(ClientError) as e:
            self.gw.create_stage(ApiId=api_id, StageName="$default", AccessLogSettings={
                "DestinationArn": LOG_ARN.format(group), "Format": "$context.status"})
        self.assertEqual(e.exception.response["Error"]["Code"], "BadRequestException")
        self.gw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, AccessLogSettings={
            "DestinationArn": LOG_ARN.format(group), "Format": fmt})
        before = int(time.time() * 1000)
        ok = call(self.daemon, api_id, "GET", "/pets/7")
        missing = call(self.daemon, api_id, "GET", "/nowhere")
        self.assertEqual((ok.status, missing.status), (200, 404))
        import json
        lines = [json.loads(l) for l in self.wait_for_log_lines(group, 2)]
        first, second = lines
        self.assertEqual(first["requestId"], ok.header("Apigw-Requestid"))
        self.assertEqual(first["ip"], "127.0.0.1")
        self.assertEqual(first["method"], "GET")
        self.assertEqual(first["routeKey"], "GET /pets/{id}")
        self.assertEqual(first["path"], "/pets/7")
        self.assertEqual(first["protocol"], "HTTP/1.1")
        self.assertEqual(first["status"], "200")
        self.assertEqual(first["len"], str(len(ok.body)))
        self.assertEqual(first["istatus"], "200")
        self.assertGreaterEqual(int(first["ilat"]), 0)
        self.assertGreaterEqual(int(first["lat"]), int(first["ilat"]))
        self.assertEqual(first["stage"], "$default")
        self.assertEqual(first["api"], api_id)
        self.assertEqual(first["err"], "-")
        self.assertEqual(first["domain"], f"{api_id}.execute-api.localhost")
        self.assertTrue(before <= int(first["epoch"]) <= int(time.time() * 1000) + 1)
        self.assertRegex(first["time"], r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
        self.assertEqual(second["requestId"], missing.header("Apigw-Requestid"))
        self.assertEqual((second["status"], second["err"], second["routeKey"], second["istatus"]),
                         ("404", "Not Found", "-", "-"))
        # Followed with the cursor: only the lines after it.
        status, _, cursor = self.logs(group)
        call(self.daemon, api_id, "GET", "/pets/8")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status, text, _ = self.logs(group, since=cursor)
            if text:
                break
            time.sleep(0.05)
        self.assertEqual([json.loads(l)["path"] for l in text.splitlines()], ["/pets/8"])
        # The CLI reads the same source.
        out = subprocess.run([stratus_bin(), "logs", group, "--endpoint", self.daemon.url], capture_output=True,
                             text=True, timeout=20)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual([json.loads(l)["path"] for l in out.stdout.splitlines()], ["/pets/7", "/nowhere", "/pets/8"])
        # DeleteAccessLogSettings: no more lines.
        self.gw.delete_access_log_settings(ApiId=api_id, StageName="$default")
        call(self.daemon, api_id, "GET", "/pets/9")
        time.sleep(0.2)
        self.assertEqual(len(self.wait_for_log_lines(group, 3)), 3)

    def test_rest_api_access_log_and_throttled_line(self):
        group = "edge-rest-access"
        api_id = self.rest_api("rest-logged")
        self.rest.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOG_ARN.format(group)},
            {"op": "replace", "path": "/accessLogSettings/format",
             "value": "$context.requestId $context.httpMethod $context.resourcePath $context.status "
                      "$context.error.messageString $context.stage $context.integration.status $context.integration.latency"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.01"}])
        stage = self.rest.get_stage(restApiId=api_id, stageName="prod")
        self.assertEqual(stage["accessLogSettings"]["destinationArn"], LOG_ARN.format(group))
        a = call(self.daemon, api_id, "GET", "/prod/items")
        b = call(self.daemon, api_id, "GET", "/prod/items")
        self.assertEqual((a.status, b.status), (200, 429))
        lines = self.wait_for_log_lines(group, 2)
        self.assertRegex(lines[0], rf"^{a.header('x-amzn-RequestId')} GET /items 200 - prod 200 \d+$")
        # Throttled by the gateway: the integration was not called.
        self.assertEqual(lines[1], f'{b.header("x-amzn-RequestId")} GET /items 429 "Too Many Requests" prod - -')

    # --- bad input ---------------------------------------------------------------------------------------

    def test_request_line_and_header_values_over_10240_bytes(self):
        # "Total combined size of request line and header values: 10240 bytes" (API Gateway quotas).
        http_id = self.gw.create_api(Name="big-headers", ProtocolType="HTTP", Target=self.fn_arn)["ApiId"]
        rest_id = self.rest_api("big-headers-rest")
        for api_id, path in ((http_id, "/x"), (rest_id, "/prod/items")):
            host = f"{api_id}.execute-api.localhost:{self.daemon.port}"
            line = len(f"GET {path} HTTP/1.1") + len(host)
            fits = call(self.daemon, api_id, "GET", path, headers={"X-Big": "a" * (10240 - line)})
            self.assertEqual(fits.status, 200, fits.body)
            over = call(self.daemon, api_id, "GET", path, headers={"X-Big": "a" * (10241 - line)})
            self.assertEqual((over.status, over.json()), (431, {"message": "Request Header Fields Too Large"}))


class OwnPortTest(unittest.TestCase):
    STACK = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {lib}
      Handler: http.so
      Runtime: provided.al2023
      Events:
        Hello:
          Type: HttpApi
          Properties:
            ApiId: !Ref Site
            Path: /hello/{{name}}
            Method: get
        Items:
          Type: Api
          Properties:
            RestApiId: !Ref Rest
            Path: /items
            Method: get
  Site:
    Type: AWS::Serverless::HttpApi
    Properties:
      Port: {port}
      CorsConfiguration: true
      AccessLogSettings:
        DestinationArn: arn:aws:logs:us-east-1:000000000000:log-group:site-access
        Format: $context.requestId $context.routeKey $context.status
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Port: {rest_port}
      MethodSettings:
        - ResourcePath: "/*"
          HttpMethod: "*"
          ThrottlingBurstLimit: 1
          ThrottlingRateLimit: 0.01
"""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="stratus-apigw-edge-")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, port, rest_port):
        path = os.path.join(self.tmp.name, "stack.yaml")
        with open(path, "w") as f:
            f.write(self.STACK.format(lib=os.path.abspath(os.path.join(FUNCTIONS_DIR, "http.so")), port=port,
                                      rest_port=rest_port))
        return path

    def get(self, port, path, headers=None, method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def test_api_on_its_own_port_with_stack_settings(self):
        import json
        for attempt in range(3):  # a port free when chosen may be taken before the daemon binds it
            port, rest_port = free_port(), free_port()
            d = Daemon("--config", self.write(port, rest_port))
            try:
                d.start()
                break
            except DaemonError as e:
                d.cleanup()
                if "in use" not in str(e) or attempt == 2:
                    raise
        self.addCleanup(d.cleanup)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len([l for l in d.stdout_lines if "own port" in l]) < 2:
            time.sleep(0.05)
        lines = [l for l in d.stdout_lines if "own port" in l]
        self.assertTrue(any(l.endswith(f"stage $default on its own port: http://127.0.0.1:{port}/") for l in lines),
                        d.stdout_lines)
        self.assertTrue(any(l.endswith(f"stage Prod on its own port: http://127.0.0.1:{rest_port}/") for l in lines),
                        d.stdout_lines)
        status, headers, body = self.get(port, "/hello/world", {"Origin": "https://x.example"})
        self.assertEqual(status, 200, body)
        e = json.loads(body)["event"]
        self.assertEqual((e["routeKey"], e["rawPath"], e["pathParameters"]),
                         ("GET /hello/{name}", "/hello/world", {"name": "world"}))
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), "*")  # SAM CorsConfiguration: true
        status, headers, _ = self.get(port, "/hello/world", {"Origin": "https://x.example",
                                                             "Access-Control-Request-Method": "GET"}, "OPTIONS")
        self.assertEqual(status, 204)
        self.assertEqual(headers.get("Access-Control-Allow-Methods"), "GET")
        self.assertEqual(self.get(port, "/nope")[0], 404)
        # The REST API's one stage, without its /Prod prefix; SAM MethodSettings throttle it.
        status, _, body = self.get(rest_port, "/items")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["event"]["resource"], "/items")
        status, _, body = self.get(rest_port, "/items")
        self.assertEqual((status, json.loads(body)), (429, {"message": "Too Many Requests"}))
        # The same APIs are still on the main port.
        site = d.client("apigatewayv2").get_apis()["Items"][0]["ApiId"]
        self.assertEqual(call(d, site, "GET", "/hello/main").status, 200)
        out = subprocess.run([stratus_bin(), "logs", "site-access", "--endpoint", d.url], capture_output=True,
                             text=True, timeout=20)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(" GET /hello/{name} 200", out.stdout)

    def test_port_in_use_is_a_startup_error(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            proc = subprocess.run([stratus_bin(), "serve", "--port", "0", "--ephemeral", "--config",
                                   self.write(port, free_port())], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertNotIn("stratus ready", proc.stdout)
        self.assertRegex(proc.stderr, rf"cannot serve API stratus-Site \(\w+\) on its Port {port}: .*in use")


if __name__ == "__main__":
    unittest.main()
