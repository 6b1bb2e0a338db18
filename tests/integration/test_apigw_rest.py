"""REST APIs end to end: the apigateway (v1) operations infrastructure tools use for a Lambda proxy API
(CreateRestApi, CreateResource, PutMethod, PutIntegration, CreateDeployment, CreateStage...) through boto3,
then requests to the deployed stage, the payload 1.0 event checked field by field against the AWS docs,
and REST's own answers (403 Missing Authentication Token, 502, 500)."""
import json
import time
import unittest

from botocore.exceptions import ClientError

from apigw_common import ACCOUNT, call, create_function, event_of
from harness import Daemon


class RestApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()
        cls.lam = cls.daemon.client("lambda")
        cls.gw = cls.daemon.client("apigateway")
        cls.fn_arn = create_function(cls.lam, "rest-fn")
        cls.uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{cls.fn_arn}/invocations"

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def proxy_api(self, name, path_parts=("pets", "{id}"), method="GET", stage="prod", **deploy):
        api = self.gw.create_rest_api(name=name)
        api_id = api["id"]
        self.assertRegex(api_id, r"^[a-z0-9]{10}$")
        resources = self.gw.get_resources(restApiId=api_id)["items"]
        self.assertEqual([(r["id"], r["path"]) for r in resources], [(api["rootResourceId"], "/")])
        parent = api["rootResourceId"]
        for part in path_parts:
            parent = self.gw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]
        self.gw.put_method(restApiId=api_id, resourceId=parent, httpMethod=method, authorizationType="NONE")
        integ = self.gw.put_integration(restApiId=api_id, resourceId=parent, httpMethod=method, type="AWS_PROXY",
                                        integrationHttpMethod="POST", uri=self.uri)
        self.assertEqual(integ["type"], "AWS_PROXY")
        self.assertEqual(integ["timeoutInMillis"], 29000)
        self.gw.create_deployment(restApiId=api_id, stageName=stage, **deploy)
        return api_id, parent

    def test_proxy_api_and_payload_v1_event(self):
        api_id, resource_id = self.proxy_api("pets", variables={"color": "blue"})
        before = int(time.time() * 1000)
        r = call(self.daemon, api_id, "GET", "/prod/pets/5?a=1&a=2&b=3",
                 headers={"X-Custom": ["one", "two"], "User-Agent": "agent"})
        self.assertEqual(r.status, 200, r.body)
        e = event_of(r)
        self.assertNotIn("version", e)
        self.assertEqual(e["resource"], "/pets/{id}")
        self.assertEqual(e["path"], "/pets/5")
        self.assertEqual(e["httpMethod"], "GET")
        self.assertEqual(e["headers"]["X-Custom"], "two")
        self.assertEqual(e["multiValueHeaders"]["X-Custom"], ["one", "two"])
        self.assertEqual(e["queryStringParameters"], {"a": "2", "b": "3"})
        self.assertEqual(e["multiValueQueryStringParameters"], {"a": ["1", "2"], "b": ["3"]})
        self.assertEqual(e["pathParameters"], {"id": "5"})
        self.assertEqual(e["stageVariables"], {"color": "blue"})
        self.assertIsNone(e["body"])
        self.assertFalse(e["isBase64Encoded"])
        c = e["requestContext"]
        self.assertEqual(c["accountId"], ACCOUNT)
        self.assertEqual(c["apiId"], api_id)
        self.assertEqual(c["domainName"], f"{api_id}.execute-api.localhost")
        self.assertEqual(c["domainPrefix"], api_id)
        self.assertEqual(c["httpMethod"], "GET")
        self.assertEqual(c["path"], "/prod/pets/5")
        self.assertEqual(c["protocol"], "HTTP/1.1")
        self.assertEqual(c["resourceId"], resource_id)
        self.assertEqual(c["resourcePath"], "/pets/{id}")
        self.assertEqual(c["stage"], "prod")
        self.assertEqual(c["identity"]["sourceIp"], "127.0.0.1")
        self.assertEqual(c["identity"]["userAgent"], "agent")
        self.assertIsNone(c["identity"]["accessKey"])
        self.assertRegex(c["requestTime"], r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
        self.assertTrue(before <= c["requestTimeEpoch"] <= int(time.time() * 1000) + 1)
        self.assertEqual(r.header("x-amzn-RequestId"), c["requestId"])
        self.assertRegex(c["requestId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertEqual(r.header("x-amz-apigw-id"), c["extendedRequestId"])

        # Path form, body.
        e = event_of(call(self.daemon, api_id, "GET", "/prod/pets/6", body="hi", host_form=False))
        self.assertEqual(e["pathParameters"], {"id": "6"})
        self.assertEqual(e["body"], "hi")

        # REST's answer to anything without a method: 403 Missing Authentication Token.
        for path in ("/prod/pets", "/prod/other", "/nostage/pets/5", "/pets/5"):
            r = call(self.daemon, api_id, "GET", path)
            self.assertEqual(r.status, 403, path)
            self.assertEqual(r.json(), {"message": "Missing Authentication Token"})
        self.assertEqual(call(self.daemon, api_id, "POST", "/prod/pets/5").status, 403)

    def test_stage_serves_its_deployment(self):
        api_id, _ = self.proxy_api("deployed", path_parts=("a",))
        root = self.gw.get_rest_api(restApiId=api_id)["rootResourceId"]
        b = self.gw.create_resource(restApiId=api_id, parentId=root, pathPart="b")["id"]
        self.gw.put_method(restApiId=api_id, resourceId=b, httpMethod="ANY", authorizationType="NONE")
        self.gw.put_integration(restApiId=api_id, resourceId=b, httpMethod="ANY", type="AWS_PROXY",
                                integrationHttpMethod="POST", uri=self.uri)
        self.assertEqual(call(self.daemon, api_id, "GET", "/prod/b").status, 403)  # not deployed yet
        deployment = self.gw.create_deployment(restApiId=api_id)["id"]
        self.gw.create_stage(restApiId=api_id, stageName="v2", deploymentId=deployment)
        self.assertEqual(event_of(call(self.daemon, api_id, "PATCH", "/v2/b"))["httpMethod"], "PATCH")
        self.assertEqual(call(self.daemon, api_id, "GET", "/prod/b").status, 403)
        stages = sorted(s["stageName"] for s in self.gw.get_stages(restApiId=api_id)["item"])
        self.assertEqual(stages, ["prod", "v2"])
        self.assertEqual(self.gw.get_stage(restApiId=api_id, stageName="v2")["deploymentId"], deployment)

    def test_function_errors_and_malformed_responses(self):
        api_id, _ = self.proxy_api("errors", path_parts=("x",), method="POST")

        def steer(doc):
            return call(self.daemon, api_id, "POST", "/prod/x", body=json.dumps(doc),
                        headers={"Content-Type": "application/json"})

        r = steer({"respond": {"statusCode": 418, "headers": {"X-A": "1"}, "multiValueHeaders": {"X-B": ["1", "2"]},
                               "body": "teapot"}})
        self.assertEqual((r.status, r.body, r.header("X-A"), r.all("X-B")), (418, b"teapot", "1", ["1", "2"]))
        for doc in ({"fail": "boom"}, {"respond": {"statusCode": 200, "extra": 1}}, {"respond": {"hello": "x"}},
                    {"respond": {"statusCode": 200, "body": {"not": "a string"}}}):
            r = steer(doc)
            self.assertEqual(r.status, 502, doc)
            self.assertEqual(r.json(), {"message": "Internal server error"})

    def test_throttled_function_is_an_internal_error(self):
        fn = create_function(self.lam, "throttled-fn")
        self.lam.put_function_concurrency(FunctionName="throttled-fn", ReservedConcurrentExecutions=0)
        api = self.gw.create_rest_api(name="throttled")
        m = self.gw.put_method(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                               authorizationType="NONE")
        self.assertEqual(m["httpMethod"], "GET")
        self.gw.put_integration(restApiId=api["id"], resourceId=api["rootResourceId"], httpMethod="GET",
                                type="AWS_PROXY", integrationHttpMethod="POST",
                                uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{fn}/invocations")
        self.gw.create_deployment(restApiId=api["id"], stageName="prod")
        r = call(self.daemon, api["id"], "GET", "/prod/")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json(), {"message": "Internal server error"})

    def test_management_errors(self):
        def code(fn, **kw):
            with self.assertRaises(ClientError) as cm:
                fn(**kw)
            return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]

        self.assertEqual(code(self.gw.get_rest_api, restApiId="nosuchapi0")[0], "NotFoundException")
        api = self.gw.create_rest_api(name="errs")
        api_id, root = api["id"], api["rootResourceId"]
        self.gw.create_resource(restApiId=api_id, parentId=root, pathPart="a")
        self.assertEqual(code(self.gw.create_resource, restApiId=api_id, parentId=root, pathPart="a"),
                         ("ConflictException", "Another resource with the same parent already has this name: a"))
        self.assertEqual(code(self.gw.create_resource, restApiId=api_id, parentId="nope00", pathPart="b")[0],
                         "NotFoundException")
        self.gw.create_resource(restApiId=api_id, parentId=root, pathPart="{id}")
        self.assertEqual(code(self.gw.create_resource, restApiId=api_id, parentId=root, pathPart="{other}")[0],
                         "BadRequestException")
        self.assertEqual(code(self.gw.create_deployment, restApiId=api_id),
                         ("BadRequestException", "The REST API doesn't contain any methods"))
        self.assertEqual(code(self.gw.put_integration, restApiId=api_id, resourceId=root, httpMethod="GET",
                              type="AWS_PROXY", integrationHttpMethod="POST", uri=self.uri)[0], "NotFoundException")
        self.gw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
        self.assertEqual(code(self.gw.put_method, restApiId=api_id, resourceId=root, httpMethod="GET",
                              authorizationType="NONE")[0], "ConflictException")
        self.assertEqual(code(self.gw.put_integration, restApiId=api_id, resourceId=root, httpMethod="GET",
                              type="AWS_PROXY", integrationHttpMethod="POST", uri="https://example.com")[0],
                         "BadRequestException")
        self.assertEqual(code(self.gw.create_stage, restApiId=api_id, stageName="s", deploymentId="nope00")[0],
                         "NotFoundException")
        self.assertIn(api_id, [a["id"] for a in self.gw.get_rest_apis()["items"]])
        self.gw.delete_rest_api(restApiId=api_id)
        self.assertNotIn(api_id, [a["id"] for a in self.gw.get_rest_apis()["items"]])


if __name__ == "__main__":
    unittest.main()
