// Route selection: AWS's precedence rules
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html).
#include <gtest/gtest.h>

#include <chrono>

#include "services/apigateway/gateway.hpp"
#include "services/apigateway/routing.hpp"

namespace stratus::services::apigateway {
namespace {

RouteTarget target(std::string key) {
  RouteTarget t;
  t.route_key = std::move(key);
  return t;
}

void add(RouteTable& table, const std::string& key) {
  auto space = key.find(' ');
  PathTemplate tpl;
  ASSERT_FALSE(parse_path_template(key.substr(space + 1), tpl)) << key;
  ASSERT_TRUE(table.add(key.substr(0, space), tpl, target(key))) << key;
}

std::string route(const RouteTable& table, std::string_view method, std::string_view path) {
  RouteMatch m = table.match(method, split_request_path(path));
  return m.target ? m.target->route_key : "<none>";
}

TEST(Routing, ParsesTemplates) {
  PathTemplate tpl;
  EXPECT_FALSE(parse_path_template("/pets/{id}/{proxy+}", tpl));
  ASSERT_EQ(tpl.segments.size(), 3u);
  EXPECT_TRUE(tpl.segments[1].param);
  EXPECT_EQ(tpl.segments[1].text, "id");
  EXPECT_TRUE(tpl.segments[2].greedy);
  EXPECT_TRUE(parse_path_template("pets", tpl));             // no leading slash
  EXPECT_TRUE(parse_path_template("/pets//x", tpl));         // empty segment
  EXPECT_TRUE(parse_path_template("/{proxy+}/more", tpl));   // greedy not last
  EXPECT_TRUE(parse_path_template("/{}", tpl));              // empty name
  EXPECT_TRUE(parse_path_template("/a{b}", tpl));            // braces inside a literal
  EXPECT_FALSE(parse_path_template("/", tpl));
  EXPECT_TRUE(tpl.segments.empty());
}

TEST(Routing, LiteralBeatsParameterBeatsGreedy) {
  RouteTable t;
  add(t, "GET /pets/{id}");
  add(t, "GET /pets/dog");
  add(t, "GET /{proxy+}");
  add(t, "GET /pets/{proxy+}");
  EXPECT_EQ(route(t, "GET", "/pets/dog"), "GET /pets/dog");
  EXPECT_EQ(route(t, "GET", "/pets/cat"), "GET /pets/{id}");
  EXPECT_EQ(route(t, "GET", "/pets/cat/toys"), "GET /pets/{proxy+}");  // deeper greedy first
  EXPECT_EQ(route(t, "GET", "/toys/ball"), "GET /{proxy+}");
  EXPECT_EQ(route(t, "GET", "/"), "<none>");  // a greedy parameter needs at least one segment
}

TEST(Routing, MethodBeatsAnyAtTheSamePathButPathComesFirst) {
  RouteTable t;
  add(t, "ANY /pets");
  add(t, "GET /pets");
  add(t, "GET /pets/{id}");
  add(t, "ANY /pets/dog");
  EXPECT_EQ(route(t, "GET", "/pets"), "GET /pets");
  EXPECT_EQ(route(t, "POST", "/pets"), "ANY /pets");
  EXPECT_EQ(route(t, "GET", "/pets/dog"), "ANY /pets/dog");  // the more specific path wins over the method
  EXPECT_EQ(route(t, "DELETE", "/pets/cat"), "<none>");
}

TEST(Routing, BacktracksWhenTheLiteralBranchHasNoRouteForTheMethod) {
  RouteTable t;
  add(t, "POST /pets/dog");
  add(t, "GET /pets/{id}");
  EXPECT_EQ(route(t, "GET", "/pets/dog"), "GET /pets/{id}");
  EXPECT_EQ(route(t, "POST", "/pets/dog"), "POST /pets/dog");
}

TEST(Routing, DefaultRouteCatchesTheRest) {
  RouteTable t;
  add(t, "GET /pets");
  t.set_default(target("$default"));
  EXPECT_EQ(route(t, "GET", "/pets"), "GET /pets");
  EXPECT_EQ(route(t, "POST", "/pets"), "$default");
  EXPECT_EQ(route(t, "GET", "/nothing/here"), "$default");
}

TEST(Routing, PathParametersAreDecodedAndGreedyKeepsSlashes) {
  RouteTable t;
  add(t, "GET /pets/{id}/files/{path+}");
  RouteMatch m = t.match("GET", split_request_path("/pets/a%20b/files/x/y%2Fz.txt"));
  ASSERT_NE(m.target, nullptr);
  ASSERT_EQ(m.path_parameters.size(), 2u);
  EXPECT_EQ(m.path_parameters[0], (std::pair<std::string, std::string>{"id", "a b"}));
  EXPECT_EQ(m.path_parameters[1], (std::pair<std::string, std::string>{"path", "x/y/z.txt"}));
}

TEST(Routing, DuplicateRoutesAreRefused) {
  RouteTable t;
  add(t, "GET /pets/{id}");
  PathTemplate tpl;
  ASSERT_FALSE(parse_path_template("/pets/{petId}", tpl));
  EXPECT_FALSE(t.add("GET", tpl, target("GET /pets/{petId}")));  // same shape, another name
  EXPECT_TRUE(t.add("POST", tpl, target("POST /pets/{petId}")));
  EXPECT_EQ(t.size(), 2u);
}

// Matching cost must not grow with the number of routes: 1,000 routes match as fast as 10 (within noise).
TEST(Routing, CostDoesNotGrowWithRouteCount) {
  auto build = [](int n) {
    RouteTable t;
    for (int i = 0; i < n; ++i) {
      PathTemplate tpl;
      EXPECT_FALSE(parse_path_template("/svc" + std::to_string(i) + "/items/{id}", tpl));
      t.add("GET", tpl, target(std::to_string(i)));
    }
    return t;
  };
  auto time = [](const RouteTable& t, const std::string& path) {
    auto segs = split_request_path(path);
    auto start = std::chrono::steady_clock::now();
    std::size_t hits = 0;
    for (int i = 0; i < 20000; ++i) hits += t.match("GET", segs).target != nullptr;
    EXPECT_EQ(hits, 20000u);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  RouteTable small = build(10), large = build(1000);
  double best_small = 1e9, best_large = 1e9;
  for (int round = 0; round < 5; ++round) {
    best_small = std::min(best_small, time(small, "/svc7/items/42"));
    best_large = std::min(best_large, time(large, "/svc777/items/42"));
  }
  // A linear scan would be ~100x slower; allow generous noise on a loaded machine.
  EXPECT_LT(best_large, best_small * 3) << best_small << " vs " << best_large;
}

TEST(Compile, HttpApiRecordBecomesOneTablePerStage) {
  nlohmann::json rec = {
      {"Type", "HTTP"},
      {"Account", "000000000000"},
      {"Region", "us-east-1"},
      {"Api", {{"ApiId", "abc123defg"}, {"Name", "pets"}}},
      {"Integrations",
       {{"i1",
         {{"IntegrationType", "AWS_PROXY"},
          {"IntegrationUri", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                             "arn:aws:lambda:us-east-1:000000000000:function:pets/invocations"},
          {"PayloadFormatVersion", "1.0"},
          {"TimeoutInMillis", 1234}}}}},
      {"Routes", {{"r1", {{"RouteKey", "GET /pets/{id}"}, {"Target", "integrations/i1"}}}}},
      {"Stages", {{"$default", {{"StageName", "$default"}}}, {"dev", {{"StageVariables", {{"v", "1"}}}}}}}};
  auto api = compile_api(rec);
  EXPECT_EQ(api->id, "abc123defg");
  EXPECT_FALSE(api->rest);
  ASSERT_EQ(api->stages.size(), 2u);
  EXPECT_EQ(api->stages.at("dev").variables.at("v"), "1");
  RouteMatch m = api->stages.at("$default").table->match("GET", split_request_path("/pets/7"));
  ASSERT_NE(m.target, nullptr);
  EXPECT_EQ(m.target->function, "arn:aws:lambda:us-east-1:000000000000:function:pets");
  EXPECT_EQ(m.target->payload_version, "1.0");
  EXPECT_EQ(m.target->timeout_ms, 1234);
  EXPECT_TRUE(m.target->has_integration);
}

TEST(Compile, RestStageServesItsDeploymentSnapshot) {
  nlohmann::json method = {{"httpMethod", "GET"},
                           {"methodIntegration",
                            {{"type", "AWS_PROXY"},
                             {"uri", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                     "arn:aws:lambda:us-east-1:000000000000:function:f/invocations"}}}};
  nlohmann::json rec = {
      {"Type", "REST"},
      {"Account", "000000000000"},
      {"Region", "us-east-1"},
      {"Api", {{"id", "restapi123"}, {"name", "r"}}},
      {"Resources", {{"root", {{"id", "root"}, {"path", "/"}}},
                     {"new", {{"id", "new"}, {"path", "/new"}, {"resourceMethods", {{"GET", method}}}}}}},
      {"Deployments",
       {{"d1", {{"_resources", {{"old", {{"id", "old"}, {"path", "/old"}, {"resourceMethods", {{"GET", method}}}}}}}}}}},
      {"Stages", {{"prod", {{"deploymentId", "d1"}}}}}};
  auto api = compile_api(rec);
  const auto& table = *api->stages.at("prod").table;
  EXPECT_NE(table.match("GET", split_request_path("/old")).target, nullptr);
  EXPECT_EQ(table.match("GET", split_request_path("/new")).target, nullptr);  // not deployed yet
  EXPECT_EQ(table.match("GET", split_request_path("/old")).target->resource_id, "old");
}

TEST(Compile, FunctionOfUri) {
  EXPECT_EQ(function_of_uri("arn:aws:lambda:us-east-1:000000000000:function:f"),
            "arn:aws:lambda:us-east-1:000000000000:function:f");
  EXPECT_EQ(function_of_uri("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
                            "arn:aws:lambda:eu-west-1:000000000000:function:f:live/invocations"),
            "arn:aws:lambda:eu-west-1:000000000000:function:f:live");
  EXPECT_EQ(function_of_uri("https://example.com"), "");
  EXPECT_EQ(function_of_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/x"), "");
  EXPECT_EQ(random_id(10).size(), 10u);
}

}  // namespace
}  // namespace stratus::services::apigateway
