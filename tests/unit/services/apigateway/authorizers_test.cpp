// Lambda authorizers: IAM policy evaluation with wildcards, identity sources, the authorizer events of
// each payload version against the AWS docs' examples, answer parsing, the context the integration sees,
// API Gateway's refusals, and the result cache with a ManualClock.
//   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
//   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
//   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "services/apigateway/authorizers.hpp"

namespace stratus::services::apigateway {
namespace {

using nlohmann::json;

const std::string kArn = "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/pets/7";

json policy(const std::string& effect, const json& resource, const json& action = "execute-api:Invoke") {
  return {{"Version", "2012-10-17"}, {"Statement", json::array({{{"Action", action}, {"Effect", effect}, {"Resource", resource}}})}};
}

TEST(Authorizers, GlobMatching) {
  EXPECT_TRUE(iam_glob_match("*", ""));
  EXPECT_TRUE(iam_glob_match("*", kArn));
  EXPECT_TRUE(iam_glob_match("arn:aws:execute-api:us-east-1:123456789012:abc123defg/*", kArn));
  EXPECT_TRUE(iam_glob_match("arn:aws:execute-api:*:*:abc123defg/*/GET/pets/*", kArn));
  EXPECT_TRUE(iam_glob_match("arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/pets/?", kArn));
  EXPECT_FALSE(iam_glob_match("arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/pets/??", kArn));
  EXPECT_FALSE(iam_glob_match("arn:aws:execute-api:us-east-1:123456789012:abc123defg/*/POST/*", kArn));
  EXPECT_TRUE(iam_glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(iam_glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(iam_glob_match("a**", "a"));
  EXPECT_FALSE(iam_glob_match("ARN:*", "arn:x"));  // resources are case-sensitive
  EXPECT_TRUE(iam_glob_match("Execute-API:invoke", "execute-api:Invoke", true));  // actions are not
}

TEST(Authorizers, PolicyEvaluation) {
  EXPECT_EQ(evaluate_policy(policy("Allow", kArn), kArn), PolicyDecision::allow);
  EXPECT_EQ(evaluate_policy(policy("Allow", "arn:aws:execute-api:*:*:abc123defg/*"), kArn), PolicyDecision::allow);
  EXPECT_EQ(evaluate_policy(policy("Allow", "arn:aws:execute-api:*:*:other/*"), kArn), PolicyDecision::implicit_deny);
  EXPECT_EQ(evaluate_policy(policy("Deny", kArn), kArn), PolicyDecision::explicit_deny);
  EXPECT_EQ(evaluate_policy(policy("Allow", json::array({"arn:x", kArn})), kArn), PolicyDecision::allow);
  EXPECT_EQ(evaluate_policy(policy("Allow", "*", "execute-api:*"), kArn), PolicyDecision::allow);
  EXPECT_EQ(evaluate_policy(policy("Allow", "*", json::array({"s3:GetObject"})), kArn), PolicyDecision::implicit_deny);
  // An explicit Deny beats any Allow, whatever the order.
  json both = {{"Statement", json::array({{{"Action", "*"}, {"Effect", "Deny"}, {"Resource", "*/GET/*"}},
                                          {{"Action", "*"}, {"Effect", "Allow"}, {"Resource", "*"}}})}};
  EXPECT_EQ(evaluate_policy(both, kArn), PolicyDecision::explicit_deny);
  EXPECT_EQ(evaluate_policy(both, "arn:aws:execute-api:us-east-1:1:abc/prod/POST/pets"), PolicyDecision::allow);
  // A single statement object instead of a list.
  json single = {{"Statement", {{"Action", "execute-api:Invoke"}, {"Effect", "Allow"}, {"Resource", kArn}}}};
  EXPECT_EQ(evaluate_policy(single, kArn), PolicyDecision::allow);
  EXPECT_EQ(evaluate_policy({{"Statement", json::array()}}, kArn), PolicyDecision::implicit_deny);
  // Malformed.
  EXPECT_FALSE(evaluate_policy(json::object(), kArn));
  EXPECT_FALSE(evaluate_policy(policy("allow", kArn), kArn));
  EXPECT_FALSE(evaluate_policy(policy("Allow", 7), kArn));
  EXPECT_FALSE(evaluate_policy({{"Statement", json::array({{{"Effect", "Allow"}, {"Resource", "*"}}})}}, kArn));
  EXPECT_FALSE(evaluate_policy({{"Statement", "x"}}, kArn));
}

TEST(Authorizers, ExecuteApiArn) {
  EXPECT_EQ(execute_api_arn("us-east-1", "123456789012", "abc123defg", "prod", "GET", "/pets/7"), kArn);
  EXPECT_EQ(execute_api_arn("us-east-1", "1", "a", "$default", "POST", "/"), "arn:aws:execute-api:us-east-1:1:a/$default/POST/");
}

struct Fixture {
  http::Headers headers;
  std::map<std::string, std::string> vars{{"stageVariable1", "value1"}};
  ProxyRequest req;
  RouteTarget target;
  RouteMatch match;

  explicit Fixture(bool rest) {
    headers.add("Host", "abc123defg.execute-api.localhost:4566");
    headers.add("Authorization", "allow me");
    headers.add("X-Multi", "a");
    headers.add("x-multi", "b");
    headers.add("User-Agent", "agent");
    req.rest = rest;
    req.method = "GET";
    req.full_path = rest ? "/prod/pets/7" : "/pets/7";
    req.path = "/pets/7";
    req.query = "name=v1&name=v2&empty=";
    req.headers = &headers;
    req.body = "a body the authorizer never sees";
    req.source_ip = "192.0.2.1";
    req.domain_name = "abc123defg.execute-api.localhost";
    req.api_id = "abc123defg";
    req.account = "123456789012";
    req.stage = rest ? "prod" : "$default";
    req.request_id = "JKJaXmPLvHcESHA=";
    req.extended_request_id = "JKJaXmPLvHcESHA=";
    req.time_ms = 1583348638390;
    req.stage_variables = &vars;
    target.route_key = "GET /pets/{id}";
    target.resource_path = "/pets/{id}";
    target.resource_id = "r1";
    match.target = &target;
    match.path_parameters = {{"id", "7"}};
  }
};

TEST(Authorizers, IdentitySources) {
  Fixture f(false);
  EXPECT_EQ(identity_value("$request.header.authorization", f.req, f.match), "allow me");
  EXPECT_EQ(identity_value("$request.header.X-MULTI", f.req, f.match), "a,b");
  EXPECT_EQ(identity_value("$request.querystring.name", f.req, f.match), "v1,v2");
  EXPECT_EQ(identity_value("$request.querystring.empty", f.req, f.match), std::nullopt);  // empty = missing
  EXPECT_EQ(identity_value("$request.header.Missing", f.req, f.match), std::nullopt);
  EXPECT_EQ(identity_value("$stageVariables.stageVariable1", f.req, f.match), "value1");
  EXPECT_EQ(identity_value("$context.stage", f.req, f.match), "$default");
  EXPECT_EQ(identity_value("$context.identity.sourceIp", f.req, f.match), "192.0.2.1");
  EXPECT_EQ(identity_value("method.request.header.Authorization", f.req, f.match), "allow me");
  EXPECT_EQ(identity_value("method.request.querystring.name", f.req, f.match), "v1,v2");
  EXPECT_EQ(identity_value("stageVariables.stageVariable1", f.req, f.match), "value1");
  EXPECT_EQ(identity_value("context.httpMethod", f.req, f.match), "GET");
  EXPECT_EQ(identity_value("method.request.path.id", f.req, f.match), "7");
}

TEST(Authorizers, HttpPayload2Event) {
  Fixture f(false);
  AuthorizerConfig c;
  c.kind = AuthorizerConfig::Kind::http_request;
  c.payload_version = "2.0";
  std::string arn = execute_api_arn("us-east-1", "123456789012", "abc123defg", "$default", "GET", "/pets/7");
  json e = json::parse(build_authorizer_event(c, f.req, f.match, arn, {"allow me", "v1,v2"}));
  EXPECT_EQ(e["version"], "2.0");
  EXPECT_EQ(e["type"], "REQUEST");
  EXPECT_EQ(e["routeArn"], "arn:aws:execute-api:us-east-1:123456789012:abc123defg/$default/GET/pets/7");
  EXPECT_EQ(e["identitySource"], json::array({"allow me", "v1,v2"}));
  EXPECT_EQ(e["routeKey"], "GET /pets/{id}");
  EXPECT_EQ(e["rawPath"], "/pets/7");
  EXPECT_EQ(e["rawQueryString"], "name=v1&name=v2&empty=");
  EXPECT_EQ(e["headers"]["authorization"], "allow me");
  EXPECT_EQ(e["headers"]["x-multi"], "a,b");
  EXPECT_EQ(e["pathParameters"], (json{{"id", "7"}}));
  EXPECT_EQ(e["stageVariables"], (json{{"stageVariable1", "value1"}}));
  EXPECT_EQ(e["requestContext"]["http"]["method"], "GET");
  EXPECT_EQ(e["requestContext"]["routeKey"], "GET /pets/{id}");
  EXPECT_EQ(e["requestContext"]["requestId"], "JKJaXmPLvHcESHA=");
  EXPECT_FALSE(e.contains("body"));
  EXPECT_FALSE(e.contains("isBase64Encoded"));
  EXPECT_FALSE(e.contains("methodArn"));
}

TEST(Authorizers, HttpPayload1Event) {
  Fixture f(false);
  AuthorizerConfig c;
  c.kind = AuthorizerConfig::Kind::http_request;
  c.payload_version = "1.0";
  json e = json::parse(build_authorizer_event(c, f.req, f.match, "ARN", {"user1", "123"}));
  EXPECT_EQ(e["version"], "1.0");
  EXPECT_EQ(e["type"], "REQUEST");
  EXPECT_EQ(e["methodArn"], "ARN");
  EXPECT_EQ(e["identitySource"], "user1,123");
  EXPECT_EQ(e["authorizationToken"], "user1,123");
  EXPECT_EQ(e["resource"], "/pets/{id}");
  EXPECT_EQ(e["path"], "/pets/7");
  EXPECT_EQ(e["httpMethod"], "GET");
  EXPECT_EQ(e["headers"]["authorization"], "allow me");
  EXPECT_EQ(e["queryStringParameters"]["name"], "v2");
  EXPECT_EQ(e["pathParameters"], (json{{"id", "7"}}));
  EXPECT_EQ(e["requestContext"]["resourcePath"], "/pets/{id}");
  EXPECT_FALSE(e.contains("body"));
  EXPECT_FALSE(e.contains("routeArn"));
}

TEST(Authorizers, RestTokenAndRequestEvents) {
  Fixture f(true);
  AuthorizerConfig token;
  token.kind = AuthorizerConfig::Kind::rest_token;
  EXPECT_EQ(json::parse(build_authorizer_event(token, f.req, f.match, kArn, {"allow me"})),
            (json{{"type", "TOKEN"}, {"authorizationToken", "allow me"}, {"methodArn", kArn}}));

  AuthorizerConfig request;
  request.kind = AuthorizerConfig::Kind::rest_request;
  json e = json::parse(build_authorizer_event(request, f.req, f.match, kArn, {"allow me"}));
  EXPECT_EQ(e["type"], "REQUEST");
  EXPECT_EQ(e["methodArn"], kArn);
  EXPECT_EQ(e["resource"], "/pets/{id}");
  EXPECT_EQ(e["path"], "/pets/7");
  EXPECT_EQ(e["httpMethod"], "GET");
  EXPECT_EQ(e["headers"]["Authorization"], "allow me");  // REST keeps header names as sent
  EXPECT_EQ(e["multiValueHeaders"]["Authorization"], json::array({"allow me"}));
  EXPECT_EQ(e["queryStringParameters"]["name"], "v2");
  EXPECT_EQ(e["multiValueQueryStringParameters"]["name"], json::array({"v1", "v2"}));
  EXPECT_EQ(e["pathParameters"], (json{{"id", "7"}}));
  EXPECT_EQ(e["stageVariables"], (json{{"stageVariable1", "value1"}}));
  EXPECT_EQ(e["requestContext"]["resourceId"], "r1");
  EXPECT_EQ(e["requestContext"]["stage"], "prod");
  EXPECT_FALSE(e.contains("version"));
  EXPECT_FALSE(e.contains("body"));
  EXPECT_FALSE(e.contains("identitySource"));
}

TEST(Authorizers, Answers) {
  AuthorizerConfig simple;
  simple.kind = AuthorizerConfig::Kind::http_request;
  simple.payload_version = "2.0";
  simple.simple_responses = true;
  auto a = parse_authorizer_answer(simple, R"({"isAuthorized": true, "context": {"k": {"nested": 1}}})");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->simple);
  EXPECT_TRUE(a->authorized);
  EXPECT_EQ(authorizer_context(*a, false), (json{{"lambda", {{"k", {{"nested", 1}}}}}}));
  EXPECT_FALSE(parse_authorizer_answer(simple, R"({"isAuthorized": "yes"})"));
  // Simple responses still accept an IAM policy.
  EXPECT_TRUE(parse_authorizer_answer(simple, json{{"policyDocument", policy("Allow", "*")}}.dump()));

  AuthorizerConfig iam = simple;
  iam.simple_responses = false;
  EXPECT_FALSE(parse_authorizer_answer(iam, R"({"isAuthorized": true})"));  // needs a policy
  EXPECT_FALSE(parse_authorizer_answer(iam, "not json"));
  EXPECT_FALSE(parse_authorizer_answer(iam, R"({"policyDocument": {"Statement": [{"Effect": "Maybe"}]}})"));

  AuthorizerConfig rest;
  rest.kind = AuthorizerConfig::Kind::rest_token;
  json answer = {{"principalId", "user"},
                 {"policyDocument", policy("Allow", "*")},
                 {"context", {{"s", "x"}, {"n", 7}, {"b", true}}}};
  auto r = parse_authorizer_answer(rest, answer.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->principal_id, "user");
  // REST / payload 1.0: values as strings, plus principalId.
  EXPECT_EQ(authorizer_context(*r, true), (json{{"s", "x"}, {"n", "7"}, {"b", "true"}, {"principalId", "user"}}));
  answer["context"]["o"] = {{"a", 1}};
  EXPECT_FALSE(parse_authorizer_answer(rest, answer.dump()));  // objects are refused in a REST context
}

TEST(Authorizers, Refusals) {
  auto body = [](bool rest, AuthResult::Kind k) { return auth_refusal(rest, k).body; };
  EXPECT_EQ(auth_refusal(false, AuthResult::Kind::unauthorized).status, 401);
  EXPECT_EQ(body(false, AuthResult::Kind::unauthorized), R"({"message":"Unauthorized"})");
  EXPECT_EQ(auth_refusal(false, AuthResult::Kind::explicit_deny).status, 403);
  EXPECT_EQ(body(false, AuthResult::Kind::forbidden), R"({"message":"Forbidden"})");
  EXPECT_EQ(auth_refusal(false, AuthResult::Kind::failure).status, 500);
  EXPECT_EQ(body(false, AuthResult::Kind::failure), R"({"message":"Internal Server Error"})");
  EXPECT_EQ(body(true, AuthResult::Kind::explicit_deny),
            R"({"Message":"User is not authorized to access this resource with an explicit deny"})");
  EXPECT_EQ(body(true, AuthResult::Kind::forbidden), R"({"Message":"User is not authorized to access this resource"})");
  auto failure = auth_refusal(true, AuthResult::Kind::failure);
  EXPECT_EQ(failure.status, 500);
  EXPECT_EQ(failure.headers.get("x-amzn-ErrorType"), "AuthorizerConfigurationException");
  EXPECT_EQ(auth_refusal(true, AuthResult::Kind::unauthorized).headers.get("x-amzn-ErrorType"), "UnauthorizedException");
}

// A FunctionInvoker that answers from a script and counts its calls (the real Lambda runs in the
// integration tests; here the cache and the decisions are under test).
class ScriptedInvoker final : public FunctionInvoker {
 public:
  std::function<FunctionInvocationResult(const FunctionInvocation&)> answer;
  int calls = 0;
  std::string last_payload;
  void invoke(FunctionInvocation inv, std::function<void(FunctionInvocationResult)> done) override {
    ++calls;
    last_payload = inv.payload;
    done(answer(inv));
  }
};

struct RuntimeFixture {
  ManualClock clock;
  std::shared_ptr<ScriptedInvoker> invoker = std::make_shared<ScriptedInvoker>();
  AuthorizerRuntime runtime{&clock, invoker};
  AuthorizerConfig config;
  Fixture f{false};

  RuntimeFixture() {
    config.kind = AuthorizerConfig::Kind::http_request;
    config.id = "auth1";
    config.function = "arn:aws:lambda:us-east-1:123456789012:function:auth";
    config.payload_version = "2.0";
    config.identity_sources = {"$request.header.Authorization"};
    config.ttl_seconds = 300;
    invoker->answer = [](const FunctionInvocation& inv) {
      json e = json::parse(inv.payload);
      FunctionInvocationResult r;
      std::string token = e["headers"].value("authorization", "");
      // Allows GET only, so that a cached policy is seen evaluated against each request's ARN.
      r.payload = json{{"principalId", token},
                       {"policyDocument", policy(token == "deny" ? "Deny" : "Allow", "arn:aws:execute-api:*:*:*/*/GET/*")},
                       {"context", {{"token", token}}}}
                      .dump();
      return r;
    };
  }

  AuthResult run(const std::string& method = "GET") {
    f.req.method = method;
    AuthResult out;
    bool called = false;
    runtime.authorize(config, "123456789012", "us-east-1", f.vars, f.req, f.match, [&](AuthResult r) {
      out = std::move(r);
      called = true;
    });
    EXPECT_TRUE(called);
    return out;
  }
};

TEST(AuthorizerRuntime, CachesByIdentityForTheTtl) {
  RuntimeFixture t;
  EXPECT_EQ(t.run().kind, AuthResult::Kind::allow);
  EXPECT_EQ(t.invoker->calls, 1);
  AuthResult again = t.run();
  EXPECT_EQ(again.kind, AuthResult::Kind::allow);
  EXPECT_TRUE(again.cached);
  EXPECT_EQ(again.answer->context["token"], "allow me");
  EXPECT_EQ(t.invoker->calls, 1);
  // The cached policy is evaluated against the new request's ARN: POST is not allowed.
  EXPECT_EQ(t.run("POST").kind, AuthResult::Kind::forbidden);
  EXPECT_EQ(t.invoker->calls, 1);
  t.clock.advance_ms(299'000);
  t.run();
  EXPECT_EQ(t.invoker->calls, 1);
  t.clock.advance_ms(1'000);  // 300 s: expired
  EXPECT_FALSE(t.run().cached);
  EXPECT_EQ(t.invoker->calls, 2);
  // Another identity is another cache entry.
  t.f.headers.set("Authorization", "someone else");
  t.run();
  EXPECT_EQ(t.invoker->calls, 3);
  t.f.headers.set("Authorization", "allow me");
  t.run();
  EXPECT_EQ(t.invoker->calls, 3);
  t.runtime.flush("abc123defg");
  t.run();
  EXPECT_EQ(t.invoker->calls, 4);
}

TEST(AuthorizerRuntime, KeyedByEveryIdentitySource) {
  RuntimeFixture t;
  t.config.identity_sources = {"$request.header.Authorization", "$request.querystring.name"};
  t.run();
  t.f.req.query = "name=other";
  t.run();
  EXPECT_EQ(t.invoker->calls, 2);
  t.f.req.query = "name=v1&name=v2";  // the first request's values again: cached
  t.run();
  EXPECT_EQ(t.invoker->calls, 2);
  t.f.headers.set("Authorization", "other");  // same query, another header: not cached
  t.run();
  EXPECT_EQ(t.invoker->calls, 3);
}

TEST(AuthorizerRuntime, NoCachingWithTtlZeroOrNoIdentitySources) {
  RuntimeFixture t;
  t.config.ttl_seconds = 0;
  t.run();
  t.run();
  EXPECT_EQ(t.invoker->calls, 2);
  RuntimeFixture u;
  u.config.identity_sources.clear();
  u.run();
  u.run();
  EXPECT_EQ(u.invoker->calls, 2);
  EXPECT_EQ(u.runtime.cached_entries(), 0u);
}

TEST(AuthorizerRuntime, MissingIdentityIs401WithoutACall) {
  RuntimeFixture t;
  t.f.headers.erase("Authorization");
  EXPECT_EQ(t.run().kind, AuthResult::Kind::unauthorized);
  EXPECT_EQ(t.invoker->calls, 0);
  // A REST REQUEST authorizer without caching does not require its identity sources.
  t.config.kind = AuthorizerConfig::Kind::rest_request;
  t.config.identity_sources = {"method.request.header.Authorization"};
  t.config.ttl_seconds = 0;
  t.invoker->answer = [](const FunctionInvocation&) {
    FunctionInvocationResult r;
    r.payload = json{{"principalId", "p"}, {"policyDocument", policy("Allow", "*")}}.dump();
    return r;
  };
  EXPECT_EQ(t.run().kind, AuthResult::Kind::allow);
  EXPECT_EQ(t.invoker->calls, 1);
}

TEST(AuthorizerRuntime, TokenValidationExpression) {
  RuntimeFixture t;
  t.config.kind = AuthorizerConfig::Kind::rest_token;
  t.config.identity_sources = {"method.request.header.Authorization"};
  t.config.validation_expression = "allow.*";
  t.invoker->answer = [](const FunctionInvocation& inv) {
    json e = json::parse(inv.payload);
    EXPECT_EQ(e["type"], "TOKEN");
    FunctionInvocationResult r;
    r.payload = json{{"principalId", "p"}, {"policyDocument", policy("Allow", e["methodArn"])}}.dump();
    return r;
  };
  EXPECT_EQ(t.run().kind, AuthResult::Kind::allow);
  t.f.headers.set("Authorization", "nope");
  EXPECT_EQ(t.run().kind, AuthResult::Kind::unauthorized);
  EXPECT_EQ(t.invoker->calls, 1);
}

TEST(AuthorizerRuntime, FailuresAndDenies) {
  RuntimeFixture t;
  t.f.headers.set("Authorization", "deny");
  EXPECT_EQ(t.run().kind, AuthResult::Kind::explicit_deny);
  t.config.ttl_seconds = 0;
  t.invoker->answer = [](const FunctionInvocation&) {
    FunctionInvocationResult r;
    r.status = FunctionInvocationResult::Status::function_error;
    r.payload = R"({"errorMessage":"Unauthorized","errorType":"Error"})";
    return r;
  };
  EXPECT_EQ(t.run().kind, AuthResult::Kind::failure);  // HTTP APIs: any function error is a 500
  t.config.kind = AuthorizerConfig::Kind::rest_token;
  t.config.identity_sources = {"method.request.header.Authorization"};
  EXPECT_EQ(t.run().kind, AuthResult::Kind::unauthorized);  // REST: "Unauthorized" means 401
  t.invoker->answer = [](const FunctionInvocation&) {
    FunctionInvocationResult r;
    r.status = FunctionInvocationResult::Status::not_found;
    return r;
  };
  EXPECT_EQ(t.run().kind, AuthResult::Kind::failure);
  AuthorizerConfig broken;
  t.config = broken;
  EXPECT_EQ(t.run().kind, AuthResult::Kind::failure);
}

TEST(Authorizers, ContextReachesTheIntegrationEvent) {
  AuthResult r;
  r.kind = AuthResult::Kind::allow;
  auto answer = std::make_shared<AuthorizerAnswer>();
  answer->principal_id = "me";
  answer->context = {{"n", 1}};
  r.answer = answer;
  json v2 = json::parse(with_authorizer(R"({"requestContext": {"stage": "$default"}})", r, false));
  EXPECT_EQ(v2["requestContext"]["authorizer"], (json{{"lambda", {{"n", 1}}}}));
  EXPECT_EQ(v2["requestContext"]["stage"], "$default");
  json v1 = json::parse(with_authorizer(R"({"requestContext": {}})", r, true));
  EXPECT_EQ(v1["requestContext"]["authorizer"], (json{{"n", "1"}, {"principalId", "me"}}));
}

TEST(Authorizers, JwtRefusesWhatItCannotVerify) {
  // Not a JWT, a non-RS256 token, an issuer without local keys: 401 (the integration tests sign real
  // RS256 tokens against a JWKS file).
  for (std::string token : {"", "abc", "a.b", "a.b.c.d", "Bearer x.y.z"})
    EXPECT_EQ(verify_jwt(token, "file:///nonexistent", {"aud"}, {}, 1700000000).kind, AuthResult::Kind::unauthorized)
        << token;
  // {"alg":"HS256","typ":"JWT"} . {"iss":"https://issuer","aud":"aud","exp":9999999999} . "sig"
  std::string hs = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lzc3VlciIsImF1ZCI6ImF1ZCIsImV4cCI6OTk5OTk5OTk5OX0.c2ln";
  JwtVerdict v = verify_jwt(hs, "https://issuer", {"aud"}, {}, 1700000000);
  EXPECT_EQ(v.kind, AuthResult::Kind::unauthorized);
  EXPECT_EQ(v.error, "the token's algorithm is not RS256");
  AuthResult r;
  r.kind = AuthResult::Kind::unauthorized;
  r.www_authenticate = "Bearer";
  EXPECT_EQ(auth_refusal(false, r).headers.get("WWW-Authenticate"), "Bearer");
}

}  // namespace
}  // namespace stratus::services::apigateway
