// The data plane's edges (edge.hpp): CORS matching and headers, the token bucket on a ManualClock, access-log
// rendering, and their compilation from a stored record.
#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "services/apigateway/edge.hpp"
#include "services/apigateway/edge_ops.hpp"
#include "services/apigateway/gateway.hpp"

namespace stratus::services::apigateway {
namespace {

using nlohmann::json;

CorsConfig cors(json j) { return *parse_cors(j); }

http::Headers headers(std::initializer_list<std::pair<std::string, std::string>> list) {
  http::Headers h;
  for (const auto& [k, v] : list) h.add(k, v);
  return h;
}

// --- CORS ---

TEST(Cors, OriginMatchingExactWildcardAndPattern) {
  CorsConfig c = cors({{"AllowOrigins", {"https://app.example.com", "https://*.example.org"}}});
  std::string allow;
  EXPECT_TRUE(cors_origin_allowed(c, "https://app.example.com", &allow));
  EXPECT_EQ(allow, "https://app.example.com");
  EXPECT_TRUE(cors_origin_allowed(c, "HTTPS://APP.EXAMPLE.COM", &allow));  // case-insensitive
  EXPECT_TRUE(cors_origin_allowed(c, "https://a.b.example.org", &allow));
  EXPECT_EQ(allow, "https://a.b.example.org");
  EXPECT_FALSE(cors_origin_allowed(c, "https://example.org"));  // '*' stands for something
  EXPECT_FALSE(cors_origin_allowed(c, "https://evil.com"));
  EXPECT_FALSE(cors_origin_allowed(c, "http://app.example.com"));  // other scheme
  EXPECT_FALSE(cors_origin_allowed(c, ""));

  CorsConfig star = cors({{"AllowOrigins", {"*"}}});
  EXPECT_TRUE(cors_origin_allowed(star, "https://anything.test", &allow));
  EXPECT_EQ(allow, "*");
}

TEST(Cors, PreflightAnswerCarriesTheConfiguration) {
  CorsConfig c = cors({{"AllowOrigins", {"https://app.example.com"}},
                       {"AllowMethods", {"GET", "POST"}},
                       {"AllowHeaders", {"content-type", "x-api-key"}},
                       {"MaxAge", 300},
                       {"AllowCredentials", true}});
  http::Response r = cors_preflight_response(
      c, headers({{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}}));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Methods"), "GET,POST");
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Headers"), "content-type,x-api-key");
  EXPECT_EQ(r.headers.get("Access-Control-Max-Age"), "300");
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Credentials"), "true");
  EXPECT_TRUE(r.body.empty());

  http::Response no = cors_preflight_response(
      c, headers({{"Origin", "https://evil.com"}, {"Access-Control-Request-Method", "POST"}}));
  EXPECT_EQ(no.status, 204);
  EXPECT_FALSE(no.headers.contains("Access-Control-Allow-Origin"));
  EXPECT_FALSE(no.headers.contains("Access-Control-Allow-Methods"));
}

TEST(Cors, PreflightWithWildcardsEchoesWhatWasAsked) {
  CorsConfig c = cors({{"AllowOrigins", {"*"}}, {"AllowMethods", {"*"}}, {"AllowHeaders", {"*"}}});
  http::Response r = cors_preflight_response(c, headers({{"Origin", "https://x.test"},
                                                         {"Access-Control-Request-Method", "DELETE"},
                                                         {"Access-Control-Request-Headers", "x-one,x-two"}}));
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Methods"), "DELETE");
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Headers"), "x-one,x-two");
  EXPECT_FALSE(r.headers.contains("Access-Control-Max-Age"));
  EXPECT_FALSE(r.headers.contains("Access-Control-Allow-Credentials"));
}

TEST(Cors, PreflightIsOptionsWithOriginAndRequestMethod) {
  http::Request r;
  r.method = "OPTIONS";
  r.headers.add("Origin", "https://a.test");
  EXPECT_FALSE(is_cors_preflight(r));
  r.headers.add("Access-Control-Request-Method", "GET");
  EXPECT_TRUE(is_cors_preflight(r));
  r.method = "GET";
  EXPECT_FALSE(is_cors_preflight(r));
}

TEST(Cors, ResponseHeadersReplaceTheIntegrations) {
  CorsConfig c = cors({{"AllowOrigins", {"https://app.example.com"}},
                       {"ExposeHeaders", {"x-total", "date"}},
                       {"AllowCredentials", true}});
  http::Response r;
  r.headers.add("Access-Control-Allow-Origin", "*");
  r.headers.add("access-control-expose-headers", "x-from-function");
  r.headers.add("Content-Type", "text/plain");
  apply_cors_headers(c, headers({{"Origin", "https://app.example.com"}}), r);
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(r.headers.get("Access-Control-Expose-Headers"), "x-total,date");
  EXPECT_EQ(r.headers.get("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(r.headers.get("Vary"), "Origin");
  EXPECT_EQ(r.headers.get("Content-Type"), "text/plain");
  int allow_origins = 0;
  for (const auto& f : r.headers.fields()) allow_origins += http::Headers::iequals(f.name, "Access-Control-Allow-Origin");
  EXPECT_EQ(allow_origins, 1);

  // Another origin: the integration's CORS headers are still dropped, none added.
  http::Response other;
  other.headers.add("Access-Control-Allow-Origin", "*");
  apply_cors_headers(c, headers({{"Origin", "https://evil.com"}}), other);
  EXPECT_FALSE(other.headers.contains("Access-Control-Allow-Origin"));
  EXPECT_FALSE(other.headers.contains("Access-Control-Expose-Headers"));
}

TEST(Cors, ConfigurationChecks) {
  EXPECT_FALSE(check_cors_configuration({{"AllowOrigins", {"https://a.test"}}, {"MaxAge", 86400}}));
  EXPECT_FALSE(check_cors_configuration({{"MaxAge", -1}}));
  auto e = check_cors_configuration({{"MaxAge", 86401}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "BadRequestException");
  EXPECT_TRUE(check_cors_configuration({{"AllowMethods", {"FETCH"}}}));
  EXPECT_TRUE(check_cors_configuration({{"AllowOrigins", "https://a.test"}}));  // not a list
  EXPECT_TRUE(check_cors_configuration({{"AllowOrigins", {"*"}}, {"AllowCredentials", true}}));
  EXPECT_FALSE(check_cors_configuration({{"AllowOrigins", {"https://a.test"}}, {"AllowCredentials", true}}));
}

TEST(Cors, SamTrueAllowsEverything) {
  auto c = sam_http_cors({{"CorsConfiguration", true}});
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)["AllowOrigins"], json({"*"}));
  EXPECT_FALSE(sam_http_cors({{"CorsConfiguration", false}}));
  EXPECT_FALSE(sam_http_cors(json::object()));
}

// --- Throttling ---

TEST(TokenBucket, BurstThenRefillAtTheRate) {
  ManualClock clock;
  TokenBuckets buckets;
  ThrottleLimits limits{2.0, 3.0};  // 2 per second, bucket of 3
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(buckets.take("k", limits, clock.now_ms())) << i;
  EXPECT_FALSE(buckets.take("k", limits, clock.now_ms()));
  clock.advance_ms(499);  // 0.998 tokens: not yet
  EXPECT_FALSE(buckets.take("k", limits, clock.now_ms()));
  clock.advance_ms(1);
  EXPECT_TRUE(buckets.take("k", limits, clock.now_ms()));
  EXPECT_FALSE(buckets.take("k", limits, clock.now_ms()));
  clock.advance_ms(60'000);  // refills up to the burst only
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(buckets.take("k", limits, clock.now_ms())) << i;
  EXPECT_FALSE(buckets.take("k", limits, clock.now_ms()));
  // Another key has its own bucket.
  EXPECT_TRUE(buckets.take("other", limits, clock.now_ms()));
}

TEST(TokenBucket, ZeroBurstRejectsEverything) {
  ManualClock clock;
  TokenBuckets buckets;
  EXPECT_FALSE(buckets.take("k", ThrottleLimits{100.0, 0.0}, clock.now_ms()));
  clock.advance_ms(10'000);
  EXPECT_FALSE(buckets.take("k", ThrottleLimits{100.0, 0.0}, clock.now_ms()));
}

TEST(TokenBucket, ALoweredBurstTakesEffectAtOnce) {
  ManualClock clock;
  TokenBuckets buckets;
  EXPECT_TRUE(buckets.take("k", ThrottleLimits{1.0, 10.0}, clock.now_ms()));  // 9 left
  EXPECT_TRUE(buckets.take("k", ThrottleLimits{1.0, 1.0}, clock.now_ms()));   // clamped to 1, takes it
  EXPECT_FALSE(buckets.take("k", ThrottleLimits{1.0, 1.0}, clock.now_ms()));
}

TEST(Throttle, RouteSettingsOverStageDefaults) {
  json rec = {{"Type", "HTTP"},
              {"Api", {{"ApiId", "abc"}}},
              {"Stages",
               {{"$default",
                 {{"DefaultRouteSettings", {{"ThrottlingRateLimit", 5.0}, {"ThrottlingBurstLimit", 2}}},
                  {"RouteSettings", {{"GET /slow", {{"ThrottlingBurstLimit", 1}}}}}}}}}};
  auto edge = compile_edge(rec);
  const StageEdge& s = edge->stages.at("$default");
  auto d = throttle_for(s, "GET /other");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rate, 5.0);
  EXPECT_EQ(d->burst, 2.0);
  auto r = throttle_for(s, "GET /slow");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->burst, 1.0);
  EXPECT_EQ(r->rate, 10000.0);  // the account default for the member left out

  json none = {{"Type", "HTTP"}, {"Api", {{"ApiId", "abc"}}}, {"Stages", {{"$default", json::object()}}}};
  EXPECT_FALSE(throttle_for(compile_edge(none)->stages.at("$default"), "GET /x"));
}

TEST(Throttle, RestMethodSettingsKeys) {
  json rec = {{"Type", "REST"},
              {"Api", {{"id", "abc"}}},
              {"Stages",
               {{"prod",
                 {{"methodSettings",
                   {{"*/*", {{"throttlingRateLimit", 100.0}, {"throttlingBurstLimit", 50}}},
                    {"pets/{id}/GET", {{"throttlingRateLimit", 1.0}, {"throttlingBurstLimit", 1}}}}}}}}}};
  auto edge = compile_edge(rec);
  const StageEdge& s = edge->stages.at("prod");
  EXPECT_EQ(throttle_for(s, "pets/{id}/GET")->burst, 1.0);
  EXPECT_EQ(throttle_for(s, "pets/{id}/POST", "pets/{id}/ANY")->burst, 50.0);
}

// --- Access logs ---

TEST(AccessLog, LogGroupOfArn) {
  EXPECT_EQ(log_group_of_arn("arn:aws:logs:us-east-1:000000000000:log-group:/aws/apigw/my-api"), "/aws/apigw/my-api");
  EXPECT_EQ(log_group_of_arn("arn:aws:logs:us-east-1:000000000000:log-group:access:*"), "access");
  EXPECT_EQ(log_group_of_arn("arn:aws:s3:::bucket"), "");
  EXPECT_EQ(log_group_of_arn("arn:aws:logs:us-east-1:000000000000:log-group:"), "");
  EXPECT_EQ(log_group_of_arn("arn:aws:logs:us-east-1:000000000000:log-group:bad name"), "");
}

TEST(AccessLog, SettingsChecks) {
  const std::string arn = "arn:aws:logs:us-east-1:000000000000:log-group:g";
  EXPECT_FALSE(check_access_log_settings(arn, "$context.requestId $context.status"));
  EXPECT_FALSE(check_access_log_settings(arn, R"({"id":"$context.extendedRequestId"})"));
  EXPECT_TRUE(check_access_log_settings(arn, "$context.status"));
  EXPECT_TRUE(check_access_log_settings(arn, ""));
  EXPECT_TRUE(check_access_log_settings("arn:aws:firehose:us-east-1:0:deliverystream/x", "$context.requestId"));
  EXPECT_TRUE(check_access_log_settings(arn, "$context.requestId" + std::string(3100, 'x')));
}

TEST(AccessLog, RenderSubstitutesAndDashesMissing) {
  LogVariables vars = {{"requestId", "abc="},
                       {"identity.sourceIp", "127.0.0.1"},
                       {"status", "200"},
                       {"integration.latency", "12"},
                       {"routeKey", "GET /pets"},
                       {"error.message", ""}};
  EXPECT_EQ(render_access_log("$context.requestId $context.identity.sourceIp $context.status.", vars),
            "abc= 127.0.0.1 200.");
  EXPECT_EQ(render_access_log(R"({"requestId":"$context.requestId","routeKey":"$context.routeKey",)"
                              R"("lat":"$context.integration.latency","err":"$context.error.message",)"
                              R"("x":"$context.nothing"})",
                              vars),
            R"({"requestId":"abc=","routeKey":"GET /pets","lat":"12","err":"-","x":"-"})");
  EXPECT_EQ(render_access_log("cost $5 and $context. alone", vars), "cost $5 and $context. alone");
}

TEST(AccessLog, CompiledFromStages) {
  json http = {{"Type", "HTTP"},
               {"Api", {{"ApiId", "abc"}, {"CorsConfiguration", {{"AllowOrigins", {"*"}}}}}},
               {"_Port", 3001},
               {"Stages",
                {{"$default",
                  {{"AccessLogSettings",
                    {{"DestinationArn", "arn:aws:logs:us-east-1:000000000000:log-group:http-access"},
                     {"Format", "$context.requestId"}}}}}}}};
  auto e = compile_edge(http);
  ASSERT_TRUE(e->cors);
  EXPECT_EQ(e->port, 3001);
  ASSERT_TRUE(e->stages.at("$default").access_log);
  EXPECT_EQ(e->stages.at("$default").access_log->log_group, "http-access");

  json rest = {{"Type", "REST"},
               {"Api", {{"id", "abc"}}},
               {"Stages",
                {{"prod",
                  {{"accessLogSettings",
                    {{"destinationArn", "arn:aws:logs:us-east-1:000000000000:log-group:rest-access"},
                     {"format", "$context.requestId"}}}}}}}};
  auto r = compile_edge(rest);
  EXPECT_FALSE(r->cors);
  EXPECT_EQ(r->stages.at("prod").access_log->log_group, "rest-access");
}

TEST(SamRestStage, MethodSettingsAndAccessLogSetting) {
  json rec = {{"Type", "REST"}, {"Stages", {{"Prod", {{"stageName", "Prod"}}}}}};
  json sam = {{"MethodSettings",
               json::array({{{"ResourcePath", "/*"}, {"HttpMethod", "*"}, {"ThrottlingBurstLimit", 1}},
                            {{"ResourcePath", "/~1pets~1{id}"}, {"HttpMethod", "GET"}, {"ThrottlingRateLimit", 2}}})},
              {"AccessLogSetting",
               {{"DestinationArn", "arn:aws:logs:us-east-1:000000000000:log-group:g"}, {"Format", "$context.requestId"}}}};
  ASSERT_FALSE(apply_sam_rest_stage_settings(rec, "Prod", sam));
  const json& stage = rec["Stages"]["Prod"];
  EXPECT_EQ(stage["methodSettings"]["*/*"]["throttlingBurstLimit"], 1);
  EXPECT_EQ(stage["methodSettings"]["*/*"]["throttlingRateLimit"], 10000.0);
  EXPECT_EQ(stage["methodSettings"]["pets/{id}/GET"]["throttlingRateLimit"], 2);
  EXPECT_EQ(stage["accessLogSettings"]["format"], "$context.requestId");
  json bad = {{"AccessLogSetting", {{"DestinationArn", "nope"}, {"Format", "$context.requestId"}}}};
  EXPECT_TRUE(apply_sam_rest_stage_settings(rec, "Prod", bad));
}

}  // namespace
}  // namespace stratus::services::apigateway
