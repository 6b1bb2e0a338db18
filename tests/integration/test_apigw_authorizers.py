"""Lambda authorizers end to end: authorizers and routes/methods managed through boto3 (apigatewayv2 and
apigateway), a real authorizer function (functions/authorizer.cpp, which answers by the token and counts its
invocations in its context) in front of the proxy function (functions/http.cpp, which echoes its event), and
raw HTTP requests: allow, deny (explicit and implicit), 401, 500, caching by identity, the authorizer's
event and the context reaching the integration, checked against the AWS docs:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html"""
import base64
import http.client
import json
import os
import tempfile
import time
import unittest
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from botocore.exceptions import ClientError

from apigw_common import ACCOUNT, FUNCTIONS_DIR, call, create_function, event_of
from harness import Daemon

REGION = "us-east-1"


def lambda_uri(fn_arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations"


def authorizer_of(reply):
    """The requestContext.authorizer the integration received."""
    return event_of(reply)["requestContext"]["authorizer"]


class AuthorizerTestBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()
        cls.lam = cls.daemon.client("lambda")
        cls.fn_arn = create_function(cls.lam, "authz-http-fn", Timeout=30)
        cls.auth_arn = create_function(cls.lam, "authz-fn", "authorizer", Timeout=2)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def assertError(self, code, fn, *args, **kwargs):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        return cm.exception.response["Error"]["Message"]


class HttpApiAuthorizerTest(AuthorizerTestBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gw = cls.daemon.client("apigatewayv2")

    def http_api(self, name, route_key="GET /pets/{id}", integration_version="2.0", **authorizer):
        api = self.gw.create_api(Name=name, ProtocolType="HTTP")["ApiId"]
        integ = self.gw.create_integration(ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                           PayloadFormatVersion=integration_version)["IntegrationId"]
        params = {"AuthorizerType": "REQUEST", "Name": name + "-auth", "AuthorizerUri": lambda_uri(self.auth_arn),
                  "AuthorizerPayloadFormatVersion": "2.0", "IdentitySource": ["$request.header.Authorization"]}
        params.update(authorizer)
        auth = self.gw.create_authorizer(ApiId=api, **params)
        route = self.gw.create_route(ApiId=api, RouteKey=route_key, Target=f"integrations/{integ}",
                                     AuthorizationType="CUSTOM", AuthorizerId=auth["AuthorizerId"])
        self.assertEqual((route["AuthorizationType"], route["AuthorizerId"]), ("CUSTOM", auth["AuthorizerId"]))
        self.gw.create_stage(ApiId=api, StageName="$default")
        return api, auth

    def get(self, api, token=None, path="/pets/7", method="GET", headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = token
        return call(self.daemon, api, method, path, headers=h)

    def test_management_and_validation(self):
        api, auth = self.http_api("mgmt")
        a = auth["AuthorizerId"]
        self.assertRegex(a, r"^[a-z0-9]{6}$")
        self.assertEqual(auth["AuthorizerResultTtlInSeconds"], 300)
        self.assertFalse(auth["EnableSimpleResponses"])
        self.assertEqual(auth["IdentitySource"], ["$request.header.Authorization"])
        self.assertEqual(self.gw.get_authorizer(ApiId=api, AuthorizerId=a)["Name"], "mgmt-auth")
        self.assertEqual([x["AuthorizerId"] for x in self.gw.get_authorizers(ApiId=api)["Items"]], [a])
        upd = self.gw.update_authorizer(ApiId=api, AuthorizerId=a, AuthorizerResultTtlInSeconds=0,
                                        EnableSimpleResponses=True)
        self.assertEqual((upd["AuthorizerResultTtlInSeconds"], upd["EnableSimpleResponses"]), (0, True))
        self.assertError("NotFoundException", self.gw.get_authorizer, ApiId=api, AuthorizerId="nope00")

        base = {"ApiId": api, "AuthorizerType": "REQUEST", "Name": "x", "AuthorizerUri": lambda_uri(self.auth_arn),
                "IdentitySource": ["$request.header.Authorization"]}
        self.assertError("BadRequestException", self.gw.create_authorizer, **base)  # no payload format version
        for bad in ({"AuthorizerPayloadFormatVersion": "3.0"},
                    {"AuthorizerPayloadFormatVersion": "1.0", "EnableSimpleResponses": True},
                    {"AuthorizerPayloadFormatVersion": "2.0", "AuthorizerResultTtlInSeconds": 4000},
                    {"AuthorizerPayloadFormatVersion": "2.0", "IdentitySource": ["Authorization"]},
                    {"AuthorizerPayloadFormatVersion": "2.0", "AuthorizerUri": "arn:aws:s3:::bucket"},
                    {"AuthorizerPayloadFormatVersion": "2.0", "AuthorizerType": "JWT",
                     "JwtConfiguration": {"Issuer": "https://issuer", "Audience": ["a"]}}):
            self.assertError("BadRequestException", self.gw.create_authorizer, **{**base, **bad})
        self.assertEqual(len(self.gw.get_authorizers(ApiId=api)["Items"]), 1)  # nothing invalid stored

        integ = self.gw.get_integrations(ApiId=api)["Items"][0]["IntegrationId"]
        target = f"integrations/{integ}"
        self.assertError("BadRequestException", self.gw.create_route, ApiId=api, RouteKey="GET /a", Target=target,
                         AuthorizationType="CUSTOM")
        self.assertError("NotFoundException", self.gw.create_route, ApiId=api, RouteKey="GET /a", Target=target,
                         AuthorizationType="CUSTOM", AuthorizerId="nope00")
        self.assertError("BadRequestException", self.gw.create_route, ApiId=api, RouteKey="GET /a", Target=target,
                         AuthorizationType="AWS_IAM")
        self.assertError("BadRequestException", self.gw.create_route, ApiId=api, RouteKey="GET /a", Target=target,
                         AuthorizationType="OTHER")
        self.assertError("ConflictException", self.gw.delete_authorizer, ApiId=api, AuthorizerId=a)
        # Unprotect the route, then the authorizer can go.
        route = self.gw.get_routes(ApiId=api)["Items"][0]
        r = self.gw.update_route(ApiId=api, RouteId=route["RouteId"], AuthorizationType="NONE", AuthorizerId="")
        self.assertEqual(r["AuthorizationType"], "NONE")
        self.assertNotIn("AuthorizerId", r)
        self.assertEqual(self.get(api).status, 200)  # no authorizer any more
        self.gw.delete_authorizer(ApiId=api, AuthorizerId=a)
        self.assertEqual(self.gw.get_authorizers(ApiId=api)["Items"], [])

    def test_payload_v2_policy_answers(self):
        api, _ = self.http_api("v2policy", AuthorizerResultTtlInSeconds=0)
        r = self.get(api, "allow")
        self.assertEqual(r.status, 200, r.body)
        lam = authorizer_of(r)["lambda"]
        self.assertEqual((lam["token"], lam["flag"], lam["num"]), ("allow", True, 7))
        # The event the authorizer received (it sends it back in its context).
        e = json.loads(lam["event"])
        self.assertEqual(e["version"], "2.0")
        self.assertEqual(e["type"], "REQUEST")
        self.assertEqual(e["routeArn"], f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/$default/GET/pets/7")
        self.assertEqual(e["identitySource"], ["allow"])
        self.assertEqual(e["routeKey"], "GET /pets/{id}")
        self.assertEqual(e["rawPath"], "/pets/7")
        self.assertEqual(e["headers"]["authorization"], "allow")
        self.assertEqual(e["pathParameters"], {"id": "7"})
        self.assertEqual(e["requestContext"]["routeKey"], "GET /pets/{id}")
        self.assertEqual(e["requestContext"]["requestId"], r.header("apigw-requestid"))
        self.assertNotIn("body", e)

        for token, status, body in (
                (None, 401, {"message": "Unauthorized"}),
                ("", 401, {"message": "Unauthorized"}),
                ("deny", 403, {"message": "Forbidden"}),
                ("none", 403, {"message": "Forbidden"}),
                ("crash", 500, {"message": "Internal Server Error"}),
                ("malformed", 500, {"message": "Internal Server Error"}),
                ("unauthorized", 500, {"message": "Internal Server Error"}),
                ("simple-allow", 500, {"message": "Internal Server Error"})):  # simple responses not enabled
            r = self.get(api, token)
            self.assertEqual((r.status, r.json()), (status, body), token)
            self.assertTrue(r.header("apigw-requestid"))
        self.assertEqual(self.get(api, "allow", path="/other").status, 404)  # no route: no authorizer either

    def test_simple_responses_and_cache(self):
        api, auth = self.http_api("simple", EnableSimpleResponses=True)
        first = self.get(api, "simple-allow")
        self.assertEqual(first.status, 200, first.body)
        count = authorizer_of(first)["lambda"]["count"]
        # Same identity: the cached answer (the authorizer is not called again).
        again = self.get(api, "simple-allow", path="/pets/8")
        self.assertEqual(authorizer_of(again)["lambda"]["count"], count)
        # Another identity: another call.
        other = self.get(api, "simple-allow 2")
        self.assertEqual(authorizer_of(other)["lambda"]["count"], count + 1)
        self.assertEqual(self.get(api, "simple-deny").json(), {"message": "Forbidden"})
        # Flushing the cache calls the authorizer again.
        self.gw.reset_authorizers_cache(ApiId=api, StageName="$default")
        self.assertEqual(authorizer_of(self.get(api, "simple-allow"))["lambda"]["count"], count + 3)
        # Without caching, every request calls it.
        self.gw.update_authorizer(ApiId=api, AuthorizerId=auth["AuthorizerId"], AuthorizerResultTtlInSeconds=0)
        a = authorizer_of(self.get(api, "simple-allow"))["lambda"]["count"]
        b = authorizer_of(self.get(api, "simple-allow"))["lambda"]["count"]
        self.assertEqual(b, a + 1)

    def test_cache_key_is_every_identity_source(self):
        api, _ = self.http_api("twokeys", IdentitySource=["$request.header.Authorization", "$request.querystring.q"])
        self.assertEqual(self.get(api, "allow", path="/pets/1").status, 401)  # q missing
        c1 = authorizer_of(self.get(api, "allow", path="/pets/1?q=a"))["lambda"]["count"]
        self.assertEqual(authorizer_of(self.get(api, "allow", path="/pets/2?q=a"))["lambda"]["count"], c1)
        self.assertEqual(authorizer_of(self.get(api, "allow", path="/pets/1?q=b"))["lambda"]["count"], c1 + 1)
        e = json.loads(authorizer_of(self.get(api, "allow", path="/pets/1?q=c"))["lambda"]["event"])
        self.assertEqual(e["identitySource"], ["allow", "c"])

    def test_cached_policy_is_evaluated_per_route(self):
        api = self.gw.create_api(Name="perroute", ProtocolType="HTTP")["ApiId"]
        integ = self.gw.create_integration(ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                           PayloadFormatVersion="2.0")["IntegrationId"]
        a = self.gw.create_authorizer(ApiId=api, AuthorizerType="REQUEST", Name="a",
                                      AuthorizerUri=lambda_uri(self.auth_arn), AuthorizerPayloadFormatVersion="2.0",
                                      IdentitySource=["$request.header.Authorization"])["AuthorizerId"]
        for key in ("GET /items", "POST /items"):
            self.gw.create_route(ApiId=api, RouteKey=key, Target=f"integrations/{integ}", AuthorizationType="CUSTOM",
                                 AuthorizerId=a)
        self.gw.create_stage(ApiId=api, StageName="$default")
        got = self.get(api, "allow-get", path="/items")
        self.assertEqual(got.status, 200)
        count = authorizer_of(got)["lambda"]["count"]
        self.assertEqual(self.get(api, "allow-get", path="/items", method="POST").status, 403)
        self.assertEqual(authorizer_of(self.get(api, "allow-get", path="/items"))["lambda"]["count"], count)

    def test_payload_v1_authorizer_and_integration(self):
        api, _ = self.http_api("v1", integration_version="1.0", AuthorizerPayloadFormatVersion="1.0",
                               AuthorizerResultTtlInSeconds=0)
        r = self.get(api, "allow")
        self.assertEqual(r.status, 200, r.body)
        a = authorizer_of(r)
        # Payload 1.0: the context's values as strings, and principalId.
        self.assertEqual((a["token"], a["flag"], a["num"], a["principalId"]), ("allow", "true", "7", "user-allow"))
        e = json.loads(a["event"])
        self.assertEqual(e["version"], "1.0")
        self.assertEqual(e["type"], "REQUEST")
        self.assertEqual(e["methodArn"], f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/$default/GET/pets/7")
        self.assertEqual((e["identitySource"], e["authorizationToken"]), ("allow", "allow"))
        self.assertEqual((e["resource"], e["path"], e["httpMethod"]), ("/pets/{id}", "/pets/7", "GET"))
        self.assertEqual(e["pathParameters"], {"id": "7"})
        self.assertEqual(self.get(api, "deny").status, 403)

    def test_an_authorized_request_is_throttled_and_logged_once(self):
        # The gateway serves an authorized request in two passes (authorizer, then integration): the stage's
        # token bucket and access log must see it once, and a refusal is logged with its status.
        api, _ = self.http_api("edges", AuthorizerResultTtlInSeconds=0)
        group = "/aws/apigateway/authz-edges"
        self.gw.update_stage(
            ApiId=api, StageName="$default",
            DefaultRouteSettings={"ThrottlingBurstLimit": 3, "ThrottlingRateLimit": 0.01},
            AccessLogSettings={"DestinationArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}",
                               "Format": '{"id":"$context.requestId","status":"$context.status",'
                                         '"route":"$context.routeKey"}'})
        replies = [self.get(api, token) for token in ("allow", "deny", "allow", "allow")]
        self.assertEqual([r.status for r in replies], [200, 403, 200, 429])
        self.assertEqual(replies[3].json(), {"message": "Too Many Requests"})
        deadline = time.monotonic() + 5
        lines = []
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection(self.daemon.host, self.daemon.port, timeout=5)
            conn.request("GET", "/_stratus/logs/" + urllib.parse.quote(group, safe=""))
            lines = [json.loads(l) for l in conn.getresponse().read().decode().splitlines() if l]
            conn.close()
            if len(lines) >= 4:
                break
            time.sleep(0.05)
        self.assertEqual([(l["status"], l["route"]) for l in lines],
                         [("200", "GET /pets/{id}"), ("403", "GET /pets/{id}"), ("200", "GET /pets/{id}"),
                          ("429", "GET /pets/{id}")])
        self.assertEqual([l["id"] for l in lines], [r.header("apigw-requestid") for r in replies])

    def test_authorizer_timeout_is_a_500(self):
        api, _ = self.http_api("slow", AuthorizerResultTtlInSeconds=0)
        r = self.get(api, "slow")  # the function's 2 s timeout
        self.assertEqual((r.status, r.json()), (500, {"message": "Internal Server Error"}))


class RestApiAuthorizerTest(AuthorizerTestBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gw = cls.daemon.client("apigateway")

    def rest_api(self, name, methods=("GET",), **authorizer):
        api = self.gw.create_rest_api(name=name)
        api_id, root = api["id"], api["rootResourceId"]
        pets = self.gw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")["id"]
        pet = self.gw.create_resource(restApiId=api_id, parentId=pets, pathPart="{id}")["id"]
        params = {"name": name + "-auth", "type": "TOKEN", "authorizerUri": lambda_uri(self.auth_arn),
                  "identitySource": "method.request.header.Authorization"}
        params.update(authorizer)
        auth = self.gw.create_authorizer(restApiId=api_id, **params)
        for method in methods:
            m = self.gw.put_method(restApiId=api_id, resourceId=pet, httpMethod=method, authorizationType="CUSTOM",
                                   authorizerId=auth["id"])
            self.assertEqual((m["authorizationType"], m["authorizerId"]), ("CUSTOM", auth["id"]))
            self.gw.put_integration(restApiId=api_id, resourceId=pet, httpMethod=method, type="AWS_PROXY",
                                    integrationHttpMethod="POST", uri=lambda_uri(self.fn_arn))
        self.gw.create_deployment(restApiId=api_id, stageName="prod", variables={"v": "1"})
        return api_id, auth, pet

    def get(self, api, token=None, path="/prod/pets/7", method="GET"):
        return call(self.daemon, api, method, path, headers={} if token is None else {"Authorization": token})

    def test_management_and_validation(self):
        api, auth, pet = self.rest_api("mgmt")
        self.assertEqual(auth["authorizerResultTtlInSeconds"], 300)
        self.assertEqual(self.gw.get_authorizer(restApiId=api, authorizerId=auth["id"])["type"], "TOKEN")
        self.assertEqual([a["id"] for a in self.gw.get_authorizers(restApiId=api)["items"]], [auth["id"]])
        upd = self.gw.update_authorizer(restApiId=api, authorizerId=auth["id"], patchOperations=[
            {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"},
            {"op": "replace", "path": "/identityValidationExpression", "value": "^allow$"}])
        self.assertEqual((upd["authorizerResultTtlInSeconds"], upd["identityValidationExpression"]), (0, "^allow$"))
        self.assertError("BadRequestException", self.gw.update_authorizer, restApiId=api, authorizerId=auth["id"],
                         patchOperations=[{"op": "replace", "path": "/bogus", "value": "x"}])
        uri = lambda_uri(self.auth_arn)
        for bad in ({"type": "TOKEN"},  # no identity source
                    {"type": "TOKEN", "identitySource": "method.request.querystring.t"},
                    {"type": "REQUEST"},  # caching on (default 300) needs identity sources
                    {"type": "COGNITO_USER_POOLS", "providerARNs": ["arn:aws:cognito-idp:us-east-1:1:userpool/x"]},
                    {"type": "TOKEN", "identitySource": "method.request.header.A", "authorizerResultTtlInSeconds": 4000}):
            self.assertError("BadRequestException", self.gw.create_authorizer, restApiId=api, name="x",
                             authorizerUri=uri, **bad)
        req = self.gw.create_authorizer(restApiId=api, name="req", type="REQUEST", authorizerUri=uri,
                                        authorizerResultTtlInSeconds=0)
        self.assertEqual(req["type"], "REQUEST")
        self.assertError("BadRequestException", self.gw.put_method, restApiId=api, resourceId=pet, httpMethod="POST",
                         authorizationType="CUSTOM", authorizerId="nope00")
        self.assertError("BadRequestException", self.gw.put_method, restApiId=api, resourceId=pet, httpMethod="POST",
                         authorizationType="CUSTOM")
        self.assertError("BadRequestException", self.gw.delete_authorizer, restApiId=api, authorizerId=auth["id"])
        self.gw.delete_authorizer(restApiId=api, authorizerId=req["id"])
        self.assertError("NotFoundException", self.gw.get_authorizer, restApiId=api, authorizerId=req["id"])

    def test_token_authorizer(self):
        api, _, pet = self.rest_api("token", identityValidationExpression="^[a-z-]+$", authorizerResultTtlInSeconds=0)
        r = self.get(api, "allow")
        self.assertEqual(r.status, 200, r.body)
        a = authorizer_of(r)
        self.assertEqual((a["principalId"], a["token"], a["flag"], a["num"]), ("user-allow", "allow", "true", "7"))
        self.assertEqual(json.loads(a["event"]),
                         {"type": "TOKEN", "authorizationToken": "allow",
                          "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/prod/GET/pets/7"})
        unauthorized = {"message": "Unauthorized"}
        for token, status, body, error_type in (
                (None, 401, unauthorized, "UnauthorizedException"),
                ("Not Valid 1", 401, unauthorized, "UnauthorizedException"),  # identityValidationExpression
                ("unauthorized", 401, unauthorized, "UnauthorizedException"),  # the function throws "Unauthorized"
                ("deny", 403, {"Message": "User is not authorized to access this resource with an explicit deny"},
                 "AccessDeniedException"),
                ("none", 403, {"Message": "User is not authorized to access this resource"}, "AccessDeniedException"),
                ("crash", 500, {"message": None}, "AuthorizerConfigurationException"),
                ("malformed", 500, {"message": None}, "AuthorizerConfigurationException"),
                ("nested", 500, {"message": None}, "AuthorizerConfigurationException")):
            r = self.get(api, token)
            self.assertEqual((r.status, r.json(), r.header("x-amzn-ErrorType")), (status, body, error_type), token)
            self.assertTrue(r.header("x-amzn-RequestId"))

    def test_token_cache_evaluates_the_policy_per_method(self):
        api, _, pet = self.rest_api("tcache", methods=("GET", "POST"))
        got = self.get(api, "allow-get")
        self.assertEqual(got.status, 200, got.body)
        count = int(authorizer_of(got)["count"])
        # The cached policy (GET only) against POST's methodArn: explicit allow missing -> 403.
        r = self.get(api, "allow-get", method="POST")
        self.assertEqual((r.status, r.json()), (403, {"Message": "User is not authorized to access this resource"}))
        self.assertEqual(int(authorizer_of(self.get(api, "allow-get", path="/prod/pets/9"))["count"]), count)
        self.assertEqual(int(authorizer_of(self.get(api, "allow"))["count"]), count + 1)
        self.gw.flush_stage_authorizers_cache(restApiId=api, stageName="prod")
        self.assertEqual(int(authorizer_of(self.get(api, "allow-get"))["count"]), count + 2)

    def test_request_authorizer(self):
        api, _, _ = self.rest_api(
            "request", type="REQUEST",
            identitySource="method.request.header.Authorization, method.request.querystring.q")
        self.assertEqual(self.get(api, "allow").status, 401)  # q missing (caching on: every source required)
        r = self.get(api, "allow", path="/prod/pets/7?q=1&q=2")
        self.assertEqual(r.status, 200, r.body)
        a = authorizer_of(r)
        count = int(a["count"])
        e = json.loads(a["event"])
        self.assertEqual(e["type"], "REQUEST")
        self.assertEqual(e["methodArn"], f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/prod/GET/pets/7")
        self.assertEqual((e["resource"], e["path"], e["httpMethod"]), ("/pets/{id}", "/pets/7", "GET"))
        self.assertEqual(e["headers"]["Authorization"], "allow")
        self.assertEqual(e["multiValueHeaders"]["Authorization"], ["allow"])
        self.assertEqual(e["queryStringParameters"], {"q": "2"})
        self.assertEqual(e["multiValueQueryStringParameters"], {"q": ["1", "2"]})
        self.assertEqual(e["pathParameters"], {"id": "7"})
        self.assertEqual(e["stageVariables"], {"v": "1"})
        self.assertEqual(e["requestContext"]["stage"], "prod")
        self.assertEqual(e["requestContext"]["resourcePath"], "/pets/{id}")
        self.assertNotIn("body", e)
        # Cached by both sources' values.
        self.assertEqual(int(authorizer_of(self.get(api, "allow", path="/prod/pets/8?q=1&q=2"))["count"]), count)
        self.assertEqual(int(authorizer_of(self.get(api, "allow", path="/prod/pets/8?q=3"))["count"]), count + 1)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_issuer(directory: str):
    """A signing key whose JWKS is DIR/.well-known/jwks.json (kid k1): the issuer file://DIR."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
           "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
           "e": b64url(numbers.e.to_bytes(3, "big"))}
    os.makedirs(os.path.join(directory, ".well-known"))
    with open(os.path.join(directory, ".well-known", "jwks.json"), "w") as f:
        json.dump({"keys": [jwk]}, f)
    return key


def sign(key, issuer, kid="k1", alg="RS256", **claims):
    now = int(time.time())
    body = {"iss": issuer, "aud": "app", "sub": "user1", "exp": now + 600, "iat": now - 5}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    signing = b64url(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode()) + "." + \
        b64url(json.dumps(body).encode())
    return signing + "." + b64url(key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256()))


class JwtAuthorizerTest(AuthorizerTestBase):
    """JWT authorizers: RS256 tokens signed here with `cryptography`, keys in a local JWKS file
    (Issuer file:///DIR -> /DIR/.well-known/jwks.json)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gw = cls.daemon.client("apigatewayv2")
        cls.tmp = tempfile.TemporaryDirectory(prefix="stratus-jwks-")
        cls.issuer = "file://" + cls.tmp.name
        cls.key = make_issuer(cls.tmp.name)
        cls.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.tmp.cleanup()

    def token(self, key=None, **claims):
        return sign(key or self.key, self.issuer, **claims)

    def test_jwt_authorizer(self):
        api = self.gw.create_api(Name="jwt", ProtocolType="HTTP")["ApiId"]
        integ = self.gw.create_integration(ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=self.fn_arn,
                                           PayloadFormatVersion="2.0")["IntegrationId"]
        self.assertError("BadRequestException", self.gw.create_authorizer, ApiId=api, AuthorizerType="JWT",
                         Name="j", IdentitySource=["$request.header.Authorization"], JwtConfiguration={"Audience": ["app"]})
        a = self.gw.create_authorizer(ApiId=api, AuthorizerType="JWT", Name="j",
                                      IdentitySource=["$request.header.Authorization"],
                                      JwtConfiguration={"Issuer": self.issuer, "Audience": ["app"]})
        self.assertEqual(a["JwtConfiguration"], {"Issuer": self.issuer, "Audience": ["app"]})
        lam = self.gw.create_authorizer(ApiId=api, AuthorizerType="REQUEST", Name="l",
                                        AuthorizerUri=lambda_uri(self.auth_arn), AuthorizerPayloadFormatVersion="2.0",
                                        IdentitySource=["$request.header.Authorization"])
        self.assertError("BadRequestException", self.gw.create_route, ApiId=api, RouteKey="GET /x",
                         Target=f"integrations/{integ}", AuthorizationType="JWT", AuthorizerId=lam["AuthorizerId"])
        self.gw.create_route(ApiId=api, RouteKey="GET /read", Target=f"integrations/{integ}", AuthorizationType="JWT",
                             AuthorizerId=a["AuthorizerId"], AuthorizationScopes=["read"])
        self.gw.create_route(ApiId=api, RouteKey="GET /any", Target=f"integrations/{integ}", AuthorizationType="JWT",
                             AuthorizerId=a["AuthorizerId"])
        self.gw.create_stage(ApiId=api, StageName="$default")

        def get(path, token):
            return call(self.daemon, api, "GET", path, headers={} if token is None else {"Authorization": token})

        r = get("/read", "Bearer " + self.token(scope="read write"))
        self.assertEqual(r.status, 200, r.body)
        jwt = authorizer_of(r)["jwt"]
        self.assertEqual(jwt["claims"]["sub"], "user1")
        self.assertEqual(jwt["claims"]["aud"], "app")
        self.assertEqual(jwt["scopes"], ["read", "write"])
        self.assertEqual(get("/any", self.token()).status, 200)  # no scopes required, no "Bearer " prefix

        r = get("/read", None)
        self.assertEqual((r.status, r.json(), r.header("WWW-Authenticate")), (401, {"message": "Unauthorized"}, "Bearer"))
        for token in (self.token(exp=int(time.time()) - 10), self.token(aud="other"), self.token(iss="https://x"),
                      self.token(key=self.other_key), self.token(kid="k2"), self.token(exp=None), "not.a.jwt"):
            r = get("/any", token)
            self.assertEqual((r.status, r.json()), (401, {"message": "Unauthorized"}), token)
            self.assertIn('error="invalid_token"', r.header("WWW-Authenticate"))
        r = get("/read", self.token(scope="write"))
        self.assertEqual((r.status, r.json()), (403, {"message": "Forbidden"}))
        self.assertIn('error="insufficient_scope"', r.header("WWW-Authenticate"))
        self.assertEqual(get("/read", self.token(scp=["read"], aud=None, client_id="app")).status, 200)


STACK = """
Transform: AWS::Serverless-2016-10-31
Resources:
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {auth}
      Handler: authorizer.so
      Runtime: provided.al2023
  AppFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {app}
      Handler: http.so
      Runtime: provided.al2023
      Events:
        Guarded:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Path: /guarded
            Method: get
        Open:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Path: /open
            Method: get
            Auth:
              Authorizer: NONE
        Scoped:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Path: /scoped
            Method: get
            Auth:
              Authorizer: Jwt
              AuthorizationScopes: [read]
        Rest:
          Type: Api
          Properties:
            RestApiId: !Ref RestApi
            Path: /items
            Method: get
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Simple
        Authorizers:
          Simple:
            FunctionArn: !GetAtt AuthFunction.Arn
            AuthorizerPayloadFormatVersion: 2.0
            EnableSimpleResponses: true
            Identity:
              Headers: [Authorization]
              ReauthorizeEvery: 0
          Jwt:
            IdentitySource: $request.header.X-Jwt
            JwtConfiguration:
              issuer: {issuer}
              audience: [app]
  RestApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        DefaultAuthorizer: Token
        Authorizers:
          Token:
            FunctionArn: !GetAtt AuthFunction.Arn
            Identity:
              Header: X-Token
              ReauthorizeEvery: 0
  CfnApi:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: cfn
      ProtocolType: HTTP
  CfnAuthorizer:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref CfnApi
      Name: cfn-auth
      AuthorizerType: REQUEST
      AuthorizerUri: !GetAtt AuthFunction.Arn
      AuthorizerPayloadFormatVersion: "1.0"
      AuthorizerResultTtlInSeconds: 0
      IdentitySource: [$request.querystring.token]
  CfnIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref CfnApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !GetAtt AppFunction.Arn
      PayloadFormatVersion: "2.0"
  CfnRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref CfnApi
      RouteKey: GET /cfn
      Target: !Sub integrations/${{CfnIntegration}}
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref CfnAuthorizer
  CfnStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref CfnApi
      StageName: $default
"""


class StackAuthorizerTest(unittest.TestCase):
    def test_sam_and_cloudformation_authorizers(self):
        with tempfile.TemporaryDirectory(prefix="stratus-authz-stack-") as tmp:
            path = os.path.join(tmp, "stack.yaml")
            with open(path, "w") as f:
                key = make_issuer(os.path.join(tmp, "issuer"))
                issuer = "file://" + os.path.join(tmp, "issuer")
                f.write(STACK.format(auth=os.path.abspath(os.path.join(FUNCTIONS_DIR, "authorizer.so")),
                                     app=os.path.abspath(os.path.join(FUNCTIONS_DIR, "http.so")), issuer=issuer))
            with Daemon("--config", path) as d:
                v2, v1 = d.client("apigatewayv2"), d.client("apigateway")
                apis = {a["Name"]: a["ApiId"] for a in v2.get_apis()["Items"]}
                http, cfn = apis["stratus-HttpApi"], apis["cfn"]
                rest = {a["name"]: a["id"] for a in v1.get_rest_apis()["items"]}["stratus-RestApi"]

                auths = {a["Name"]: a for a in v2.get_authorizers(ApiId=http)["Items"]}
                a = auths["Simple"]
                self.assertEqual((a["AuthorizerPayloadFormatVersion"], a["EnableSimpleResponses"], a["IdentitySource"],
                                  a["AuthorizerResultTtlInSeconds"]),
                                 ("2.0", True, ["$request.header.Authorization"], 0))
                self.assertEqual((auths["Jwt"]["AuthorizerType"], auths["Jwt"]["JwtConfiguration"]),
                                 ("JWT", {"Issuer": issuer, "Audience": ["app"]}))
                routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=http)["Items"]}
                self.assertEqual(routes["GET /guarded"]["AuthorizationType"], "CUSTOM")
                self.assertEqual(routes["GET /open"]["AuthorizationType"], "NONE")
                self.assertEqual(call(d, http, "GET", "/guarded").status, 401)
                self.assertEqual(call(d, http, "GET", "/guarded", headers={"Authorization": "simple-deny"}).status, 403)
                r = call(d, http, "GET", "/guarded", headers={"Authorization": "simple-allow"})
                self.assertEqual(authorizer_of(r)["lambda"]["token"], "simple-allow")
                self.assertEqual(call(d, http, "GET", "/open").status, 200)
                self.assertEqual(routes["GET /scoped"]["AuthorizationType"], "JWT")
                self.assertEqual(routes["GET /scoped"]["AuthorizationScopes"], ["read"])
                self.assertEqual(call(d, http, "GET", "/scoped", headers={"X-Jwt": sign(key, issuer)}).status, 403)
                r = call(d, http, "GET", "/scoped", headers={"X-Jwt": sign(key, issuer, scope="read")})
                self.assertEqual(authorizer_of(r)["jwt"]["scopes"], ["read"])

                token = v1.get_authorizers(restApiId=rest)["items"][0]
                self.assertEqual((token["name"], token["type"], token["identitySource"]),
                                 ("Token", "TOKEN", "method.request.header.X-Token"))
                self.assertEqual(call(d, rest, "GET", "/prod/items").status, 401)
                r = call(d, rest, "GET", "/prod/items", headers={"X-Token": "allow"})
                self.assertEqual(authorizer_of(r)["principalId"], "user-allow")
                self.assertEqual(call(d, rest, "GET", "/prod/items", headers={"X-Token": "deny"}).status, 403)

                self.assertEqual(call(d, cfn, "GET", "/cfn").status, 401)
                r = call(d, cfn, "GET", "/cfn?token=allow")
                self.assertEqual(authorizer_of(r)["lambda"]["token"], "allow")


if __name__ == "__main__":
    unittest.main()
