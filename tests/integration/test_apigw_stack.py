"""SAM in the stack file: AWS::Serverless::Function events of Type HttpApi and Api create the implicit
ServerlessHttpApi ($default stage) and ServerlessRestApi (stage Prod) as SAM does; `stratus` prints each
API's URL at start; applying the stack again at the next start keeps the APIs' ids."""
import os
import tempfile
import time
import unittest

from apigw_common import FUNCTIONS_DIR, call, event_of
from harness import Daemon

STACK = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {lib}
      Handler: http.so
      Runtime: provided.al2023
      Events:
        Hello:
          Type: HttpApi
          Properties:
            Path: /hello/{{name}}
            Method: get
        Items:
          Type: Api
          Properties:
            Path: /items/{{id}}
            Method: post
        Custom:
          Type: HttpApi
          Properties:
            ApiId: !Ref CustomApi
            Path: /v1/{{proxy+}}
            Method: ANY
            PayloadFormatVersion: "1.0"
  CustomApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: live
      StageVariables:
        mode: test
Outputs:
  HelloUrl:
    Value: !Sub "https://${{ServerlessHttpApi}}.execute-api.${{AWS::Region}}.amazonaws.com/hello"
"""


class StackApiTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="stratus-apigw-stack-")
        self.path = os.path.join(self.tmp.name, "stack.yaml")
        with open(self.path, "w") as f:
            f.write(STACK.format(lib=os.path.abspath(os.path.join(FUNCTIONS_DIR, "http.so"))))

    def tearDown(self):
        self.tmp.cleanup()

    def apis(self, d):
        http = {a["Name"]: a["ApiId"] for a in d.client("apigatewayv2").get_apis()["Items"]}
        rest = {a["name"]: a["id"] for a in d.client("apigateway").get_rest_apis()["items"]}
        return http, rest

    def wait_for_lines(self, d, prefix, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = [l for l in d.stdout_lines if l.startswith(prefix)]
            if len(lines) >= count:
                return lines
            time.sleep(0.05)
        self.fail(f"stdout: {d.stdout_lines}")

    def test_sam_events_make_apis_that_serve_and_survive_a_restart(self):
        data = os.path.join(self.tmp.name, "data")
        with Daemon("--config", self.path, data_dir=data) as d:
            http, rest = self.apis(d)
            self.assertEqual(set(http), {"stratus-ServerlessHttpApi", "stratus-CustomApi"})
            self.assertEqual(set(rest), {"stratus-ServerlessRestApi"})
            implicit, custom, rest_id = http["stratus-ServerlessHttpApi"], http["stratus-CustomApi"], \
                rest["stratus-ServerlessRestApi"]
            lines = self.wait_for_lines(d, "stratus api ", 3)
            self.assertIn(f"stratus api stratus-ServerlessHttpApi (HTTP API {implicit}) stage $default: "
                          f"http://{implicit}.execute-api.localhost:{d.port}/", lines)
            self.assertIn(f"stratus api stratus-ServerlessRestApi (REST API {rest_id}) stage Prod: "
                          f"http://{rest_id}.execute-api.localhost:{d.port}/Prod/", lines)
            self.assertIn(f"stratus api stratus-CustomApi (HTTP API {custom}) stage live: "
                          f"http://{custom}.execute-api.localhost:{d.port}/live/", lines)

            e = event_of(call(d, implicit, "GET", "/hello/world"))
            self.assertEqual(e["version"], "2.0")
            self.assertEqual(e["routeKey"], "GET /hello/{name}")
            self.assertEqual(e["pathParameters"], {"name": "world"})
            self.assertEqual(call(d, implicit, "POST", "/hello/world").status, 404)

            e = event_of(call(d, rest_id, "POST", "/Prod/items/9", body="{}"))
            self.assertEqual(e["resource"], "/items/{id}")
            self.assertEqual(e["requestContext"]["stage"], "Prod")
            self.assertEqual(call(d, rest_id, "GET", "/Prod/items/9").status, 403)

            e = event_of(call(d, custom, "DELETE", "/live/v1/a/b"))
            self.assertEqual(e["version"], "1.0")
            self.assertEqual(e["pathParameters"], {"proxy": "a/b"})
            self.assertEqual(e["stageVariables"], {"mode": "test"})

        with Daemon("--config", self.path, data_dir=data) as d:
            again_http, again_rest = self.apis(d)
            self.assertEqual((again_http, again_rest), (http, rest))
            routes = d.client("apigatewayv2").get_routes(ApiId=implicit)["Items"]
            self.assertEqual([r["RouteKey"] for r in routes], ["GET /hello/{name}"])
            self.assertEqual(event_of(call(d, implicit, "GET", "/hello/again"))["pathParameters"], {"name": "again"})
            self.assertEqual(event_of(call(d, rest_id, "POST", "/Prod/items/1", body="{}"))["path"], "/items/1")


if __name__ == "__main__":
    unittest.main()
