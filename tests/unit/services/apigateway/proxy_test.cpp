// Lambda proxy events and responses, field by field against the AWS documentation's examples:
//   payload 2.0 / 1.0 of HTTP APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
//   REST APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/apigateway/proxy.hpp"

namespace stratus::services::apigateway {
namespace {

using nlohmann::json;

struct Fixture {
  http::Headers headers;
  std::map<std::string, std::string> vars;
  std::vector<std::string> binary;
  ProxyRequest req;
  RouteTarget target;
  RouteMatch match;

  explicit Fixture(bool rest) {
    headers.add("Host", "abc123defg.execute-api.localhost:4566");
    headers.add("header1", "value1");
    headers.add("Header2", "value1");
    headers.add("Header2", "value2");
    headers.add("Cookie", "cookie1; cookie2");
    headers.add("User-Agent", "agent");
    headers.add("Content-Type", "text/plain");
    req.rest = rest;
    req.method = "POST";
    req.full_path = rest ? "/prod/my/path" : "/my/path";
    req.path = "/my/path";
    req.query = "parameter1=value1&parameter1=value2&parameter2=value";
    req.headers = &headers;
    req.body = "Hello from Lambda";
    req.source_ip = "192.0.2.1";
    req.domain_name = "abc123defg.execute-api.localhost";
    req.api_id = "abc123defg";
    req.account = "123456789012";
    req.stage = rest ? "prod" : "$default";
    req.request_id = rest ? "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" : "JKJaXmPLvHcESHA=";
    req.extended_request_id = "JKJaXmPLvHcESHA=";
    req.time_ms = 1583348638390;
    vars["stageVariable1"] = "value1";
    req.stage_variables = &vars;
    req.binary_media_types = &binary;
    target.route_key = "POST /my/{parameter1}";
    target.resource_path = "/my/{parameter1}";
    target.resource_id = "a1b2c3";
    match.target = &target;
    match.path_parameters = {{"parameter1", "path"}};
  }
};

TEST(Proxy, RequestTimeFormat) { EXPECT_EQ(request_time(1583348638390), "04/Mar/2020:19:03:58 +0000"); }

TEST(Proxy, PayloadV2MatchesTheDocExample) {
  Fixture f(false);
  json e = json::parse(build_event_v2(f.req, f.match));
  EXPECT_EQ(e["version"], "2.0");
  EXPECT_EQ(e["routeKey"], "POST /my/{parameter1}");
  EXPECT_EQ(e["rawPath"], "/my/path");
  EXPECT_EQ(e["rawQueryString"], "parameter1=value1&parameter1=value2&parameter2=value");
  EXPECT_EQ(e["cookies"], json::array({"cookie1", "cookie2"}));
  EXPECT_EQ(e["headers"]["header1"], "value1");
  EXPECT_EQ(e["headers"]["header2"], "value1,value2");  // lower-cased, repeats joined by commas
  EXPECT_FALSE(e["headers"].contains("cookie"));          // cookies travel in "cookies"
  EXPECT_EQ(e["headers"]["user-agent"], "agent");
  EXPECT_EQ(e["headers"]["x-forwarded-for"], "192.0.2.1");
  EXPECT_EQ(e["headers"]["x-forwarded-port"], "4566");
  EXPECT_EQ(e["headers"]["x-forwarded-proto"], "http");
  EXPECT_TRUE(e["headers"]["x-amzn-trace-id"].get<std::string>().starts_with("Root=1-5e5ffb9e-"));
  EXPECT_EQ(e["queryStringParameters"], (json{{"parameter1", "value1,value2"}, {"parameter2", "value"}}));
  const json& c = e["requestContext"];
  EXPECT_EQ(c["accountId"], "123456789012");
  EXPECT_EQ(c["apiId"], "abc123defg");
  EXPECT_EQ(c["domainName"], "abc123defg.execute-api.localhost");
  EXPECT_EQ(c["domainPrefix"], "abc123defg");
  EXPECT_EQ(c["http"], (json{{"method", "POST"},
                              {"path", "/my/path"},
                              {"protocol", "HTTP/1.1"},
                              {"sourceIp", "192.0.2.1"},
                              {"userAgent", "agent"}}));
  EXPECT_EQ(c["requestId"], "JKJaXmPLvHcESHA=");
  EXPECT_EQ(c["routeKey"], "POST /my/{parameter1}");
  EXPECT_EQ(c["stage"], "$default");
  EXPECT_EQ(c["time"], "04/Mar/2020:19:03:58 +0000");
  EXPECT_EQ(c["timeEpoch"], 1583348638390);
  EXPECT_EQ(e["body"], "Hello from Lambda");
  EXPECT_EQ(e["pathParameters"], (json{{"parameter1", "path"}}));
  EXPECT_EQ(e["isBase64Encoded"], false);
  EXPECT_EQ(e["stageVariables"], (json{{"stageVariable1", "value1"}}));
}

TEST(Proxy, PayloadV2LeavesOutWhatIsAbsent) {
  Fixture f(false);
  http::Headers plain;
  plain.add("Host", "x.execute-api.localhost");
  f.req.headers = &plain;
  f.req.query.clear();
  f.req.body = {};
  f.req.stage_variables = nullptr;
  f.match.path_parameters.clear();
  json e = json::parse(build_event_v2(f.req, f.match));
  for (const char* absent : {"cookies", "queryStringParameters", "body", "pathParameters", "stageVariables"})
    EXPECT_FALSE(e.contains(absent)) << absent;
  EXPECT_EQ(e["rawQueryString"], "");
  EXPECT_EQ(e["isBase64Encoded"], false);
  EXPECT_EQ(e["requestContext"]["http"]["userAgent"], "");
}

TEST(Proxy, HttpApiBase64EncodesBinaryBodies) {
  Fixture f(false);
  http::Headers h;
  h.add("Content-Type", "image/png");
  f.req.headers = &h;
  std::string png("\x89PNG\r\n\x1a\n\0\xff", 10);
  f.req.body = png;
  json e = json::parse(build_event_v2(f.req, f.match));
  EXPECT_EQ(e["isBase64Encoded"], true);
  EXPECT_EQ(e["body"], "iVBORw0KGgoA/w==");
  h.set("Content-Type", "application/json; charset=utf-8");
  f.req.body = "{}";
  EXPECT_EQ(json::parse(build_event_v2(f.req, f.match))["isBase64Encoded"], false);
}

TEST(Proxy, RestPayloadMatchesTheDocExample) {
  Fixture f(true);
  json e = json::parse(build_event_v1(f.req, f.match));
  EXPECT_FALSE(e.contains("version"));
  EXPECT_EQ(e["resource"], "/my/{parameter1}");
  EXPECT_EQ(e["path"], "/my/path");
  EXPECT_EQ(e["httpMethod"], "POST");
  EXPECT_EQ(e["headers"]["Header2"], "value2");  // names as sent; the last value
  EXPECT_EQ(e["multiValueHeaders"]["Header2"], json::array({"value1", "value2"}));
  EXPECT_EQ(e["headers"]["Cookie"], "cookie1; cookie2");
  EXPECT_EQ(e["queryStringParameters"], (json{{"parameter1", "value2"}, {"parameter2", "value"}}));
  EXPECT_EQ(e["multiValueQueryStringParameters"],
            (json{{"parameter1", {"value1", "value2"}}, {"parameter2", {"value"}}}));
  const json& c = e["requestContext"];
  EXPECT_EQ(c["accountId"], "123456789012");
  EXPECT_EQ(c["apiId"], "abc123defg");
  EXPECT_EQ(c["domainName"], "abc123defg.execute-api.localhost");
  EXPECT_EQ(c["domainPrefix"], "abc123defg");
  EXPECT_EQ(c["extendedRequestId"], "JKJaXmPLvHcESHA=");
  EXPECT_EQ(c["httpMethod"], "POST");
  EXPECT_EQ(c["identity"]["sourceIp"], "192.0.2.1");
  EXPECT_EQ(c["identity"]["userAgent"], "agent");
  EXPECT_TRUE(c["identity"]["accessKey"].is_null());
  EXPECT_TRUE(c["identity"]["cognitoIdentityId"].is_null());
  EXPECT_EQ(c["path"], "/prod/my/path");
  EXPECT_EQ(c["protocol"], "HTTP/1.1");
  EXPECT_EQ(c["requestId"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
  EXPECT_EQ(c["requestTime"], "04/Mar/2020:19:03:58 +0000");
  EXPECT_EQ(c["requestTimeEpoch"], 1583348638390);
  EXPECT_EQ(c["resourceId"], "a1b2c3");
  EXPECT_EQ(c["resourcePath"], "/my/{parameter1}");
  EXPECT_EQ(c["stage"], "prod");
  EXPECT_EQ(e["pathParameters"], (json{{"parameter1", "path"}}));
  EXPECT_EQ(e["stageVariables"], (json{{"stageVariable1", "value1"}}));
  EXPECT_EQ(e["body"], "Hello from Lambda");
  EXPECT_EQ(e["isBase64Encoded"], false);
}

TEST(Proxy, RestPayloadNullsWhatIsAbsent) {
  Fixture f(true);
  f.req.query.clear();
  f.req.body = {};
  f.req.stage_variables = nullptr;
  f.match.path_parameters.clear();
  json e = json::parse(build_event_v1(f.req, f.match));
  for (const char* member : {"queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
                             "stageVariables", "body"}) {
    ASSERT_TRUE(e.contains(member)) << member;
    EXPECT_TRUE(e[member].is_null()) << member;
  }
}

TEST(Proxy, RestBase64OnlyForBinaryMediaTypes) {
  Fixture f(true);
  f.req.body = std::string_view("\x01\x02", 2);
  EXPECT_EQ(json::parse(build_event_v1(f.req, f.match))["isBase64Encoded"], false);
  f.binary.push_back("text/*");
  json e = json::parse(build_event_v1(f.req, f.match));
  EXPECT_EQ(e["isBase64Encoded"], true);
  EXPECT_EQ(e["body"], "AQI=");
}

TEST(Proxy, HttpApiPayloadV1LowercasesAndHasVersion) {
  Fixture f(false);
  json e = json::parse(build_event_v1(f.req, f.match));
  EXPECT_EQ(e["version"], "1.0");
  EXPECT_EQ(e["headers"]["header2"], "value2");
  EXPECT_EQ(e["multiValueHeaders"]["header2"], json::array({"value1", "value2"}));
  EXPECT_TRUE(e["requestContext"]["resourceId"].is_null());
}

TEST(Proxy, ResponseV2Structured) {
  ProxyResponse r;
  ASSERT_TRUE(map_response_v2(R"({"statusCode":201,"headers":{"X-A":"1"},"multiValueHeaders":{"X-B":["2","3"]},
      "cookies":["a=1","b=2; Path=/"],"body":"aGk=","isBase64Encoded":true})",
                              r));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "hi");
  EXPECT_EQ(r.headers.get("X-A"), "1");
  std::vector<std::string> b, cookies;
  for (const auto& h : r.headers.fields()) {
    if (h.name == "X-B") b.push_back(h.value);
    if (h.name == "Set-Cookie") cookies.push_back(h.value);
  }
  EXPECT_EQ(b, (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(cookies, (std::vector<std::string>{"a=1", "b=2; Path=/"}));
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
}

TEST(Proxy, ResponseV2Inferred) {
  ProxyResponse r;
  ASSERT_TRUE(map_response_v2(R"({"hello":"world"})", r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"hello":"world"})");
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
  ProxyResponse s;
  ASSERT_TRUE(map_response_v2(R"("just a string")", s));
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body, R"("just a string")");
  ProxyResponse bad;
  EXPECT_FALSE(map_response_v2("not json", bad));
  EXPECT_FALSE(map_response_v2(R"({"statusCode":"abc"})", bad));
  EXPECT_FALSE(map_response_v2(R"({"statusCode":200,"cookies":"a=1"})", bad));
  EXPECT_FALSE(map_response_v2(R"({"statusCode":200,"isBase64Encoded":true,"body":"@@@"})", bad));
}

TEST(Proxy, ResponseV1HeadersMerge) {
  Fixture f(true);
  ProxyResponse r;
  ASSERT_TRUE(map_response_v1(
      R"({"statusCode":404,"headers":{"X-A":"1","X-B":"ignored"},"multiValueHeaders":{"X-B":["2","3"]},"body":"no"})",
      f.req, r));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no");
  std::vector<std::string> b;
  for (const auto& h : r.headers.fields())
    if (h.name == "X-B") b.push_back(h.value);
  EXPECT_EQ(b, (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(r.headers.get("X-A"), "1");
}

TEST(Proxy, ResponseV1Malformed) {
  Fixture f(true);
  ProxyResponse r;
  EXPECT_FALSE(map_response_v1(R"({"body":"no status"})", f.req, r));
  EXPECT_FALSE(map_response_v1(R"({"statusCode":200,"body":{"not":"a string"}})", f.req, r));
  EXPECT_FALSE(map_response_v1(R"({"statusCode":200,"extra":1})", f.req, r));  // REST: unknown member
  EXPECT_FALSE(map_response_v1(R"([1,2])", f.req, r));
  EXPECT_FALSE(map_response_v1(R"({"statusCode":200,"headers":{"a":["x"]}})", f.req, r));
  Fixture h(false);
  EXPECT_TRUE(map_response_v1(R"({"statusCode":200,"extra":1})", h.req, r));  // HTTP APIs ignore it
}

TEST(Proxy, RestDecodesBase64OnlyForBinaryMediaTypes) {
  Fixture f(true);
  ProxyResponse r;
  ASSERT_TRUE(map_response_v1(R"({"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"aGk=","isBase64Encoded":true})",
                              f.req, r));
  EXPECT_EQ(r.body, "aGk=");  // no binaryMediaTypes: the text goes out as it is
  f.binary.push_back("image/png");
  ProxyResponse d;
  ASSERT_TRUE(map_response_v1(R"({"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"aGk=","isBase64Encoded":true})",
                              f.req, d));
  EXPECT_EQ(d.body, "hi");
}

}  // namespace
}  // namespace stratus::services::apigateway
